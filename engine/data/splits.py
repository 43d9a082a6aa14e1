"""Per-user random train/validation/test splits of implicit feedback, with cold-start users."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from engine.data.sparse_rows import SparseRows
from engine.data.types import Dataset
from engine.data.vocabulary import Vocabulary

if TYPE_CHECKING:  # scipy is imported where splits are made (training, benchmarks), not by serving
    import scipy.sparse as sp


@dataclass(frozen=True, eq=False)
class Split:
    """Binary user-by-item matrices; row r is user `user_ids[r]`, column c is item row c of the vocabulary.

    Cold-start users keep their test rows but their train and validation rows are withheld from
    fitting (`fit_train`); `train` still holds them so a benchmark can ask "what if this new user
    told us their history without any retraining".
    """

    user_ids: np.ndarray
    train: sp.csr_matrix
    validation: sp.csr_matrix
    test: sp.csr_matrix
    cold_users: np.ndarray  # row indices

    @property
    def warm_mask(self) -> np.ndarray:
        mask = np.ones(len(self.user_ids), dtype=bool)
        mask[self.cold_users] = False
        return mask

    @property
    def fit_train(self) -> sp.csr_matrix:
        return _zero_rows(self.train, self.cold_users)

    @property
    def fit_validation(self) -> sp.csr_matrix:
        return _zero_rows(self.validation, self.cold_users)


def positives_matrix(dataset: Dataset, vocabulary: Vocabulary, threshold: float = 3.0) -> tuple[np.ndarray, sp.csr_matrix]:
    """User ids and the binary user-by-item matrix of ratings >= threshold (scipy, for training)."""
    user_ids, rows = positives_rows(dataset, vocabulary, threshold)
    return user_ids, rows.to_scipy()


def positives_rows(dataset: Dataset, vocabulary: Vocabulary, threshold: float = 3.0) -> tuple[np.ndarray, SparseRows]:
    """User ids and each user's liked item rows (ratings >= threshold), values 1, without scipy."""
    positives = dataset.interactions.positives(threshold)
    user_ids = np.array(sorted(dataset.users) if dataset.users else np.unique(positives.users), dtype=np.int64)
    user_ids = np.union1d(user_ids, np.unique(positives.users))
    rows = _positions(user_ids, positives.users)  # every one is there: user_ids holds them all
    cols = _item_rows(vocabulary, positives.items)
    liked = SparseRows.from_entries(rows, cols, np.ones(len(rows), dtype=np.float32), (len(user_ids), vocabulary.n_items))
    return user_ids, replace(liked, data=np.ones(liked.nnz, dtype=np.float32))  # a movie liked twice is liked


def ratings_matrix(dataset: Dataset, vocabulary: Vocabulary, user_ids: np.ndarray) -> sp.csr_matrix:
    """Stars per (user row, item row) for the users in `user_ids` (sorted); other users are left out."""
    return ratings_rows(dataset, vocabulary, user_ids).to_scipy()


def ratings_rows(dataset: Dataset, vocabulary: Vocabulary, user_ids: np.ndarray) -> SparseRows:
    """`ratings_matrix` without scipy: the stars of a (user, movie) rated twice are summed, as scipy sums them."""
    interactions = dataset.interactions
    rows = _positions(np.asarray(user_ids, dtype=np.int64), interactions.users)
    known = rows >= 0
    cols = _item_rows(vocabulary, interactions.items[known])
    return SparseRows.from_entries(rows[known], cols, interactions.ratings[known].astype(np.float32),
                                   (len(user_ids), vocabulary.n_items))


def _item_rows(vocabulary: Vocabulary, item_ids: np.ndarray) -> np.ndarray:
    """Vocabulary rows of movie ids (KeyError for an unknown one), vectorised: a dict look-up per
    rating cost 0.1 s per 100,000 ratings at every start."""
    item_ids = np.asarray(item_ids, dtype=np.int64)
    rows = _positions(vocabulary.item_ids, item_ids)
    missing = rows < 0
    if missing.any():
        raise KeyError(int(item_ids[np.flatnonzero(missing)[0]]))
    return rows


def _positions(known: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The index of each of `ids` in `known` (sorted, distinct), -1 where it is not there. Through a
    table indexed by id when the ids are dense enough (MovieLens's are): a binary search per rating
    cost ~10 ms per 100,000 ratings, twice per matrix, at every start."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(known) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    low, high = int(known[0]), int(known[-1])
    if low >= 0 and high <= 4 * len(known) + 100_000:
        table = np.full(high + 3, -1, dtype=np.int64)  # id + 1 -> index; the two ends catch ids outside
        table[known + 1] = np.arange(len(known))
        return table[np.clip(ids + 1, 0, high + 2)]
    at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    return np.where(known[at] == ids, at, -1)


def random_split(
    user_ids: np.ndarray,
    matrix: sp.csr_matrix,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    cold_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """Each user's positives shuffled and cut 60/20/20; `cold_fraction` of users with test items go cold."""
    import scipy.sparse as sp

    if abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    matrix = matrix.tocsr()
    parts: list[list[np.ndarray]] = [[], [], []]
    part_rows: list[list[np.ndarray]] = [[], [], []]
    for row in range(matrix.shape[0]):
        items = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]].copy()
        rng.shuffle(items)
        n_train = int(round(fractions[0] * len(items)))
        n_validation = int(round(fractions[1] * len(items)))
        cuts = (items[:n_train], items[n_train : n_train + n_validation], items[n_train + n_validation :])
        for part, chunk in enumerate(cuts):
            parts[part].append(chunk)
            part_rows[part].append(np.full(len(chunk), row, dtype=np.int64))
    shape = matrix.shape
    train, validation, test = (
        sp.csr_matrix((np.ones(sum(map(len, p)), dtype=np.float32), (np.concatenate(r), np.concatenate(p))), shape=shape)
        for p, r in zip(parts, part_rows)
    )
    with_test = np.flatnonzero(np.diff(test.indptr) > 0)
    n_cold = int(round(cold_fraction * len(with_test)))
    cold = np.sort(rng.choice(with_test, size=n_cold, replace=False)) if n_cold else np.empty(0, dtype=np.int64)
    return Split(user_ids, train, validation, test, cold.astype(np.int64))


def _zero_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    import scipy.sparse as sp

    if len(rows) == 0:
        return matrix
    keep = np.ones(matrix.shape[0], dtype=np.float32)
    keep[rows] = 0.0
    result = sp.diags(keep) @ matrix
    result.eliminate_zeros()
    return result.tocsr()
