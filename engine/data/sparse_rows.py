"""Rows of (column, value) pairs in compressed-sparse-row arrays, with numpy alone.

Serving reads a user's row and the column counts, nothing more; importing scipy.sparse for that
cost the app's start 0.2-0.3 s (its array-API layer pulls numpy.f2py and numpy.testing). Training,
splits and the benchmarks still work on scipy matrices: `to_scipy` gives one, importing scipy then.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SparseRows:
    """`indices[indptr[r]:indptr[r + 1]]` are row r's columns (sorted, no duplicates), `data` the
    values at the same places; the same layout as scipy's csr_matrix, so `to_scipy` copies nothing."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_entries(cls, rows, cols, values, shape: tuple[int, int], duplicates: str = "sum") -> "SparseRows":
        """Rows from (row, column, value) triples in any order. A (row, column) given more than once
        keeps the sum of its values (`duplicates="sum"`, scipy's rule) or its last value ("last")."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        cols = np.asarray(cols, dtype=np.int64).reshape(-1)
        values = np.asarray(values).reshape(-1)
        n_rows, n_cols = int(shape[0]), int(shape[1])
        if not (len(rows) == len(cols) == len(values)):
            raise ValueError("rows, columns and values must have the same length")
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows or cols.min() < 0 or cols.max() >= n_cols):
            raise IndexError(f"an entry lies outside the shape {(n_rows, n_cols)}")
        keys = rows * max(n_cols, 1) + cols
        # Stable only where the order of duplicates matters ("last"): it costs 3-4x the default sort.
        order = np.argsort(keys, kind="stable" if duplicates == "last" else "quicksort")
        keys, values = keys[order], values[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, dtype=np.int64)
        if duplicates == "sum":
            merged = np.add.reduceat(values, starts) if len(keys) else values[:0]
        elif duplicates == "last":
            merged = values[np.r_[starts[1:], len(keys)] - 1] if len(keys) else values[:0]
        else:
            raise ValueError(f"duplicates must be 'sum' or 'last', got {duplicates!r}")
        unique = keys[starts]
        entry_rows = unique // max(n_cols, 1)
        # scipy's index type: int32 while it can hold every position, so that to_scipy copies nothing
        index = np.int32 if max(len(unique), n_cols) < 2**31 else np.int64
        indptr = np.zeros(n_rows + 1, dtype=index)
        np.cumsum(np.bincount(entry_rows, minlength=n_rows), out=indptr[1:])
        return cls(indptr, (unique % max(n_cols, 1)).astype(index), merged, (n_rows, n_cols))

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Row `row`'s columns (ascending) and values."""
        span = slice(int(self.indptr[row]), int(self.indptr[row + 1]))
        return self.indices[span], self.data[span]

    def row_lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def column_sums(self) -> np.ndarray:
        """The sum of each column's values (n_cols,), in float64."""
        return np.bincount(self.indices, weights=self.data.astype(np.float64), minlength=self.shape[1])

    def sum(self, axis: int | None = None):
        """Column sums (axis 0), row sums (axis 1) or the total, as plain arrays; for code written
        against scipy's `matrix.sum(axis=...)` followed by `np.asarray(...).ravel()`."""
        if axis == 0:
            return self.column_sums()
        if axis == 1:
            rows = np.repeat(np.arange(self.shape[0]), self.row_lengths())
            return np.bincount(rows, weights=self.data.astype(np.float64), minlength=self.shape[0])
        if axis is None:
            return float(self.data.sum(dtype=np.float64))
        raise ValueError(f"axis must be 0, 1 or None, got {axis!r}")

    def to_scipy(self):
        """The same rows as a scipy.sparse.csr_matrix (imports scipy: for training and benchmarks)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def as_scipy(matrix):
    """A scipy sparse matrix of `matrix`, which may be SparseRows or already a scipy matrix."""
    return matrix.to_scipy() if isinstance(matrix, SparseRows) else matrix
