"""PureSVD (Cremonesi, Koren & Turrin 2010): the non-neural reference of the expert lens benchmark.

The binary training matrix R (users x items) is factorised by a truncated SVD, R ~ U S V^T, and a
user with known items r is scored r V V^T: the user's row projected onto the top-k item factors.
A new user is scored from their row alone, so the model needs no retraining for them. Dacrema et
al. found it above NCF on NCF's own ML-1M split (HR@10 0.690), which is why it is the bar here.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from engine.models.recommender import Recommender, as_binary_csr
from engine.progress import SILENT, TaskState


class PureSVD(Recommender):
    name = "PureSVD"

    def __init__(self, factors: int = 20, seed: int = 0) -> None:
        if isinstance(factors, bool) or int(factors) != factors or factors < 1:
            raise ValueError(f"factors must be a positive integer, got {factors!r}")
        self.factors = int(factors)
        self.seed = seed
        self.item_factors: np.ndarray | None = None  # float64 (n_items x factors), orthonormal columns

    def fit(self, train: sp.csr_matrix, state: TaskState = SILENT) -> "PureSVD":
        state.progress(0.0, f"Truncated SVD with {self.factors} factors")
        matrix = as_binary_csr(train, "train").astype(np.float64)
        rank_limit = min(matrix.shape) - 1  # svds needs k < min(shape)
        if self.factors > rank_limit:
            raise ValueError(f"{self.factors} factors need a matrix larger than {matrix.shape}")
        # A fixed start vector makes the ARPACK result, and so the ranking, repeatable.
        start = np.random.default_rng(self.seed).random(min(matrix.shape))
        _, _, vt = svds(matrix, k=self.factors, v0=start)
        self.item_factors = np.ascontiguousarray(vt.T)
        self.n_items = matrix.shape[1]
        state.progress(1.0, "PureSVD ready")
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        rows = self._history(history)
        assert self.item_factors is not None
        return np.asarray((rows @ self.item_factors) @ self.item_factors.T, dtype=np.float32)

    def score_exact(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores in float64: the sampled metrics count ties, and float32 rounding makes spurious ones."""
        rows = self._history(history).astype(np.float64)
        assert self.item_factors is not None
        return (rows @ self.item_factors) @ self.item_factors.T

    def __repr__(self) -> str:
        return f"PureSVD(factors={self.factors})"


def tune_factors(
    train: sp.csr_matrix,
    validation_score: Callable[[PureSVD], float],
    candidates: Sequence[int] = (5, 10, 20, 30, 50, 80),
    state: TaskState = SILENT,
) -> tuple[PureSVD, dict[int, float]]:
    """The PureSVD whose `validation_score` (higher is better) is best over `candidates`, and every
    candidate's score; ties go to the smaller model."""
    results: dict[int, float] = {}
    best: PureSVD | None = None
    for index, factors in enumerate(candidates):
        state.progress(index / len(candidates), f"PureSVD: {factors} factors")
        model = PureSVD(factors).fit(train)
        results[factors] = float(validation_score(model))
        if best is None or results[factors] > results[best.factors]:
            best = model
    assert best is not None
    return best, results
