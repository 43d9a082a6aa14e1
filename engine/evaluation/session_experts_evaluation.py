"""The session rows of `bench experts`: the interpretable session model against its control and the
four baselines on the same user-disjoint split of MovieLens 100k rating sittings.

`evaluate_session_model(dataset, ...) -> dict` is self-contained (data, training, measures, bars),
so the benchmark command only writes what it returns. Bars (issue 9): accuracy >= 68% (the notes'
best baseline: 67.1%), within 1.5 points of the control, no expert deciding more than 60% of the
guessed positions, a 95% user-bootstrap interval, one 20-rating timeline <= 50 ms on one core.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import threadpoolctl
import torch

from engine.data import sessions
from engine.data.registry import load_dataset
from engine.data.session_features import AGGREGATES, SUBSETS, SessionEncoder, fit_crowd
from engine.data.types import Dataset
from engine.evaluation.session_baselines import BASELINE_NAMES, baseline_probabilities, evaluate_baselines
from engine.evaluation.session_metrics import paired_user_bootstrap_difference, summary, user_bootstrap_interval
from engine.models.experts import effective_parameter_count
from engine.models.experts_session import (
    CONTROL, INTERPRETABLE, SessionModelConfig, SessionPredictor, SessionTraining, build_session_model,
    predict_probabilities, train_session_model,
)
from engine.errors import InvalidInputError
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
            split = sessions.split_users(dataset.users, seed=split_seed)
            result = _evaluate(dataset, split, seed, training, interpretable, control, latency_windows, state)
    finally:
        torch.set_num_threads(previous)
    result.pop("_pooled")
    return result


def evaluate_session_cross_validation(dataset: Dataset, *, folds: int = 5, seed: int = 0, split_seed: int = 0,
                                      training: SessionTraining | None = None,
                                      interpretable: SessionModelConfig = INTERPRETABLE,
                                      control: SessionModelConfig = CONTROL, state: TaskState = SILENT) -> dict:
    """The same measures with every user tested once (user folds: engine.data.sessions.user_folds),
    pooled over the folds: about five times the test positions of one split, so a tighter interval."""
    training = training or SessionTraining(seed=seed)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1):
            per_fold = [
                _evaluate(dataset, split, seed, training, interpretable, control, 5,
                          state.sub(k / folds, (k + 1) / folds))
                for k, split in enumerate(sessions.user_folds(dataset.users, seed=split_seed, folds=folds))
            ]
    finally:
        torch.set_num_threads(previous)
    pooled = {key: np.concatenate([fold["_pooled"][key] for fold in per_fold]) for key in per_fold[0]["_pooled"]}
    labels, mask, users = pooled["labels"], pooled["mask"], pooled["users"]

    def measured(guess):
        row = summary(guess, labels, mask)
        row["accuracy_interval"] = user_bootstrap_interval(guess, labels, mask, users, seed=seed)
        return row

    result = {
        "dataset": dataset.name, "folds": folds, "split_seed": split_seed, "training_seed": seed,
        "users_tested": int(len(np.unique(users))),
        "baselines": {name: measured(pooled[f"baseline_{name}"]) for name in BASELINE_NAMES},
        "interpretable": measured(pooled["interpretable"]),
        "control": measured(pooled["control"]),
        "per_fold": [{"interpretable": f["interpretable"]["accuracy"], "control": f["control"]["accuracy"],
                      "best_epochs": [f["interpretable"]["best_epoch"], f["control"]["best_epoch"]],
                      "test_positions": f["split"]["test_positions"]} for f in per_fold],
    }
    shares = pooled["shares"]
    decided = np.bincount(shares[mask].argmax(axis=1), minlength=shares.shape[-1]) / max(int(mask.sum()), 1)
    result["interpretable"]["decided"] = {s.id: round(float(d), 4) for s, d in zip(SUBSETS, decided)}
    result["interpretable"]["max_decided_share"] = float(decided.max())
    result["gap_to_control"] = result["control"]["accuracy"] - result["interpretable"]["accuracy"]
    result["gap_interval"] = paired_user_bootstrap_difference(pooled["control"], pooled["interpretable"], labels, mask,
                                                              users, seed=seed)
    best = max(BASELINE_NAMES, key=lambda name: result["baselines"][name]["accuracy"])
    result["best_baseline"] = best
    result["gain_over_best_baseline_interval"] = paired_user_bootstrap_difference(
        pooled["interpretable"], pooled[f"baseline_{best}"], labels, mask, users, seed=seed)
    return result


def _evaluate(dataset, split, seed, training, interpretable_config, control_config, latency_windows, state) -> dict:
    state.progress(0.0, "Cutting rating sittings")
    sittings = sessions.user_sittings(dataset, seed=split.seed)
    crowd = fit_crowd(dataset, split.train)
    encoder = SessionEncoder(dataset, crowd)
    test_windows = sessions.windows_of(sittings, split.test)
    if not test_windows or not sessions.windows_of(sittings, split.validation):
        raise InvalidInputError(
            f"{dataset.name} has too few sittings of {sessions.MIN_WINDOW} or more ratings for a user-disjoint "
            "session benchmark (its validation or test users have none).")
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
                 "min_window": sessions.MIN_WINDOW, "split_seed": split.seed, "training_seed": seed},
        "split": {"users": {"train": len(split.train), "validation": len(split.validation), "test": len(split.test)},
                  "windows": {"validation": int(len(validation.labels)), "test": int(len(test.labels))},
                  "test_positions": int(test.target_mask.sum())},
        "baselines": evaluate_baselines(test, crowd, bootstrap_seed=seed),
        "notes_baselines": NOTES_BASELINES,
        "training": training.to_dict(),
    }
    predictions = {f"baseline_{name}": baseline_probabilities(name, test, crowd) for name in BASELINE_NAMES}
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
            predictions["shares"] = mixed.shares
            row["attribution"] = attribution_summary(mixed, test.target_mask)
            row["timeline_ms"] = timeline_latency_ms(SessionPredictor(model, encoder), test_windows, latency_windows)
        results[name] = row
    results["gap_to_control"] = results["control"]["accuracy"] - results["interpretable"]["accuracy"]
    results["gap_interval"] = paired_user_bootstrap_difference(
        predictions["control"], predictions["interpretable"], test.labels, test.target_mask, test.users, seed=seed)
    best = max(results["baselines"], key=lambda name: results["baselines"][name]["accuracy"])
    results["best_baseline"] = best
    # chosen on the test users themselves, which favours the baseline: a conservative comparison
    results["gain_over_best_baseline_interval"] = paired_user_bootstrap_difference(
        predictions["interpretable"], predictions[f"baseline_{best}"], test.labels, test.target_mask,
        test.users, seed=seed)
    results["bars"] = check_bars(results)
    results["_pooled"] = dict(predictions, labels=test.labels, mask=test.target_mask, users=test.users)
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
        "aggregates": [{"key": key, "label": label,
                        "mean_share": round(float(sum(shares[:, ids.index(e)].mean() for e in members)), 4),
                        "decided": round(float(sum(decided[ids.index(e)] for e in members)), 4)}
                       for key, label, members in AGGREGATES],
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


DEFAULT_SEEDS = (0, 1, 2)


def session_stem(dataset: str, seed: int | None = None) -> str:
    return f"experts-session-{dataset}" + (f"-seed{seed}" if seed is not None else "")


def run(dataset: str = "ml-100k", data_path: str | None = None, offline: bool = False, cache_dir=None,
        state: TaskState = SILENT, seed: int | None = None, output_dir="reports", max_epochs: int | None = None,
        folds: int | None = None) -> dict:
    """`bench experts --part session`: load the dataset, run one training seed (or seeds 0, 1, 2);
    with `folds`, also a user cross-validation with the first seed."""
    data = load_dataset(dataset, data_path, state=state.sub(0.0, 0.02), offline=offline, cache_dir=cache_dir)
    training = SessionTraining(epochs=min(SessionTraining().epochs, max_epochs)) if max_epochs else None
    return run_session_benchmark(data, output_dir, DEFAULT_SEEDS if seed is None else (seed,), training=training,
                                 state=state.sub(0.02, 1.0), stem=session_stem(data.name, seed), folds=folds)


def run_session_benchmark(dataset: Dataset, output_dir, seeds=DEFAULT_SEEDS, split_seed: int = 0,
                          training: SessionTraining | None = None, interpretable: SessionModelConfig = INTERPRETABLE,
                          control: SessionModelConfig = CONTROL, state: TaskState = SILENT,
                          stem: str | None = None, folds: int | None = None) -> dict:
    """evaluate_session_model for every training seed on one user split; writes
    <output_dir>/<stem>.json and .md (default stem experts-session-<dataset>) and returns the report."""
    runs = []
    parts = len(seeds) + (folds or 0)  # progress: a fold costs about what a run does
    for index, seed in enumerate(seeds):
        settings = training or SessionTraining(seed=seed)
        settings = SessionTraining(**{**settings.to_dict(), "seed": seed})
        runs.append(evaluate_session_model(dataset, seed=seed, split_seed=split_seed, training=settings,
                                           interpretable=interpretable, control=control,
                                           state=state.sub(index / parts, (index + 1) / parts)))
    report = {"dataset": dataset.name, "split_seed": split_seed, "seeds": list(seeds), "runs": runs,
              "mean": _mean_over_runs(runs)}
    if folds:
        settings = SessionTraining(**{**(training or SessionTraining()).to_dict(), "seed": seeds[0]})
        report["cross_validation"] = evaluate_session_cross_validation(
            dataset, folds=folds, seed=seeds[0], split_seed=split_seed, training=settings,
            interpretable=interpretable, control=control, state=state.sub(len(seeds) / parts, 1.0))
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = stem or session_stem(dataset.name)
    (folder / f"{name}.json").write_text(json.dumps(report, indent=2, default=_plain))
    (folder / f"{name}.md").write_text(session_markdown(report))
    return report


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(type(value).__name__)


def _mean_over_runs(runs: list[dict]) -> dict:
    def spread(values):
        return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}

    return {
        "interpretable_accuracy": spread([r["interpretable"]["accuracy"] for r in runs]),
        "control_accuracy": spread([r["control"]["accuracy"] for r in runs]),
        "gap_to_control": spread([r["gap_to_control"] for r in runs]),
        "max_decided_share": spread([r["interpretable"]["attribution"]["max_decided_share"] for r in runs]),
        "timeline_ms_median": spread([r["interpretable"]["timeline_ms"]["median"] for r in runs]),
    }


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def session_markdown(report: dict) -> str:
    runs, mean = report["runs"], report["mean"]
    first = runs[0]
    lines = [
        f"# Session expert model on {report['dataset']}",
        "",
        f"Task: rating sittings (a gap over {first['task']['sitting_gap_s']} s starts a new one), windows of up to "
        f"{first['task']['window']} (at least {first['task']['min_window']}), first half given with its stars, "
        f"{first['task']['label']} guessed for each movie of the second half. User-disjoint split (seed "
        f"{report['split_seed']}): {first['split']['users']['train']} / {first['split']['users']['validation']} / "
        f"{first['split']['users']['test']} users; test: {first['split']['windows']['test']} windows, "
        f"{first['split']['test_positions']} guessed positions. Crowd features and baselines use train users only.",
        "",
        "## Accuracy on the test users (%)",
        "",
        "| model | Acc | 95% user-bootstrap interval | Acc@1 | MAA | notes §3.5 Acc |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, row in first["baselines"].items():
        low, high = row["accuracy_interval"]
        lines.append(f"| baseline: {name} | {_pct(row['accuracy'])} | {_pct(low)}-{_pct(high)} | "
                     f"{_pct(row['accuracy_at_1'])} | {_pct(row['mean_average_accuracy'])} | "
                     f"{_pct(first['notes_baselines'][name])} |")
    for run in runs:
        for name in ("control", "interpretable"):
            row = run[name]
            low, high = row["accuracy_interval"]
            lines.append(f"| {name}, seed {run['task']['training_seed']} | {_pct(row['accuracy'])} | {_pct(low)}-{_pct(high)} | "
                         f"{_pct(row['accuracy_at_1'])} | {_pct(row['mean_average_accuracy'])} | |")
    lines += [
        "",
        f"Over {len(runs)} training seeds: interpretable {_pct(mean['interpretable_accuracy']['mean'])} ± "
        f"{_pct(mean['interpretable_accuracy']['std'])}, control {_pct(mean['control_accuracy']['mean'])} ± "
        f"{_pct(mean['control_accuracy']['std'])}, gap {_pct(mean['gap_to_control']['mean'])} ± "
        f"{_pct(mean['gap_to_control']['std'])} points.",
        "",
        "## Which expert decided (interpretable model, test positions)",
        "",
        "| expert | what it reads | " + " | ".join(f"decided / mean share, seed {r['task']['training_seed']}" for r in runs) + " |",
        "|---|---|" + "---:|" * len(runs),
    ]
    for k, expert in enumerate(first["interpretable"]["attribution"]["experts"]):
        cells = [f"{_pct(r['interpretable']['attribution']['experts'][k]['decided'])} / "
                 f"{r['interpretable']['attribution']['experts'][k]['mean_share']:.3f}" for r in runs]
        lines.append(f"| {expert['id']} {expert['key']} | {expert['label']} | " + " | ".join(cells) + " |")
    lines += ["", "Timeline rows (aggregated experts): decided / mean share, seed "
              f"{first['task']['training_seed']}: " + "; ".join(
                  f"{a['label']} {_pct(a['decided'])} / {a['mean_share']:.3f}"
                  for a in first["interpretable"]["attribution"]["aggregates"]) + ".",
              f"No expert confident (alpha total < 0.05): {_pct(first['interpretable']['attribution']['undecided'])}% of positions."]
    lines += ["", "## Bars (issue 9)", "", "| seed | " + " | ".join(first["bars"]) + " | control - interpretable, 95% | "
              "interpretable - best baseline, 95% | timeline ms (median / max) |",
              "|---|" + "---|" * (len(first["bars"]) + 3)]
    for run in runs:
        low, high = run["gap_interval"]
        gain_low, gain_high = run["gain_over_best_baseline_interval"]
        t = run["interpretable"]["timeline_ms"]
        lines.append(f"| {run['task']['training_seed']} | " + " | ".join("yes" if v else "NO" for v in run["bars"].values())
                     + f" | {_pct(low)} to {_pct(high)} | {_pct(gain_low)} to {_pct(gain_high)} ({run['best_baseline']}) "
                     f"| {t['median']} / {t['max']} |")
    lines += _cross_validation_lines(report.get("cross_validation"))
    lines += ["", "Intervals resample test users (all of a user's windows together), 2,000 draws; the paired ones "
              "draw the same users for both models. The best baseline is chosen on the test users, which favours it."]
    lines += ["", "Timeline latency: encoding one 20-rating window and the mixture at its 10 guessed positions, "
              "one thread, on the machine that ran the benchmark (shared with other jobs)."]
    return "\n".join(lines) + "\n"


def _cross_validation_lines(cv: dict | None) -> list[str]:
    if not cv:
        return []
    lines = ["", f"## {cv['folds']}-fold user cross-validation (training seed {cv['training_seed']}): every user "
             f"tested once, {cv['users_tested']} users, {cv['interpretable']['positions']} positions", "",
             "| model | Acc | 95% user-bootstrap interval | Acc@1 | MAA |", "|---|---:|---|---:|---:|"]
    rows = [(f"baseline: {name}", row) for name, row in cv["baselines"].items()]
    rows += [("control", cv["control"]), ("interpretable", cv["interpretable"])]
    for name, row in rows:
        low, high = row["accuracy_interval"]
        lines.append(f"| {name} | {_pct(row['accuracy'])} | {_pct(low)}-{_pct(high)} | {_pct(row['accuracy_at_1'])} | "
                     f"{_pct(row['mean_average_accuracy'])} |")
    gap_low, gap_high = cv["gap_interval"]
    gain_low, gain_high = cv["gain_over_best_baseline_interval"]
    decided = ", ".join(f"{key} {_pct(value)}" for key, value in cv["interpretable"]["decided"].items())
    folds = "; ".join(f"{_pct(f['interpretable'])} / {_pct(f['control'])}" for f in cv["per_fold"])
    lines += ["", f"Control - interpretable: {_pct(cv['gap_to_control'])} points (95%: {_pct(gap_low)} to "
              f"{_pct(gap_high)}). Interpretable - best baseline ({cv['best_baseline']}): {_pct(gain_low)} to "
              f"{_pct(gain_high)} points. Decided (%): {decided}. Per fold, interpretable / control Acc: {folds}."]
    return lines
