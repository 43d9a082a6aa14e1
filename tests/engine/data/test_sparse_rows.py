"""SparseRows, the numpy-only rows the engine serves from, against scipy's csr_matrix built from the
same entries (scipy is the reference here; the app itself never imports it)."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from engine.data.sparse_rows import SparseRows, as_scipy
from engine.data.splits import positives_matrix, positives_rows, ratings_matrix, ratings_rows
from engine.data.types import Dataset, Interactions
from engine.data.vocabulary import Vocabulary
from engine.models.profiles import dataset_user_attribute_rows, dataset_user_attributes

entries = st.integers(1, 6).flatmap(lambda n_rows: st.integers(1, 7).flatmap(lambda n_cols: st.tuples(
    st.just((n_rows, n_cols)),
    st.lists(st.tuples(st.integers(0, n_rows - 1), st.integers(0, n_cols - 1), st.integers(1, 5)), max_size=30),
)))


@settings(max_examples=200, deadline=None)
@given(entries)
def test_rows_hold_what_scipy_holds_duplicates_summed(case):
    shape, triples = case
    rows, cols, values = (np.array([t[i] for t in triples], dtype=np.int64) for i in range(3))
    ours = SparseRows.from_entries(rows, cols, values.astype(np.float32), shape)
    theirs = sp.csr_matrix((values.astype(np.float32), (rows, cols)), shape=shape)
    theirs.sum_duplicates()
    assert ours.shape == theirs.shape and ours.nnz == theirs.nnz
    assert np.array_equal(ours.to_scipy().toarray(), theirs.toarray())
    assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
    assert np.allclose(ours.sum(axis=0), np.asarray(theirs.sum(axis=0)).ravel())
    assert np.allclose(ours.sum(axis=1), np.asarray(theirs.sum(axis=1)).ravel())
    assert ours.sum() == pytest.approx(float(theirs.sum()))
    for r in range(shape[0]):
        columns, data = ours.row(r)
        assert columns.tolist() == sorted(set(columns.tolist()))  # ascending, once each
        assert np.array_equal(theirs[r].toarray().ravel()[columns], data)


def test_duplicates_can_keep_the_last_value():
    rows = SparseRows.from_entries([0, 1, 0], [2, 0, 2], [4.0, 1.0, 3.0], (2, 3), duplicates="last")
    assert rows.to_scipy().toarray().tolist() == [[0, 0, 3], [1, 0, 0]]


def test_entries_outside_the_shape_are_refused():
    with pytest.raises(IndexError):
        SparseRows.from_entries([0], [3], [1.0], (1, 3))
    with pytest.raises(IndexError):
        SparseRows.from_entries([-1], [0], [1.0], (1, 3))


def test_empty_rows_and_an_empty_matrix():
    rows = SparseRows.from_entries([], [], np.zeros(0, np.float32), (3, 2))
    assert rows.nnz == 0 and rows.row(2)[0].size == 0
    assert rows.sum(axis=0).tolist() == [0, 0] and rows.sum(axis=1).tolist() == [0, 0, 0]
    assert rows.to_scipy().shape == (3, 2)


def test_as_scipy_passes_a_scipy_matrix_through():
    matrix = sp.csr_matrix(np.eye(2, dtype=np.float32))
    assert as_scipy(matrix) is matrix
    assert isinstance(as_scipy(SparseRows.from_entries([0], [1], [1.0], (2, 2))), sp.csr_matrix)


def test_the_served_rows_equal_the_training_matrices(tiny_dataset):
    """What the engine keeps at load (rows) is what training builds (scipy), on a dataset with a
    repeated rating, a user without positives and one without ratings."""
    interactions = Interactions(np.array([1, 1, 1, 2, 2, 1]), np.array([1, 2, 3, 2, 4, 1]),
                                np.array([5, 4, 3, 5, 1, 2], dtype=np.float32))
    data = Dataset("repeats", tiny_dataset.movies, tiny_dataset.users, interactions)
    vocabulary = Vocabulary(data)
    user_ids, liked = positives_rows(data, vocabulary)
    same_ids, matrix = positives_matrix(data, vocabulary)
    assert user_ids.tolist() == same_ids.tolist()
    assert np.array_equal(liked.to_scipy().toarray(), matrix.toarray())
    assert set(np.unique(liked.data).tolist()) == {1.0}
    assert np.array_equal(ratings_rows(data, vocabulary, user_ids).to_scipy().toarray(),
                          ratings_matrix(data, vocabulary, user_ids).toarray())
    assert np.array_equal(dataset_user_attribute_rows(vocabulary, data, user_ids).to_scipy().toarray(),
                          dataset_user_attributes(vocabulary, data, user_ids).toarray())


@pytest.mark.parametrize("scale", [1, 10, 10**12])  # dense ids (a table) and sparse ones (a binary search)
def test_ids_map_to_their_rows_at_any_spacing(scale):
    from engine.data.splits import _positions

    known = np.array([1, 2, 5, 9], dtype=np.int64) * scale
    asked = np.array([9 * scale, 1 * scale, 3 * scale, -scale, 10 * scale, 2**62, 5 * scale], dtype=np.int64)
    assert _positions(known, asked).tolist() == [3, 0, -1, -1, -1, -1, 2]
    assert _positions(known[:0], asked).tolist() == [-1] * len(asked)


def test_ratings_of_users_left_out_are_not_kept(tiny_dataset):
    vocabulary = Vocabulary(tiny_dataset)
    stars = ratings_rows(tiny_dataset, vocabulary, np.array([2], dtype=np.int64))
    assert stars.to_scipy().toarray().tolist() == [[0, 5, 0, 1]]
