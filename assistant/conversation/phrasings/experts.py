"""Sentences from the expert attribution lens: the same `ExpertShares` and `ExpertTimeline` the Expert
attribution tab draws are phrased here. An expert reads one part of the profile (the movie's genres,
what other viewers thought, your ratings earlier in a sitting...); its share is how much of the
decision it carried, and the model's probability is exactly the share-weighted sum of the experts'
own guesses. The screen gets the numbers ("mostly what other viewers thought: 62%"); the ear gets the
deciding part and its rounded share, and stays short. "No expert was confident" is said as such,
never as a share."""
from __future__ import annotations

import re

from assistant.conversation.phrasing import capitalised, listing, ordinal, percent, spoken_title, written_title
from assistant.conversation.phrasings.base import LensPhrasing, Said
from assistant.conversation.intents import Share
from engine.api import ExpertShares, ExpertTimeline, Lens, Movie, TimelineStep

SECOND_SHARE = 0.15  # a runner-up expert is named when it carries at least this much
LABEL_NOTE = "liked means 4 or 5 stars"


def plain_label(label: str) -> str:
    """An expert's label as a phrase: "...plus the movies you rated" -> "the movies you rated"."""
    return re.sub(r"^\.\.\.\s*(?:plus\s+)?", "", label).strip()


def spoken_label(label: str) -> str:
    return re.sub(r"\s*\([^)]*\)", "", plain_label(label)).strip()


def ranked_votes(votes):
    return sorted(votes, key=lambda v: -v.share)


def shares_of(explanation: ExpertShares) -> tuple[Share, ...]:
    """The experts as the chat panel tabulates reasons, largest share first: name, share, and as
    "relevance" the expert's part of the probability (share x its own guess: they add up to it); the
    key is the expert's key, which gives its colour in every view."""
    return tuple(Share("expert", plain_label(explanation.info(v.id).label), v.share * v.prediction, v.share,
                       explanation.info(v.id).key) for v in ranked_votes(explanation.votes))


class ExpertPhrasing(LensPhrasing):
    lens = Lens.EXPERTS

    # ----- the lens contract -----

    def recommended(self, movie: Movie, rank: int, explanation: ExpertShares, lead: str) -> Said:
        text = f"{lead} {written_title(movie)}, number {rank} for you. {self._decision_text(explanation)}"
        speech = f"{lead} {spoken_title(movie)}. {self._decision_speech(explanation)}"
        return Said(text, speech, shares_of(explanation))

    def not_recommended(self, movie: Movie, rank: int, unseen: int, explanation: ExpertShares) -> Said:
        text = (f"{written_title(movie)} ranks {ordinal(rank)} of the {unseen} movies you haven't watched. "
                f"{self._decision_text(explanation)}")
        speech = f"{spoken_title(movie)} ranks {ordinal(rank)} for you. {self._decision_speech(explanation)}"
        return Said(text, speech, shares_of(explanation))

    def part_of(self, explanation: ExpertShares, movie_id: int) -> Said | None:
        return None  # an expert reads a whole part of the profile; no single movie has a share of its own

    # ----- the expert questions -----

    def decided(self, movie: Movie, explanation: ExpertShares) -> Said:
        """"Which part of my profile decided this?": the deciding expert and its share, then the rest."""
        text = f"{written_title(movie)}: {_lower_first(self._decision_text(explanation))}"
        if not explanation.undecided:
            votes = ranked_votes(explanation.votes)
            named = 2 if len(votes) > 1 and votes[1].share >= SECOND_SHARE else 1  # as the decision sentence says
            rest = [f"{plain_label(explanation.info(v.id).label)} {percent(v.share)}" for v in votes[named:]]
            if rest:
                text += f" The others: {listing(rest)}."
        if explanation.note:
            text += f" {explanation.note}"
        speech = f"{spoken_title(movie)}: {_lower_first(self._decision_speech(explanation))}"
        return Said(text, speech, shares_of(explanation))

    def guessed(self, movie: Movie, step: TimelineStep, timeline: ExpertTimeline) -> Said:
        """"Why did you think I'd dislike Heat?": the guess, whether it was right, and who decided it."""
        guess = "like" if step.predicted_liked else "dislike"
        where = _sitting_words(timeline)
        text = (f"In {where}, I guessed you'd {guess} {written_title(movie)}: a like-probability of "
                f"{percent(step.probability)}")
        speech = f"I guessed you'd {guess} {spoken_title(movie)}"
        if step.rating is not None:
            verdict = "right" if step.correct else "wrong"
            text += f", and you rated it {step.rating} star{'s' if step.rating != 1 else ''}, so the guess was {verdict}."
            speech += f", and that was {verdict}."
        else:
            text += "."
            speech += "."
        if step.undecided:
            text += f" No expert was confident about it (total confidence {step.alpha_total:.3f}), so none decided it."
            speech += " No expert was confident about it."
        else:
            info = {e.id: e for e in timeline.experts}
            votes = ranked_votes(step.votes)
            first = votes[0]
            text += f" Mostly because of {plain_label(info[first.id].label)}: {percent(first.share)}"
            speech += f" Mostly because of {spoken_label(info[first.id].label)}, {percent(first.share)}."
            if len(votes) > 1 and votes[1].share >= SECOND_SHARE:
                text += f", then {plain_label(info[votes[1].id].label)}: {percent(votes[1].share)}"
            text += "."
            aggregate = next((a for a in timeline.aggregates if first.id in a.experts), None)
            if aggregate is not None:
                total = dict(step.aggregate_shares).get(aggregate.key, first.share)
                text += f" In the timeline's rows that is “{aggregate.label}”: {percent(total)}."
        text += f" ({capitalised(LABEL_NOTE)}.)"
        return Said(text, speech)

    def not_guessed(self, movie: Movie, step: TimelineStep | None, timeline: ExpertTimeline | None) -> Said:
        """The movie was not guessed: it was given to the model, or it is in no sitting shown."""
        if step is not None and timeline is not None:
            text = (f"I didn't guess {written_title(movie)}: in {_sitting_words(timeline)} it was in the first half, "
                    f"given to the model with your {step.rating} star{'s' if step.rating != 1 else ''}. "
                    "I only guess the second half of a sitting.")
            speech = f"I didn't guess {spoken_title(movie)}: it was one of the ratings I was given."
        else:
            text = (f"{written_title(movie)} is not among the movies I guessed in your sittings, so I have no "
                    "guess to explain. Ask “which part of my profile decided this?” about a recommendation instead.")
            speech = f"I didn't guess {spoken_title(movie)} in any of your sittings."
        return Said(text, speech)

    def timeline_summary(self, timeline: ExpertTimeline) -> Said:
        """"Show the timeline": the sitting on screen, its score and who decided most often."""
        guessed = timeline.predicted
        judged = [s for s in guessed if s.correct is not None]
        right = sum(1 for s in judged if s.correct)
        text = f"Here is the expert timeline of {_sitting_words(timeline)}: {len(timeline.steps)} movies, I guessed the last {len(guessed)}"
        speech = f"Here is the expert timeline of {_sitting_words(timeline, spoken=True)}"
        if judged:
            text += f" and got {right} of {len(judged)} right"
            speech += f": I got {right} of {len(judged)} guesses right"
        text += "."
        speech += "."
        counts: dict[str, int] = {}
        for step in guessed:
            if not step.undecided and step.decided_by is not None:
                counts[step.decided_by] = counts.get(step.decided_by, 0) + 1
        if counts:
            top = max(counts, key=lambda e: (counts[e], -int(e[1:])))
            label = next(e.label for e in timeline.experts if e.id == top)
            text += f" Most guesses were decided by {plain_label(label)} ({counts[top]} of {len(guessed)})"
            text += f"; the deciding expert changed {len(timeline.changes)} time{'s' if len(timeline.changes) != 1 else ''}."
            speech += f" Most were decided by {spoken_label(label)}."
        undecided = sum(1 for s in guessed if s.undecided)
        if undecided:
            text += f" No expert was confident about {undecided} of them."
        return Said(text, speech)

    # ----- pieces -----

    def _decision_text(self, x: ExpertShares) -> str:
        chance = f"The expert model gives it a {percent(x.probability)} chance of being picked"
        if x.undecided:
            return f"{chance}, but no expert was confident about it (total confidence {x.alpha_total:.3f}), so none decided it."
        votes = ranked_votes(x.votes)
        said = f"{chance}; mostly {plain_label(x.info(votes[0].id).label)}: {percent(votes[0].share)}"
        if len(votes) > 1 and votes[1].share >= SECOND_SHARE:
            said += f", then {plain_label(x.info(votes[1].id).label)}: {percent(votes[1].share)}"
        return said + "."

    def _decision_speech(self, x: ExpertShares) -> str:
        if x.undecided:
            return "No expert was confident about it."
        first = ranked_votes(x.votes)[0]
        return f"Mostly {spoken_label(x.info(first.id).label)}, {percent(first.share)}."


def _sitting_words(timeline: ExpertTimeline, spoken: bool = False) -> str:
    if timeline.user_id is None:
        return "your sitting (your ratings in the order you added them)" if not spoken else "your ratings in the order you added them"
    if spoken:
        return f"sitting {timeline.sitting}"
    when = f", {timeline.start[:10]}" if timeline.start else ""
    return f"sitting {timeline.sitting} of {timeline.sittings}{when}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
