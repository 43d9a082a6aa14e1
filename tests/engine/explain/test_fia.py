"""FIA and IA against computations written naively from the paper's formulas, and against exact
leave-one-out refitting where the local problem is convex (a folded-in user, items frozen)."""
import numpy as np
import pytest
import torch

from engine.explain.fia import fia, ia, ia_mf, leave_one_out
from engine.models import mf
from engine.models.rating_data import RatingIndex, concatenate
from engine.models.rating_model import LocalProblem, RatingTriples


def synthetic_ratings(n_users, n_items, density, seed) -> RatingTriples:
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(n_users, 2)) @ rng.normal(size=(2, n_items)) * 0.6
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    stars = np.clip(np.rint(3.5 + taste + rng.normal(0, 0.8, mask.shape)), 1, 5)[users, items]
    return RatingTriples(users.astype(np.int64), items.astype(np.int64), stars.astype(np.float64))


@pytest.fixture(scope="module", params=[0.0, 0.7], ids=["plain-l2", "per-entity-l2"])
def small(request):
    """A small MF at a stationary point, with plain L2 and with ALS-WR-style λ·n^α per row."""
    ratings = synthetic_ratings(20, 15, 0.4, seed=7)
    reg = 1.5 if request.param == 0 else 0.8
    config = mf.MFConfig(factors=3, reg=reg, reg_exponent=request.param, reg_bias=0.5, seed=2, sweeps=20, tolerance=1e-10)
    model, _ = mf.train_mf(ratings, 20, 15, config)
    return model, ratings


def naive_influences(model, train: RatingTriples, user: int, item: int) -> list[float]:
    """The paper's eq. 18 in sum form, written from scratch: J over every training rating as a
    loop with only θ_t = (p_u, b_u, q_i, b_i) free, its Hessian by autograd, an explicit inverse,
    and one autograd gradient per related rating."""
    P, Q = torch.tensor(model.user_factors), torch.tensor(model.item_factors)
    bu, bi = torch.tensor(model.user_bias), torch.tensor(model.item_bias)
    K = model.factors

    def parts(theta):
        return theta[:K], theta[K], theta[K + 1 : 2 * K + 1], theta[2 * K + 1]

    def predicted(theta, v, j):
        p_u, b_u, q_i, b_i = parts(theta)
        p, b_v = (p_u, b_u) if v == user else (P[v], bu[v])
        q, b_j = (q_i, b_i) if j == item else (Q[j], bi[j])
        return model.mean + b_v + b_j + p @ q

    def loss(theta, z):
        return (predicted(theta, int(train.users[z]), int(train.items[z])) - train.ratings[z]) ** 2

    # each row's factor penalty λ · n^α, with n counted here from the training ratings
    reg_user = model.reg * np.sum(train.users == user) ** model.reg_exponent
    reg_item = model.reg * np.sum(train.items == item) ** model.reg_exponent

    def objective(theta):
        p_u, b_u, q_i, b_i = parts(theta)
        total = sum(loss(theta, z) for z in range(len(train)))
        return total + reg_user * (p_u @ p_u) + reg_item * (q_i @ q_i) + model.reg_bias * (b_u**2 + b_i**2)

    theta = torch.tensor(np.r_[model.user_factors[user], model.user_bias[user], model.item_factors[item], model.item_bias[item]])
    inverse = torch.linalg.inv(torch.autograd.functional.hessian(objective, theta))
    grad_prediction = torch.autograd.functional.jacobian(lambda t: predicted(t, user, item), theta)
    result = []
    for z in range(len(train)):
        if train.users[z] == user or train.items[z] == item:
            grad_loss = torch.autograd.functional.jacobian(lambda t: loss(t, z), theta)
            result.append(float(-(grad_prediction @ inverse @ grad_loss)))
    return result


def related_in_training_order(train, user, item) -> RatingTriples:
    keep = (train.users == user) | (train.items == item)
    return RatingTriples(train.users[keep], train.items[keep], train.ratings[keep])


@pytest.mark.parametrize("pair", ["unrated", "rated"])
def test_fia_equals_the_naive_formula(small, pair):
    model, train = small
    if pair == "rated":  # (u, i) is itself a training rating: the local Hessian has a cross block
        user, item = int(train.users[5]), int(train.items[5])
    else:
        rated = set(zip(train.users.tolist(), train.items.tolist()))
        user, item = next((u, i) for u in range(3, 20) for i in range(15) if (u, i) not in rated)
    related = related_in_training_order(train, user, item)
    influences = fia(model.local_problem(user, item, related)).values
    np.testing.assert_allclose(influences, naive_influences(model, train, user, item), rtol=1e-6, atol=1e-9)
    # The engine's gathered R_t holds the same ratings (in its own order) with the same values.
    gathered = RatingIndex(train, 20, 15).related(user, item)
    by_pair = {(int(u), int(i)): v for u, i, v in zip(related.users, related.items, influences)}
    again = fia(model.local_problem(user, item, gathered)).values
    np.testing.assert_allclose(again, [by_pair[(int(u), int(i))] for u, i in zip(gathered.users, gathered.items)], atol=1e-12)


def fold_in_prediction(model, items, stars, target, weights=None) -> float:
    p, b = model.fold_in(items, stars, weights)
    return model.mean + b + model.item_bias[target] + model.item_factors[target] @ p


def test_fia_of_a_fold_in_is_exact_leave_one_out(small):
    """Items frozen, the folded-in user's problem is a ridge regression (convex, quadratic): the
    first-order influence is the exact derivative of the prediction in the rating's weight, and the
    leverage-corrected one is exactly the prediction minus the prediction refitted without it."""
    model, train = small
    items, stars, target = np.array([0, 2, 3, 5, 8, 9, 12]), np.array([5.0, 1.0, 4.0, 2.0, 5.0, 3.0, 4.0]), 6
    p, b = model.fold_in(items, stars)
    extended, row = model.with_user(p, b, n_ratings=len(items))
    own = RatingTriples(np.full(len(items), row), items, stars)
    others = RatingIndex(train, 20, 15).of_item(target)
    problem = extended.local_problem(row, target, concatenate(own, others))
    first_order = fia(problem).values[: len(items)]
    exact = leave_one_out(problem, extended.rating_jacobians(row, target, problem.related))[: len(items)]

    full = fold_in_prediction(model, items, stars, target)
    assert problem.prediction == pytest.approx(full, abs=1e-12)
    epsilon = 1e-5
    for z in range(len(items)):
        without = (np.arange(len(items)) != z).astype(float)  # weight 0: the same objective, λ_u included, without z
        assert exact[z] == pytest.approx(full - fold_in_prediction(model, items, stars, target, without), abs=1e-10)
        if model.reg_exponent == 0:  # with plain L2 that is simply the fold-in of the other ratings
            keep = without > 0
            assert exact[z] == pytest.approx(full - fold_in_prediction(model, items[keep], stars[keep], target), abs=1e-10)
        up, down = np.ones(len(items)), np.ones(len(items))
        up[z], down[z] = 1 + epsilon, 1 - epsilon
        derivative = (fold_in_prediction(model, items, stars, target, up)
                      - fold_in_prediction(model, items, stars, target, down)) / (2 * epsilon)
        assert first_order[z] == pytest.approx(derivative, abs=1e-9)
    assert np.any(np.abs(first_order) > 1e-3)  # the check is not vacuous


def test_ia_equals_the_explicit_full_hessian_inverse(small):
    model, train = small
    data = mf.TrainingSet(train, 20, 15)
    n = model.n_parameters
    hessian = np.array([mf.hessian_vector_product(model, data, np.eye(n)[k]) for k in range(n)])
    user, item = 2, 14
    related = RatingIndex(train, 20, 15).related(user, item)
    grad_prediction = mf.prediction_gradient(model, user, item)
    gradients = mf.loss_gradient_matrix(model, related).toarray()
    # Rotating P and Q together changes nothing, so H is singular; the damped system is not.
    damped = ia_mf(model, data, user, item, related, damping=0.1, tolerance=1e-12)
    explicit = -gradients @ np.linalg.inv(hessian + 0.1 * np.eye(n)) @ grad_prediction
    np.testing.assert_allclose(damped.values, explicit, atol=1e-9)
    # Undamped, CG finds the minimum-norm solution because ∇r̂ lies in H's range.
    plain = ia_mf(model, data, user, item, related, tolerance=1e-12)
    np.testing.assert_allclose(plain.values, -gradients @ np.linalg.pinv(hessian, rcond=1e-10) @ grad_prediction, atol=1e-8)
    assert plain.iterations > 0 and plain.residual <= 1e-12


def test_fia_tracks_warm_start_retraining(small):
    """The paper's protocol on a small model: remove each prediction's most influential rating,
    retrain from the trained weights to a stationary point, compare the prediction's change."""
    model, train = small
    data = mf.TrainingSet(train, 20, 15)
    index = RatingIndex(train, 20, 15)
    rated = set(zip(train.users.tolist(), train.items.tolist()))
    pairs = [(u, (3 * u + 1) % 15) for u in range(20) if (u, (3 * u + 1) % 15) not in rated][:8]
    estimated, observed = [], []
    for user, item in pairs:
        influences = fia(model.local_problem(user, item, index.related(user, item)))
        top = int(np.argmax(np.abs(influences.values)))
        z = next(k for k in range(len(train)) if (train.users[k], train.items[k]) == (influences.related.users[top], influences.related.items[top]))
        retrained, _ = mf.retrain_without(model, data, z, tolerance=1e-9)
        estimated.append(influences.values[top])
        observed.append(influences.prediction - retrained.predict([user], [item])[0])
    assert np.all(np.sign(estimated) == np.sign(observed))
    assert np.corrcoef(estimated, observed)[0, 1] >= 0.9


def test_an_indefinite_hessian_is_shifted_and_the_shift_reported():
    problem = LocalProblem(3.0, np.array([1.0, 0.5]), np.array([[1.0, 0.0], [0.0, 1.0]]),
                           np.array([[1.0, 0.0], [0.0, -2.0]]), RatingTriples(np.zeros(2, int), np.arange(2), np.ones(2)))
    result = fia(problem, damping=0.0)
    assert result.damping > 2.0 and np.all(np.isfinite(result.values))
    assert fia(problem, damping=3.0).damping == 3.0


def test_ia_takes_any_model_through_its_hessian_vector_product():
    hessian = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    gradients = np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]])
    result = ia(lambda v: hessian @ v, np.array([1.0, 2.0, 3.0]), gradients, tolerance=1e-14)
    np.testing.assert_allclose(result.values, -gradients @ np.linalg.solve(hessian, [1.0, 2.0, 3.0]), atol=1e-12)
