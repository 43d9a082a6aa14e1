"""NCF: trained to a stationary point, its local problem is the exact block of J's Hessian, and FIA
on it equals the paper's formula computed naively."""
import numpy as np
import pytest
import torch

from engine.explain.fia import fia
from engine.models import ncf
from engine.models.ncf import NCF, NCFConfig, FullProblem, PARAMETER_ORDER, train_ncf
from engine.models.rating_data import RatingIndex
from engine.models.rating_model import RatingTriples

N_USERS, N_ITEMS, K, H = 24, 15, 4, 6


def _ratings(seed=0, n=220) -> RatingTriples:
    rng = np.random.default_rng(seed)
    pairs = rng.choice(N_USERS * N_ITEMS, size=n, replace=False)
    users, items = pairs // N_ITEMS, pairs % N_ITEMS
    taste = rng.normal(size=(N_USERS, 2)) @ rng.normal(size=(2, N_ITEMS))
    stars = np.clip(np.round(3.5 + taste[users, items]), 1, 5)
    return RatingTriples(users.astype(np.int64), items.astype(np.int64), stars.astype(np.float64))


CONFIG = NCFConfig(factors=K, hidden=H, l2=5.0, l2_bias=1.0, adam_epochs=30, batch_size=64,
                   learning_rate=1e-2, polish_iterations=600, step_tolerance=1e-7)
# per-entity λ_e · n^α on the embeddings, started from MF's factors (NeuMF pre-training)
PER_ENTITY = NCFConfig(factors=K, hidden=H, l2=5.0, l2_bias=1.0, l2_embedding=1.5, l2_exponent=0.6, pretrain_sweeps=10,
                       adam_epochs=30, batch_size=64, learning_rate=1e-2, polish_iterations=600, step_tolerance=1e-7)


@pytest.fixture(scope="module", params=[CONFIG, PER_ENTITY], ids=["plain-l2", "per-entity-l2-pretrained"])
def trained(request):
    train = _ratings()
    return train, train_ncf(train, N_USERS, N_ITEMS, request.param)


def _embedding_ridge(model: NCF, user: int, item: int) -> np.ndarray:
    """2Λ over θ_t = (p_u, b_u, q_i, b_i): λ_u, λ_b, λ_i, λ_b."""
    return 2 * np.r_[np.full(K, model.penalty.user[user]), model.l2_bias, np.full(K, model.penalty.item[item]), model.l2_bias]


def test_embedding_penalties_are_lambda_times_count_to_the_alpha(trained):
    train, result = trained
    penalty, config = result.model.penalty, (CONFIG if result.model.penalty.exponent == 0 else PER_ENTITY)
    embedding = config.l2 if config.l2_embedding is None else config.l2_embedding
    np.testing.assert_allclose(penalty.user, embedding * np.bincount(train.users, minlength=N_USERS) ** config.l2_exponent)
    np.testing.assert_allclose(penalty.item, embedding * np.bincount(train.items, minlength=N_ITEMS) ** config.l2_exponent)


def test_pretraining_starts_from_the_mf_optimum():
    """With no Adam epoch, a pre-trained NCF predicts what the biased MF with the same penalty does."""
    from engine.models import mf

    train = _ratings()
    config = NCFConfig(factors=K, hidden=H, l2=5.0, l2_bias=1.0, l2_embedding=1.5, l2_exponent=0.6,
                       pretrain_sweeps=10, adam_epochs=0)
    model = train_ncf(train, N_USERS, N_ITEMS, config).model
    base, _ = mf.train_mf(train, N_USERS, N_ITEMS, mf.MFConfig(factors=K, reg=1.5, reg_exponent=0.6, reg_bias=1.0,
                                                                 sweeps=10, max_newton_steps=0))
    np.testing.assert_allclose(model.predict(train.users, train.items), base.predict(train.users, train.items), atol=1e-5)


def _positions(model: NCF, user: int, item: int) -> np.ndarray:
    """Where θ_t = (p_u, b_u, q_i, b_i) sits in the flat parameter vector."""
    offsets, start = {}, 0
    for name in PARAMETER_ORDER:
        offsets[name] = start
        start += np.atleast_1d(getattr(model, name)).size
    return np.r_[offsets["user_factors"] + user * K + np.arange(K), offsets["user_bias"] + user,
                 offsets["item_factors"] + item * K + np.arange(K), offsets["item_bias"] + item]


def _autograd_hessian(model: NCF, train: RatingTriples) -> np.ndarray:
    problem = FullProblem(model, train)

    def objective(flat):
        params = ncf._split(flat, N_USERS, N_ITEMS, K, H)
        errors = ncf._forward(params, torch.as_tensor(train.users), torch.as_tensor(train.items)) - torch.as_tensor(train.ratings)
        return errors.pow(2).sum() + ncf._penalty(params, model.penalty)

    return torch.func.hessian(objective)(torch.as_tensor(problem.theta)).numpy()


def test_polish_brings_the_gradient_to_zero(trained):
    train, result = trained
    value, gradient = result.model.objective_gradient(train)
    assert np.abs(gradient).max() < 1e-4  # from about 1e2 after Adam; the offset's curvature is 2n
    assert result.max_step <= 1e-7
    assert value == pytest.approx(result.objective)


def test_training_is_seeded():
    train = _ratings(1, 150)
    config = NCFConfig(factors=K, hidden=H, adam_epochs=3, batch_size=32, polish_iterations=5)
    first = train_ncf(train, N_USERS, N_ITEMS, config).model
    second = train_ncf(train, N_USERS, N_ITEMS, config).model
    np.testing.assert_array_equal(first.predict(train.users, train.items), second.predict(train.users, train.items))


@pytest.mark.parametrize("rated", [False, True])
def test_local_problem_is_the_exact_block_of_the_hessian(trained, rated):
    train, result = trained
    model = result.model
    index = RatingIndex(train, N_USERS, N_ITEMS)
    rng = np.random.default_rng(2)
    full = _autograd_hessian(model, train)
    problem_full = FullProblem(model, train)
    for _ in range(4):
        if rated:
            z = int(rng.integers(len(train)))
            user, item = int(train.users[z]), int(train.items[z])
        else:
            user, item = int(rng.integers(N_USERS)), int(rng.integers(N_ITEMS))
            while ((train.users == user) & (train.items == item)).any():
                user, item = int(rng.integers(N_USERS)), int(rng.integers(N_ITEMS))
        related = index.related(user, item)
        local = model.local_problem(user, item, related)
        where = _positions(model, user, item)
        np.testing.assert_allclose(local.hessian, full[np.ix_(where, where)], atol=1e-9, rtol=1e-9)
        np.testing.assert_allclose(local.grad_prediction, problem_full.prediction_gradient(user, item)[where], atol=1e-12)
        for z in range(len(related)):  # ∂ℓ(z)/∂θ_t by autograd, one rating at a time
            one = RatingTriples(related.users[z:z + 1], related.items[z:z + 1], related.ratings[z:z + 1])
            error = model.predict(one.users, one.items)[0] - one.ratings[0]
            expected = 2 * error * problem_full.prediction_gradient(int(one.users[0]), int(one.items[0]))[where]
            np.testing.assert_allclose(local.loss_gradients[z], expected, atol=1e-10)
        assert local.prediction == pytest.approx(model.predict([user], [item])[0], abs=1e-12)


def test_the_mlp_curvature_is_in_the_local_hessian(trained):
    """The block differs from its Gauss-Newton part 2JᵀJ + 2Λ: the tanh layer's second derivative counts."""
    train, result = trained
    model = result.model
    related = RatingIndex(train, N_USERS, N_ITEMS).related(0, 1)
    local = model.local_problem(0, 1, related)
    jac = local.loss_gradients / (2 * (model.predict(related.users, related.items) - related.ratings))[:, None]
    ridge = _embedding_ridge(model, 0, 1)
    assert np.abs(local.hessian - 2 * jac.T @ jac - np.diag(ridge)).max() > 1e-4


def test_fia_equals_the_papers_formula_by_brute_force(trained):
    train, result = trained
    model = result.model
    full = _autograd_hessian(model, train)
    problem_full = FullProblem(model, train)
    index = RatingIndex(train, N_USERS, N_ITEMS)
    for user, item in ((3, 7), (10, 2), (17, 11)):
        related = index.related(user, item)
        where = _positions(model, user, item)
        inverse = np.linalg.inv(full[np.ix_(where, where)])
        grad_prediction = problem_full.prediction_gradient(user, item)[where]
        naive = []
        for z in range(len(related)):
            u, i, r = int(related.users[z]), int(related.items[z]), related.ratings[z]
            grad_loss = 2 * (model.predict([u], [i])[0] - r) * problem_full.prediction_gradient(u, i)[where]
            naive.append(-grad_prediction @ inverse @ grad_loss)
        estimated = fia(model.local_problem(user, item, related)).values
        np.testing.assert_allclose(estimated, naive, atol=1e-6, rtol=0)
        assert np.abs(naive).max() > 1e-3  # the check compares real numbers, not zeros


def test_full_hessian_vector_product_is_exact(trained):
    train, result = trained
    full = _autograd_hessian(result.model, train)
    problem = FullProblem(result.model, train)
    vector = np.random.default_rng(3).normal(size=problem.size)
    np.testing.assert_allclose(problem.hessian_vector_product(vector), full @ vector, rtol=1e-9, atol=1e-8)
    related = RatingIndex(train, N_USERS, N_ITEMS).related(2, 3)
    operator = problem.loss_gradients(related)
    row = related.users == related.users[0]
    assert operator.shape == (len(related), problem.size)
    assert np.isfinite(operator @ vector).all() and row.any()


def test_warm_start_retrain_without_a_rating_is_stationary_and_moves_its_prediction(trained):
    train, result = trained
    model = result.model
    retrained = ncf.retrain_without(model, train, [5], tolerance=1e-7, max_iterations=600)
    keep = np.ones(len(train), dtype=bool)
    keep[5] = False
    _, gradient = retrained.model.objective_gradient(train, keep.astype(float))
    assert np.abs(gradient).max() < 1e-4 and retrained.max_step <= 1e-7
    moved = model.predict(train.users[5:6], train.items[5:6]) - retrained.model.predict(train.users[5:6], train.items[5:6])
    residual = model.predict(train.users[5:6], train.items[5:6]) - train.ratings[5]
    assert abs(moved[0]) > 1e-4 and np.sign(moved[0]) == np.sign(-residual[0])  # the fit relaxes away from r_z


def test_arrays_round_trip(trained):
    train, result = trained
    again = NCF.from_arrays(result.model.to_arrays())
    np.testing.assert_array_equal(again.predict(train.users, train.items), result.model.predict(train.users, train.items))


def test_paired_adam_retrains_differ_only_by_the_removed_rating(trained):
    train, result = trained
    model = result.model
    control = ncf.adam_retrain(model, train, [], epochs=20, learning_rate=3e-3, batch_size=64, seed=1)
    again = ncf.adam_retrain(model, train, [], epochs=20, learning_rate=3e-3, batch_size=64, seed=1)
    without = ncf.adam_retrain(model, train, [5], epochs=20, learning_rate=3e-3, batch_size=64, seed=1)
    pair = (train.users[5:6], train.items[5:6])
    np.testing.assert_array_equal(control.predict(*pair), again.predict(*pair))  # seeded
    moved = control.predict(*pair)[0] - without.predict(*pair)[0]
    # with the rating, the fit is pulled towards it: the removal moves the prediction away from r_z
    assert abs(moved) > 1e-3 and np.sign(moved) == np.sign(train.ratings[5] - model.predict(*pair)[0])


def test_fold_in_fits_a_new_user_at_a_stationary_point(trained):
    train, result = trained
    model = result.model
    items, stars = np.array([1, 4, 7, 9]), np.array([5.0, 1.0, 4.0, 2.0])
    folded, row = model.with_folded_in_user(items, stars)
    assert row == N_USERS and folded.n_users == N_USERS + 1
    own = RatingTriples(np.full(4, row), items, stars)
    problem = folded.local_problem(row, 0, own)
    user_ridge = np.r_[np.full(K, model.penalty.embedding * len(items) ** model.penalty.exponent), model.l2_bias]
    gradient = problem.loss_gradients[:, :K + 1].sum(axis=0) + 2 * user_ridge * np.r_[folded.user_factors[row], folded.user_bias[row]]
    assert np.abs(gradient).max() < 1e-8
    np.testing.assert_array_equal(folded.predict(train.users, train.items), model.predict(train.users, train.items))
