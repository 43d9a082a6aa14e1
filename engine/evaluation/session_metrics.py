"""Accuracy measures of the session task, as the skip-prediction papers define them.

Inputs are padded (windows x positions) arrays of guesses, labels and a mask of real positions.
- Acc: over all real guessed positions, pooled.
- Acc@1: on each window's first guessed position.
- MAA (mean average accuracy): per window (1/T) sum_j L(j) * acc(<= j), L(j) = 1 if guess j is
  right and acc(<= j) the accuracy of the first j guesses; averaged over windows. It rewards
  getting the early positions right (random guessing scores about 0.25 + 0.25 H_T / T).
- A 95% interval by resampling users (a user's windows are not independent of each other).
"""
from __future__ import annotations

import numpy as np


def correct(guesses: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """1.0 where a real position is guessed right, 0.0 elsewhere (padding included)."""
    return ((np.asarray(guesses) > 0.5) == (np.asarray(labels) > 0.5)) & np.asarray(mask, dtype=bool)


def accuracy(guesses: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(correct(guesses, labels, mask).sum() / max(mask.sum(), 1))


def accuracy_at_first(guesses: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
    mask = np.asarray(mask, dtype=bool)
    real = mask[:, 0]
    return float(correct(guesses, labels, mask)[real, 0].mean()) if real.any() else 0.0


def mean_average_accuracy(guesses: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
    mask = np.asarray(mask, dtype=bool)
    right = correct(guesses, labels, mask).astype(np.float64)
    lengths = mask.sum(axis=1)
    positions = np.arange(1, mask.shape[1] + 1)
    running = np.cumsum(right, axis=1) / positions  # accuracy of the first j guesses
    per_window = (right * running).sum(axis=1) / np.maximum(lengths, 1)
    return float(per_window[lengths > 0].mean()) if (lengths > 0).any() else 0.0


def summary(guesses: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> dict:
    return {
        "accuracy": accuracy(guesses, labels, mask),
        "accuracy_at_1": accuracy_at_first(guesses, labels, mask),
        "mean_average_accuracy": mean_average_accuracy(guesses, labels, mask),
        "positions": int(np.asarray(mask, dtype=bool).sum()),
        "windows": int(len(mask)),
    }


def user_bootstrap_interval(guesses: np.ndarray, labels: np.ndarray, mask: np.ndarray, users: np.ndarray,
                            resamples: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """A percentile interval of pooled accuracy, resampling users with replacement (all of a user's
    windows go in or out together)."""
    right = correct(guesses, labels, mask).sum(axis=1).astype(np.float64)
    counts = np.asarray(mask, dtype=bool).sum(axis=1).astype(np.float64)
    user_ids, rows = np.unique(np.asarray(users), return_inverse=True)
    right_per_user = np.bincount(rows, weights=right, minlength=len(user_ids))
    count_per_user = np.bincount(rows, weights=counts, minlength=len(user_ids))
    draws = np.random.default_rng(seed).integers(0, len(user_ids), size=(resamples, len(user_ids)))
    accuracies = right_per_user[draws].sum(axis=1) / np.maximum(count_per_user[draws].sum(axis=1), 1.0)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(accuracies, [tail, 1.0 - tail])
    return float(low), float(high)


def paired_user_bootstrap_difference(first: np.ndarray, second: np.ndarray, labels: np.ndarray, mask: np.ndarray,
                                     users: np.ndarray, resamples: int = 2000, level: float = 0.95,
                                     seed: int = 0) -> tuple[float, float]:
    """A percentile interval of accuracy(first) - accuracy(second) on the same positions, the same
    users drawn for both (so the shared difficulty of a user cancels)."""
    right = (correct(first, labels, mask).sum(axis=1) - correct(second, labels, mask).sum(axis=1)).astype(np.float64)
    counts = np.asarray(mask, dtype=bool).sum(axis=1).astype(np.float64)
    user_ids, rows = np.unique(np.asarray(users), return_inverse=True)
    diff_per_user = np.bincount(rows, weights=right, minlength=len(user_ids))
    count_per_user = np.bincount(rows, weights=counts, minlength=len(user_ids))
    draws = np.random.default_rng(seed).integers(0, len(user_ids), size=(resamples, len(user_ids)))
    differences = diff_per_user[draws].sum(axis=1) / np.maximum(count_per_user[draws].sum(axis=1), 1.0)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(differences, [tail, 1.0 - tail])
    return float(low), float(high)
