"""Tests of the baseline recommenders and of the contract every recommender follows."""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from engine.errors import Cancelled
from engine.evaluation.metrics import mean_recall_at_k
from engine.models.baselines import EASE, ItemKNN, Popularity
from engine.data.types import Dataset, Interactions, Movie
from engine.data.vocabulary import Vocabulary
from engine.models.reconet import RecoNetConfig
from engine.models.reconet_recommender import RecoNetRecommender
from engine.models.recommender import Recommender, as_binary_csr
from engine.progress import TaskState


def csr(dense: list[list[float]] | np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix(np.asarray(dense, dtype=np.float32))


# ---------------------------------------------------------------- Popularity

def test_popularity_counts_users_per_item():
    train = csr([
        [1, 1, 0, 0, 0],
        [1, 0, 1, 0, 0],
        [1, 1, 0, 0, 1],
        [0, 1, 0, 0, 0],
    ])
    model = Popularity().fit(train)
    expected = [3, 3, 1, 0, 1]
    assert model.counts.tolist() == expected
    scores = model.score(csr([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]))
    assert scores.tolist() == [expected, expected]


def test_popularity_counts_ratings_as_single_positives():
    # Any stored nonzero is one positive; duplicates and explicit zeros are handled.
    train = sp.csr_matrix((np.array([5.0, 4.0, 0.0, 3.0]), (np.array([0, 0, 1, 1]), np.array([0, 0, 1, 2]))), shape=(2, 3))
    assert Popularity().fit(train).counts.tolist() == [1, 0, 1]


# ---------------------------------------------------------------- ItemKNN

# Users x items: item counts 3, 3, 2; co-occurrences (0,1)=2, (0,2)=2, (1,2)=1.
KNN_TRAIN = [
    [1, 1, 0],
    [1, 0, 1],
    [1, 1, 1],
    [0, 1, 0],
]
COSINE = np.array([
    [0, 2 / 3, 2 / np.sqrt(6)],
    [2 / 3, 0, 1 / np.sqrt(6)],
    [2 / np.sqrt(6), 1 / np.sqrt(6), 0],
])


def test_itemknn_cosine_similarity_by_hand():
    model = ItemKNN().fit(csr(KNN_TRAIN))
    np.testing.assert_allclose(model.similarity, COSINE, rtol=1e-6)
    assert model.similarity.dtype == np.float32
    np.testing.assert_allclose(model.score(csr([[1, 0, 0], [0, 1, 1]])), [COSINE[0], COSINE[1] + COSINE[2]], rtol=1e-6)


def test_itemknn_keeps_the_nearest_neighbours_of_each_column():
    model = ItemKNN(neighbours=1).fit(csr(KNN_TRAIN))
    # Column 0: item 2 (0.816) beats item 1 (0.667); columns 1 and 2: item 0 is nearest.
    expected = np.array([
        [0, 2 / 3, 2 / np.sqrt(6)],
        [0, 0, 0],
        [2 / np.sqrt(6), 0, 0],
    ])
    np.testing.assert_allclose(model.similarity, expected, rtol=1e-6)
    # As many neighbours as there are other items: nothing is pruned.
    np.testing.assert_allclose(ItemKNN(neighbours=2).fit(csr(KNN_TRAIN)).similarity, COSINE, rtol=1e-6)


def test_itemknn_item_nobody_has_gets_zero_similarity():
    model = ItemKNN().fit(csr([[1, 1, 0], [1, 0, 0]]))
    assert np.isfinite(model.similarity).all()
    assert (model.similarity[:, 2] == 0).all() and (model.similarity[2] == 0).all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_itemknn_rejects_bad_neighbours(bad):
    with pytest.raises(ValueError):
        ItemKNN(neighbours=bad)


# ---------------------------------------------------------------- EASE

def ease_by_formula(x: np.ndarray, l2: float) -> np.ndarray:
    g = x.T.astype(np.float64) @ x + l2 * np.eye(x.shape[1])
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    return b


def test_ease_matches_the_closed_form():
    x = np.array([
        [1, 1, 0, 0, 1],
        [0, 1, 1, 0, 0],
        [1, 0, 1, 1, 0],
        [1, 1, 1, 0, 0],
    ], dtype=np.float32)
    model = EASE(l2=2.0).fit(csr(x))
    expected = ease_by_formula(x, 2.0)
    assert model.weights.dtype == np.float32
    np.testing.assert_allclose(model.weights, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.score(csr(x)), x @ expected, rtol=1e-5, atol=1e-6)
    assert (np.diag(model.weights) == 0).all()


def test_ease_diagonal_is_zero_on_random_data():
    x = (np.random.default_rng(1).random((40, 12)) < 0.3).astype(np.float32)
    model = EASE(l2=0.5).fit(csr(x))
    assert (np.diag(model.weights) == 0).all()
    np.testing.assert_allclose(model.weights, ease_by_formula(x, 0.5), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_ease_rejects_bad_l2(bad):
    with pytest.raises(ValueError):
        EASE(l2=bad)


def three_groups(seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Users in three taste groups plus a popularity trend; 70% of positives for training."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 200, 30
    group = rng.integers(0, 3, n_users)
    popularity = np.linspace(0.05, 0.6, n_items)
    p = np.where(group[:, None] == (np.arange(n_items) % 3)[None, :], 0.5, 0.0) + 0.3 * popularity[None, :]
    positives = rng.random((n_users, n_items)) < p
    train = positives & (rng.random(positives.shape) < 0.7)
    return csr(train), csr(positives & ~train)


def test_ease_tuned_picks_the_l2_with_the_best_validation_recall():
    train, validation = three_groups()
    grid = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
    direct = [
        mean_recall_at_k(EASE(l2).fit(train).score(train), train, validation, 5) for l2 in grid
    ]
    # The data make the choice matter: the recalls differ and the best is not at an end of the grid.
    assert len(set(direct)) > 1
    best = grid[int(np.argmax(direct))]
    assert best not in (grid[0], grid[-1])

    messages: list[str] = []
    model = EASE.tuned(train, train, validation, grid=grid, k=5, state=TaskState(lambda f, m: messages.append(m)))
    assert model.l2 == best
    assert list(model.validation_recall) == list(grid)
    np.testing.assert_allclose(list(model.validation_recall.values()), direct)
    np.testing.assert_array_equal(model.weights, EASE(best).fit(train).weights)
    assert messages  # progress was reported


def test_ease_tuned_default_grid_returns_a_grid_value():
    train, validation = three_groups(seed=5)
    model = EASE.tuned(train, train, validation)
    assert model.l2 in EASE.DEFAULT_GRID
    assert max(model.validation_recall.values()) == model.validation_recall[model.l2]


# ---------------------------------------------------------------- the contract, for every model

def six_movie_reconet() -> RecoNetRecommender:
    """RecoNet over six genre-less movies, small and long-trained enough to learn the two blocks."""
    movies = {i: Movie(i, f"Movie {i}") for i in range(1, 7)}
    empty = Interactions(np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=np.float32))
    vocabulary = Vocabulary(Dataset("six", movies, {}, empty))
    return RecoNetRecommender(vocabulary, RecoNetConfig(dim=8, batch_size=4, max_epochs=60, learning_rate=0.05))


FACTORIES: dict[str, tuple[Callable[[], Recommender], bool]] = {
    # name: (factory, personalised)
    "popularity": (Popularity, False),
    "itemknn": (ItemKNN, True),
    "itemknn-2": (lambda: ItemKNN(neighbours=2), True),
    "ease": (lambda: EASE(l2=1.0), True),
    "reconet": (six_movie_reconet, True),
}

# Items 0-2 (block A) are co-consumed by users 0-3, items 3-5 (block B) by users 4-5;
# no user crosses blocks, and block A is the more popular.
BLOCKS = csr([
    [1, 1, 1, 0, 0, 0],
    [1, 1, 0, 0, 0, 0],
    [0, 1, 1, 0, 0, 0],
    [1, 0, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1, 0],
])


@pytest.fixture(params=list(FACTORIES), ids=list(FACTORIES))
def model_spec(request) -> tuple[Callable[[], Recommender], bool]:
    return FACTORIES[request.param]


def snapshot(model: Recommender) -> dict:
    return copy.deepcopy(vars(model))


def assert_same_state(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value)
        elif hasattr(value, "__dict__") and not isinstance(value, type):  # e.g. frozen weights: compare their parts
            assert_same_state(vars(value), vars(after[key]))
        else:
            assert after[key] == value


def test_contract_fit_returns_the_fitted_model(model_spec):
    factory, _ = model_spec
    model = factory()
    assert isinstance(model.name, str) and model.name
    assert model.fit(BLOCKS) is model
    assert model.n_items == 6


def test_contract_ranks_the_co_consumed_block_first(model_spec):
    factory, personalised = model_spec
    model = factory().fit(BLOCKS)
    # New users (not rows of the training matrix) with one item of a block.
    history = csr([[1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]])
    ranked = model.recommend(history, 5)
    assert 0 not in ranked[0] and 3 not in ranked[1]  # what a user has is not recommended
    assert set(ranked[0, :2].tolist()) == {1, 2}
    if personalised:
        assert set(ranked[1, :2].tolist()) == {4, 5}
        scores = model.score(history)
        assert scores[0, [1, 2]].min() > scores[0, [3, 4, 5]].max()
        assert scores[1, [4, 5]].min() > scores[1, [0, 1, 2]].max()


def test_contract_score_type_shape_and_purity(model_spec):
    factory, _ = model_spec
    model = factory().fit(BLOCKS)
    history = csr([[0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]])
    history_before = history.copy()
    state_before = snapshot(model)

    scores = model.score(history)
    assert isinstance(scores, np.ndarray)
    assert scores.dtype == np.float32
    assert scores.shape == (3, 6)
    assert np.isfinite(scores).all()
    assert_same_state(state_before, snapshot(model))
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(history, part), getattr(history_before, part))

    # Writing to the result does not reach into the model, and scoring is repeatable.
    scores[:] = 123.0
    np.testing.assert_array_equal(model.score(history), factory().fit(BLOCKS).score(history))


def test_contract_unseen_users_score_like_seen_ones(model_spec):
    factory, _ = model_spec
    model = factory().fit(BLOCKS)
    # Rows 1 and 4 of the training data scored as if they were new users, in a 2-row matrix.
    new_users = BLOCKS[[1, 4]]
    np.testing.assert_allclose(model.score(new_users), model.score(BLOCKS)[[1, 4]])


def test_contract_values_are_binarised(model_spec):
    factory, _ = model_spec
    ratings = BLOCKS.copy()
    ratings.data = np.linspace(1.0, 5.0, ratings.nnz).astype(np.float32)
    a, b = factory().fit(BLOCKS), factory().fit(ratings)
    np.testing.assert_allclose(a.score(BLOCKS), b.score(ratings * 3))


def test_contract_errors(model_spec):
    factory, _ = model_spec
    with pytest.raises(RuntimeError):
        factory().score(BLOCKS)
    model = factory().fit(BLOCKS)
    with pytest.raises(ValueError):
        model.score(csr([[1, 0, 0]]))
    with pytest.raises(TypeError):
        model.score(BLOCKS.toarray())


def test_contract_fit_can_be_cancelled(model_spec):
    factory, _ = model_spec
    with pytest.raises(Cancelled):
        factory().fit(BLOCKS, TaskState(should_cancel=lambda: True))


def test_as_binary_csr_leaves_its_input_alone():
    matrix = sp.csr_matrix(np.array([[0, 3.0], [2.0, 0]]))
    result = as_binary_csr(matrix)
    assert result.dtype == np.float32 and result.toarray().tolist() == [[0, 1], [1, 0]]
    assert matrix.toarray().tolist() == [[0, 3.0], [2.0, 0]]
