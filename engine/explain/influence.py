"""Explanations of the training-data influence lens, as plain data the graph view draws and the
conversation reads.

Sign convention: a rating's `influence` is how much it moved the prediction, in stars: the predicted
rating with the rating in the training data minus the prediction after removing it (estimated by
FIA, no retraining). Positive: it pushed the predicted rating up.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.lenses import Lens

OWN = "own"  # one of the profile's (or dataset user's) own ratings
OTHER = "other"  # another user's rating of the movie explained


@dataclass(frozen=True)
class RatingInfluence:
    kind: str  # OWN or OTHER
    user: int | None  # dataset user id; None for the ratings of an ad-hoc profile
    item: int  # movie id
    title: str  # "Alien (1979)"
    rating: float  # the stars of that training rating
    influence: float  # signed change of the predicted rating it caused, in stars

    def to_dict(self) -> dict:
        return {"kind": self.kind, "user": self.user, "item": self.item, "title": self.title,
                "rating": self.rating, "influence": self.influence}


@dataclass(frozen=True)
class InfluenceExplanation:
    item_id: int
    title: str
    model: str  # "mf" or "ncf"
    predicted_rating: float  # the model's raw prediction, in stars
    ratings: tuple[RatingInfluence, ...] = ()  # every related rating, largest |influence| first
    user_id: int | None = None  # the dataset user, or None for an ad-hoc profile
    fold_in: bool = False  # the profile's user factors were fitted to its ratings (items frozen)
    rank: int | None = None  # rank by predicted rating among the movies the profile has not rated
    note: str = ""

    lens = Lens.INFLUENCE

    @property
    def subject(self) -> int:
        return self.item_id

    @property
    def own(self) -> tuple[RatingInfluence, ...]:
        return tuple(r for r in self.ratings if r.kind == OWN)

    @property
    def others(self) -> tuple[RatingInfluence, ...]:
        return tuple(r for r in self.ratings if r.kind == OTHER)

    @property
    def explained(self) -> float:
        return self.predicted_rating

    @property
    def parts(self) -> tuple[float, ...]:
        return tuple(r.influence for r in self.ratings)

    @property
    def remainder(self) -> float:
        """What the related ratings leave out: the global mean, every other parameter of the model
        and its regulariser. FIA is an estimate, so parts + remainder is a bookkeeping identity."""
        return self.predicted_rating - sum(self.parts)

    def to_dict(self) -> dict:
        return {
            "lens": self.lens.value,
            "model": self.model,
            "item": {"id": self.item_id, "title": self.title},
            "predicted_rating": self.predicted_rating,
            "user": self.user_id,
            "fold_in": self.fold_in,
            "rank": self.rank,
            "ratings": [r.to_dict() for r in self.ratings],
            "remainder": self.remainder,
            "note": self.note,
        }
