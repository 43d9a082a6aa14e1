"""The contract of the influence lens's rating models (MF, NCF), and the local problem FIA solves.

Explicit ratings, squared loss, L2, written in sum form (see ../shared/specs/influence.md):
    J(θ) = Σ_z (r̂_z - r_z)² + λ ‖θ‖²   (what counts in ‖θ‖² is the model's to say)
For a prediction at (user u, item i), FIA keeps only the local parameters θ_t (u's and i's own
factors and biases) and the related training ratings R_t (u's ratings and the other users' ratings
of i). A model reports, for that pair, everything FIA needs as plain arrays, so the influence
algorithm (engine/explain/fia.py) is the same for every model.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class RatingTriples:
    """Parallel arrays of (user row, item row, stars): a training set or the related ratings R_t."""

    users: np.ndarray  # int64 rows into the model's user factors
    items: np.ndarray  # int64 rows into the model's item factors
    ratings: np.ndarray  # float64 stars

    def __len__(self) -> int:
        return len(self.users)


@dataclass(frozen=True, eq=False)
class LocalProblem:
    """FIA's ingredients for one prediction, in the model's local parameter order θ_t (size d).

    INFL(z) = -grad_prediction · H⁻¹ · loss_gradients[z], with H = `hessian` (the exact Hessian of J
    restricted to θ_t, regulariser included) and damping added by the caller.
    """

    prediction: float  # r̂ at the explained pair
    grad_prediction: np.ndarray  # (d,) ∂r̂/∂θ_t
    loss_gradients: np.ndarray  # (n', d) ∂(r̂_z - r_z)²/∂θ_t for each related rating z
    hessian: np.ndarray  # (d, d) ∂²J/∂θ_t²
    related: RatingTriples  # the n' related ratings, in the rows' order


class RatingModel(ABC):
    """A trained explicit-rating model: frozen numpy weights, pure functions of them."""

    name: str  # "mf" or "ncf"

    @abstractmethod
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted stars (raw, unclipped) for parallel arrays of user and item rows."""

    @abstractmethod
    def local_problem(self, user: int, item: int, related: RatingTriples) -> LocalProblem:
        """FIA's local problem for the prediction (user row, item row) over the related ratings."""

    @abstractmethod
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The weights as named arrays for the model cache (engine/models/store.py)."""
