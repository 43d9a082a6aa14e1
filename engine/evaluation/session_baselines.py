"""The session task's simple baselines (specs/experts.md §3.5), to be beaten by the expert model.

Each returns a (windows x positions) array of like-probabilities for the guessed half; a guess is
"liked" above 0.5. Ties at exactly 0.5 count as "liked" (the majority label, 55% of ratings).
- last: the given half's last label, for every guessed movie (the papers' "persistence");
- mean: the share of the given half that was liked;
- like-rate: each movie's smoothed like-rate among train users;
- mean + offset: the given half's mean plus the movie's like-rate minus the global like-rate.
"""
from __future__ import annotations

import numpy as np

from engine.data.session_features import CrowdStats, SessionArrays
from engine.evaluation.session_metrics import summary, user_bootstrap_interval

TIE = 1e-9  # pushes an exact 0.5 to "liked"

BASELINE_NAMES = ("last", "mean", "like_rate", "mean_plus_offset")


def given_mean(arrays: SessionArrays) -> np.ndarray:
    counts = np.maximum(arrays.given_mask.sum(axis=1), 1)
    return (arrays.given_liked * arrays.given_mask).sum(axis=1) / counts


def last_given(arrays: SessionArrays) -> np.ndarray:
    last = np.maximum(arrays.given_mask.sum(axis=1) - 1, 0)
    return arrays.given_liked[np.arange(len(last)), last]


def item_like_rates(arrays: SessionArrays, crowd: CrowdStats) -> np.ndarray:
    flat = crowd.like_rate(arrays.target_items.ravel())
    return flat.reshape(arrays.target_items.shape)


def baseline_probabilities(name: str, arrays: SessionArrays, crowd: CrowdStats) -> np.ndarray:
    shape = arrays.target_mask.shape
    if name == "last":
        guess = np.broadcast_to(last_given(arrays)[:, None], shape)
    elif name == "mean":
        guess = np.broadcast_to(given_mean(arrays)[:, None], shape)
    elif name == "like_rate":
        guess = item_like_rates(arrays, crowd)
    elif name == "mean_plus_offset":
        guess = given_mean(arrays)[:, None] + item_like_rates(arrays, crowd) - crowd.global_rate
    else:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINE_NAMES)}")
    return np.clip(guess + TIE, 0.0, 1.0) * arrays.target_mask


def evaluate_baselines(arrays: SessionArrays, crowd: CrowdStats, bootstrap_seed: int = 0) -> dict[str, dict]:
    """Acc, Acc@1, MAA and a 95% user-bootstrap interval of Acc for every baseline."""
    result = {}
    for name in BASELINE_NAMES:
        guess = baseline_probabilities(name, arrays, crowd)
        row = summary(guess, arrays.labels, arrays.target_mask)
        row["accuracy_interval"] = user_bootstrap_interval(guess, arrays.labels, arrays.target_mask, arrays.users,
                                                           seed=bootstrap_seed)
        result[name] = row
    return result
