"""Sentences from the training-data influence lens: the same `InfluenceExplanation` the influence
graph draws is phrased here. An influence is how much one past rating moved the predicted rating,
in stars, as FIA estimates it (no retraining): "your 5 stars for Alien raised it by 0.21 stars",
"User 13's 2 stars lowered it by 0.08". The screen gets the numbers; the ear gets the names, the
direction and a rounded prediction, and stays short."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.conversation.phrasing import (
    TOP_AGAINST,
    TOP_REASONS,
    capitalised,
    display_title,
    listing,
    ordinal,
    spoken_title,
    written_title,
)
from assistant.conversation.phrasings.base import LensPhrasing, Said
from engine.api import InfluenceExplanation, Lens, Movie, RatingInfluence

TOP_OTHERS = 2  # other users' ratings named in an answer: the user's own come first
MODEL_NAMES = {"mf": "matrix factorisation", "ncf": "neural collaborative filtering"}
FOLD_IN_NOTE = ("Your profile is not in the model's training data, so your tastes were fitted to your ratings "
                "with the movies' side frozen (fold-in, no retraining).")
ESTIMATE_NOTE = "Influences are FIA estimates of what removing each rating would change, with no retraining."


class InfluencePhrasing(LensPhrasing):
    lens = Lens.INFLUENCE

    # ----- the lens contract -----

    def recommended(self, movie: Movie, rank: int, explanation: InfluenceExplanation, lead: str) -> Said:
        own, others = _top(explanation.own, TOP_REASONS), _top(explanation.others, TOP_OTHERS)
        text = f"{lead} {written_title(movie)}, number {rank} for you. {self._prediction_text(explanation)}"
        if own or others:
            text += " " + self._effects_text(own, others)
        speech = f"{lead} {spoken_title(movie)}. {_expect_speech(explanation)}"
        raised = [r for r in explanation.own if r.influence > 0][:2]
        if raised:  # the named ratings move it by a few hundredths: "raised it most", never "because of"
            speech += f"; {listing([self._whose(r, spoken=True) for r in raised])} raised it most."
        else:
            speech += ". " + self._others_speech(explanation)
        return Said(self._with_notes(text, explanation), self._with_fold_in_speech(speech, explanation))

    def not_recommended(self, movie: Movie, rank: int, unseen: int, explanation: InfluenceExplanation) -> Said:
        lowered = [r for r in explanation.ratings if r.influence < 0][:TOP_AGAINST]
        raised = [r for r in explanation.ratings if r.influence > 0][:TOP_AGAINST]
        text = (f"{written_title(movie)} ranks {ordinal(rank)} of the {unseen} movies you haven't watched. "
                f"{self._prediction_text(explanation)}")
        speech = f"{spoken_title(movie)} ranks {ordinal(rank)} for you. {_expect_speech(explanation)}"
        if lowered:
            text += f" What lowers it most: {self._effect_list(lowered, spoken=False)}."
            speech += f"; what pulls it down most is {listing([self._whose(r, spoken=True) for r in lowered])}."
        else:
            text += " None of the related ratings lowers it: other movies are simply predicted higher."
            speech += "; nothing pulls it down, other movies are simply predicted higher."
        if raised:
            text += f" What raises it: {self._effect_list(raised, spoken=False)}."
        return Said(self._with_notes(text, explanation), self._with_fold_in_speech(speech, explanation))

    def part_of(self, explanation: InfluenceExplanation, movie_id: int) -> Said | None:
        found = next((r for r in explanation.own if r.item == movie_id), None)
        if found is None:
            return None
        return Said(self._effect(found, spoken=False, what="its predicted rating"), self._effect(found, spoken=True))

    # ----- the influence questions -----

    def influencers(self, movie: Movie, explanation: InfluenceExplanation) -> Said:
        """"Who influenced this?": the user's own ratings and the other users' that moved it most."""
        own, others = _top(explanation.own, TOP_REASONS), _top(explanation.others, TOP_OTHERS + 1)
        text = f"{written_title(movie)}: {_lower_first(self._prediction_text(explanation))}"
        if own or others:
            text += " " + self._effects_text(own, others)
            text += f" The rest of the prediction ({explanation.remainder:.2f} stars) is what no single rating carries."
        else:
            text += " No rating in the training data is related to this prediction."
        speech = f"For {spoken_title(movie)}, "
        if own:
            speech += f"{self._effect_list(own[:2], spoken=True)}"
            if others:
                speech += f"; among other people, {self._effect(others[0], spoken=True)}"
            speech += "."
        elif others:
            speech += f"none of your ratings counts; among other people, {self._effect(others[0], spoken=True)}."
        else:
            speech += "no rating is related to this prediction."
        return Said(self._with_notes(text, explanation), self._with_fold_in_speech(speech, explanation))

    def own_ratings(self, movie: Movie, explanation: InfluenceExplanation) -> Said:
        """"Which of my ratings mattered most for <movie>?": the user's own ratings only."""
        own = _top(explanation.own, TOP_REASONS)
        fitted = "fitted" if _own_rating_of_subject(explanation) is not None else "predicted"
        head = f"For {written_title(movie)} ({fitted} {explanation.predicted_rating:.2f} stars)"
        if not own:
            text = (f"{head}, none of your ratings moved the prediction: the influence lens reads star ratings, "
                    "so rate some movies (1 to 5 stars) to see which ones count.")
            speech = f"None of your ratings moved the prediction for {spoken_title(movie)}. Rate some movies to see."
            return Said(self._with_notes(text, explanation), speech)
        text = f"{head}, the ratings of yours that mattered most: {self._effect_list(own, spoken=False)}."
        speech = (f"For {spoken_title(movie)}, {self._effect(own[0], spoken=True)} most"
                  + (f", then {listing([self._whose(r, spoken=True) for r in own[1:2]])}." if len(own) > 1 else "."))
        return Said(self._with_notes(text, explanation), self._with_fold_in_speech(speech, explanation))

    def rating_change(self, change: "RatingChange") -> Said:
        """"What if I rated Alien 2 stars?": the prediction (and rank) of the subject before and after."""
        before, after = change.before, change.after
        changed, subject = change.changed, change.subject
        if change.old_stars is not None:
            was = f" instead of {_stars(change.old_stars)}"
        else:
            was = " (it has no rating yet)" if change.in_profile else " (it would be added to your profile)"
        delta = after.predicted_rating - before.predicted_rating
        text = (f"If you rated {written_title(changed)} {_stars(change.new_stars)}{was}, the predicted rating of "
                f"{written_title(subject)} would go from {before.predicted_rating:.2f} to "
                f"{after.predicted_rating:.2f} stars ({delta:+.2f})")
        if change.ranks is not None:
            first, then = change.ranks
            where = "by predicted rating" if change.rank_by_prediction else "in your recommendations"
            text += (f" and its rank {where} would stay {ordinal(then)}" if first == then
                     else f" and its rank {where} from {ordinal(first)} to {ordinal(then)}")
        text += "."
        part = self.part_of(before, changed.id)
        if part is not None:
            text += f" As it is, {part.text}."
        text += (" These are estimates: your tastes are refitted to the changed ratings (fold-in) and nothing is "
                 "retrained. Your profile is unchanged.")
        speech = f"If you rated {spoken_title(changed)} {_stars(change.new_stars)}, {spoken_title(subject)} would "
        first, then = f"{before.predicted_rating:.1f}", f"{after.predicted_rating:.1f}"
        if abs(delta) < 0.005:
            speech += f"stay at about {then} stars"
        elif first == then:  # a change too small for one decimal
            speech += f"{'rise' if delta > 0 else 'drop'} slightly, staying at about {then} stars"
        else:
            speech += f"{'rise' if delta > 0 else 'drop'} from about {first} to {then} stars"
        if change.ranks is not None and change.ranks[0] != change.ranks[1]:
            speech += f", moving from {ordinal(change.ranks[0])} to {ordinal(change.ranks[1])} place"
        return Said(text, speech + ". That is an estimate.")

    # ----- words -----

    def _title(self, rating: RatingInfluence, spoken: bool) -> str:
        movie = self.movies.get(rating.item)
        if movie is None:
            return rating.title
        return spoken_title(movie) if spoken else display_title(movie.title)

    def _whose(self, rating: RatingInfluence, spoken: bool) -> str:
        """"your 5 stars for Alien", "User 13's 2 stars"."""
        if rating.kind == "own":
            return f"your {_stars(rating.rating)} for {self._title(rating, spoken)}"
        who = f"user {rating.user}" if spoken else f"User {rating.user}"
        return f"{who}'s {_stars(rating.rating)}"

    def _effect(self, rating: RatingInfluence, spoken: bool, what: str = "it") -> str:
        """"your 5 stars for Alien raised it by 0.21 stars"; spoken without the number."""
        verb = "raised" if rating.influence >= 0 else "lowered"
        if spoken:
            return f"{self._whose(rating, spoken)} {verb} {what}"
        return f"{self._whose(rating, spoken)} {verb} {what} by {_amount(rating.influence)}"

    def _effect_list(self, ratings, spoken: bool) -> str:
        return listing([self._effect(r, spoken) for r in ratings])

    def _effects_text(self, own, others) -> str:
        parts = []
        if own:
            parts.append(capitalised(self._effect_list(own, spoken=False)) + ".")
        if others:
            lead = "Among other users, " if own else "None of your ratings is related to it; among other users, "
            parts.append(lead + self._effect_list(others, spoken=False) + ".")
        return " ".join(parts)

    def _others_speech(self, explanation: InfluenceExplanation) -> str:
        raised = [r for r in explanation.others if r.influence > 0][:1]
        if raised:
            return f"Other people's ratings carry it: {self._effect(raised[0], spoken=True)} most."
        return "No single rating stands out: the model's general tastes carry it."

    @staticmethod
    def _prediction_text(explanation: InfluenceExplanation) -> str:
        model = MODEL_NAMES.get(explanation.model, explanation.model)
        rated = _own_rating_of_subject(explanation)
        if rated is not None:  # a movie of the profile: the model's fit to that rating, not a guess
            return (f"You rated it {_stars(rated.rating)} yourself; the rating model ({model}) fits "
                    f"{explanation.predicted_rating:.2f} stars to it.")
        return f"The rating model ({model}) predicts {explanation.predicted_rating:.2f} stars for you."

    @staticmethod
    def _with_notes(text: str, explanation: InfluenceExplanation) -> str:
        """The explanation's own note (the explainer says there how it folded the profile in), or
        ours when it has none."""
        if explanation.note:
            return f"{text} {explanation.note}"
        return f"{text} {FOLD_IN_NOTE}" if explanation.fold_in else text

    @staticmethod
    def _with_fold_in_speech(speech: str, explanation: InfluenceExplanation) -> str:
        return speech + (" That is estimated for your new profile." if explanation.fold_in else "")


@dataclass(frozen=True)
class RatingChange:
    """A what-if on one rating: the subject explained before and after the change, both as fold-ins."""

    changed: Movie
    old_stars: int | None  # None: the movie was not rated (or not in the profile)
    in_profile: bool
    new_stars: int
    subject: Movie
    before: InfluenceExplanation
    after: InfluenceExplanation
    ranks: tuple[int, int] | None  # the subject's rank before and after
    rank_by_prediction: bool  # the ranks are by predicted rating (else the recommendation list's)


def _own_rating_of_subject(explanation: InfluenceExplanation) -> RatingInfluence | None:
    return next((r for r in explanation.own if r.item == explanation.item_id), None)


def _top(ratings: tuple[RatingInfluence, ...], limit: int) -> list[RatingInfluence]:
    """The `limit` ratings with the largest |influence| (the explanation keeps them in that order)."""
    return sorted(ratings, key=lambda r: -abs(r.influence))[:limit]


def _stars(value: float) -> str:
    whole = float(value).is_integer()
    number = f"{int(value)}" if whole else f"{value:g}"
    return f"{number} star" if whole and int(value) == 1 else f"{number} stars"


def _amount(influence: float) -> str:
    size = abs(influence)
    return "less than 0.01 stars" if size < 0.005 else f"{size:.2f} stars"


def _rounded(stars: float) -> str:
    """A prediction as said: to the half star, within 1 to 5 ("4", "3.5")."""
    value = min(5.0, max(1.0, round(stars * 2) / 2))
    return f"{value:g}"


def _expect_speech(explanation: InfluenceExplanation) -> str:
    rated = _own_rating_of_subject(explanation)
    if rated is not None:
        return f"You rated it {_stars(rated.rating)}; the model fits about {_rounded(explanation.predicted_rating)}"
    return f"I'd expect about {_rounded(explanation.predicted_rating)} stars from you"


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
