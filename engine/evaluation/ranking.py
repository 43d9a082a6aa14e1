"""Top-k selection over item scores, shared by the metrics and by recommendation.

Ordering rule, used everywhere in the engine: items are ranked by descending score, and items with
equal scores by ascending item index, so a ranking never depends on the platform or on the sort
algorithm. A score of -inf means "never recommend": excluded items are given -inf, and items with
a -inf (or NaN) score are never returned.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

# Rows are ranked in chunks so that the working copy (scores with exclusions applied) stays small.
_CHUNK_ELEMENTS = 1 << 22

ExcludeLike = Union["sp.spmatrix", "sp.sparray", np.ndarray, Sequence[int], None]


def _issparse(value) -> bool:
    """Whether `value` is a scipy sparse matrix, without importing scipy: serving (numpy only) never
    does, and a value cannot be one unless its creator imported scipy.sparse."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(value)


def top_k(
    scores: np.ndarray,
    k: int,
    exclude: ExcludeLike = None,
    *,
    rows: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """Indices of the `k` best items, best first (descending score, ties by ascending item index).

    scores: one row (n_items,) or a matrix (n_rows x n_items). It is never modified.
    exclude: items that must not be returned.
        For a row: a sequence of item indices, a boolean mask (n_items,), or a 1 x n_items sparse matrix.
        For a matrix: a sparse matrix or a boolean array of the same shape as `scores`;
        every stored nonzero entry is excluded.
    rows: matrix input only; rank only these rows (the result's rows follow this order).

    Returns int64 item indices.
        For a row: at most `k` indices; fewer when fewer than `k` items are eligible.
        For a matrix: shape (n_rows x k), or (len(rows) x k); where a row has fewer than `k`
        eligible items, the remaining positions hold -1.
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {k!r}")
    if k < 0:
        raise ValueError(f"k must not be negative, got {k}")
    scores = np.asarray(scores)
    if scores.ndim == 1:
        if rows is not None:
            raise ValueError("rows can only be given with a matrix of scores")
        return _top_k_row(scores, int(k), _row_exclusion(exclude, scores.shape[0]))
    if scores.ndim != 2:
        raise ValueError(f"scores must be a row or a matrix, got {scores.ndim} dimensions")
    excluded = _matrix_exclusion(exclude, scores.shape)
    if rows is None:
        row_ids = np.arange(scores.shape[0], dtype=np.intp)
    else:
        row_ids = np.asarray(rows, dtype=np.intp).reshape(-1)
        if row_ids.size and (row_ids.min() < -scores.shape[0] or row_ids.max() >= scores.shape[0]):
            raise IndexError(f"rows must index the {scores.shape[0]} rows of scores")
    return _top_k_matrix(scores, int(k), excluded, row_ids)


def _row_exclusion(exclude: ExcludeLike, n_items: int) -> np.ndarray | None:
    """The excluded item indices of one row (a sequence, a boolean mask or a 1 x n_items sparse row)."""
    if exclude is None:
        return None
    if _issparse(exclude):
        matrix = sys.modules["scipy.sparse"].csr_matrix(exclude)
        if matrix.shape != (1, n_items):
            raise ValueError(f"exclude must have shape (1, {n_items}), got {matrix.shape}")
        return matrix.indices[matrix.data != 0]
    array = np.asarray(exclude)
    if array.dtype == np.bool_:
        if array.shape != (n_items,):
            raise ValueError(f"a boolean exclude mask must have shape ({n_items},), got {array.shape}")
        return np.flatnonzero(array)
    indices = array.astype(np.int64, casting="safe").reshape(-1) if array.size else np.zeros(0, np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= n_items):
        raise IndexError(f"excluded item indices must lie in 0..{n_items - 1}")
    return indices


def _top_k_row(scores: np.ndarray, k: int, excluded: np.ndarray | None) -> np.ndarray:
    """One row's ranking with plain numpy: recommending one profile is the app's hot path, and the
    sparse exclusion of the matrix path cost more than the ranking itself (0.3 ms per call)."""
    n_items = scores.shape[0]
    width = min(k, n_items)
    if width == 0:
        return np.zeros(0, dtype=np.int64)
    work = scores.astype(np.float64) if not np.issubdtype(scores.dtype, np.floating) else scores.copy()
    work[np.isnan(work)] = -np.inf
    if excluded is not None and excluded.size:
        work[excluded] = -np.inf
    if width == 1:  # the best item: argmax keeps the first of equal scores, as the ordering rule says
        best = int(np.argmax(work))
        return np.array([best] if work[best] != -np.inf else [], dtype=np.int64)
    if width < n_items:
        threshold = np.partition(work, n_items - width)[n_items - width]
        candidates = np.flatnonzero(work >= threshold)  # more than `width` only with ties at the boundary
    else:
        candidates = np.arange(n_items)
    values = work[candidates]
    order = np.lexsort((candidates, -values))[:width]  # descending score, then ascending index
    chosen = candidates[order]
    return chosen[~np.isneginf(values[order])].astype(np.int64)


def _matrix_exclusion(exclude: ExcludeLike, shape: tuple[int, int]) -> sp.csr_matrix | None:
    if exclude is None:
        return None
    import scipy.sparse as sp  # the matrix path serves metrics and benchmarks, not the app

    if sp.issparse(exclude):
        matrix = sp.csr_matrix(exclude)  # no copy when it already is one
    else:
        array = np.asarray(exclude)
        if array.dtype != np.bool_:
            raise TypeError("exclude for a matrix of scores must be a sparse matrix or a boolean array")
        matrix = sp.csr_matrix(array)
    if matrix.shape != shape:
        raise ValueError(f"exclude must have the shape of scores {shape}, got {matrix.shape}")
    return matrix


def _top_k_matrix(
    scores: np.ndarray, k: int, exclude: sp.csr_matrix | None, row_ids: np.ndarray
) -> np.ndarray:
    n_items = scores.shape[1]
    result = np.full((row_ids.size, k), -1, dtype=np.int64)
    width = min(k, n_items)
    if width == 0 or row_ids.size == 0:
        return result
    chunk = max(1, _CHUNK_ELEMENTS // max(n_items, 1))
    for start in range(0, row_ids.size, chunk):
        ids = row_ids[start:start + chunk]
        work = scores[ids]  # fancy indexing: the one working copy of this chunk
        if not np.issubdtype(work.dtype, np.floating):
            work = work.astype(np.float64)
        nan = np.isnan(work)
        if nan.any():
            work[nan] = -np.inf
        if exclude is not None:
            selected = exclude[ids]
            counts = np.diff(selected.indptr)
            local_rows = np.repeat(np.arange(ids.size), counts)
            stored = selected.data != 0
            work[local_rows[stored], selected.indices[stored]] = -np.inf
        result[start:start + ids.size, :width] = _select(work, width)
    return result


def _select(work: np.ndarray, width: int) -> np.ndarray:
    """Per row, the `width` best columns of `work` in ranking order; -1 where the score is -inf."""
    n_rows, n_items = work.shape
    if width < n_items:
        # The width-th largest score of each row; every item scoring at least that is a candidate
        # (more than `width` of them only when there are ties at the boundary).
        threshold = np.partition(work, n_items - width, axis=1)[:, n_items - width]
        candidates = work >= threshold[:, np.newaxis]
    else:
        candidates = np.ones(work.shape, dtype=np.bool_)
    cand_rows, cand_items = np.nonzero(candidates)
    values = work[cand_rows, cand_items]
    # Sort by row, then descending score, then ascending item index.
    order = np.lexsort((cand_items, -values, cand_rows))
    per_row = np.bincount(cand_rows, minlength=n_rows)
    starts = np.cumsum(per_row) - per_row
    rank = np.arange(order.size) - np.repeat(starts, per_row)
    keep = order[rank < width]
    chosen = cand_items[keep].reshape(n_rows, width).astype(np.int64)
    chosen[np.isneginf(values[keep].reshape(n_rows, width))] = -1
    return chosen
