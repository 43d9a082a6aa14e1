"""Ranking metrics for item recommendation.

Every metric ranks all items except the excluded ones (a user's known positives, typically) with
`engine.evaluation.ranking.top_k`: descending score, ties broken by ascending item index.

Users whose truth row is empty cannot have a recall and are dropped: the rows of a result are the
users `np.flatnonzero(users_with_truth(truth))`, in that order.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from engine.evaluation.ranking import top_k


def users_with_truth(truth: sp.spmatrix | sp.sparray) -> np.ndarray:
    """Boolean mask over the rows of `truth`: True where the row has at least one truth item.

    These are the users (in order) that `recall_at_k` returns rows for.
    """
    return _truth_counts(_canonical_truth(truth)) > 0


def recall_at_k(
    scores: np.ndarray,
    exclude: sp.spmatrix | sp.sparray | None,
    truth: sp.spmatrix | sp.sparray,
    k: int | Sequence[int],
) -> np.ndarray:
    """Per-user recall@k = |top-k ∩ truth| / |truth|.

    scores: (n_users x n_items), higher is better; not modified.
    exclude: (n_users x n_items) sparse; stored nonzeros are never ranked (None: exclude nothing).
        A truth item that is also excluded can never be a hit but still counts in |truth|.
    truth: (n_users x n_items) sparse; stored nonzeros are the relevant items.
    k: one cutoff, or several.

    Returns float64: shape (n_kept,) for one k, (n_kept x len(k)) for several, where the kept
    users are those with at least one truth item (see `users_with_truth`). All cutoffs come from
    one ranking of the top max(k) items.
    """
    ks, single = _cutoffs(k)
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a (users x items) matrix, got {scores.ndim} dimensions")
    truth = _canonical_truth(truth)
    if truth.shape != scores.shape:
        raise ValueError(f"truth has shape {truth.shape} but scores have shape {scores.shape}")
    counts = _truth_counts(truth)
    kept = np.flatnonzero(counts > 0)
    ranked = top_k(scores, int(ks.max()), exclude, rows=kept)

    n_items = scores.shape[1]
    # Hits: (user, item) pairs of the ranking that are also truth pairs, matched as integer keys.
    truth_rows = np.repeat(np.arange(truth.shape[0], dtype=np.int64), np.diff(truth.indptr))
    truth_keys = truth_rows * n_items + truth.indices
    ranked_keys = kept.astype(np.int64)[:, np.newaxis] * n_items + ranked
    hits = np.isin(ranked_keys, truth_keys) & (ranked >= 0)
    found = np.cumsum(hits, axis=1, dtype=np.int64)[:, ks - 1]
    recall = found / counts[kept][:, np.newaxis].astype(np.float64)
    return recall[:, 0] if single else recall


def mean_recall_at_k(
    scores: np.ndarray,
    exclude: sp.spmatrix | sp.sparray | None,
    truth: sp.spmatrix | sp.sparray,
    k: int | Sequence[int],
) -> float | np.ndarray:
    """Mean of `recall_at_k` over the users with at least one truth item.

    Returns a float for one k, an array (len(k),) for several.
    """
    recall = recall_at_k(scores, exclude, truth, k)
    if recall.shape[0] == 0:
        raise ValueError("no user has a truth item, so recall is undefined")
    if recall.ndim == 1:
        return float(recall.mean())
    return recall.mean(axis=0)


def _cutoffs(k: int | Sequence[int]) -> tuple[np.ndarray, bool]:
    single = isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))
    values = [k] if single else list(k)  # type: ignore[arg-type]
    if not values:
        raise ValueError("give at least one cutoff k")
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"cutoffs must be integers, got {value!r}")
        if value < 1:
            raise ValueError(f"cutoffs must be at least 1, got {value}")
    return np.asarray(values, dtype=np.int64), single


def _canonical_truth(truth: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    if not sp.issparse(truth):
        raise TypeError("truth must be a scipy sparse matrix")
    matrix = sp.csr_matrix(truth, copy=True)  # the caller's matrix is left as it was
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def _truth_counts(truth: sp.csr_matrix) -> np.ndarray:
    return np.diff(truth.indptr).astype(np.int64)
