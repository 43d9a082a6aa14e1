"""Baseline item-ranking models: popularity, item-based nearest neighbours and EASE.

All three keep a dense (n_items x n_items) or (n_items,) array, which suits catalogues of a few
thousand to a few tens of thousands of items (MovieLens 1M: 3,706 items, 55 MB of float32).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from engine.evaluation.metrics import mean_recall_at_k
from engine.evaluation.ranking import top_k
from engine.models.recommender import Recommender, as_binary_csr
from engine.progress import SILENT, TaskState


class Popularity(Recommender):
    """Scores every item by the number of training users who have it; the same row for everyone."""

    name = "Popularity"

    def __init__(self) -> None:
        self.counts: np.ndarray | None = None  # float32 (n_items,)

    def fit(self, train: sp.csr_matrix, state: TaskState = SILENT) -> "Popularity":
        state.progress(0.0, "Counting how many users have each item")
        matrix = as_binary_csr(train, "train")
        counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float32)
        self.counts, self.n_items = counts, matrix.shape[1]
        state.progress(1.0, "Popularity ready")
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        rows = self._history(history)
        assert self.counts is not None
        return np.tile(self.counts, (rows.shape[0], 1))


class ItemKNN(Recommender):
    """Item-based nearest neighbours with cosine similarity.

    S[i, j] = |users with i and j| / sqrt(|users with i| * |users with j|), S[i, i] = 0; with
    `neighbours`, each column j keeps only its `neighbours` largest entries (ties: lower item index).
    A user's score for item j is the sum of S[i, j] over the items i in the user's history.
    """

    name = "ItemKNN"

    def __init__(self, neighbours: int | None = None) -> None:
        if neighbours is not None and (isinstance(neighbours, bool) or int(neighbours) != neighbours or neighbours < 1):
            raise ValueError(f"neighbours must be a positive integer or None, got {neighbours!r}")
        self.neighbours = None if neighbours is None else int(neighbours)
        self.similarity: np.ndarray | None = None  # float32 (n_items x n_items)

    def fit(self, train: sp.csr_matrix, state: TaskState = SILENT) -> "ItemKNN":
        state.progress(0.0, "Counting items seen together")
        matrix = as_binary_csr(train, "train")
        n_items = matrix.shape[1]
        similarity = gram(matrix).astype(np.float32)
        state.progress(0.5, "Computing cosine similarities")
        norms = np.sqrt(np.diag(similarity).astype(np.float64))
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
        similarity *= inverse[:, np.newaxis]
        similarity *= inverse[np.newaxis, :]
        np.fill_diagonal(similarity, 0.0)
        if self.neighbours is not None and self.neighbours < n_items:
            state.progress(0.75, f"Keeping the {self.neighbours} nearest neighbours of each item")
            # Row j of the transpose is column j: the similarities of every item to target item j.
            nearest = top_k(similarity.T, self.neighbours)
            targets = np.repeat(np.arange(n_items), nearest.shape[1])
            sources = nearest.reshape(-1)
            pruned = np.zeros_like(similarity)
            pruned[sources, targets] = similarity[sources, targets]
            similarity = pruned
        self.similarity, self.n_items = similarity, n_items
        state.progress(1.0, "ItemKNN ready")
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        rows = self._history(history)
        assert self.similarity is not None
        return _dense_product(rows, self.similarity)

    def __repr__(self) -> str:
        return f"ItemKNN(neighbours={self.neighbours})"


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, WWW 2019), closed form.

    G = X^T X + l2 * I, P = G^-1, B[i, j] = -P[i, j] / P[j, j] for i != j and B[j, j] = 0.
    A user's score for item j is the sum of B[i, j] over the items i in the user's history.
    """

    name = "EASE"

    DEFAULT_GRID: tuple[float, ...] = (50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)

    def __init__(self, l2: float = 500.0) -> None:
        self.l2 = _check_l2(l2)
        self.weights: np.ndarray | None = None  # float32 (n_items x n_items), zero diagonal
        #: After `tuned`: mean validation recall of each l2 tried, in grid order.
        self.validation_recall: dict[float, float] = {}

    def fit(self, train: sp.csr_matrix, state: TaskState = SILENT) -> "EASE":
        state.progress(0.0, "Counting items seen together")
        matrix = as_binary_csr(train, "train")
        g = gram(matrix).astype(np.float64)
        state.progress(0.3, f"Solving EASE with l2={self.l2:g}")
        self.weights, self.n_items = ease_weights(g, self.l2), matrix.shape[1]
        state.progress(1.0, "EASE ready")
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        rows = self._history(history)
        assert self.weights is not None
        return _dense_product(rows, self.weights)

    @classmethod
    def tuned(
        cls,
        train: sp.csr_matrix,
        validation_history: sp.csr_matrix,
        validation_truth: sp.csr_matrix,
        grid: Sequence[float] = DEFAULT_GRID,
        state: TaskState = SILENT,
        k: int = 50,
    ) -> "EASE":
        """An EASE fitted on `train` with the l2 from `grid` that maximises validation recall@k.

        validation_history: the validation users' known positives (scored, and excluded from the
        ranking); validation_truth: their held-out positives. Both (n_val_users x n_items).
        The Gram matrix is computed once for the whole grid. Ties go to the earlier grid value.
        The recall of every l2 tried is kept in the result's `validation_recall`.
        """
        values = [_check_l2(value) for value in grid]
        if not values:
            raise ValueError("the l2 grid must not be empty")
        state.progress(0.0, "Counting items seen together")
        matrix = as_binary_csr(train, "train")
        history = as_binary_csr(validation_history, "validation_history")
        if history.shape[1] != matrix.shape[1]:
            raise ValueError(f"validation_history has {history.shape[1]} items, train has {matrix.shape[1]}")
        g = gram(matrix).astype(np.float64)
        best: tuple[float, float, np.ndarray] | None = None
        recalls: dict[float, float] = {}
        for index, l2 in enumerate(values):
            state.progress(0.1 + 0.9 * index / len(values), f"Trying EASE with l2={l2:g}")
            weights = ease_weights(g, l2)
            recall = float(mean_recall_at_k(_dense_product(history, weights), history, validation_truth, k))
            recalls[l2] = recall
            if best is None or recall > best[1]:
                best = (l2, recall, weights)
        assert best is not None
        model = cls(best[0])
        model.weights, model.n_items, model.validation_recall = best[2], matrix.shape[1], recalls
        state.progress(1.0, f"EASE ready: l2={best[0]:g}, validation recall@{k}={best[1]:.4f}")
        return model

    def __repr__(self) -> str:
        return f"EASE(l2={self.l2:g})"


def gram(matrix: sp.csr_matrix) -> np.ndarray:
    """Dense X^T X of a binary float32 matrix: co-occurrence counts (exact up to 2^24 users)."""
    return np.asarray((matrix.T @ matrix).toarray())


def ease_weights(g: np.ndarray, l2: float) -> np.ndarray:
    """EASE's item-item weights (float32, zero diagonal) from a float64 Gram matrix X^T X.

    `g` is not modified.
    """
    regularised = np.array(g, dtype=np.float64, copy=True)
    regularised[np.diag_indices_from(regularised)] += l2
    precision = np.linalg.inv(regularised)
    del regularised
    weights = precision / (-np.diag(precision))[np.newaxis, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def _dense_product(rows: sp.csr_matrix, weights: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows @ weights, dtype=np.float32)


def _check_l2(l2: float) -> float:
    value = float(l2)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"l2 must be a positive number, got {l2!r}")
    return value
