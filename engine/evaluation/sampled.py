"""The NCF evaluation protocol: one held-out item per user ranked against 99 stored negatives.

Split (He et al. 2017, as the expert-attribution paper uses it):
- with timestamps (ML-100k): each user's latest rating is the test item (ties in time are broken by
  a seeded random key, not by item id, since ids follow catalogue order and popularity), one
  uniformly random other rating is the validation item, the rest is training;
- without timestamps (the shared ML-1M copy): test and validation are two random ratings per user.
  That is a random leave-one-out, much easier than leave-latest, so it is labelled not comparable
  with the paper's table 1.
Every rating is a positive, whatever its value (the paper's choice).

Negatives: per user 99 items the user never rated (train, validation or test), among items rated
by someone, drawn once per seed and stored, separately for validation and test.

Ties count half: when the positive ties with t items, its position is taken as uniformly spread
over the t + 1 tied places, and HR / NDCG are their expected values. One tie across the cut-off
gives half a hit. The same rule serves the full ranking, where every item the user has not rated
in training (nor the other held-out item) is a candidate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.data.types import Dataset

N_NEGATIVES = 99
K = 10


@dataclass(frozen=True, eq=False)
class LeaveOneOutSplit:
    """Users and items as matrix rows/columns; one validation and one test item per user."""

    dataset: str
    protocol: str  # "leave-latest" or "random leave-one-out"
    comparable_to_paper: bool
    seed: int
    user_ids: np.ndarray  # row -> dataset user id
    item_ids: np.ndarray  # column -> dataset movie id
    train: sp.csr_matrix  # users x items, 1 per training rating
    validation_items: np.ndarray  # column per row
    test_items: np.ndarray  # column per row
    rated: sp.csr_matrix  # users x items, every rating (train, validation and test)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def exclusion(self, which: str) -> sp.csr_matrix:
        """Items the full ranking for `which` ("validation" or "test") must skip: the training items
        and the other held-out item (the model knows neither as a candidate)."""
        other = self.test_items if which == "validation" else self.validation_items
        rows = np.arange(self.n_users)
        held = sp.csr_matrix((np.ones(self.n_users, np.float32), (rows, other)), shape=self.train.shape)
        return (self.train + held).tocsr()

    def held_out(self, which: str) -> np.ndarray:
        if which not in ("validation", "test"):
            raise ValueError(f"which must be 'validation' or 'test', got {which!r}")
        return self.validation_items if which == "validation" else self.test_items


def split_dataset(dataset: Dataset, seed: int = 0, min_ratings: int = 3) -> LeaveOneOutSplit:
    """Leave-latest when the dataset has timestamps, else random leave-one-out. Users with fewer than
    `min_ratings` ratings (no training rating would be left) are dropped."""
    inter = dataset.interactions
    rng = np.random.default_rng(seed)
    item_ids = np.unique(inter.items)  # items rated at least once
    user_ids, user_rows = np.unique(inter.users, return_inverse=True)
    item_cols = np.searchsorted(item_ids, inter.items)
    counts = np.bincount(user_rows, minlength=len(user_ids))
    keep_user = counts >= min_ratings
    # Per user, order the ratings: by time then a random key (leave-latest), or by a random key only.
    random_key = rng.random(len(inter))
    time_key = inter.timestamps if inter.timestamps is not None else np.zeros(len(inter), np.int64)
    order = np.lexsort((random_key, time_key, user_rows))
    ends = np.cumsum(counts)
    last = order[ends - 1]  # each user's latest rating (or a random one)
    test = item_cols[last]
    # Validation: a uniformly random rating among the others of the user.
    starts = ends - counts
    pick = starts + np.floor(rng.random(len(user_ids)) * np.maximum(counts - 1, 1)).astype(np.int64)
    validation = item_cols[order[pick]]

    rows = np.flatnonzero(keep_user)
    remap = np.full(len(user_ids), -1, np.int64)
    remap[rows] = np.arange(len(rows))
    keep_rating = keep_user[user_rows]
    shape = (len(rows), len(item_ids))
    rated = sp.csr_matrix((np.ones(int(keep_rating.sum()), np.float32),
                           (remap[user_rows[keep_rating]], item_cols[keep_rating])), shape=shape)
    rated.sum_duplicates()
    rated.data[:] = 1.0
    new_rows = np.arange(len(rows))
    held = sp.csr_matrix((np.ones(2 * len(rows), np.float32),
                          (np.concatenate([new_rows, new_rows]), np.concatenate([test[rows], validation[rows]]))),
                         shape=shape)
    train = (rated - held).tocsr()
    train.eliminate_zeros()
    timed = inter.timestamps is not None
    return LeaveOneOutSplit(
        dataset=dataset.name,
        protocol="leave-latest" if timed else "random leave-one-out",
        comparable_to_paper=timed,
        seed=seed,
        user_ids=user_ids[rows],
        item_ids=item_ids,
        train=train,
        validation_items=validation[rows],
        test_items=test[rows],
        rated=rated,
    )


def draw_negatives(split: LeaveOneOutSplit, seed: int, n: int = N_NEGATIVES) -> dict[str, np.ndarray]:
    """{"validation": (users x n), "test": (users x n)} item columns, each row n distinct items the
    user never rated; the same seed gives the same draws."""
    rng = np.random.default_rng([seed, 99])
    all_items = np.arange(split.n_items)
    draws = {"validation": np.empty((split.n_users, n), np.int64), "test": np.empty((split.n_users, n), np.int64)}
    for row in range(split.n_users):
        rated = split.rated.indices[split.rated.indptr[row]:split.rated.indptr[row + 1]]
        candidates = np.setdiff1d(all_items, rated, assume_unique=False)
        if len(candidates) < n:
            raise ValueError(f"user {split.user_ids[row]} has only {len(candidates)} unrated items, fewer than {n}")
        for which in ("validation", "test"):
            draws[which][row] = rng.choice(candidates, size=n, replace=False)
    return draws


def expected_hit_and_ndcg(above: np.ndarray, tied: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """Per user, HR@k and NDCG@k of a positive with `above` items scoring higher and `tied` items
    scoring the same, its place uniformly spread over positions above+1 .. above+tied+1."""
    above = np.asarray(above, np.int64)
    tied = np.asarray(tied, np.int64)
    # discount_sum[m] = sum over positions 1..m of 1/log2(position + 1)
    discount_sum = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    low = np.minimum(above, k)
    high = np.minimum(above + tied + 1, k)
    places = tied + 1
    hit = (high - low) / places
    ndcg = (discount_sum[high] - discount_sum[low]) / places
    return hit, ndcg


def sampled_metrics(positive_scores: np.ndarray, negative_scores: np.ndarray, k: int = K) -> dict:
    """HR@k and NDCG@k of each positive against its row of negatives (scores compared in float64)."""
    pos = np.asarray(positive_scores, np.float64)[:, np.newaxis]
    neg = np.asarray(negative_scores, np.float64)
    hit, ndcg = expected_hit_and_ndcg((neg > pos).sum(axis=1), (neg == pos).sum(axis=1), k)
    return {"hr": float(hit.mean()), "ndcg": float(ndcg.mean()), "per_user_hr": hit, "per_user_ndcg": ndcg}


def sampled_from_matrix(scores: np.ndarray, split: LeaveOneOutSplit, negatives: dict[str, np.ndarray],
                        which: str = "test", k: int = K) -> dict:
    """Sampled metrics read from a full (users x items) score matrix."""
    rows = np.arange(split.n_users)
    scores = np.asarray(scores)
    return sampled_metrics(scores[rows, split.held_out(which)], scores[rows[:, None], negatives[which]], k)


def full_ranking_metrics(scores: np.ndarray, split: LeaveOneOutSplit, which: str = "test", k: int = K) -> dict:
    """HR@k and NDCG@k of the held-out item among every item the user has not rated in training
    (nor the other held-out item): the ranking the app would show."""
    scores = np.asarray(scores, np.float64)
    positive = split.held_out(which)
    excluded = split.exclusion(which)
    rows = np.arange(split.n_users)
    pos = scores[rows, positive][:, np.newaxis]
    above = (scores > pos).sum(axis=1)
    tied = (scores == pos).sum(axis=1) - 1  # the positive itself
    # Excluded items do not compete: take back those that counted.
    ex_rows = np.repeat(rows, np.diff(excluded.indptr))
    ex_scores = scores[ex_rows, excluded.indices]
    np.subtract.at(above, ex_rows, ex_scores > pos[ex_rows, 0])
    np.subtract.at(tied, ex_rows, ex_scores == pos[ex_rows, 0])
    hit, ndcg = expected_hit_and_ndcg(above, tied, k)
    return {"hr": float(hit.mean()), "ndcg": float(ndcg.mean()), "per_user_hr": hit, "per_user_ndcg": ndcg}


def pair_batches(split: LeaveOneOutSplit, negatives: dict[str, np.ndarray], which: str) -> tuple[np.ndarray, np.ndarray]:
    """(user rows, item columns) of the 1 + n pairs per user a pointwise model must score, positive
    first in each row of n + 1; reshape the model's scores to (users, n + 1)."""
    items = np.concatenate([split.held_out(which)[:, None], negatives[which]], axis=1)
    users = np.repeat(np.arange(split.n_users), items.shape[1])
    return users, items.reshape(-1)


def sampled_from_pairs(pair_scores: np.ndarray, n_users: int, k: int = K) -> dict:
    """Sampled metrics from the scores of `pair_batches`' pairs."""
    table = np.asarray(pair_scores, np.float64).reshape(n_users, -1)
    return sampled_metrics(table[:, 0], table[:, 1:], k)
