"""Explanations of the feature-relevance lens, as plain data the views draw and the conversation reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from engine.lenses import Lens


@dataclass(frozen=True)
class FeatureRelevance:
    kind: str  # "movie", "gender", "age", "occupation", "genre"
    key: str  # movie id as text, or the attribute value
    name: str  # readable: "Alien (1979)", "aged 25-34"
    relevance: float  # signed share of the target logit


@dataclass(frozen=True)
class RelevanceExplanation:
    item_id: int
    title: str
    probability: float  # softmax probability of the item
    logit: float  # the target logit being explained
    bias_share: float  # part of the logit carried by the model's biases, no feature
    absorbed: float  # part taken by the epsilon stabiliser (0 for plain RecoNet)
    # Every profile feature, most relevant first, as parallel tuples: building one object per
    # feature for fifty explanations at a time would cost more than the whole explanation.
    kinds: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    relevances: tuple[float, ...] = ()
    note: str = ""  # e.g. why a fallback was used
    # The movie is in the profile and was explained as if it were left out (it is not its own evidence).
    left_out: bool = False
    # Rank among the movies the profile does not hold (1 = the top recommendation) and the probability
    # relative to that top one (1.0 for it): friendlier to read than a softmax probability of 0.7%.
    rank: int | None = None
    relative_score: float | None = None
    # Every movie's genres, by movie id as text: one read-only mapping shared by all explanations of a
    # dataset (no cost per explanation), for the grouped view (engine.explain.relevance_groups).
    movie_genres: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    lens = Lens.RELEVANCE

    @property
    def subject(self) -> int:
        return self.item_id

    @property
    def explained(self) -> float:
        return self.logit

    @property
    def parts(self) -> tuple[float, ...]:
        return self.relevances

    @property
    def remainder(self) -> float:
        return self.bias_share + self.absorbed

    @cached_property
    def features(self) -> tuple[FeatureRelevance, ...]:
        return tuple(map(FeatureRelevance, self.kinds, self.keys, self.names, self.relevances))

    @property
    def total_relevance(self) -> float:
        return float(sum(self.relevances))

    @cached_property  # the Sankey's layout and its description both ask, at every edit
    def positive(self) -> tuple[FeatureRelevance, ...]:
        return tuple(f for f in self.features if f.relevance > 0)

    @cached_property
    def negative(self) -> tuple[FeatureRelevance, ...]:
        return tuple(f for f in reversed(self.features) if f.relevance < 0)

    def to_dict(self) -> dict:
        return {
            "lens": self.lens.value,
            "item": {"id": self.item_id, "title": self.title},
            "probability": self.probability,
            "logit": self.logit,
            "bias_share": self.bias_share,
            "absorbed": self.absorbed,
            "features": [
                {"kind": f.kind, "id": f.key, "name": f.name, "relevance": f.relevance} for f in self.features
            ],
            "note": self.note,
            "left_out": self.left_out,
            "rank": self.rank,
            "relative_score": self.relative_score,
        }
