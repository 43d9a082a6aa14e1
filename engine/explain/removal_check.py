"""A check of the relevance lens the user can see: take the explanation's top k reasons out of the
profile and re-score the movie with the same served model (no retraining). A faithful explanation
names reasons whose removal drops the movie far down the ranking (RecoNet paper, section 5.4).

Only reasons a profile can lose are removed: a movie (the profile without it) or an attribute
(cleared). A genre feature is not a reason of its own to remove: it is on while any liked movie has
that genre, so it leaves with the movies that carry it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from engine.explain.relevance import RelevanceExplanation
from engine.profile import Profile

DEFAULT_REASONS = 3
ATTRIBUTE_KINDS = ("gender", "age", "occupation")
REMOVABLE_KINDS = ("movie",) + ATTRIBUTE_KINDS


@dataclass(frozen=True)
class RemovedReason:
    kind: str  # "movie", "gender", "age" or "occupation"
    key: str  # the movie id as text, or the attribute value
    name: str  # as the explanation names it
    relevance: float  # its relevance in the explanation checked


@dataclass(frozen=True)
class RemovalCheck:
    """The selected movie before and after its top `k` reasons were taken out of the profile. Ranks
    are among the movies the profile does not hold (Engine.rank_of); `profile_after` is the profile
    the movie was re-scored with, which never holds the movie (a profile movie is checked as if left
    out, as the relevance lens explains it: `left_out`)."""

    movie_id: int
    title: str
    k: int  # how many reasons were asked for; `removed` may hold fewer
    removed: tuple[RemovedReason, ...]
    rank_before: int
    rank_after: int
    logit_before: float
    logit_after: float
    probability_before: float
    probability_after: float
    profile_after: Profile
    left_out: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.removed)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(r.kind for r in self.removed)

    @property
    def relevances(self) -> tuple[float, ...]:
        return tuple(r.relevance for r in self.removed)

    @property
    def places_lost(self) -> int:
        """How many places the movie falls (negative when it climbs)."""
        return self.rank_after - self.rank_before

    def to_dict(self) -> dict:
        return {
            "movie_id": self.movie_id, "title": self.title, "k": self.k, "left_out": self.left_out,
            "removed": [{"kind": r.kind, "id": r.key, "name": r.name, "relevance": r.relevance} for r in self.removed],
            "rank_before": self.rank_before, "rank_after": self.rank_after,
            "logit_before": self.logit_before, "logit_after": self.logit_after,
            "probability_before": self.probability_before, "probability_after": self.probability_after,
        }


def top_reasons(explanation: RelevanceExplanation, k: int) -> tuple[RemovedReason, ...]:
    """The k most relevant positive features the profile can lose, most relevant first."""
    picked = [f for f in explanation.positive if f.kind in REMOVABLE_KINDS][:max(0, int(k))]
    return tuple(RemovedReason(f.kind, f.key, f.name, float(f.relevance)) for f in picked)


def without_reasons(profile: Profile, reasons: tuple[RemovedReason, ...]) -> Profile:
    """`profile` without those movies and with those attributes cleared (no longer a dataset user's)."""
    for reason in reasons:
        if reason.kind == "movie":
            profile = profile.without_movie(int(reason.key))
        else:
            profile = replace(profile, **{reason.kind: None})
    return replace(profile, user_id=None)


def check_removal(
    profile: Profile,
    explanation: RelevanceExplanation,
    rank_of: Callable[[Profile, int], int | None],
    score_of: Callable[[Profile, int], tuple[float, float]],
    k: int = DEFAULT_REASONS,
) -> RemovalCheck:
    """The check for `explanation` (the relevance of `profile`'s features for its movie, which the
    lens computes on the profile without the movie when the profile holds it). `rank_of` and
    `score_of` (logit, probability) score a profile with the served model."""
    movie_id = int(explanation.item_id)
    left_out = movie_id in profile.movies
    base = profile.without_movie(movie_id) if left_out else profile
    removed = top_reasons(explanation, k)
    after = without_reasons(base, removed) if removed else base
    logit_before, probability_before = score_of(base, movie_id)
    logit_after, probability_after = score_of(after, movie_id)
    return RemovalCheck(
        movie_id=movie_id,
        title=explanation.title,
        k=int(k),
        removed=removed,
        rank_before=rank_of(base, movie_id),
        rank_after=rank_of(after, movie_id),
        logit_before=logit_before,
        logit_after=logit_after,
        probability_before=probability_before,
        probability_after=probability_after,
        profile_after=after,
        left_out=left_out,
    )
