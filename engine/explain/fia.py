"""Fast Influence Analysis (Cheng et al., KDD 2019) and its full-parameter baseline IA.

Sign convention (engine/explain/influence.py): a rating's influence is the prediction with that
rating in the training data minus the prediction after removing it. With the sum-form objective
J = Σ ℓ + regulariser, removing z moves the optimum by about H⁻¹∇ℓ(z), so

    INFL(z) = -∇r̂ᵀ (H + damping·I)⁻¹ ∇ℓ(z)

with no 1/n or 1/n' anywhere (the paper's eq. 18 in mean form is the same number when its local
regulariser is scaled consistently; see ../shared/specs/influence-research.md §1.5).

FIA keeps only the prediction's local parameters θ_t and the related ratings R_t, so H is the tiny
(2K+2)² local Hessian, formed exactly by the model and solved directly (Cholesky). IA solves over
all parameters with conjugate gradients on exact Hessian-vector products over the whole training
set: the paper's baseline, kept for the speed and accuracy comparison.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from engine.models.conjugate_gradient import conjugate_gradient
from engine.models.rating_model import LocalProblem, RatingTriples

DEFAULT_DAMPING = 0.0  # MF's blocks are >= 2λ; the paper's 1e-6 (mean form) changes nothing there


@dataclass(frozen=True, eq=False)
class Influences:
    """The influence of each related rating on one prediction, in the rows' order of `related`."""

    values: np.ndarray  # (n',) stars
    related: RatingTriples
    prediction: float
    damping: float  # what was added to H's diagonal: the requested damping, plus a shift if H was not positive definite


def fia(problem: LocalProblem, damping: float = DEFAULT_DAMPING) -> Influences:
    """FIA: every related rating's influence from the local problem, by one Cholesky solve."""
    solution, used = _solve_local(problem.hessian, problem.grad_prediction, damping)
    values = -(problem.loss_gradients @ solution)
    return Influences(values, problem.related, problem.prediction, used)


def leave_one_out(problem: LocalProblem, jacobians: np.ndarray, damping: float = 0.0) -> np.ndarray:
    """The exact leave-one-out change of the local problem, for models whose loss is quadratic in
    θ_t with ∇²ℓ(z) = 2 J_z J_zᵀ (MF with the opposite side frozen): the first-order influence
    divided by 1 - h_z, h_z = 2 J_zᵀ H⁻¹ J_z (Sherman-Morrison). `jacobians` (n', d) = ∂r̂_z/∂θ_t."""
    import scipy.linalg  # here, not at import: the app starts without it

    first_order = fia(problem, damping).values
    factor = _factor(problem.hessian, damping)[0]
    leverage = 2 * np.einsum("nd,nd->n", jacobians, scipy.linalg.cho_solve(factor, jacobians.T).T)
    return first_order / (1.0 - leverage)


def _factor(hessian: np.ndarray, damping: float):
    """Cholesky of H + damping·I; if that is not positive definite, shift it until it is (by
    -λ_min + 1e-3·λ_max, as for an indefinite NCF block) and report the total damping used."""
    import scipy.linalg  # here, not at import: the app starts without it

    d = hessian.shape[0]
    matrix = 0.5 * (hessian + hessian.T) + damping * np.eye(d)
    try:
        return scipy.linalg.cho_factor(matrix, check_finite=False), damping
    except np.linalg.LinAlgError:
        eigenvalues = np.linalg.eigvalsh(matrix)
        shift = -eigenvalues[0] + 1e-3 * max(abs(eigenvalues[-1]), 1e-12)
        return scipy.linalg.cho_factor(matrix + shift * np.eye(d), check_finite=False), damping + shift


def _solve_local(hessian: np.ndarray, rhs: np.ndarray, damping: float) -> tuple[np.ndarray, float]:
    import scipy.linalg  # here, not at import: the app starts without it

    factor, used = _factor(hessian, damping)
    return scipy.linalg.cho_solve(factor, rhs, check_finite=False), used


# ----------------------------------------------------------------------------------------------
# IA: the same influence over all parameters.


@dataclass(frozen=True, eq=False)
class IAResult:
    values: np.ndarray  # (n_z,) influence of each given rating
    iterations: int  # conjugate-gradient iterations (each one Hessian-vector product over all ratings)
    residual: float  # final relative residual of the solve


def ia(
    hessian_vector_product: Callable[[np.ndarray], np.ndarray],
    grad_prediction: np.ndarray,
    loss_gradients,
    damping: float = 0.0,
    tolerance: float = 1e-6,
    max_iterations: int = 5000,
    precondition: Callable[[np.ndarray], np.ndarray] | None = None,
) -> IAResult:
    """The paper's basic influence analysis: s = (H + damping·I)⁻¹ ∇r̂ over all p parameters by
    conjugate gradients (H only as products), then INFL(z) = -∇ℓ(z)·s for each rating z.

    `loss_gradients` is an (n_z, p) array or sparse matrix of ∂ℓ(z)/∂θ. Any model plugs in by
    giving its exact Hessian-vector product over the whole training set (MF: engine.models.mf;
    NCF: autograd). MF's full Hessian is singular (rotating P and Q together changes nothing), but
    ∇r̂ is orthogonal to that null space, so plain CG converges without damping."""
    product = (lambda v: hessian_vector_product(v) + damping * v) if damping else hessian_vector_product
    with threadpool_limits(limits=1, user_api="blas"):  # as FIA runs; threads only slowed CG's small steps here
        solution, iterations, residual = conjugate_gradient(
            product, np.asarray(grad_prediction, dtype=np.float64), precondition, tolerance, max_iterations
        )
    values = -np.asarray(loss_gradients @ solution).ravel()
    return IAResult(values, iterations, residual)


def ia_mf(model, data, user: int, item: int, related: RatingTriples, **options) -> IAResult:
    """IA for a MatrixFactorization over its TrainingSet `data`, for the ratings `related`."""
    from engine.models import mf

    return ia(
        mf.hessian_product(model, data),
        mf.prediction_gradient(model, user, item),
        mf.loss_gradient_matrix(model, related),
        **options,
    )
