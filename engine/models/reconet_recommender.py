"""RecoNet behind the recommender contract (engine/models/recommender.py) that the baselines follow:
`fit` on binary training histories, then `score` any rows of known positives, new users included.

It scores from a history alone (movies and their genres); the served model additionally reads user
attributes, which this contract does not carry.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.data.vocabulary import Vocabulary
from engine.models.profiles import profile_matrix
from engine.models.reconet import RecoNetConfig, RecoNetWeights
from engine.models.recommender import Recommender, as_binary_csr
from engine.progress import SILENT, TaskState


class RecoNetRecommender(Recommender):
    """RecoNet trained for `config.max_epochs` (no validation: the caller owns model selection)."""

    name = "RecoNet"

    def __init__(self, vocabulary: Vocabulary, config: RecoNetConfig | None = None):
        base = config or RecoNetConfig()
        self.config = RecoNetConfig(**{**base.to_dict(), "use_user_attributes": False})
        self.vocabulary = vocabulary
        self.weights: RecoNetWeights | None = None

    def fit(self, train: sp.csr_matrix, state: TaskState = SILENT) -> "RecoNetRecommender":
        from engine.models.training import train_reconet  # torch: only when training

        rows = self._checked(train, "train")
        self.n_items = rows.shape[1]
        self.weights = train_reconet(self.vocabulary, rows, None, self.config, None, state).weights
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        rows = self._history(history)
        profiles = profile_matrix(self.vocabulary, rows, None, self.config.use_item_attributes)
        return np.asarray(self.weights.logits_batch(profiles), dtype=np.float32)

    def _checked(self, matrix: sp.csr_matrix, what: str) -> sp.csr_matrix:
        rows = as_binary_csr(matrix, what)
        if rows.shape[1] != self.vocabulary.n_items:
            raise ValueError(f"{what} has {rows.shape[1]} items but the vocabulary has {self.vocabulary.n_items}")
        return rows

    def __repr__(self) -> str:
        return f"RecoNetRecommender(dim={self.config.dim}, epochs={self.config.max_epochs})"
