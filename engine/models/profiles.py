"""Profile matrices: each row a user's features (movies, user attributes, genres), weighted 1/|profile|."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.data.sparse_rows import SparseRows
from engine.data.types import Dataset
from engine.data.vocabulary import Vocabulary

if TYPE_CHECKING:  # scipy is imported by the functions that build training matrices, not at import
    import scipy.sparse as sp


def user_attribute_matrix(vocabulary: Vocabulary, attribute_rows: list[list[int]]) -> sp.csr_matrix:
    """Binary (users x features) matrix of user attributes; `attribute_rows[u]` are embedding rows."""
    return user_attribute_rows(vocabulary, attribute_rows).to_scipy()


def user_attribute_rows(vocabulary: Vocabulary, attribute_rows: list[list[int]]) -> SparseRows:
    """`user_attribute_matrix` without scipy."""
    rows = np.repeat(np.arange(len(attribute_rows)), [len(r) for r in attribute_rows])
    cols = np.fromiter((c for r in attribute_rows for c in r), dtype=np.int64, count=len(rows))
    return SparseRows.from_entries(rows, cols, np.ones(len(rows), dtype=np.float32),
                                   (len(attribute_rows), vocabulary.n_features))


def dataset_user_attributes(vocabulary: Vocabulary, dataset: Dataset, user_ids) -> sp.csr_matrix:
    """The user-attribute matrix of a dataset's users, in the order of `user_ids`."""
    return dataset_user_attribute_rows(vocabulary, dataset, user_ids).to_scipy()


def dataset_user_attribute_rows(vocabulary: Vocabulary, dataset: Dataset, user_ids) -> SparseRows:
    """`dataset_user_attributes` without scipy (what the engine keeps at load, for training on first use)."""
    rows, known = [], {}  # (gender, age, occupation) -> rows: a few hundred kinds of user, not 6,040
    for user_id in user_ids:
        user = dataset.users.get(int(user_id))
        if user is None:
            rows.append([])
            continue
        kind = (user.gender, user.age, user.occupation)
        if kind not in known:
            known[kind] = vocabulary.user_attributes(*kind)
        rows.append(known[kind])
    return user_attribute_rows(vocabulary, rows)


def profile_matrix(
    vocabulary: Vocabulary,
    history: sp.csr_matrix,
    user_attributes: sp.csr_matrix | None,
    use_item_attributes: bool,
) -> sp.csr_matrix:
    """Row-normalised (users x features) profiles from binary item histories and attribute rows.

    Genres are the union over the kept movies, so removing a movie also removes a genre that only
    it carried (no label leaks through its genre during training).
    """
    import scipy.sparse as sp

    n_users = history.shape[0]
    blocks = [history.astype(np.float32)]
    n_item_cols = vocabulary.n_items
    attributes = sp.csr_matrix((n_users, vocabulary.n_features - n_item_cols), dtype=np.float32)
    if user_attributes is not None:
        attributes = attributes + user_attributes[:, n_item_cols:]
    if use_item_attributes and vocabulary.genre_feature_offset is not None:
        genre_present = (history @ vocabulary.item_genres) > 0
        start = vocabulary.genre_feature_offset - n_item_cols
        genres = sp.csr_matrix(genre_present.astype(np.float32))
        padded = sp.hstack(
            [sp.csr_matrix((n_users, start)), genres, sp.csr_matrix((n_users, attributes.shape[1] - start - genres.shape[1]))]
        )
        attributes = attributes + padded
    blocks.append(attributes)
    profiles = sp.hstack(blocks, format="csr")
    profiles.eliminate_zeros()
    profiles.data[:] = 1.0
    return normalise_rows(profiles)


def normalise_rows(binary: sp.csr_matrix) -> sp.csr_matrix:
    counts = np.diff(binary.indptr)
    scale = np.divide(1.0, counts, out=np.zeros(len(counts), dtype=np.float64), where=counts > 0)
    result = binary.copy().astype(np.float32)
    result.data = np.repeat(scale, counts).astype(np.float32)
    result.sort_indices()
    return result
