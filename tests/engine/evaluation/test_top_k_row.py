"""The one-row ranking (the app's hot path, plain numpy) ranks exactly as the matrix path does."""
import numpy as np
import pytest
import scipy.sparse as sp

from engine.evaluation.ranking import top_k


@pytest.mark.parametrize("seed", range(30))
def test_a_row_ranks_like_the_same_row_of_a_matrix(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    scores = rng.integers(0, 6, size=n).astype(np.float32)  # many ties
    scores[rng.random(n) < 0.1] = np.nan
    scores[rng.random(n) < 0.1] = -np.inf
    excluded = rng.choice(n, size=int(rng.integers(0, n + 1)), replace=False)
    k = int(rng.integers(0, n + 3))
    row = top_k(scores, k, exclude=excluded)
    mask = np.zeros((1, n), dtype=bool)
    mask[0, excluded] = True
    matrix = top_k(scores[np.newaxis, :], k, exclude=sp.csr_matrix(mask))[0]
    assert row.tolist() == matrix[matrix >= 0].tolist()
    assert row.dtype == np.int64


def test_a_sparse_row_excludes_only_its_stored_nonzeros():
    scores = np.array([3.0, 2.0, 1.0])
    exclude = sp.csr_matrix((np.array([1, 0]), (np.array([0, 0]), np.array([0, 1]))), shape=(1, 3))
    assert top_k(scores, 3, exclude=exclude).tolist() == [1, 2]  # the explicit zero at item 1 is not excluded
