"""Explicit ratings of a dataset as row-indexed triples for the rating models (MF, NCF), the FIA
paper's split, and the related ratings R_t of one prediction.

Users are rows in sorted user-id order; items are the vocabulary's item rows (movies sorted by id),
so a movie maps to the same row here as everywhere else in the engine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.types import Dataset
from engine.data.vocabulary import Vocabulary
from engine.models.rating_model import RatingTriples


@dataclass(frozen=True, eq=False)
class RatingData:
    """Every rating of a dataset, with the maps between dataset ids and model rows."""

    user_ids: np.ndarray  # user row -> dataset user id (sorted)
    item_ids: np.ndarray  # item row -> movie id (the vocabulary's order)
    ratings: RatingTriples  # all ratings, as rows

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def user_row(self, user_id: int) -> int | None:
        row = int(np.searchsorted(self.user_ids, user_id))
        return row if row < len(self.user_ids) and self.user_ids[row] == user_id else None


def rating_data(dataset: Dataset, vocabulary: Vocabulary | None = None) -> RatingData:
    """The dataset's ratings as (user row, item row, stars) triples."""
    vocabulary = vocabulary or Vocabulary(dataset)
    interactions = dataset.interactions
    user_ids = np.union1d(np.array(sorted(dataset.users), dtype=np.int64), np.unique(interactions.users))
    users = np.searchsorted(user_ids, interactions.users).astype(np.int64)
    # Movie ids -> vocabulary rows through a dense lookup (ids are small positive integers).
    lookup = np.full(int(vocabulary.item_ids.max()) + 1, -1, dtype=np.int64)
    lookup[vocabulary.item_ids] = np.arange(vocabulary.n_items)
    items = lookup[np.asarray(interactions.items, dtype=np.int64)]
    if (items < 0).any():
        raise ValueError("ratings name movies that the catalogue does not have")
    triples = RatingTriples(users, items, np.asarray(interactions.ratings, dtype=np.float64))
    return RatingData(user_ids, vocabulary.item_ids.copy(), triples)


@dataclass(frozen=True, eq=False)
class RatingSplit:
    train: RatingTriples
    test: RatingTriples  # one rating per user with at least `min_ratings` ratings


def hold_out_one_per_user(ratings: RatingTriples, seed: int = 0, min_ratings: int = 2) -> RatingSplit:
    """The FIA paper's split (§4.1): for each user one random rating is held out for test; the rest
    train. Users with fewer than `min_ratings` ratings keep all of them for training."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(ratings)), ratings.users))  # by user, shuffled within each user
    users = ratings.users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, len(users)])
    held = order[starts[counts >= min_ratings]]
    test_mask = np.zeros(len(ratings), dtype=bool)
    test_mask[held] = True
    return RatingSplit(subset(ratings, ~test_mask), subset(ratings, test_mask))


def subset(ratings: RatingTriples, selector) -> RatingTriples:
    return RatingTriples(ratings.users[selector], ratings.items[selector], ratings.ratings[selector])


def concatenate(*parts: RatingTriples) -> RatingTriples:
    return RatingTriples(
        np.concatenate([p.users for p in parts]).astype(np.int64),
        np.concatenate([p.items for p in parts]).astype(np.int64),
        np.concatenate([p.ratings for p in parts]).astype(np.float64),
    )


class RatingIndex:
    """A training set indexed by user and by item, so that R_t of a prediction is two slices."""

    def __init__(self, ratings: RatingTriples, n_users: int, n_items: int):
        self.ratings = ratings
        self.n_users, self.n_items = n_users, n_items
        self._by_user = np.argsort(ratings.users, kind="stable")
        self._user_starts = np.searchsorted(ratings.users[self._by_user], np.arange(n_users + 1))
        self._by_item = np.argsort(ratings.items, kind="stable")
        self._item_starts = np.searchsorted(ratings.items[self._by_item], np.arange(n_items + 1))
        # Contiguous copies in each order: gathering R_t is then slicing, not fancy indexing.
        self._user_sorted = subset(ratings, self._by_user)
        self._item_sorted = subset(ratings, self._by_item)

    def of_user(self, user: int) -> RatingTriples:
        span = slice(self._user_starts[user], self._user_starts[user + 1])
        return RatingTriples(self._user_sorted.users[span], self._user_sorted.items[span], self._user_sorted.ratings[span])

    def of_item(self, item: int) -> RatingTriples:
        span = slice(self._item_starts[item], self._item_starts[item + 1])
        return RatingTriples(self._item_sorted.users[span], self._item_sorted.items[span], self._item_sorted.ratings[span])

    def related(self, user: int, item: int) -> RatingTriples:
        """R_t: the user's training ratings, then the other users' training ratings of the item
        (the user's own rating of the item, if any, is listed once, among the user's)."""
        own = self.of_user(user)
        others = self.of_item(item)
        others = subset(others, others.users != user)
        return concatenate(own, others)
