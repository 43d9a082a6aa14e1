"""Perturbation fidelity of the relevance lens (RecoNet paper, section 5.4).

For a profile's top recommendation c, removing the k features ranked most relevant by LRP should
lower c's logit more than removing k random features: Δŷ_c = f_c(x | x_top-k = 0) - f_c(x). A
feature is one of RecoNet's input rows for the profile (a liked movie, a user attribute, a genre of
the liked movies); removing it drops that row from the mean pooling, which for a movie or an
attribute is the profile without it (genres stay as the paper's separate input bits). Also recorded:
the rank c falls to among the movies the profile does not hold.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.stats

from engine.explain.lrp import feature_relevances
from engine.models.reconet import RecoNetWeights

MAX_K = 50


@dataclass(frozen=True)
class Instance:
    """One profile's top recommendation, in the served model's row space."""

    label: str  # "user 12" or "ad-hoc 3"
    rows: np.ndarray  # the profile's feature rows
    held: np.ndarray  # item rows of the movies the profile holds (never ranked)
    target: int  # item row of the top recommendation


@dataclass
class Removal:
    """Δ logit and rank after removing the first k features of an order, for k = 1..K."""

    deltas: np.ndarray  # (K,)
    ranks: np.ndarray  # (K,)


@dataclass
class InstanceResult:
    instance: Instance
    logit: float
    relevance: np.ndarray  # LRP relevance of each row for the target
    lrp: Removal
    random: list[Removal] = field(default_factory=list)  # one per random draw
    others: dict[str, Removal] = field(default_factory=dict)  # e.g. LIME's order


class ProfileModel:
    """The served RecoNet's logits for one profile with some of its feature rows masked out."""

    def __init__(self, weights: RecoNetWeights, instance: Instance):
        self.weights = weights
        self.instance = instance
        self.embedding = np.asarray(weights.embedding[instance.rows], dtype=np.float64)
        self.unheld = np.ones(weights.n_items, dtype=bool)
        self.unheld[instance.held] = False

    def logits(self, masks: np.ndarray) -> np.ndarray:
        """(m, n_items) logits for m boolean masks over the profile's rows (an empty mask pools to zeros)."""
        masks = np.atleast_2d(masks).astype(np.float64)
        counts = np.maximum(masks.sum(axis=1, keepdims=True), 1.0)
        pooled = masks @ self.embedding / counts
        hidden = self.weights.hidden_activations(pooled.astype(np.float32))
        return hidden @ self.weights.output_weight.T + self.weights.output_bias

    def removal(self, order: np.ndarray, max_k: int) -> tuple[float, Removal]:
        """The full profile's target logit, and the effect of removing order[:k] for k = 1..max_k."""
        n = len(self.instance.rows)
        masks = np.ones((max_k + 1, n), dtype=bool)
        for k in range(1, max_k + 1):
            masks[k:, order[k - 1]] = False
        logits = self.logits(masks)
        target = logits[:, self.instance.target]
        better = (logits > target[:, None]) & self.unheld[None, :]
        ranks = 1 + better.sum(axis=1)
        return float(target[0]), Removal(deltas=target[1:] - target[0], ranks=ranks[1:])


def lrp_relevance(weights: RecoNetWeights, instance: Instance) -> np.ndarray:
    relevance, _, _ = feature_relevances(weights, instance.rows, np.array([instance.target]))
    return relevance[:, 0]


def descending(scores: np.ndarray) -> np.ndarray:
    """Feature order, highest score first (ties by position, as the relevance lens sorts)."""
    return np.argsort(-np.asarray(scores), kind="stable")


def evaluate(weights: RecoNetWeights, instance: Instance, rng: np.random.Generator, draws: int,
             max_k: int = MAX_K, others: dict[str, np.ndarray] | None = None) -> InstanceResult:
    """LRP's removal curve, `draws` random ones, and one per extra score vector in `others`."""
    model = ProfileModel(weights, instance)
    n = len(instance.rows)
    k = min(max_k, n)
    relevance = lrp_relevance(weights, instance)
    logit, lrp = model.removal(descending(relevance), k)
    result = InstanceResult(instance, logit, relevance, lrp)
    for _ in range(draws):
        result.random.append(model.removal(rng.permutation(n), k)[1])
    for name, scores in (others or {}).items():
        result.others[name] = model.removal(descending(scores), k)[1]
    return result


def interval(values: np.ndarray, level: float = 0.95) -> dict:
    """Mean with a t-based confidence interval of the mean."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return {"mean": mean, "low": mean, "high": mean, "n": n}
    half = float(scipy.stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def curves(results: list[InstanceResult], max_k: int = MAX_K) -> list[dict]:
    """Per k: mean Δ logit with its 95% interval for LRP, random (each instance's mean over its
    draws) and every other order, over the instances with at least k features; median ranks."""
    names = sorted({name for r in results for name in r.others})
    rows = []
    for k in range(1, max_k + 1):
        present = [r for r in results if len(r.lrp.deltas) >= k]
        if not present:
            break
        row = {"k": k,
               "lrp": interval([r.lrp.deltas[k - 1] for r in present]),
               "random": interval([np.mean([d.deltas[k - 1] for d in r.random]) for r in present if r.random]),
               "rank_lrp": float(np.median([r.lrp.ranks[k - 1] for r in present])),
               "rank_random": float(np.median([np.median([d.ranks[k - 1] for d in r.random])
                                               for r in present if r.random]))}
        for name in names:
            row[name] = interval([r.others[name].deltas[k - 1] for r in present if name in r.others])
            row[f"rank_{name}"] = float(np.median([r.others[name].ranks[k - 1] for r in present if name in r.others]))
        rows.append(row)
    return rows


def top1_vs_random1(results: list[InstanceResult]) -> dict:
    """Mann-Whitney U of Δ logit after removing the top LRP feature vs one random feature. The
    random sample takes each instance's first draw, so both samples hold one value per instance."""
    top = np.array([r.lrp.deltas[0] for r in results])
    rand = np.array([r.random[0].deltas[0] for r in results if r.random])
    return dict(mann_whitney(top, rand), top1=top.tolist(), random1=rand.tolist(),
                random1_all_draws=[float(d.deltas[0]) for r in results for d in r.random])


def mann_whitney(first: np.ndarray, second: np.ndarray) -> dict:
    """U of `first` (scipy's convention), the two-sided p-value, and the one-sided p that `first` is lower."""
    both = scipy.stats.mannwhitneyu(first, second, alternative="two-sided")
    less = scipy.stats.mannwhitneyu(first, second, alternative="less")
    return {"u": float(both.statistic), "p_two_sided": float(both.pvalue), "p_less": float(less.pvalue),
            "n_first": int(len(first)), "n_second": int(len(second)),
            "median_first": float(np.median(first)), "median_second": float(np.median(second))}
