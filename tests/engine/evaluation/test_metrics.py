"""Tests of top-k ranking and recall@k, with expectations worked out by hand."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluation.metrics import mean_recall_at_k, recall_at_k, users_with_truth
from engine.evaluation.ranking import top_k


def rows_to_csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    """A binary matrix with a 1 at each listed item of each row."""
    row_ids = [r for r, items in enumerate(rows) for _ in items]
    col_ids = [i for items in rows for i in items]
    data = np.ones(len(col_ids), dtype=np.float32)
    return sp.csr_matrix((data, (row_ids, col_ids)), shape=(len(rows), n_items))


# Four users, five items. User 2 has no truth item and must be dropped.
SCORES = np.array(
    [
        [0.9, 0.8, 0.7, 0.6, 0.5],
        [0.1, 0.5, 0.3, 0.9, 0.2],
        [0.3, 0.2, 0.1, 0.0, 0.4],
        [0.5, 0.5, 0.5, 0.5, 0.5],  # all tied: ranked by item index
    ],
    dtype=np.float32,
)
EXCLUDE = rows_to_csr([[], [3], [], [0]], 5)
TRUTH = rows_to_csr([[1, 4], [2, 0, 4], [], [2]], 5)
KS = (1, 2, 3, 5)
# User 0 ranks 0,1,2,3,4; truth {1, 4}.
# User 1 ranks 1,2,4,0 (3 excluded); truth {0, 2, 4}.
# User 3 ranks 1,2,3,4 (0 excluded, ties by index); truth {2}.
EXPECTED = [
    [Fraction(0), Fraction(1, 2), Fraction(1, 2), Fraction(1)],
    [Fraction(0), Fraction(1, 3), Fraction(2, 3), Fraction(1)],
    [Fraction(0), Fraction(1), Fraction(1), Fraction(1)],
]


def as_float(table: list[list[Fraction]]) -> np.ndarray:
    return np.array([[float(value) for value in row] for row in table])


# ---------------------------------------------------------------- top_k


def test_top_k_row_orders_by_descending_score():
    assert top_k(np.array([0.1, 0.9, 0.5, 0.7]), 3).tolist() == [1, 3, 2]


def test_top_k_breaks_ties_by_item_index():
    scores = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    assert top_k(scores, 4).tolist() == [1, 3, 5, 0]
    # The tie at the cut-off is decided by item index too.
    assert top_k(scores, 2).tolist() == [1, 3]


def test_top_k_row_exclusion_in_every_form():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    expected = [1, 3]
    assert top_k(scores, 2, exclude=[0, 2]).tolist() == expected
    assert top_k(scores, 2, exclude=np.array([True, False, True, False])).tolist() == expected
    assert top_k(scores, 2, exclude=rows_to_csr([[0, 2]], 4)).tolist() == expected


def test_top_k_row_returns_only_eligible_items():
    scores = np.array([0.3, 0.2, 0.1])
    assert top_k(scores, 5, exclude=[1]).tolist() == [0, 2]
    assert top_k(scores, 0).tolist() == []
    # -inf and NaN scores mean "never recommend".
    assert top_k(np.array([np.nan, -np.inf, 1.0, 0.0]), 4).tolist() == [2, 3]


def test_top_k_matrix_pads_with_minus_one():
    ranked = top_k(SCORES, 5, EXCLUDE)
    assert ranked.tolist() == [
        [0, 1, 2, 3, 4],
        [1, 2, 4, 0, -1],
        [4, 0, 1, 2, 3],
        [1, 2, 3, 4, -1],
    ]
    assert ranked.dtype == np.int64
    assert top_k(SCORES, 7).shape == (4, 7)
    assert (top_k(SCORES, 7)[:, 5:] == -1).all()


def test_top_k_matrix_rows_selects_and_orders_rows():
    ranked = top_k(SCORES, 2, EXCLUDE, rows=[3, 1])
    assert ranked.tolist() == [[1, 2], [1, 2]]


def test_top_k_accepts_a_boolean_mask_for_a_matrix():
    mask = EXCLUDE.toarray().astype(bool)
    assert np.array_equal(top_k(SCORES, 3, mask), top_k(SCORES, 3, EXCLUDE))


def test_top_k_does_not_modify_inputs():
    scores = SCORES.copy()
    exclude = EXCLUDE.copy()
    top_k(scores, 3, exclude)
    assert np.array_equal(scores, SCORES)
    assert (exclude != EXCLUDE).nnz == 0


def test_top_k_rejects_bad_arguments():
    with pytest.raises(ValueError):
        top_k(SCORES, -1)
    with pytest.raises(TypeError):
        top_k(SCORES, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        top_k(SCORES, 2, rows_to_csr([[0]], 5))  # wrong number of rows
    with pytest.raises(IndexError):
        top_k(SCORES[0], 2, exclude=[7])


def test_top_k_large_matrix_matches_a_full_stable_sort():
    rng = np.random.default_rng(3)
    # Few distinct values so that ties are everywhere; enough rows to span several chunks.
    scores = rng.integers(0, 5, size=(3000, 1500)).astype(np.float32)
    exclude = sp.random(3000, 1500, density=0.05, format="csr", random_state=4)
    masked = scores.copy()
    masked[exclude.toarray() != 0] = -np.inf
    expected = np.argsort(-masked, axis=1, kind="stable")[:, :20]
    assert np.array_equal(top_k(scores, 20, exclude), expected)


# ---------------------------------------------------------------- recall


def test_recall_at_k_matches_hand_computation():
    recall = recall_at_k(SCORES, EXCLUDE, TRUTH, KS)
    assert recall.shape == (3, 4)
    np.testing.assert_allclose(recall, as_float(EXPECTED))


def test_recall_at_single_k_is_one_dimensional():
    recall = recall_at_k(SCORES, EXCLUDE, TRUTH, 2)
    np.testing.assert_allclose(recall, [0.5, 1 / 3, 1.0])


def test_users_with_empty_truth_are_dropped():
    assert users_with_truth(TRUTH).tolist() == [True, True, False, True]
    # An explicit zero is not a truth item.
    explicit_zero = sp.csr_matrix(TRUTH.copy())
    explicit_zero.data[explicit_zero.indices == 2] = 0  # rows 1 and 3 store a zero at item 2
    assert users_with_truth(explicit_zero).tolist() == [True, True, False, False]
    assert recall_at_k(SCORES, EXCLUDE, explicit_zero, 5).shape == (2,)


def test_excluded_items_are_never_hits():
    scores = np.array([[0.9, 0.1, 0.2]])
    truth = rows_to_csr([[0, 1]], 3)
    # Item 0 is the best but excluded: only item 1 can count, and |truth| stays 2.
    np.testing.assert_allclose(recall_at_k(scores, rows_to_csr([[0]], 3), truth, [1, 2, 3]), [[0, 0.5, 0.5]])
    np.testing.assert_allclose(recall_at_k(scores, None, truth, [1, 2, 3]), [[0.5, 0.5, 1.0]])


def test_mean_recall_at_k():
    expected = as_float(EXPECTED).mean(axis=0)
    np.testing.assert_allclose(mean_recall_at_k(SCORES, EXCLUDE, TRUTH, KS), expected)
    value = mean_recall_at_k(SCORES, EXCLUDE, TRUTH, 2)
    assert isinstance(value, float)
    assert value == pytest.approx(float((Fraction(1, 2) + Fraction(1, 3) + 1) / 3))
    with pytest.raises(ValueError):
        mean_recall_at_k(SCORES, EXCLUDE, rows_to_csr([[], [], [], []], 5), 2)


def test_recall_does_not_modify_inputs():
    scores, exclude, truth = SCORES.copy(), EXCLUDE.copy(), TRUTH.copy()
    recall_at_k(scores, exclude, truth, KS)
    assert np.array_equal(scores, SCORES)
    assert (exclude != EXCLUDE).nnz == 0 and (truth != TRUTH).nnz == 0


def test_recall_rejects_bad_cutoffs_and_shapes():
    with pytest.raises(ValueError):
        recall_at_k(SCORES, EXCLUDE, TRUTH, 0)
    with pytest.raises(ValueError):
        recall_at_k(SCORES, EXCLUDE, TRUTH, [])
    with pytest.raises(ValueError):
        recall_at_k(SCORES, EXCLUDE, rows_to_csr([[1]], 5), 2)


# ---------------------------------------------------------------- properties


def reference_recall(scores: np.ndarray, exclude: np.ndarray, truth: np.ndarray, ks: list[int]) -> np.ndarray:
    """Plain-Python recall: rank eligible items by (-score, index)."""
    table = []
    for user in range(scores.shape[0]):
        relevant = set(np.flatnonzero(truth[user]).tolist())
        if not relevant:
            continue
        eligible = [i for i in range(scores.shape[1]) if not exclude[user, i]]
        ranked = sorted(eligible, key=lambda i: (-scores[user, i], i))
        table.append([len(relevant & set(ranked[:k])) / len(relevant) for k in ks])
    return np.array(table).reshape(len(table), len(ks))


@st.composite
def ranking_problems(draw):
    n_users = draw(st.integers(1, 6))
    n_items = draw(st.integers(1, 9))
    cells = n_users * n_items
    # Small integer scores so that ties are common.
    scores = np.array(draw(st.lists(st.integers(-3, 3), min_size=cells, max_size=cells)), dtype=np.float32)
    exclude = np.array(draw(st.lists(st.booleans(), min_size=cells, max_size=cells)))
    truth = np.array(draw(st.lists(st.booleans(), min_size=cells, max_size=cells)))
    ks = sorted(draw(st.lists(st.integers(1, n_items + 2), min_size=1, max_size=5)))
    shape = (n_users, n_items)
    return scores.reshape(shape), exclude.reshape(shape), truth.reshape(shape), ks


@settings(max_examples=200, deadline=None)
@given(ranking_problems())
def test_recall_is_a_fraction_and_grows_with_k(problem):
    scores, exclude, truth, ks = problem
    recall = recall_at_k(scores, sp.csr_matrix(exclude), sp.csr_matrix(truth), ks)
    assert recall.shape == (int(truth.any(axis=1).sum()), len(ks))
    assert ((recall >= 0) & (recall <= 1)).all()
    assert (np.diff(recall, axis=1) >= 0).all()
    np.testing.assert_allclose(recall, reference_recall(scores, exclude, truth, ks))
