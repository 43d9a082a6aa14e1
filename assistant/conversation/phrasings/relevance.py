"""Sentences from the feature-relevance lens: the same `RelevanceExplanation` the Sankey view draws
is phrased here. Written for the ear too: the spoken version drops years and percentages and stays
under about 40 words (15 s at espeak's pace). A grouped explanation (the Sankey's grouped view) is
phrased by its genre groups ("your 93 Drama movies"), as the view draws it."""
from __future__ import annotations

import re

from assistant.conversation.intents import Share
from assistant.conversation.phrasing import (
    TOP_AGAINST,
    TOP_REASONS,
    display_title,
    listing,
    ordinal,
    percent,
    spoken_title,
    written_title,
)
from assistant.conversation.phrasings.base import LensPhrasing, Said
from engine.api import AGE_BUCKETS, GENDERS, GROUP_KIND, Lens, Movie, RelevanceExplanation, RemovalCheck

# "Drama (93 movies)", "Crime (1 movie)", and an expanded group's rest: "other Drama movies (4)"
_GROUP_NAME = re.compile(r"^(other )?(.+?)(?: movies)? \((\d+)(?: movies?)?\)$")


class RelevancePhrasing(LensPhrasing):
    lens = Lens.RELEVANCE

    def recommended(self, movie: Movie, rank: int, explanation: RelevanceExplanation, lead: str) -> Said:
        if explanation.note:
            text = f"{lead} {written_title(movie)}, number {rank} for you. {explanation.note}"
            return Said(text, f"{lead} {spoken_title(movie)}. {explanation.note}")
        reasons = shares(explanation)
        text = (f"{lead} {written_title(movie)}, number {rank} for you, "
                f"{reasons_sentence(reasons, self.movies, spoken=False)}.")
        speech = f"{lead} {spoken_title(movie)} {reasons_sentence(reasons, self.movies, spoken=True)}."
        return Said(text, speech, reasons)

    def not_recommended(self, movie: Movie, rank: int, unseen: int, explanation: RelevanceExplanation) -> Said:
        against = shares(explanation, TOP_AGAINST, against=True)
        helps = shares(explanation, 2)
        text = f"{written_title(movie)} ranks {ordinal(rank)} of the {unseen} movies you haven't watched."
        speech = f"{spoken_title(movie)} ranks {ordinal(rank)} for you."
        if against:
            text += f" What pulls it down most: {against_sentence(against, self.movies, spoken=False)}."
            speech += f" What pulls it down most is {against_sentence(against, self.movies, spoken=True)}."
        else:
            text += " Nothing in your profile counts against it: other movies simply match you better."
            speech += " Nothing in your profile counts against it; other movies simply match you better."
        if helps:
            text += f" What helps it: {listing([feature_with_share(s, self.movies, False) for s in helps])}."
        return Said(text, speech, against + helps)

    def left_out(self, movie: Movie, explanation: RelevanceExplanation) -> Said:
        """A movie of the profile, explained as if it were left out (the engine does so): its rank
        among the rest, and what in the rest of the profile speaks for it."""
        text = (f"{written_title(movie)} is in your profile, so I explain it as if you had not watched it: "
                f"it would be number {explanation.rank} for you")
        speech = (f"{spoken_title(movie)} is in your profile. Without it, it would be number "
                  f"{explanation.rank} for you")
        if explanation.rank is None or explanation.note:
            note = explanation.note or "the rest of your profile gives the model nothing to go on"
            return Said(f"{written_title(movie)} is in your profile; without it, {note}", f"{spoken_title(movie)} "
                        "is in your profile; without it, there is nothing else to explain it with.")
        reasons = shares(explanation)
        text += f", {reasons_sentence(reasons, self.movies, spoken=False)}."
        speech += f", {reasons_sentence(reasons, self.movies, spoken=True)}."
        return Said(text, speech, reasons)

    def part_of(self, explanation: RelevanceExplanation, movie_id: int) -> Said | None:
        explanation = getattr(explanation, "ungrouped", None) or explanation  # a movie, not its genre group
        found = tuple(s for s in shares(explanation, len(explanation.relevances)) if s.key == str(movie_id))
        if not found:
            return None
        movie = self.movies.get(movie_id)
        name = written_title(movie) if movie else found[0].name
        return Said(f"{name} carries {percent(found[0].share)} of what speaks for it", "", found)


def shares(explanation: RelevanceExplanation, limit: int = TOP_REASONS, against: bool = False) -> tuple[Share, ...]:
    """The strongest features for (or, with `against`, against) the movie, each with its share of
    the positive evidence (the sum of the positive relevances)."""
    positive_total = sum(r for r in explanation.relevances if r > 0)
    picked = explanation.negative if against else explanation.positive
    scale = positive_total if positive_total > 0 else 1.0
    return tuple(Share(f.kind, f.name, f.relevance, f.relevance / scale, f.key) for f in picked[:limit])


def feature_words(share: Share, movies: dict[int, Movie], spoken: bool) -> str:
    """A feature as words: a movie's title, or an attribute as a reason ("being 25-34")."""
    if share.kind == "movie":
        movie = movies.get(int(share.key)) if share.key.isdigit() else None
        if movie is None:
            return share.name
        return spoken_title(movie) if spoken else display_title(movie.title)
    key = share.name
    if share.kind == "gender":
        return f"being {key}" if key in GENDERS.values() else f"your gender ({key})"
    if share.kind == "age":
        group = key.removeprefix("aged ")
        if group == AGE_BUCKETS[0]:
            return "being under 18"
        if group.endswith("+"):
            return f"being {group[:-1]} or older"
        return f"being {group.replace('-', ' to ') if spoken else group}"
    if share.kind == "occupation":
        job = key.removeprefix("works as ")
        if job in ("none", "unemployed"):
            return "having no occupation"
        if job == "other":
            return "your occupation"
        article = "an" if job[:1] in "aeiou" else "a"
        return f"working as {article} {job}" if job in ("healthcare", "entertainment", "marketing") else f"being {article} {job}"
    if share.kind == "genre":
        return f"liking {key}"
    if share.kind == GROUP_KIND:
        return group_words(share.name)
    return key


def group_words(name: str) -> str:
    """A genre group as words: "Drama (93 movies)" -> "your 93 Drama movies"."""
    match = _GROUP_NAME.match(name)
    if match is None:
        return name
    other, genre, count = match.groups()
    if count == "1":
        return f"your {'other ' if other else ''}{genre} movie"
    return f"your {count} {'other ' if other else ''}{genre} movies"


def feature_with_share(share: Share, movies: dict[int, Movie], spoken: bool) -> str:
    """The feature's words, and for the screen its share: "Alien (1979, 34%)", "being 25-34 (8%)"."""
    text = feature_words(share, movies, spoken)
    if spoken:
        return text
    movie = movies.get(int(share.key)) if share.kind == "movie" and share.key.isdigit() else None
    if movie is not None and movie.year:
        return f"{text} ({movie.year}, {percent(share.share)})"
    return f"{text} ({percent(share.share)})"


def reasons_sentence(reasons: tuple[Share, ...], movies: dict[int, Movie], spoken: bool) -> str:
    """"mostly because you watched Alien (1979, 34%) and Aliens (1986, 21%); being 25-34 (8%) also counts"."""
    def words(share: Share) -> str:
        return feature_with_share(share, movies, spoken)

    if any(s.kind == GROUP_KIND for s in reasons):  # the grouped view: genre groups, as drawn
        named = sum(s.share for s in reasons)
        lead = "mostly because of" if named >= 0.5 else "above all because of" if named >= 0.25 else "partly because of"
        return f"{lead} {listing([words(s) for s in reasons])}"
    watched = [words(s) for s in reasons if s.kind == "movie"]
    other = [words(s) for s in reasons if s.kind != "movie"]
    # "Mostly" only when the named features carry most of the evidence; a long profile spreads it thin,
    # and then the answer says so rather than crowning a movie that carries 2%.
    named = sum(s.share for s in reasons)
    lead = "mostly because" if named >= 0.5 else "above all because" if named >= 0.25 else \
        "because of many movies together, the largest parts being that"
    if watched and named < 0.25:
        return f"{lead} you watched {listing(watched)}" + (f", and {listing(other)}" if other else "")
    if watched:
        sentence = f"{lead} you watched {listing(watched)}"
        if other:
            sentence += f"; {listing(other)} also {'count' if len(other) > 1 else 'counts'}"
        return sentence
    if other:
        return f"{lead} of {listing(other)}"
    return "though nothing in your profile stands out: the model's general preference carries it"


def against_sentence(against: tuple[Share, ...], movies: dict[int, Movie], spoken: bool) -> str:
    """"What pulls it down most: having watched Star Wars (-12%) and being male (-5%)"."""
    parts = []
    for share in against:
        text = feature_words(share, movies, spoken)
        if not spoken:
            text = feature_with_share(share, movies, spoken)
        parts.append(f"having watched {text}" if share.kind == "movie" else text)
    return listing(parts)


def removal_line(check: RemovalCheck, title: str, spoken: bool = False) -> str:
    """The removal check as one sentence, the same under the Sankey and in the conversation:
    "Without your top 3 reasons, Trainspotting (1996) would drop from #1 to #57"."""
    count = len(check.removed)
    if count == 0:
        return f"Your profile has no reason for {title} to take out, so there is nothing to check"
    number = "number " if spoken else "#"
    reasons = "your top reason" if count == 1 else f"your top {count if not spoken else _COUNT_WORDS.get(count, count)} reasons"
    lead = f"Without {reasons}"
    if check.rank_after > check.rank_before:
        return f"{lead}, {title} would drop from {number}{check.rank_before} to {number}{check.rank_after}"
    if check.rank_after < check.rank_before:
        return f"{lead}, {title} would rise from {number}{check.rank_before} to {number}{check.rank_after}"
    score = "score" if spoken else "score (logit)"  # not the list's "score of 100", which stays 100 at the top
    return (f"{lead}, {title} would stay {number}{check.rank_before}, its {score} falling from "
            f"{check.logit_before:.2f} to {check.logit_after:.2f}")


_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def removal_said(check: RemovalCheck, movie: Movie, movies: dict[int, Movie]) -> Said:
    """ "How sure are you?": the check's numbers, the reasons it took out, and how it was done."""
    text = removal_line(check, written_title(movie)) + "."
    speech = removal_line(check, spoken_title(movie), spoken=True) + "."
    if check.removed:
        named = [feature_words(Share(r.kind, r.name, r.relevance, 0.0, r.key), movies, False) for r in check.removed]
        text += (f" I took {listing(named)} out of a copy of your profile and scored it again with the same "
                 "model, without retraining")
        text += (": the explanation names what the score rests on." if check.rank_after > check.rank_before
                 else ": your profile carries it with many reasons, so these few alone do not decide its place.")
        if check.left_out:
            text += " It is in your profile, so it is checked as if you had not watched it."
    return Said(text, speech)
