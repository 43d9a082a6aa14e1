"""Inputs of the static recommendation models of the expert lens (Intrp-MLP, its control and the
content-only model), as numpy arrays indexed like a `LeaveOneOutSplit`: no torch here.

- user content: gender, age group and occupation as category indices; the last index of each means
  "not given", so an ad-hoc profile without demographics still has an input;
- item content: with genres (ML-100k) the paper's [normalised year, genre flags]; without them (the
  shared ML-1M copy: no titles, genres or years) popularity and mean-rating deciles from training
  ratings, one-hot, labelled "generic item features": not the paper's c_i;
- training pairs: every training rating a positive, `negatives` unrated items per positive redrawn
  every epoch (the reference code's 4).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.data.types import AGE_BUCKETS, Dataset
from engine.evaluation.sampled import LeaveOneOutSplit

YEAR_MEAN, YEAR_SCALE = 1986.1, 16.9  # the reference code's normalisation of ML-1M release years
DECILES = 10


@dataclass(frozen=True, eq=False)
class StaticFeatures:
    user_categories: np.ndarray  # int64 (n_users, 3): gender, age group, occupation
    category_sizes: tuple[int, int, int]  # including the "not given" index, which is the last
    category_names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
    item_content: np.ndarray  # float32 (n_items, C)
    item_content_kind: str  # "year + genres" or "popularity and mean-rating deciles"

    @property
    def n_item_content(self) -> int:
        return self.item_content.shape[1]

    def categories_of(self, gender: str | None, age: str | None, occupation: str | None) -> np.ndarray:
        """The category indices of a profile's demographics; an unknown or missing one is "not given"."""
        values = (gender, age, occupation)
        return np.array([names.index(v) if v in names else len(names)
                         for names, v in zip(self.category_names, values)], np.int64)


def build_features(dataset: Dataset, split: LeaveOneOutSplit) -> StaticFeatures:
    genders = tuple(sorted({u.gender for u in dataset.users.values() if u.gender}))
    ages = tuple(a for a in AGE_BUCKETS if any(u.age == a for u in dataset.users.values()))
    occupations = tuple(sorted({u.occupation for u in dataset.users.values() if u.occupation}))
    names = (genders, ages, occupations)
    features = StaticFeatures(np.zeros((0, 3), np.int64), tuple(len(n) + 1 for n in names), names,
                              np.zeros((0, 0), np.float32), "")
    users = np.stack([features.categories_of(dataset.users[int(u)].gender, dataset.users[int(u)].age,
                                             dataset.users[int(u)].occupation) if int(u) in dataset.users
                      else features.categories_of(None, None, None) for u in split.user_ids])
    if dataset.genres:
        content, kind = _year_and_genres(dataset, split), "year + genres"
    else:
        content, kind = _rating_deciles(dataset, split), "popularity and mean-rating deciles"
    return StaticFeatures(users, features.category_sizes, names, content, kind)


def _year_and_genres(dataset: Dataset, split: LeaveOneOutSplit) -> np.ndarray:
    genres = dataset.genres
    out = np.zeros((split.n_items, 1 + len(genres)), np.float32)
    column = {g: j + 1 for j, g in enumerate(genres)}
    for col, movie_id in enumerate(split.item_ids):
        movie = dataset.movies[int(movie_id)]
        out[col, 0] = 0.0 if movie.year is None else (movie.year - YEAR_MEAN) / YEAR_SCALE
        for genre in movie.genres:
            out[col, column[genre]] = 1.0
    return out


def _rating_deciles(dataset: Dataset, split: LeaveOneOutSplit) -> np.ndarray:
    """Deciles of how many training users rated each item and of its mean training rating."""
    inter = dataset.interactions
    rows = np.searchsorted(split.user_ids, inter.users)
    rows = np.where(rows < split.n_users, rows, 0)
    known = split.user_ids[rows] == inter.users
    cols = np.searchsorted(split.item_ids, inter.items)
    in_train = np.zeros(len(inter), bool)
    in_train[known] = np.asarray(split.train[rows[known], cols[known]]).ravel() > 0
    counts = np.bincount(cols[in_train], minlength=split.n_items).astype(np.float64)
    sums = np.bincount(cols[in_train], weights=inter.ratings[in_train], minlength=split.n_items)
    overall = float(inter.ratings[in_train].mean()) if in_train.any() else 0.0
    means = (sums + 5 * overall) / (counts + 5)  # shrunk towards the mean: 1 rating says little
    out = np.zeros((split.n_items, 2 * DECILES), np.float32)
    for offset, values in ((0, counts), (DECILES, means)):
        edges = np.quantile(values, np.linspace(0, 1, DECILES + 1)[1:-1])
        out[np.arange(split.n_items), offset + np.searchsorted(edges, values, side="right")] = 1.0
    return out


def training_pairs(train: sp.csr_matrix, rng: np.random.Generator, negatives: int = 4
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user rows, item columns, labels), shuffled: every training positive and, per positive,
    `negatives` items uniformly drawn among those the user has no training rating for."""
    train = train.tocsr()
    n_users, n_items = train.shape
    pos_users = np.repeat(np.arange(n_users), np.diff(train.indptr))
    pos_items = train.indices.astype(np.int64)
    neg_users = np.repeat(pos_users, negatives)
    neg_items = rng.integers(0, n_items, len(neg_users))
    keys = pos_users.astype(np.int64) * n_items + pos_items
    for _ in range(100):  # redraw the few that hit a training item
        clash = np.isin(neg_users.astype(np.int64) * n_items + neg_items, keys)
        if not clash.any():
            break
        neg_items[clash] = rng.integers(0, n_items, int(clash.sum()))
    users = np.concatenate([pos_users, neg_users])
    items = np.concatenate([pos_items, neg_items])
    labels = np.concatenate([np.ones(len(pos_users), np.float32), np.zeros(len(neg_users), np.float32)])
    order = rng.permutation(len(users))
    return users[order], items[order], labels[order]
