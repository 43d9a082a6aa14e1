"""LIME with RecoNet as its black box (RecoNet paper, section 5.5), through captum's Lime.

The interpretable space is the profile's binary feature mask: one bit per feature row (liked movie,
user attribute, genre); a zero bit removes that row from RecoNet's mean pooling, exactly as the
fidelity benchmark removes it. LIME's own defaults for such bag-of-features inputs (its text
explainer) are used, since captum's defaults differ (25 samples, Bernoulli(0.5) masks, a Lasso that
needs scikit-learn):
- 5000 samples (LIME's num_samples), the first being the unperturbed profile; each other sample
  removes a number of features drawn uniformly from 1..n-1, at random positions;
- weights exp(-d^2 / (2 * 0.25^2)) with d the cosine distance to the full mask, which is LIME's
  sqrt(exp(-(100 d)^2 / 25^2)) (kernel width 25 on distances scaled by 100);
- a weighted ridge regression with alpha 1 and an intercept as the surrogate (LIME's Ridge(alpha=1)).
The surrogate's coefficients are LIME's feature importances.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.stats
import torch
from captum._utils.models.model import Model
from captum.attr import Lime
from captum.attr._core.lime import get_exp_kernel_similarity_function

from engine.models.reconet import RecoNetWeights

LIME_DEFAULT_SAMPLES = 5000  # LIME's own default num_samples (captum's Lime.attribute defaults to 25)
LIME_KERNEL_WIDTH = 0.25  # captum's cosine kernel width equal to LIME's text kernel (see the docstring)
RIDGE_ALPHA = 1.0
BATCH = 500  # masks scored per forward call


class MaskedTarget(torch.nn.Module):
    """The served RecoNet's logit for one target movie as a function of one profile's feature mask."""

    def __init__(self, weights: RecoNetWeights, rows: np.ndarray, target: int):
        super().__init__()
        self.embedding = torch.from_numpy(np.asarray(weights.embedding[rows], dtype=np.float32))
        self.hidden_weight = None if weights.hidden_weight is None else torch.from_numpy(weights.hidden_weight)
        self.hidden_bias = None if weights.hidden_bias is None else torch.from_numpy(weights.hidden_bias)
        self.output_weight = torch.from_numpy(np.asarray(weights.output_weight[target], dtype=np.float32))
        self.output_bias = float(weights.output_bias[target])

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.float()
        counts = mask.sum(dim=1, keepdim=True).clamp(min=1.0)  # an empty profile pools to zeros
        pooled = mask @ self.embedding / counts
        if self.hidden_weight is not None:
            pooled = torch.relu(pooled @ self.hidden_weight.T + self.hidden_bias)
        return pooled @ self.output_weight + self.output_bias


class WeightedRidge(Model):
    """Ridge regression with an intercept on weighted samples, in closed form (LIME's surrogate)."""

    def __init__(self, alpha: float = RIDGE_ALPHA):
        self.alpha = alpha
        self.coefficients = torch.zeros(0)
        self.intercept = 0.0

    def fit(self, train_data, **kwargs):
        xs, ys, ws = [], [], []
        for x, y, w in train_data:
            xs.append(x), ys.append(y), ws.append(w)
        x = torch.cat(xs).double()
        y = torch.cat(ys).double().reshape(-1)
        w = torch.cat(ws).double().reshape(-1)
        self.coefficients, self.intercept = weighted_ridge(x.numpy(), y.numpy(), w.numpy(), self.alpha)
        return {}

    def representation(self) -> torch.Tensor:
        return torch.as_tensor(self.coefficients).reshape(1, -1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.double() @ torch.as_tensor(self.coefficients) + self.intercept


def weighted_ridge(x: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """argmin sum_i w_i (y_i - b - x_i.beta)^2 + alpha |beta|^2 (the intercept b unpenalised)."""
    total = w.sum()
    x_mean = (w @ x) / total
    y_mean = float(w @ y) / total
    xc, yc = x - x_mean, y - y_mean
    gram = (xc * w[:, None]).T @ xc + alpha * np.eye(x.shape[1])
    beta = np.linalg.solve(gram, (xc * w[:, None]).T @ yc)
    return beta, y_mean - float(x_mean @ beta)


def lime_text_samples(n_features: int, generator: np.random.Generator):
    """LIME's sampling for bag-of-features inputs: the full mask, then masks that each remove a
    uniformly drawn number (1..n-1) of features at random positions."""
    def perturb(original, **kwargs):
        yield torch.ones(1, n_features, dtype=torch.long)
        while True:
            mask = np.ones(n_features, dtype=np.int64)
            if n_features > 1:
                removed = generator.integers(1, n_features)
                mask[generator.choice(n_features, size=removed, replace=False)] = 0
            else:
                mask[:] = generator.integers(0, 2)
            yield torch.from_numpy(mask).reshape(1, -1)
    return perturb


@dataclass(frozen=True)
class LimeExplanation:
    coefficients: np.ndarray  # one per feature row, in the rows' order
    seconds: float
    samples: int


def explain_with_lime(weights: RecoNetWeights, rows: np.ndarray, target: int, samples: int, seed: int) -> LimeExplanation:
    """LIME's importance of each of `rows` for the target movie's logit, and the time it took."""
    started = time.perf_counter()
    model = MaskedTarget(weights, rows, target)
    lime = Lime(
        model,
        interpretable_model=WeightedRidge(),
        similarity_func=get_exp_kernel_similarity_function("cosine", LIME_KERNEL_WIDTH),
        perturb_func=lime_text_samples(len(rows), np.random.default_rng(seed)),
    )
    with torch.no_grad():
        attribution = lime.attribute(
            torch.ones(1, len(rows)), baselines=0.0, n_samples=samples, perturbations_per_eval=BATCH,
            return_input_shape=True,
        )
    coefficients = attribution.detach().double().numpy().reshape(-1)
    return LimeExplanation(coefficients, time.perf_counter() - started, samples)


def top_overlap(first: np.ndarray, second: np.ndarray, k: int = 5) -> float:
    """Share of the k highest-scored features of `first` that are also among the k highest of `second`."""
    k = min(k, len(first))
    if k == 0:
        return float("nan")
    a = set(np.argsort(-np.asarray(first), kind="stable")[:k].tolist())
    b = set(np.argsort(-np.asarray(second), kind="stable")[:k].tolist())
    return len(a & b) / k


def top_spearman(reference: np.ndarray, other: np.ndarray, k: int = 20) -> float:
    """Spearman's rank correlation of the two scores over the k features `reference` ranks highest."""
    top = np.argsort(-np.asarray(reference), kind="stable")[:k]
    if len(top) < 3:
        return float("nan")
    a, b = np.asarray(reference)[top], np.asarray(other)[top]
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(scipy.stats.spearmanr(a, b)[0])
