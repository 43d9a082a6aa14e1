"""Epsilon-LRP for RecoNet (paper section 4.3), written for speed.

The paper's three steps, for target item j and profile features FS (n = |FS|):
1. output -> pooling, non-target logits zeroed: R_i = w_ji x_i (plain RecoNet). With the
   "+ Layer" variant, output -> hidden gives R_h = w_jk h_k and the epsilon rule takes it to the
   pooling layer: R_i = sum_k z_ki / (s_k + eps sign(s_k)) R_hk, z_ki = a_ki x_i.
2. pooling -> latent factors, proportionally: Z_ik = q_ik / (n x_i) R_i.
3. latent factors -> features by summation: Z_k = sum_i Z_ik.
In both variants R_i = x_i c_i for a vector c that does not depend on the feature, so
Z_k = (q_k . c) / n exactly: one small matrix product and no division by x_i.
"""
from __future__ import annotations

import numpy as np

from engine.models.reconet import RecoNetWeights

EPSILON = 1e-6


def relevance_coefficients(weights: RecoNetWeights, pooled: np.ndarray, targets: np.ndarray, epsilon: float = EPSILON):
    """For each target: c (dim,), the hidden biases' share and the epsilon's share of its logit.

    Returns (c: targets x dim, bias_share: targets, absorbed: targets).
    """
    bias = weights.output_bias64[targets]
    if weights.hidden_weight is None:
        return weights.output_weight64[targets], bias, np.zeros(len(targets))
    w = weights.output_weight[targets]  # (t, hidden)
    pre = weights.hidden_weight @ pooled + weights.hidden_bias  # s_k
    hidden = np.maximum(pre, 0.0)
    r_hidden = w * hidden  # (t, k): relevance of each hidden unit
    denominator = pre + epsilon * np.where(pre >= 0, 1.0, -1.0)
    share = r_hidden / denominator  # relevance per unit of pre-activation
    c = share @ weights.hidden_weight  # (t, dim)
    hidden_bias_share = share @ weights.hidden_bias
    absorbed = share @ (epsilon * np.where(pre >= 0, 1.0, -1.0))
    return c.astype(np.float64), bias + hidden_bias_share, absorbed


def feature_relevances(
    weights: RecoNetWeights, rows: np.ndarray, targets: np.ndarray, epsilon: float = EPSILON,
    pooled: np.ndarray | None = None, embedded: np.ndarray | None = None,
):
    """Relevance of every profile row for every target: (rows x targets), plus bias and epsilon shares.
    `pooled` is the profile vector and `embedded` the rows' float64 embeddings (weights.embedding64[rows])
    when the caller has them already (it scored the same rows)."""
    if pooled is None:
        pooled = weights.pooled(rows)
    if embedded is None:
        embedded = weights.embedding64[rows]
    c, bias_share, absorbed = relevance_coefficients(weights, pooled, targets, epsilon)
    relevance = (embedded @ c.T) / max(len(rows), 1)
    return relevance, bias_share, absorbed


def target_relevance(weights: RecoNetWeights, embedded: np.ndarray, pooled: np.ndarray, target: int,
                     epsilon: float = EPSILON) -> tuple[np.ndarray, float, float]:
    """`feature_relevances` for one target and rows already embedded (`embedded`, float64): the
    relevance of each row (1-D), the bias share and the epsilon share. One matrix-vector product, with
    1/n folded into c (the same sums up to the last bits)."""
    n = max(len(embedded), 1)
    if weights.hidden_weight is None:  # c is the target's output weights: no coefficient to compute
        return embedded @ (weights.output_weight64[target] / n), float(weights.output_bias64[target]), 0.0
    c, bias_share, absorbed = relevance_coefficients(weights, pooled, np.array([target]), epsilon)
    return embedded @ (c[0] / n), float(bias_share[0]), float(absorbed[0])
