"""Conjugate gradients on a matrix given only as a product, for Newton polishing and for IA."""
from __future__ import annotations

from typing import Callable

import numpy as np

Product = Callable[[np.ndarray], np.ndarray]


def conjugate_gradient(
    product: Product, rhs: np.ndarray, precondition: Product | None = None, tolerance: float = 1e-6,
    max_iterations: int = 1000,
) -> tuple[np.ndarray, int, float]:
    """Solve H x = rhs for a symmetric positive (semi)definite H given as `product(v) = H v`.

    Stops at the relative residual `tolerance`, or on non-positive curvature pᵀHp <= 0 (then it
    returns the iterate so far, or the first search direction when there is none yet).
    Returns (x, iterations, relative residual).
    """
    precondition = precondition or (lambda v: v)
    x = np.zeros_like(rhs)
    r = rhs.astype(np.float64, copy=True)
    norm_rhs = float(np.linalg.norm(rhs)) or 1.0
    if np.linalg.norm(r) / norm_rhs <= tolerance:
        return x, 0, float(np.linalg.norm(r) / norm_rhs)
    z = precondition(r)
    p = z.copy()
    rz = r @ z
    for iteration in range(1, max_iterations + 1):
        hp = product(p)
        curvature = p @ hp
        if curvature <= 0:
            return (x if iteration > 1 else p), iteration, float(np.linalg.norm(r) / norm_rhs)
        alpha = rz / curvature
        x += alpha * p
        r -= alpha * hp
        residual = float(np.linalg.norm(r) / norm_rhs)
        if residual <= tolerance:
            return x, iteration, residual
        z = precondition(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, max_iterations, float(np.linalg.norm(r) / norm_rhs)
