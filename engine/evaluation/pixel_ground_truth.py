"""Scores of a pair's heatmaps against a known answer (the planted brand marks), after Arras, Osman
and Samek, "CLEVR-XAI" (Information Fusion 2022), computed over both images of a pair at once:

* mass accuracy: the share of the positive evidence that lies on the answer's pixels,
  sum_{p in GT} R+_p / sum_p R+_p;
* rank accuracy: of the |GT| pixels with the highest evidence, the share that lies in GT.

Chance for both is |GT| / pixels (two 5x5 marks in two 28x28 images: 50 / 1568 = 0.032). A pair
without positive evidence has no mass accuracy (NaN; `mean_finite` leaves it out).
"""
from __future__ import annotations

import numpy as np


def _stack(query: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """(n, H, W) twice -> (n, 2 H W): both images of each pair as one row."""
    n = len(query)
    return np.concatenate([np.asarray(query).reshape(n, -1), np.asarray(candidate).reshape(n, -1)], axis=1)


def mass_accuracy(query_map, candidate_map, query_truth, candidate_truth) -> np.ndarray:
    """(n,) share of each pair's positive evidence on its ground-truth pixels (NaN without any)."""
    positive = np.clip(_stack(query_map, candidate_map).astype(np.float64), 0, None)
    truth = _stack(query_truth, candidate_truth).astype(bool)
    total = positive.sum(1)
    inside = np.where(truth, positive, 0.0).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / total, np.nan)


def rank_accuracy(query_map, candidate_map, query_truth, candidate_truth) -> np.ndarray:
    """(n,) share of each pair's |GT| highest-evidence pixels that are ground truth (ties: the first
    pixels in query-then-candidate row-major order win, so a constant map scores its own layout)."""
    values = _stack(query_map, candidate_map).astype(np.float64)
    truth = _stack(query_truth, candidate_truth).astype(bool)
    scores = np.empty(len(values))
    for row, (value, mask) in enumerate(zip(values, truth)):
        size = int(mask.sum())
        top = np.argsort(-value, kind="stable")[:size]
        scores[row] = mask[top].mean() if size else np.nan
    return scores


def chance(query_truth, candidate_truth) -> float:
    """Both accuracies' expected value for a map independent of the answer."""
    truth = _stack(query_truth, candidate_truth)
    return float(truth.mean())


def mean_finite(values: np.ndarray) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else None
