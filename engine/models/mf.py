"""Biased matrix factorisation for explicit ratings, trained to a stationary point for FIA.

    r̂_ui = μ + b_u + b_i + p_u · q_i
    J(θ) = Σ_z (r̂_z - r_z)² + Σ_u λ_u ‖p_u‖² + Σ_i λ_i ‖q_i‖² + λ_b (‖b_user‖² + ‖b_item‖²)   (sum form)
    λ_u = λ · n_u^α, λ_i = λ · n_i^α   (n_u, n_i: training ratings of u and of i; α = 0 is plain L2)

The per-entity weights generalise ALS-WR's "weighted-λ regularisation" (Zhou et al. 2008, α = 1): the
penalty of a row grows with the data term it balances, so the mean-form strength is alike for light
and heavy raters and for obscure and popular movies. They are fixed once from the training counts
and stored with the model: they are part of the objective, so leave-one-out retraining keeps them
and FIA's local Hessian uses them (2λ_u I on the user block, 2λ_i I on the item block).

The FIA paper's eq. 1 is r̂ = p_u · q_i without biases; we add the global mean and the user and item
biases (as the paper's reference code and every practical MF do) because most of a rating is the
user's and the movie's general level: without them the factors must spend dimensions on it and the
RMSE is worse. μ is the mean training rating, a fixed constant, not a parameter; θ = (P, Q, b_user,
b_item). The objective is written in sum form so that FIA's local Hessian needs no n or n' (the
"regulariser scaling trap" of ../shared/specs/influence-research.md §1.5).

Influence functions assume ∇J(θ̂) = 0, so training does not stop at a noisy minibatch point: ALS
sweeps (each a batch of ridge regressions, exact for one side given the other) bring it near the
optimum, then Newton steps with a conjugate-gradient solve (exact Hessian-vector products,
block-Jacobi preconditioner = the ALS normal matrices) polish it until max |∇J| is tiny.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from engine.models.conjugate_gradient import conjugate_gradient
from engine.models.rating_model import LocalProblem, RatingModel, RatingTriples
from engine.progress import SILENT, TaskState


@dataclass(frozen=True)
class MFConfig:
    factors: int = 16  # K
    reg: float = 10.0  # λ: a row's factor vector is penalised by λ · n^α (sum form)
    reg_exponent: float = 0.0  # α: 0 is plain L2, 1 is ALS-WR's weighted-λ regularisation
    reg_bias: float = 1.0  # λ_b on every user and item bias
    seed: int = 0
    sweeps: int = 60  # ALS sweeps before the Newton polish (cheap; they shorten the polish)
    tolerance: float = 1e-6  # polish until max |∇J| <= tolerance
    max_newton_steps: int = 40

    def as_dict(self) -> dict:
        return asdict(self)


class MatrixFactorization(RatingModel):
    """A trained biased MF: frozen float64 arrays, pure functions of them."""

    name = "mf"

    def __init__(self, mean, user_factors, item_factors, user_bias, item_bias, reg: float, reg_bias: float,
                 user_reg=None, item_reg=None, reg_exponent: float = 0.0):
        self.mean = float(mean)
        self.user_factors = np.asarray(user_factors, dtype=np.float64)  # P (n_users, K)
        self.item_factors = np.asarray(item_factors, dtype=np.float64)  # Q (n_items, K)
        self.user_bias = np.asarray(user_bias, dtype=np.float64)
        self.item_bias = np.asarray(item_bias, dtype=np.float64)
        self.reg, self.reg_bias, self.reg_exponent = float(reg), float(reg_bias), float(reg_exponent)
        # λ_u and λ_i of each row's factors (λ · n^α, fixed at training); plain L2 when not given
        self.user_reg = np.full(len(self.user_bias), self.reg) if user_reg is None else np.asarray(user_reg, dtype=np.float64)
        self.item_reg = np.full(len(self.item_bias), self.reg) if item_reg is None else np.asarray(item_reg, dtype=np.float64)

    def replace(self, **arrays) -> "MatrixFactorization":
        """The same model with some arrays replaced (the regularisers stay)."""
        fields = dict(mean=self.mean, user_factors=self.user_factors, item_factors=self.item_factors,
                      user_bias=self.user_bias, item_bias=self.item_bias, reg=self.reg, reg_bias=self.reg_bias,
                      user_reg=self.user_reg, item_reg=self.item_reg, reg_exponent=self.reg_exponent)
        fields.update(arrays)
        return MatrixFactorization(**fields)

    def row_regulariser(self, n_ratings: int) -> float:
        """λ · n^α for a row with n training ratings (a folded-in user)."""
        return self.reg * float(max(n_ratings, 1)) ** self.reg_exponent

    @property
    def factors(self) -> int:
        return self.user_factors.shape[1]

    @property
    def n_users(self) -> int:
        return self.user_factors.shape[0]

    @property
    def n_items(self) -> int:
        return self.item_factors.shape[0]

    @property
    def n_parameters(self) -> int:
        return (self.n_users + self.n_items) * (self.factors + 1)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        dots = np.einsum("nk,nk->n", self.user_factors[users], self.item_factors[items])
        return self.mean + self.user_bias[users] + self.item_bias[items] + dots

    def predict_user(self, user: int) -> np.ndarray:
        """The user's predicted rating of every item."""
        return self.mean + self.user_bias[user] + self.item_bias + self.item_factors @ self.user_factors[user]

    # ----- FIA's local problem -----

    def local_problem(self, user: int, item: int, related: RatingTriples) -> LocalProblem:
        """θ_t = (p_u, b_u, q_i, b_i), d = 2K + 2. Only u's ratings touch the user half and only i's
        ratings the item half, so the Hessian is block-diagonal unless (u, i) itself is a training
        rating (then its cross term is added); each block is a ridge normal matrix 2XᵀX + 2Λ."""
        K = self.factors
        user, item = int(user), int(item)
        errors = self.predict(related.users, related.items) - related.ratings
        own = related.users == user
        of_item = related.items == item
        x_own = _with_ones(self.item_factors[related.items[own]])  # ∂r̂_z/∂(p_u, b_u)
        x_item = _with_ones(self.user_factors[related.users[of_item]])  # ∂r̂_z/∂(q_i, b_i)
        user_ridge = 2 * np.r_[np.full(K, self.user_reg[user]), self.reg_bias]
        item_ridge = 2 * np.r_[np.full(K, self.item_reg[item]), self.reg_bias]

        d = 2 * K + 2
        hessian = np.zeros((d, d))
        hessian[: K + 1, : K + 1] = 2 * x_own.T @ x_own + np.diag(user_ridge)
        hessian[K + 1 :, K + 1 :] = 2 * x_item.T @ x_item + np.diag(item_ridge)
        gradients = np.zeros((len(related), d))
        gradients[own, : K + 1] = 2 * errors[own, None] * x_own
        gradients[of_item, K + 1 :] = 2 * errors[of_item, None] * x_item
        both = np.flatnonzero(own & of_item)
        if len(both):  # the explained pair is itself a training rating: p_u and q_i interact
            xu = _with_ones(self.item_factors[[item]])[0]
            xi = _with_ones(self.user_factors[[user]])[0]
            cross = 2 * np.outer(xu, xi)
            cross[:K, :K] += 2 * errors[both[0]] * np.eye(K)
            hessian[: K + 1, K + 1 :] += cross
            hessian[K + 1 :, : K + 1] += cross.T

        grad_prediction = np.r_[self.item_factors[item], 1.0, self.user_factors[user], 1.0]
        prediction = float(self.predict([user], [item])[0])
        return LocalProblem(prediction, grad_prediction, gradients, hessian, related)

    def rating_jacobians(self, user: int, item: int, related: RatingTriples) -> np.ndarray:
        """(n', d): ∂r̂_z/∂θ_t of each related rating (for the exact block leave-one-out in fia.py)."""
        K = self.factors
        jac = np.zeros((len(related), 2 * K + 2))
        own = related.users == int(user)
        of_item = related.items == int(item)
        jac[own, : K + 1] = _with_ones(self.item_factors[related.items[own]])
        jac[of_item, K + 1 :] = _with_ones(self.user_factors[related.users[of_item]])
        return jac

    # ----- new users -----

    def fold_in(self, items: np.ndarray, ratings: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """User factors (p, b_u) for ratings of `items`, the item side frozen: the ridge regression
        that minimises Σ w_z (r̂_z - r_z)² + λ_u‖p‖² + λ_b b_u² (the ALS user step, in closed form),
        λ_u = λ · n^α for the n = len(items) ratings given; `weights` scale only their squared errors,
        so a zero weight is leave-one-out with λ_u kept, as in the model's own objective."""
        items = np.asarray(items, dtype=np.int64)
        x = _with_ones(self.item_factors[items])
        w = np.ones(len(items)) if weights is None else np.asarray(weights, dtype=np.float64)
        target = np.asarray(ratings, dtype=np.float64) - self.mean - self.item_bias[items]
        K = self.factors
        normal = x.T @ (w[:, None] * x) + np.diag(np.r_[np.full(K, self.row_regulariser(len(items))), self.reg_bias])
        solution = np.linalg.solve(normal, x.T @ (w * target))
        return solution[:K], float(solution[K])

    def with_folded_in_user(self, items: np.ndarray, ratings: np.ndarray) -> tuple["MatrixFactorization", int]:
        """This model with a new user fitted to `ratings` of `items` (fold-in), and that user's row."""
        return self.with_user(*self.fold_in(items, ratings), n_ratings=len(items))

    def with_user(self, factors: np.ndarray, bias: float, n_ratings: int) -> tuple["MatrixFactorization", int]:
        """This model with one more user row (e.g. a folded-in profile of `n_ratings` ratings), and that row."""
        model = self.replace(
            user_factors=np.vstack([self.user_factors, np.asarray(factors)[None, :]]),
            user_bias=np.r_[self.user_bias, bias], user_reg=np.r_[self.user_reg, self.row_regulariser(n_ratings)],
        )
        return model, self.n_users

    # ----- cache -----

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "mean": np.array([self.mean]),  # 1-d: the cache stores arrays contiguous, which makes 0-d ones 1-d
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
            "user_bias": self.user_bias,
            "item_bias": self.item_bias,
            "regularisers": np.array([self.reg, self.reg_bias, self.reg_exponent]),
            "user_regularisers": self.user_reg,
            "item_regularisers": self.item_reg,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "MatrixFactorization":
        reg, reg_bias, exponent = (float(v) for v in np.asarray(arrays["regularisers"]).reshape(3))
        model = cls(float(np.asarray(arrays["mean"]).reshape(1)[0]), arrays["user_factors"], arrays["item_factors"], arrays["user_bias"],
                    arrays["item_bias"], reg, reg_bias, arrays["user_regularisers"], arrays["item_regularisers"], exponent)
        if model.item_factors.shape[1] != model.factors or len(model.user_bias) != model.n_users \
                or len(model.item_bias) != model.n_items or len(model.user_reg) != model.n_users \
                or len(model.item_reg) != model.n_items:
            raise ValueError("MF arrays of inconsistent shapes")
        return model

    # ----- all parameters as one vector: θ = (P, Q, b_user, b_item) -----

    def flat(self) -> np.ndarray:
        return np.concatenate([self.user_factors.ravel(), self.item_factors.ravel(), self.user_bias, self.item_bias])

    def with_flat(self, theta: np.ndarray) -> "MatrixFactorization":
        P, Q, bu, bi = _unflatten(theta, self.n_users, self.n_items, self.factors)
        return self.replace(user_factors=P, item_factors=Q, user_bias=bu, item_bias=bi)

    def parameter_index(self, kind: str, row: int) -> np.ndarray:
        """Positions in `flat()` of a user's or item's (factors, bias)."""
        K, nu, ni = self.factors, self.n_users, self.n_items
        if kind == "user":
            return np.r_[np.arange(row * K, (row + 1) * K), (nu + ni) * K + row]
        return np.r_[nu * K + np.arange(row * K, (row + 1) * K), (nu + ni) * K + nu + row]


def _with_ones(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1))])


def _unflatten(theta, n_users, n_items, K):
    a, b = n_users * K, (n_users + n_items) * K
    return (theta[:a].reshape(n_users, K), theta[a:b].reshape(n_items, K),
            theta[b : b + n_users], theta[b + n_users :])


# ----------------------------------------------------------------------------------------------
# The objective over a whole training set: value, gradient, Hessian-vector product.


class TrainingSet:
    """A training set with its user-by-item sparsity pattern, built once: every pass over the
    ratings (gradient, Hessian-vector product, ALS) is then a sparse-dense product."""

    def __init__(self, ratings: RatingTriples, n_users: int, n_items: int, weights: np.ndarray | None = None):
        self.ratings, self.n_users, self.n_items = ratings, n_users, n_items
        self.weights = np.ones(len(ratings)) if weights is None else np.asarray(weights, dtype=np.float64)
        order = np.lexsort((ratings.items, ratings.users))
        self._order = order
        self._indices = ratings.items[order].astype(np.int32)
        self._indptr = np.r_[0, np.cumsum(np.bincount(ratings.users, minlength=n_users))].astype(np.int32)
        self._w = self.weights[order]

    def matrix(self, values: np.ndarray) -> sp.csr_matrix:
        """A users x items sparse matrix holding w_z · values_z at each rating (values in triples order)."""
        return sp.csr_matrix((values[self._order] * self._w, self._indices, self._indptr), shape=(self.n_users, self.n_items))

    def without(self, position: int) -> "TrainingSet":
        """The same set with rating `position` weighted 0 (leave-one-out retraining)."""
        weights = self.weights.copy()
        weights[position] = 0.0
        return TrainingSet(self.ratings, self.n_users, self.n_items, weights)


def objective(model: MatrixFactorization, data: TrainingSet) -> float:
    errors = model.predict(data.ratings.users, data.ratings.items) - data.ratings.ratings
    return float(data.weights @ errors**2 + model.user_reg @ np.sum(model.user_factors**2, axis=1)
                 + model.item_reg @ np.sum(model.item_factors**2, axis=1)
                 + model.reg_bias * (model.user_bias @ model.user_bias + model.item_bias @ model.item_bias))


def gradient(model: MatrixFactorization, data: TrainingSet) -> np.ndarray:
    errors = model.predict(data.ratings.users, data.ratings.items) - data.ratings.ratings
    E = data.matrix(2 * errors)
    P, Q = model.user_factors, model.item_factors
    return np.concatenate([
        (E @ Q + 2 * model.user_reg[:, None] * P).ravel(),
        (E.T @ P + 2 * model.item_reg[:, None] * Q).ravel(),
        np.asarray(E.sum(axis=1)).ravel() + 2 * model.reg_bias * model.user_bias,
        np.asarray(E.sum(axis=0)).ravel() + 2 * model.reg_bias * model.item_bias,
    ])


def hessian_vector_product(model: MatrixFactorization, data: TrainingSet, vector: np.ndarray) -> np.ndarray:
    """∇²J · v, exact: 2 Σ (∇r̂·v) ∇r̂ (Gauss-Newton part) + 2 Σ e (v_q, v_p) (the p·q curvature) + 2Λv
    (Λ: each row's λ_u or λ_i on its factors, λ_b on the biases)."""
    return hessian_product(model, data)(vector)


def hessian_product(model: MatrixFactorization, data: TrainingSet):
    """v -> ∇²J · v at `model`, with what does not depend on v (errors, gathered factors) computed
    once: a conjugate-gradient solve calls it hundreds of times."""
    users, items = data.ratings.users[data._order], data.ratings.items[data._order]  # in the matrices' order
    P, Q = model.user_factors, model.item_factors
    Pu, Qi = P[users], Q[items]
    weights = data._w
    errors = model.predict(users, items) - data.ratings.ratings[data._order]
    E = sp.csr_matrix((2 * weights * errors, data._indices, data._indptr), shape=(data.n_users, data.n_items))
    ET = E.T.tocsr()

    def product(vector: np.ndarray) -> np.ndarray:
        vP, vQ, vbu, vbi = _unflatten(vector, model.n_users, model.n_items, model.factors)
        jv = np.einsum("nk,nk->n", vP[users], Qi) + np.einsum("nk,nk->n", Pu, vQ[items]) + vbu[users] + vbi[items]
        JV = sp.csr_matrix((2 * weights * jv, data._indices, data._indptr), shape=(data.n_users, data.n_items))
        return np.concatenate([
            (JV @ Q + E @ vQ + 2 * model.user_reg[:, None] * vP).ravel(),
            (JV.T @ P + ET @ vP + 2 * model.item_reg[:, None] * vQ).ravel(),
            np.asarray(JV.sum(axis=1)).ravel() + 2 * model.reg_bias * vbu,
            np.asarray(JV.sum(axis=0)).ravel() + 2 * model.reg_bias * vbi,
        ])

    return product


def loss_gradient_matrix(model: MatrixFactorization, ratings: RatingTriples) -> sp.csr_matrix:
    """(n_z, n_parameters) sparse: row z is ∂(r̂_z - r_z)²/∂θ over all parameters (for IA)."""
    K, n = model.factors, len(ratings)
    errors = 2 * (model.predict(ratings.users, ratings.items) - ratings.ratings)
    cols, vals = [], []
    for z in range(n):
        u, i = int(ratings.users[z]), int(ratings.items[z])
        cols.append(np.r_[model.parameter_index("user", u), model.parameter_index("item", i)])
        vals.append(errors[z] * np.r_[model.item_factors[i], 1.0, model.user_factors[u], 1.0])
    rows = np.repeat(np.arange(n), 2 * K + 2)
    return sp.csr_matrix((np.concatenate(vals) if n else [], (rows, np.concatenate(cols) if n else [])),
                         shape=(n, model.n_parameters))


def prediction_gradient(model: MatrixFactorization, user: int, item: int) -> np.ndarray:
    """∂r̂_ui/∂θ over all parameters (dense)."""
    grad = np.zeros(model.n_parameters)
    grad[model.parameter_index("user", user)] = np.r_[model.item_factors[item], 1.0]
    grad[model.parameter_index("item", item)] = np.r_[model.user_factors[user], 1.0]
    return grad


# ----------------------------------------------------------------------------------------------
# Training.


def train_mf(
    train: RatingTriples, n_users: int, n_items: int, config: MFConfig = MFConfig(), state: TaskState = SILENT,
) -> tuple[MatrixFactorization, dict]:
    """Seeded ALS sweeps, then the Newton polish to max |∇J| <= config.tolerance. Returns the model
    and a training record (seconds, final max gradient, objective, steps) for the cache manifest."""
    with _one_blas_thread():
        return _train_mf(train, n_users, n_items, config, state)


def _one_blas_thread():
    # The solves are long chains of small vector operations: with other work on a 2-core machine,
    # BLAS threads made the polish 3x slower (23 s -> 7.6 s on ML-100k with one thread).
    return threadpool_limits(limits=1, user_api="blas")


def _train_mf(train, n_users, n_items, config, state):
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    K = config.factors
    user_counts = np.bincount(train.users, minlength=n_users)
    item_counts = np.bincount(train.items, minlength=n_items)
    model = MatrixFactorization(
        float(np.mean(train.ratings)) if len(train) else 0.0,
        rng.normal(0.0, 0.1, (n_users, K)), rng.normal(0.0, 0.1, (n_items, K)),
        np.zeros(n_users), np.zeros(n_items), config.reg, config.reg_bias,
        _row_regularisers(config, user_counts), _row_regularisers(config, item_counts), config.reg_exponent,
    )
    data = TrainingSet(train, n_users, n_items)
    for sweep in range(config.sweeps):
        state.progress(0.6 * sweep / max(config.sweeps, 1), f"Training MF: ALS sweep {sweep + 1} of {config.sweeps}")
        model = als_sweep(model, data, state)
    model, polish = newton_polish(model, data, config.tolerance, config.max_newton_steps, state.sub(0.6, 1.0))
    record = dict(polish, sweeps=config.sweeps, seconds=round(time.perf_counter() - started, 2),
                  n_ratings=len(train))
    return model, record


def _row_regularisers(config: MFConfig, counts: np.ndarray) -> np.ndarray:
    """λ · n^α per row (a row with no rating counts as one: its factors stay at zero anyway)."""
    return config.reg * np.maximum(counts, 1).astype(np.float64) ** config.reg_exponent


def retrain_without(
    model: MatrixFactorization, data: TrainingSet, position: int, tolerance: float = 1e-6, max_steps: int = 40,
) -> tuple[MatrixFactorization, dict]:
    """Warm-start retraining without training rating `position` (index into data.ratings): Newton
    steps from the given weights to a stationary point of the smaller objective. Deterministic."""
    with _one_blas_thread():
        return newton_polish(model, data.without(position), tolerance, max_steps)


# Rows solved between two cancel checks inside a sweep: on ML-1M a whole side takes seconds, and a
# check per sweep let a Cancel (or closing the window) wait for it; a few hundred rows are milliseconds.
ROWS_PER_CANCEL_CHECK = 256


def als_sweep(model: MatrixFactorization, data: TrainingSet, state: TaskState = SILENT,
              rows_per_check: int = ROWS_PER_CANCEL_CHECK) -> MatrixFactorization:
    """One alternating least-squares sweep: every user's (p_u, b_u) given Q, then every item's given P.
    Cancel is checked every `rows_per_check` users or items; the result does not depend on it."""
    bu, P = _ridge_side(model.item_factors, model.item_bias, data.matrix, data.ratings, model, True,
                        state, rows_per_check)
    model = model.replace(user_factors=P, user_bias=bu)
    bi, Q = _ridge_side(model.user_factors, model.user_bias, data.matrix, data.ratings, model, False,
                        state, rows_per_check)
    return model.replace(item_factors=Q, item_bias=bi)


def _ridge_side(other_factors, other_bias, matrix, ratings, model, users_side: bool,
                state: TaskState = SILENT, rows_per_check: int = ROWS_PER_CANCEL_CHECK):
    """Solve min Σ w (x·θ_s - t)² + θ_sᵀΛθ_s for every row s of one side, x = (other factors, 1),
    in blocks of `rows_per_check` rows with a cancel check before each (each row's solve is its own,
    so the blocks give the same numbers as one batch)."""
    K = model.factors
    x = _with_ones(other_factors)  # (n_other, K+1)
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), -1)
    other_rows = ratings.items if users_side else ratings.users
    target = ratings.ratings - model.mean - other_bias[other_rows]
    ones, targets = matrix(np.ones(len(ratings))), matrix(target)
    if not users_side:
        ones, targets = ones.T.tocsr(), targets.T.tocsr()
    row_reg = model.user_reg if users_side else model.item_reg
    solution = np.empty((len(row_reg), K + 1))
    step = max(int(rows_per_check), 1)
    for start in range(0, len(row_reg), step):
        state.check_cancelled()
        rows = slice(start, min(start + step, len(row_reg)))
        ridge = np.zeros((rows.stop - start, K + 1, K + 1))
        ridge[:, np.arange(K), np.arange(K)] = row_reg[rows, None]
        ridge[:, K, K] = model.reg_bias
        normal = (ones[rows] @ outer).reshape(-1, K + 1, K + 1) + ridge
        rhs = targets[rows] @ x
        solution[rows] = np.linalg.solve(normal, rhs[:, :, None])[:, :, 0]
    return solution[:, K], solution[:, :K]


def _block_preconditioner(model: MatrixFactorization, data: TrainingSet):
    """The inverse of H's per-user and per-item (K+1)² diagonal blocks (exact: within one block J is
    a ridge regression), applied to a flat vector."""
    K, nu, ni = model.factors, model.n_users, model.n_items
    counts = data.matrix(np.ones(len(data.ratings)))  # users x items, the ratings' weights
    blocks = []
    for side_counts, other_factors, row_reg in ((counts, model.item_factors, model.user_reg),
                                                 (counts.T.tocsr(), model.user_factors, model.item_reg)):
        x = _with_ones(other_factors)
        outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), -1)
        ridge = np.zeros((len(row_reg), K + 1, K + 1))
        ridge[:, np.arange(K), np.arange(K)] = 2 * row_reg[:, None]
        ridge[:, K, K] = 2 * model.reg_bias
        blocks.append(np.linalg.inv(2 * (side_counts @ outer).reshape(-1, K + 1, K + 1) + ridge))
    user_inv, item_inv = blocks

    def apply(vector: np.ndarray) -> np.ndarray:
        vP, vQ, vbu, vbi = _unflatten(vector, nu, ni, K)
        u = np.einsum("nij,nj->ni", user_inv, np.hstack([vP, vbu[:, None]]))
        i = np.einsum("nij,nj->ni", item_inv, np.hstack([vQ, vbi[:, None]]))
        return np.concatenate([u[:, :K].ravel(), i[:, :K].ravel(), u[:, K], i[:, K]])

    return apply


def newton_polish(
    model: MatrixFactorization, data: TrainingSet, tolerance: float = 1e-6, max_steps: int = 40,
    state: TaskState = SILENT,
) -> tuple[MatrixFactorization, dict]:
    """Inexact Newton with a preconditioned CG solve and a backtracking line search, until
    max |∇J| <= tolerance. A small Levenberg-Marquardt shift keeps each solve positive definite
    (MF's rotation symmetry makes H singular at the optimum and slightly indefinite near it)."""
    theta = model.flat()
    value = objective(model, data)
    grad = gradient(model, data)
    steps = cg_total = 0
    start_gmax = float(np.max(np.abs(grad))) if len(grad) else 0.0
    for steps in range(1, max_steps + 1):
        gmax = float(np.max(np.abs(grad))) if len(grad) else 0.0
        if gmax <= tolerance:
            steps -= 1
            break
        if start_gmax > tolerance:
            done = np.log(start_gmax / gmax) / np.log(start_gmax / tolerance)
            state.progress(min(max(done, 0.0), 0.99), f"Polishing MF to a stationary point: max gradient {gmax:.1e}")
        shift = min(1e-3, gmax * 1e-3)
        precondition = _block_preconditioner(model, data)
        hessian = hessian_product(model, data)

        def product(v, hessian=hessian, shift=shift):
            state.check_cancelled()  # a solve on ML-1M takes seconds: stay cancellable inside it
            return hessian(v) + shift * v

        direction, iterations, _ = conjugate_gradient(
            product, -grad, precondition,
            tolerance=min(0.1, np.sqrt(gmax) * 0.1), max_iterations=200,
        )
        cg_total += iterations
        slope = grad @ direction
        if slope >= 0:  # not a descent direction: fall back to the preconditioned gradient
            direction = -precondition(grad)
            slope = grad @ direction
        step = 1.0
        for _ in range(30):
            candidate = model.with_flat(theta + step * direction)
            new_value = objective(candidate, data)
            # Near the optimum J's change drowns in rounding (J ~ 1e5-1e6): then accept a step that
            # does not raise J beyond that rounding and lowers the gradient.
            if new_value <= value + 1e-4 * step * slope or (
                new_value <= value + 1e-12 * abs(value)
                and np.max(np.abs(gradient(candidate, data))) < gmax
            ):
                break
            step *= 0.5
        else:
            break
        model, theta, value = candidate, theta + step * direction, new_value
        grad = gradient(model, data)
    state.progress(1.0, "MF trained")
    return model, {
        "newton_steps": steps, "cg_iterations": cg_total, "objective": value,
        "max_gradient": float(np.max(np.abs(grad))) if len(grad) else 0.0,
    }


# ----------------------------------------------------------------------------------------------
# What the influence lens asks of every rating model's module (see engine/explain/influence_explainer.py).

# Chosen by validation RMSE on a second held-out rating per user. On ML-1M, K in {8, 12, 16, 24, 32}
# and sum-form λ in {5, 7, 10, 12, 15, 25, 50} were tried: K = 16, λ = 10 was best or within noise
# of the best (larger K needed more λ and did no better). Test RMSE on the paper's split (seed 0),
# polished: ML-1M 0.874 (user+item biases 0.937), ML-100k 0.924 (biases 0.936).
# Per-entity λ·n^α (ML-1M validation, K = 16): α = 0.5, λ = 1 gave 0.8699 and α = 0.3, λ = 3 0.8700
# against 0.8714 here (K = 32, α = 0.5, λ = 1: 0.8747); on test, seeds 0 and 1, 0.869 and 0.875
# against 0.874 and 0.877. Not the default: the committed benchmark reports were measured with
# the configs below, and the 0.87 is still missed on seed 1.
DATASET_CONFIGS = {
    "ml-100k": MFConfig(factors=16, reg=10.0, reg_bias=1.0),
    "ml-1m": MFConfig(factors=16, reg=10.0, reg_bias=1.0),
}


def default_config(dataset_name: str) -> MFConfig:
    return DATASET_CONFIGS.get(dataset_name, MFConfig())


def train(ratings: RatingTriples, n_users: int, n_items: int, config: MFConfig, state: TaskState = SILENT):
    return train_mf(ratings, n_users, n_items, config, state)


def load(arrays: dict[str, np.ndarray]) -> MatrixFactorization:
    return MatrixFactorization.from_arrays(arrays)


# ----------------------------------------------------------------------------------------------
# Accuracy and the bias baseline.


def rmse(model: RatingModel, ratings: RatingTriples) -> float:
    errors = model.predict(ratings.users, ratings.items) - ratings.ratings
    return float(np.sqrt(np.mean(errors**2)))


def bias_baseline(
    train: RatingTriples, n_users: int, n_items: int, reg_bias: float = 5.0,
) -> MatrixFactorization:
    """The global mean plus regularised user and item biases, fitted exactly (MF with no factors):
    the baseline the benchmark reports next to MF and NCF."""
    config = MFConfig(factors=0, reg=0.0, reg_bias=reg_bias, sweeps=10, tolerance=1e-8)
    return train_mf(train, n_users, n_items, config)[0]
