"""The relevance lens's grouped view: the profile's movies grouped by genre, each group carrying the
exact sum of its members' relevance, so that a long profile's evidence shows as a few big bands.

A movie with several genres is counted once, in whichever of its genres is most common among the
profile's movies (the fewest, biggest groups; ties go to the genre listed first). Features that are
not movies (gender, age, occupation, genre features) stay as they are. Nothing is split or dropped:
the grouped features add up to the same total relevance as the ungrouped ones.

An expanded group is drawn as its members instead (its strongest ones, then the rest of the group as
one "other <genre> movies" feature), kept together where the group stood.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from engine.explain.relevance import FeatureRelevance, RelevanceExplanation

GROUP_KIND = "movies"  # the kind of a grouped feature: several profile movies of one genre
NO_GENRE = "no genre listed"
EXPANDED_MEMBERS = 5  # an expanded group's strongest members drawn on their own; the rest stay grouped
RULE = "each movie counted once, in its genre most common among your movies"


@dataclass(frozen=True)
class RelevanceGroup:
    genre: str
    members: tuple[FeatureRelevance, ...]  # most relevant first
    relevance: float  # the exact sum of the members' relevance (math.fsum)

    @property
    def name(self) -> str:
        count = len(self.members)
        return f"{self.genre} ({count} movie{'s' if count != 1 else ''})"

    def as_feature(self) -> FeatureRelevance:
        return FeatureRelevance(GROUP_KIND, self.genre, self.name, self.relevance)


@dataclass(frozen=True)
class GroupedRelevanceExplanation(RelevanceExplanation):
    """A `RelevanceExplanation` whose movie features are genre groups: anything that draws or phrases
    the ungrouped one handles it. `groups` holds every group with its members; `expanded` names the
    groups shown as their members; `ungrouped` is the explanation it was made from."""

    groups: tuple[RelevanceGroup, ...] = ()
    expanded: frozenset[str] = frozenset()
    ungrouped: RelevanceExplanation | None = field(default=None, compare=False, repr=False)

    def group(self, genre: str) -> RelevanceGroup | None:
        return next((g for g in self.groups if g.genre == genre), None)

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["grouped_by"] = {"genre": RULE}
        data["groups"] = [
            {"genre": g.genre, "relevance": g.relevance, "movies": [int(m.key) for m in g.members]}
            for g in self.groups
        ]
        return data


def genre_of_each(movie_keys: Sequence[str], genres: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each movie's one genre: of its genres, the one most common among `movie_keys` (first listed on a tie)."""
    counts = Counter(g for key in movie_keys for g in genres.get(key, ()))
    chosen = {}
    for key in movie_keys:
        own = genres.get(key, ())
        # max() keeps the first of equal counts, so a tie goes to the genre the movie lists first.
        chosen[key] = max(own, key=lambda g: counts[g]) if own else NO_GENRE
    return chosen


def group_by_genre(
    explanation: RelevanceExplanation,
    genres: Mapping[str, Sequence[str]] | None = None,
    expanded: frozenset[str] | set[str] = frozenset(),
) -> RelevanceExplanation:
    """`explanation` with its movie features grouped by genre (see the module's docstring).

    `genres` maps a movie id as text to its genres; by default the explanation's own `movie_genres`.
    An explanation without movie features (an empty profile's) is returned unchanged."""
    if isinstance(explanation, GroupedRelevanceExplanation):
        explanation = explanation.ungrouped
    genres = explanation.movie_genres if genres is None else genres
    movies = [f for f in explanation.features if f.kind == "movie"]
    if not movies:
        return explanation
    genre = genre_of_each([f.key for f in movies], genres)
    members: dict[str, list[FeatureRelevance]] = {}
    for feature in movies:  # the explanation lists them most relevant first; groups keep that order
        members.setdefault(genre[feature.key], []).append(feature)
    groups = tuple(
        RelevanceGroup(g, tuple(fs), math.fsum(f.relevance for f in fs)) for g, fs in members.items()
    )
    expanded = frozenset(expanded) & set(members)

    # Blocks sorted by relevance, most relevant first: a feature, a group, or an expanded group's members.
    blocks: list[tuple[float, list[FeatureRelevance]]] = [
        (f.relevance, [f]) for f in explanation.features if f.kind != "movie"
    ]
    for group in groups:
        if group.genre in expanded:
            blocks.append((group.relevance, _expanded_features(group)))
        else:
            blocks.append((group.relevance, [group.as_feature()]))
    blocks.sort(key=lambda block: -block[0])
    features = [f for _, fs in blocks for f in fs]
    return GroupedRelevanceExplanation(
        **{name: getattr(explanation, name) for name in _BASE_FIELDS},
        kinds=tuple(f.kind for f in features),
        keys=tuple(f.key for f in features),
        names=tuple(f.name for f in features),
        relevances=tuple(f.relevance for f in features),
        groups=groups,
        expanded=expanded,
        ungrouped=explanation,
    )


def _expanded_features(group: RelevanceGroup) -> list[FeatureRelevance]:
    shown = list(group.members[:EXPANDED_MEMBERS])
    rest = group.members[EXPANDED_MEMBERS:]
    if rest:  # the rest of the group stays one feature, so the block still sums to the group exactly
        rest_sum = math.fsum(f.relevance for f in rest)
        shown.append(FeatureRelevance(GROUP_KIND, group.genre, f"other {group.genre} movies ({len(rest)})", rest_sum))
    return shown


_BASE_FIELDS = (
    "item_id", "title", "probability", "logit", "bias_share", "absorbed", "note", "left_out", "rank",
    "relative_score", "movie_genres",
)


def group_members(explanation: RelevanceExplanation, feature: FeatureRelevance) -> tuple[FeatureRelevance, ...]:
    """The movies behind a grouped feature (a whole group, or an expanded group's rest); () otherwise."""
    if not isinstance(explanation, GroupedRelevanceExplanation) or feature.kind != GROUP_KIND:
        return ()
    group = explanation.group(feature.key)
    if group is None:
        return ()
    if group.genre in explanation.expanded:
        return group.members[EXPANDED_MEMBERS:]
    return group.members

