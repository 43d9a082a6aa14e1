"""Biased MF for the influence lens: exact derivatives, training to a stationary point, fold-in,
the FIA split, and the related ratings of a prediction."""
import numpy as np
import pytest

from engine.errors import Cancelled
from engine.models import mf
from engine.models.rating_data import RatingIndex, hold_out_one_per_user, rating_data
from engine.models.rating_model import RatingTriples
from engine.progress import TaskState


def synthetic_ratings(n_users=30, n_items=25, density=0.45, seed=3) -> RatingTriples:
    """Whole stars 1-5 from a low-rank taste model plus noise, every user and item rated."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(n_users, 3)) @ rng.normal(size=(3, n_items)) * 0.5
    level = rng.normal(0, 0.5, n_users)[:, None] + rng.normal(0, 0.5, n_items)[None, :]
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    stars = np.clip(np.rint(3.5 + taste + level + rng.normal(0, 0.7, mask.shape)), 1, 5)[users, items]
    return RatingTriples(users.astype(np.int64), items.astype(np.int64), stars.astype(np.float64))


CONFIG = mf.MFConfig(factors=3, reg=2.0, reg_bias=0.5, seed=1, sweeps=20, tolerance=1e-9)
# ALS-WR-style regularisation: each row's factors penalised by λ · n^α
PER_ENTITY = mf.MFConfig(factors=3, reg=0.6, reg_exponent=0.7, reg_bias=0.5, seed=1, sweeps=20, tolerance=1e-9)


@pytest.fixture(scope="module", params=[CONFIG, PER_ENTITY], ids=["plain-l2", "per-entity-l2"])
def trained(request):
    ratings = synthetic_ratings()
    model, record = mf.train_mf(ratings, 30, 25, request.param)
    return model, mf.TrainingSet(ratings, 30, 25), record


def random_model(seed=0, n_users=30, n_items=25, K=3, per_row=False) -> mf.MatrixFactorization:
    rng = np.random.default_rng(seed)
    user_reg, item_reg = (rng.uniform(0.5, 5, n_users), rng.uniform(0.5, 5, n_items)) if per_row else (None, None)
    return mf.MatrixFactorization(3.4, rng.normal(0, 0.5, (n_users, K)), rng.normal(0, 0.5, (n_items, K)),
                                  rng.normal(0, 0.3, n_users), rng.normal(0, 0.3, n_items), 2.0, 0.5, user_reg, item_reg)


def test_per_entity_regularisers_are_lambda_times_count_to_the_alpha(trained):
    model, data, _ = trained
    counts = np.bincount(data.ratings.users, minlength=30)
    np.testing.assert_allclose(model.user_reg, model.reg * counts.astype(float) ** model.reg_exponent)
    counts = np.bincount(data.ratings.items, minlength=25)
    np.testing.assert_allclose(model.item_reg, model.reg * counts.astype(float) ** model.reg_exponent)


@pytest.mark.parametrize("per_row", [False, True])
def test_gradient_and_hessian_vector_product_match_finite_differences(per_row):
    model, data = random_model(per_row=per_row), mf.TrainingSet(synthetic_ratings(), 30, 25)
    theta = model.flat()
    rng = np.random.default_rng(5)
    direction = rng.normal(size=theta.shape)
    h = 1e-5
    numeric = (mf.objective(model.with_flat(theta + h * direction), data)
               - mf.objective(model.with_flat(theta - h * direction), data)) / (2 * h)
    assert mf.gradient(model, data) @ direction == pytest.approx(numeric, rel=1e-7)
    numeric_hv = (mf.gradient(model.with_flat(theta + h * direction), data)
                  - mf.gradient(model.with_flat(theta - h * direction), data)) / (2 * h)
    np.testing.assert_allclose(mf.hessian_vector_product(model, data, direction), numeric_hv, atol=1e-6)


def test_training_reaches_a_stationary_point(trained):
    model, data, record = trained
    assert np.max(np.abs(mf.gradient(model, data))) <= 1e-8
    assert record["max_gradient"] <= 1e-9
    assert mf.rmse(model, data.ratings) < mf.rmse(mf.bias_baseline(data.ratings, 30, 25), data.ratings)


def test_training_is_seeded_and_cancellable():
    ratings = synthetic_ratings()
    first, _ = mf.train_mf(ratings, 30, 25, CONFIG)
    again, _ = mf.train_mf(ratings, 30, 25, CONFIG)
    np.testing.assert_array_equal(first.flat(), again.flat())
    with pytest.raises(Cancelled):
        mf.train_mf(ratings, 30, 25, CONFIG, TaskState(should_cancel=lambda: True))


def test_local_hessian_is_the_block_of_the_full_hessian(trained):
    model, data, _ = trained
    index = RatingIndex(data.ratings, 30, 25)
    unrated = [(u, i) for u in range(30) for i in range(25) if not np.any((data.ratings.users == u) & (data.ratings.items == i))]
    rated = [(int(data.ratings.users[7]), int(data.ratings.items[7]))]
    for user, item in unrated[:3] + rated:
        problem = model.local_problem(user, item, index.related(user, item))
        positions = np.r_[model.parameter_index("user", user), model.parameter_index("item", item)]
        full = np.array([mf.hessian_vector_product(model, data, unit(model.n_parameters, p))[positions] for p in positions])
        np.testing.assert_allclose(problem.hessian, full, atol=1e-9)
        full_gradients = mf.loss_gradient_matrix(model, problem.related).toarray()[:, positions]
        np.testing.assert_allclose(problem.loss_gradients, full_gradients, atol=1e-12)
        np.testing.assert_allclose(problem.grad_prediction, mf.prediction_gradient(model, user, item)[positions])
        assert problem.prediction == pytest.approx(model.predict([user], [item])[0])


def unit(n, position):
    vector = np.zeros(n)
    vector[position] = 1.0
    return vector


def test_fold_in_is_the_exact_user_step(trained):
    model, data, _ = trained
    user = 4
    own = index_of_user(data.ratings, user)
    p, b = model.fold_in(data.ratings.items[own], data.ratings.ratings[own])
    # At a stationary point the trained user's factors already are the ridge solution given Q.
    np.testing.assert_allclose(p, model.user_factors[user], atol=1e-8)
    assert b == pytest.approx(model.user_bias[user], abs=1e-8)
    extended, row = model.with_user(p, b, n_ratings=len(own))
    assert row == 30 and extended.n_users == 31
    np.testing.assert_allclose(extended.predict_user(row), model.predict_user(user), atol=1e-8)


def index_of_user(ratings, user):
    return np.flatnonzero(ratings.users == user)


def test_arrays_round_trip(trained):
    model, _, _ = trained
    again = mf.MatrixFactorization.from_arrays(model.to_arrays())
    np.testing.assert_array_equal(again.flat(), model.flat())
    assert (again.mean, again.reg, again.reg_bias, again.reg_exponent) == (model.mean, model.reg, model.reg_bias, model.reg_exponent)
    np.testing.assert_array_equal(again.user_reg, model.user_reg)
    np.testing.assert_array_equal(again.item_reg, model.item_reg)
    broken = dict(model.to_arrays(), item_bias=np.zeros(3))
    with pytest.raises(ValueError):
        mf.MatrixFactorization.from_arrays(broken)


def test_warm_start_retraining_reaches_the_smaller_objective_optimum(trained):
    model, data, _ = trained
    retrained, record = mf.retrain_without(model, data, 11, tolerance=1e-8)
    smaller = data.without(11)
    assert np.max(np.abs(mf.gradient(retrained, smaller))) <= 1e-8
    assert record["max_gradient"] <= 1e-8
    assert not np.allclose(retrained.flat(), model.flat())


def test_split_holds_out_one_random_rating_per_user():
    ratings = synthetic_ratings()
    split = hold_out_one_per_user(ratings, seed=0)
    assert len(split.test) == 30 and sorted(split.test.users.tolist()) == list(range(30))
    assert len(split.train) + len(split.test) == len(ratings)
    again = hold_out_one_per_user(ratings, seed=0)
    np.testing.assert_array_equal(again.test.items, split.test.items)
    other = hold_out_one_per_user(ratings, seed=1)
    assert not np.array_equal(other.test.items, split.test.items)
    pairs = set(zip(split.train.users.tolist(), split.train.items.tolist()))
    assert not pairs & set(zip(split.test.users.tolist(), split.test.items.tolist()))


def test_related_ratings_are_the_users_and_the_items(tiny_dataset):
    data = rating_data(tiny_dataset)
    assert data.user_ids.tolist() == [1, 2] and data.item_ids.tolist() == [1, 2, 3, 4]
    index = RatingIndex(data.ratings, data.n_users, data.n_items)
    related = index.related(0, 3)  # user 1 and movie 4 (rated by user 2 only)
    assert list(zip(related.users.tolist(), related.items.tolist(), related.ratings.tolist())) == [
        (0, 0, 5.0), (0, 1, 4.0), (0, 2, 3.0), (1, 3, 1.0)]
    rated = index.related(0, 1)  # user 1 rated movie 2: listed once, among the user's own
    assert list(zip(rated.users.tolist(), rated.items.tolist())) == [(0, 0), (0, 1), (0, 2), (1, 1)]
