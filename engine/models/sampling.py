"""Training examples for RecoNet (paper section 4.2).

Each example takes a user's training history, removes one movie and makes it the label, then
removes further movies one at a time: with r already removed, one more goes with probability
1/(r+1)^beta. Attributes are perturbed by the same diminishing chain; having no label, their chain
starts at r = 1, so the first attribute is dropped with probability 1/2^beta.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.data.vocabulary import Vocabulary
from engine.models.profiles import normalise_rows, profile_matrix

MAX_EXTRA_REMOVALS = 64  # the chain's probabilities make longer runs vanishingly rare


def chain_lengths(rng: np.random.Generator, n: int, beta: float, already_removed: int = 1) -> np.ndarray:
    """How many further removals each of n examples gets, given `already_removed` so far."""
    counts = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    removed = already_removed
    while active.any() and removed - already_removed < MAX_EXTRA_REMOVALS:
        active &= rng.random(n) < (removed + 1.0) ** (-beta)
        counts += active
        removed += 1
    return counts


def _drop_random_entries(matrix: sp.csr_matrix, counts: np.ndarray, rng: np.random.Generator) -> None:
    """Zero `counts[i]` random stored entries of row i in place (a repeat pick drops nothing new)."""
    lengths = np.diff(matrix.indptr)
    for step in range(int(counts.max(initial=0))):
        rows = np.flatnonzero((counts > step) & (lengths > 0))
        if len(rows) == 0:
            break
        picks = matrix.indptr[rows] + (rng.random(len(rows)) * lengths[rows]).astype(np.int64)
        matrix.data[picks] = 0.0


@dataclass
class ExampleSampler:
    vocabulary: Vocabulary
    history: sp.csr_matrix  # binary users x items, training positives
    user_attributes: sp.csr_matrix | None  # binary users x features, or None when unused
    use_item_attributes: bool
    beta: float
    seed: int = 0

    def __post_init__(self) -> None:
        self.history = self.history.tocsr()
        self.history.sort_indices()
        self._rng = np.random.default_rng(self.seed)
        coo = self.history.tocoo()
        self.example_users = coo.row.astype(np.int64)
        self.example_labels = coo.col.astype(np.int64)

    def __len__(self) -> int:
        return len(self.example_users)

    def epoch_order(self) -> np.ndarray:
        return self._rng.permutation(len(self))

    def batch(self, example_ids: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """Row-normalised perturbed profiles and the label item of each example."""
        rng = self._rng
        users = self.example_users[example_ids]
        labels = self.example_labels[example_ids]
        items = self.history[users].astype(np.float32)  # a copy we may edit
        # Remove the label. Indices are sorted within rows, so (row, column) keys are globally sorted.
        n_cols = items.shape[1]
        entry_rows = np.repeat(np.arange(len(users)), np.diff(items.indptr))
        keys = entry_rows * n_cols + items.indices
        items.data[np.searchsorted(keys, np.arange(len(users)) * n_cols + labels)] = 0.0
        _drop_random_entries(items, chain_lengths(rng, len(users), self.beta, already_removed=1), rng)
        items.eliminate_zeros()

        attributes = None
        if self.user_attributes is not None:
            attributes = self.user_attributes[users].astype(np.float32)
            attributes.data = attributes.data.copy()
        profiles = profile_matrix(self.vocabulary, items, attributes, self.use_item_attributes)
        profiles = _perturb_attributes(profiles, self.vocabulary.n_items, self.beta, rng)
        return profiles, labels


def _perturb_attributes(profiles: sp.csr_matrix, n_items: int, beta: float, rng: np.random.Generator) -> sp.csr_matrix:
    """Drop attributes (columns >= n_items) by the same chain, then re-normalise each row."""
    attributes = profiles[:, n_items:].tocsr()
    if attributes.nnz == 0:
        return profiles
    _drop_random_entries(attributes, chain_lengths(rng, profiles.shape[0], beta, already_removed=1), rng)
    binary = sp.hstack([profiles[:, :n_items], attributes], format="csr")
    binary.eliminate_zeros()
    binary.data[:] = 1.0
    return normalise_rows(binary)
