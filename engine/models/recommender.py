"""The contract every item-ranking model follows.

Data are implicit feedback: a sparse (users x items) matrix whose stored nonzero entries are
positives (any nonzero value counts as one). A model is fitted once on training rows and then
scores arbitrary rows of known positives, including users it never saw in `fit`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp

from engine.evaluation.ranking import top_k
from engine.progress import SILENT, TaskState


class Recommender(ABC):
    """An item-ranking model: `fit` on training positives, then `score` rows of known positives."""

    name: str = "Recommender"

    #: Number of items the model was fitted on; None before `fit`.
    n_items: int | None = None

    @abstractmethod
    def fit(self, train: sp.csr_matrix, state: TaskState = SILENT) -> "Recommender":
        """Learn from `train` (n_users x n_items, stored nonzeros = positives). Returns self."""

    @abstractmethod
    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores for every item, higher = better.

        history: (n_rows x n_items), each row a user's known positives; the users need not have
        been in the training data. Returns a new float32 array (n_rows x n_items). Neither the
        model nor `history` is modified.
        """

    def recommend(self, history: sp.csr_matrix, k: int, exclude_history: bool = True) -> np.ndarray:
        """Top-`k` item indices per row of `history`, best first (see `top_k` for ties and -1 padding).

        With exclude_history the items a row already has are never recommended.
        """
        rows = as_binary_csr(history, "history")
        scores = self.score(rows)
        return top_k(scores, k, rows if exclude_history else None)

    # Helpers for subclasses.

    def _require_fitted(self) -> int:
        if self.n_items is None:
            raise RuntimeError(f"{self.name} must be fitted before it can score")
        return self.n_items

    def _history(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """`history` as a binary float32 CSR matrix, checked against the fitted item count."""
        n_items = self._require_fitted()
        rows = as_binary_csr(history, "history")
        if rows.shape[1] != n_items:
            raise ValueError(f"history has {rows.shape[1]} items but {self.name} was fitted on {n_items}")
        return rows

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def as_binary_csr(matrix: sp.spmatrix | sp.sparray, what: str = "matrix") -> sp.csr_matrix:
    """A new binary float32 CSR matrix with a 1 wherever `matrix` stores a nonzero.

    Duplicates are merged and explicit zeros dropped; the input is never modified.
    """
    if not sp.issparse(matrix):
        raise TypeError(f"{what} must be a scipy sparse matrix, got {type(matrix).__name__}")
    if matrix.ndim != 2:
        raise ValueError(f"{what} must be two-dimensional")
    result = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    result.sum_duplicates()
    result.eliminate_zeros()
    result.data[:] = 1.0
    return result
