"""The session rows of `bench experts`: the interpretable session model against its control and the
four baselines on the same user-disjoint split of MovieLens 100k rating sittings.

`evaluate_session_model(dataset, ...) -> dict` is self-contained (data, training, measures, bars),
so the benchmark command only writes what it returns. Bars (issue 9): accuracy >= 68% (the notes'
best baseline: 67.1%), within 1.5 points of the control, no expert deciding more than 60% of the
guessed positions, a 95% user-bootstrap interval, one 20-rating timeline <= 50 ms on one core.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import threadpoolctl
import torch

from engine.data import sessions
from engine.data.session_features import SUBSETS, SessionEncoder, fit_crowd
from engine.data.types import Dataset
from engine.evaluation.session_baselines import evaluate_baselines
from engine.evaluation.session_metrics import paired_user_bootstrap_difference, summary, user_bootstrap_interval
from engine.models.experts import effective_parameter_count
from engine.models.experts_session import (
    CONTROL, INTERPRETABLE, SessionModelConfig, SessionPredictor, SessionTraining, build_session_model,
    predict_probabilities, train_session_model,
)
from engine.progress import SILENT, TaskState

BARS = {"accuracy": 0.68, "gap_to_control": 0.015, "max_decided_share": 0.60, "timeline_ms": 50.0}
NOTES_BASELINES = {"last": 0.605, "mean": 0.633, "like_rate": 0.668, "mean_plus_offset": 0.671}  # notes §3.5


def evaluate_session_model(dataset: Dataset, *, seed: int = 0, split_seed: int = 0,
                           training: SessionTraining | None = None,
                           interpretable: SessionModelConfig = INTERPRETABLE, control: SessionModelConfig = CONTROL,
                           latency_windows: int = 30, state: TaskState = SILENT) -> dict:
    """Train and measure both models on one split (users by `split_seed`, training by `seed`).
    Runs on one thread (and restores the caller's thread counts); Cancelled when `state` asks."""
    training = training or SessionTraining(seed=seed)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1):
            return _evaluate(dataset, seed, split_seed, training, interpretable, control, latency_windows, state)
    finally:
        torch.set_num_threads(previous)


def _evaluate(dataset, seed, split_seed, training, interpretable_config, control_config, latency_windows, state) -> dict:
    state.progress(0.0, "Cutting rating sittings")
    sittings = sessions.user_sittings(dataset, seed=split_seed)
    split = sessions.split_users(dataset.users, seed=split_seed)
    crowd = fit_crowd(dataset, split.train)
    encoder = SessionEncoder(dataset, crowd)
    test_windows = sessions.windows_of(sittings, split.test)
    validation = encoder.encode(sessions.windows_of(sittings, split.validation))
    test = encoder.encode(test_windows)
    rng = np.random.default_rng(seed)
    train_draws: dict[int, object] = {}

    def training_windows(epoch: int):
        # the same offsets for both models in the same epoch: they see the same data
        if epoch not in train_draws:
            train_draws.clear()
            train_draws[epoch] = encoder.encode(sessions.windows_of(sittings, split.train, rng))
        return train_draws[epoch]

    results: dict = {
        "task": {"dataset": dataset.name, "label": f"liked = rating >= {sessions.LIKED_STARS}",
                 "sitting_gap_s": sessions.SITTING_GAP_S, "window": sessions.WINDOW_SIZE,
                 "min_window": sessions.MIN_WINDOW, "split_seed": split_seed, "training_seed": seed},
        "split": {"users": {"train": len(split.train), "validation": len(split.validation), "test": len(split.test)},
                  "windows": {"validation": int(len(validation.labels)), "test": int(len(test.labels))},
                  "test_positions": int(test.target_mask.sum())},
        "baselines": evaluate_baselines(test, crowd, bootstrap_seed=seed),
        "notes_baselines": NOTES_BASELINES,
        "training": training.to_dict(),
    }
    predictions = {}
    for index, (name, config, is_interpretable) in enumerate(
            (("interpretable", interpretable_config, True), ("control", control_config, False))):
        rng = np.random.default_rng(seed)  # each model gets the same sequence of offset draws
        train_draws.clear()
        model = build_session_model(encoder, is_interpretable, config, seed=seed)
        record = train_session_model(model, training_windows, validation, training,
                                     state.sub(0.05 + 0.45 * index, 0.5 + 0.45 * index), f"Training the {name} session model")
        mixed = predict_probabilities(model, test)
        predictions[name] = mixed.prediction
        row = summary(mixed.prediction, test.labels, test.target_mask)
        row["accuracy_interval"] = user_bootstrap_interval(mixed.prediction, test.labels, test.target_mask, test.users,
                                                           seed=seed)
        row.update(config=config.to_dict(), parameters=effective_parameter_count(model), best_epoch=record.best_epoch,
                   epochs_run=record.epochs_run, validation_accuracy=record.validation_accuracy,
                   training_seconds=round(record.seconds, 1))
        if is_interpretable:
            row["attribution"] = attribution_summary(mixed, test.target_mask)
            row["timeline_ms"] = timeline_latency_ms(SessionPredictor(model, encoder), test_windows, latency_windows)
        results[name] = row
    results["gap_to_control"] = results["control"]["accuracy"] - results["interpretable"]["accuracy"]
    results["gap_interval"] = paired_user_bootstrap_difference(
        predictions["control"], predictions["interpretable"], test.labels, test.target_mask, test.users, seed=seed)
    results["bars"] = check_bars(results)
    state.progress(1.0, "Session models measured")
    return results


def attribution_summary(mixed, mask: np.ndarray) -> dict:
    """Per expert over the real guessed positions: its mean share and how often it decided (had
    the largest share); and how often no expert was confident."""
    shares = mixed.shares[mask]
    decided = np.bincount(shares.argmax(axis=1), minlength=shares.shape[1]) / max(len(shares), 1)
    ids = [s.id for s in SUBSETS]
    return {
        "experts": [{"id": s.id, "key": s.key, "label": s.label, "mean_share": round(float(m), 4),
                     "decided": round(float(d), 4)} for s, m, d in zip(SUBSETS, shares.mean(axis=0), decided)],
        "max_decided_share": float(decided.max()),
        "decided_by_most": ids[int(decided.argmax())],
        "undecided": float(mixed.undecided[mask].mean()),
        "shares_sum_error": float(np.abs(shares.sum(axis=1) - 1).max()),
        "mixture_error": float(np.abs((mixed.shares * mixed.predictions).sum(-1) - mixed.prediction)[mask].max()),
    }


def timeline_latency_ms(predictor: SessionPredictor, windows, count: int) -> dict:
    """Wall time of one timeline (encode a window + all its positions' mixture), on this thread:
    the median and the worst over `count` full 20-rating windows, after one warm-up call."""
    full = [w for w in windows if len(w) == sessions.WINDOW_SIZE][:count] or list(windows)[:count]
    predictor.window(full[0])
    times = []
    for window in full:
        started = time.perf_counter()
        predictor.window(window)
        times.append((time.perf_counter() - started) * 1000.0)
    return {"median": round(statistics.median(times), 2), "max": round(max(times), 2), "windows": len(times),
            "threads": torch.get_num_threads()}


def check_bars(results: dict) -> dict:
    model = results["interpretable"]
    return {
        "accuracy_at_least_68": model["accuracy"] >= BARS["accuracy"],
        "within_1_5_of_control": results["gap_to_control"] <= BARS["gap_to_control"],
        "no_expert_over_60": model["attribution"]["max_decided_share"] <= BARS["max_decided_share"],
        "beats_best_baseline": model["accuracy"] > max(b["accuracy"] for b in results["baselines"].values()),
        "timeline_under_50_ms": model["timeline_ms"]["median"] <= BARS["timeline_ms"],
    }
