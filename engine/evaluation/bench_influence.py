"""`python -m engine bench influence`: is FIA right, and is it fast? MF and NCF in one run.

Protocol (FIA paper §4.1): for every user one random rating is held out for test (seeded by
--seed), the rest trains MF and NCF. For N random test predictions (also chosen by --seed) and each
model, FIA estimates the influence of every related training rating (the user's own and the other
users' ratings of the movie); the rating with the largest |estimated influence| is removed and the
model retrained from its trained weights; the observed influence is the prediction before minus
after, less the drift of a control retrain with nothing removed. MF is retrained deterministically
(Newton, to max |∇J| <= 1e-6, as trained), so one retrain per point. NCF is retrained as the paper
does, by warm-start minibatch Adam, several times with different seeds and averaged; each retrain is
paired with a control of the same seed (same minibatches), so the optimiser's noise and drift cancel.
Pearson R and Spearman ρ of estimated vs observed over the N points; time per explanation (every
related rating of one prediction) for FIA and for IA (all parameters, conjugate gradients on exact
Hessian-vector products over the whole training set) in the same run; test RMSE next to the global
mean and the user+item-bias baseline on the same split.
"""
from __future__ import annotations

import datetime
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.stats
import threadpoolctl
import torch

from engine.evaluation.report_index import machine_record
from engine.data.registry import load_dataset
from engine.data.types import Dataset
from engine.explain.fia import fia, ia, ia_mf, leave_one_out
from engine.models import mf, ncf
from engine.models.rating_data import RatingIndex, hold_out_one_per_user, rating_data
from engine.models.rating_model import RatingModel, RatingTriples
from engine.progress import SILENT, TaskState

DEFAULT_POINTS = 12  # fits about 30 minutes on ML-1M on a shared 2-core machine (the paper used 100)
BIAS_REGULARISERS = (1.0, 2.0, 5.0, 10.0, 25.0)  # λ_b of the bias baseline, chosen on validation
IA_TOLERANCE = 1e-6  # relative residual of IA's conjugate-gradient solve
MF_RETRAIN_TOLERANCE = 1e-6  # max |∇J| after an MF retrain (Newton), as in training
# NCF retrains: warm-start Adam (cosine-decayed rate), each paired with a control of the same seed
NCF_RETRAIN = {"epochs": 8, "learning_rate": 1e-3, "seeds": 2}


@dataclass
class _Trained:
    name: str
    model: RatingModel
    record: dict
    retrain: Callable[[int], RatingModel]  # training position -> retrained model
    control: Callable[[], RatingModel]  # the same retrain with nothing removed
    ia_solver: Callable  # (user, item, related, max_seconds) -> (values, iterations, relative residual)
    config: dict
    last_retrain: dict  # what the latest retrain reported (iterations, final gradient)


def run(
    dataset: str = "ml-1m",
    data_path: str | None = None,
    offline: bool = False,
    cache_dir: str | Path | None = None,
    state: TaskState = SILENT,
    **options,
) -> dict:
    """Find the dataset, then run the benchmark on it (`run_on` takes the options), writing
    reports/influence-<dataset>.json and .md; returns the report."""
    data = load_dataset(dataset, data_path, state=state.sub(0.0, 0.01), offline=offline, cache_dir=cache_dir)
    return run_on(data, state=state, **options)


def run_on(
    data: Dataset,
    seed: int = 0,
    points: int = DEFAULT_POINTS,
    output_dir: str | Path = "reports",
    ia_points: int = 2,
    ia_seconds: float = 90.0,
    timing_pairs: int = 300,
    mf_config: mf.MFConfig | None = None,
    ncf_config: ncf.NCFConfig | None = None,
    ncf_retrain: dict | None = None,
    command: str = "",
    state: TaskState = SILENT,
) -> dict:
    """The benchmark on a loaded dataset (see `run`)."""
    # one BLAS thread, like the influence worker: FIA's matrices are tiny, and on a shared 2-core
    # machine a second thread only waits for a core (measured: NCF explanations 50x slower)
    with threadpoolctl.threadpool_limits(1):
        return _run_on(data, seed, points, output_dir, ia_points, ia_seconds, timing_pairs, mf_config, ncf_config,
                       ncf_retrain, command, state)


def _run_on(data, seed, points, output_dir, ia_points, ia_seconds, timing_pairs, mf_config, ncf_config,
            ncf_retrain, command, state) -> dict:
    started = time.perf_counter()
    torch.set_num_threads(1)  # tiny tensors on a shared 2-core machine (influence-research.md §7.12)
    load_average = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    ratings = rating_data(data)
    split = hold_out_one_per_user(ratings.ratings, seed=seed)
    train, test = split.train, split.test
    n_users, n_items = ratings.n_users, ratings.n_items
    index = RatingIndex(train, n_users, n_items)

    state.progress(0.01, "Fitting the baselines")
    accuracy = {"global mean": _rmse(np.full(len(test), train.ratings.mean()), test)}
    bias_reg = _tuned_bias_regulariser(train, n_users, n_items, seed)
    accuracy["user+item biases"] = mf.rmse(mf.bias_baseline(train, n_users, n_items, bias_reg), test)

    mf_config = mf_config or mf.default_config(data.name)
    ncf_config = ncf_config or ncf.default_config(data.name)
    models = [
        _train_mf(train, n_users, n_items, mf_config, state.sub(0.02, 0.12)),
        _train_ncf(train, n_users, n_items, ncf_config, dict(NCF_RETRAIN, **(ncf_retrain or {})), state.sub(0.12, 0.35)),
    ]
    for trained in models:
        accuracy[trained.name] = mf.rmse(trained.model, test)

    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(test), size=min(points, len(test)), replace=False)
    timing_rows = rng.choice(len(test), size=min(timing_pairs, len(test)), replace=False)
    positions = _TrainingPositions(train, n_items)

    results = {}
    for number, trained in enumerate(models):
        step = state.sub(0.35 + 0.32 * number, 0.35 + 0.32 * (number + 1))
        results[trained.name] = _evaluate(trained, index, test, chosen, timing_rows, positions,
                                          ia_points, ia_seconds, step)

    report = {
        "dataset": data.name,
        "source": data.source,
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seed": seed,
        "protocol": __doc__.split("\n\n", 1)[1].strip(),
        "machine": machine_record(load_average_at_start=load_average, torch_threads=torch.get_num_threads(),
                                  blas_threads=1),
        "counts": {"users": n_users, "items": n_items, "train": len(train), "test": len(test),
                   "points": len(chosen), "timing_pairs": len(timing_rows)},
        "rmse": {name: round(value, 4) for name, value in accuracy.items()},
        "bias_baseline_regulariser": bias_reg,
        "models": {t.name: {"config": t.config, "training": t.record, **results[t.name]} for t in models},
        "seconds": round(time.perf_counter() - started, 1),
    }
    _write(report, Path(output_dir))
    state.progress(1.0, "Influence benchmark written")
    return report


# -- models --------------------------------------------------------------------------------------

def _train_mf(train, n_users, n_items, config: mf.MFConfig, state: TaskState) -> _Trained:
    model, record = mf.train_mf(train, n_users, n_items, config, state)
    data = mf.TrainingSet(train, n_users, n_items)

    last = {}

    def retrain(position: int) -> RatingModel:
        out, polish = mf.retrain_without(model, data, position, tolerance=MF_RETRAIN_TOLERANCE)
        last.update(newton_steps=polish["newton_steps"], cg_iterations=polish["cg_iterations"],
                    max_gradient=polish["max_gradient"])
        return out

    def control() -> RatingModel:
        out, polish = mf.newton_polish(model, data, MF_RETRAIN_TOLERANCE)
        last.update(newton_steps=polish["newton_steps"], max_gradient=polish["max_gradient"])
        return out

    def solve_ia(user, item, related, max_seconds):
        hvp_seconds = _seconds(lambda: mf.hessian_vector_product(model, data, np.zeros(model.n_parameters)))
        cap = max(1, int(max_seconds / max(hvp_seconds, 1e-6)))
        result = ia_mf(model, data, user, item, related, tolerance=IA_TOLERANCE, max_iterations=cap)
        return result.values, result.iterations, result.residual

    return _Trained("mf", model, dict(record), retrain, control, solve_ia, config.as_dict(), last)


def _train_ncf(train, n_users, n_items, config: ncf.NCFConfig, retrain: dict, state: TaskState) -> _Trained:
    result = ncf.train_ncf(train, n_users, n_items, config, state)
    model = result.model
    full = ncf.FullProblem(model, train)
    damping = 1e-6 * len(train)  # the paper's 1e-6 on the mean loss, in sum form
    seeds = range(1, retrain["seeds"] + 1)
    last = {}

    def run(removed) -> list:
        return [ncf.adam_retrain(model, train, removed, retrain["epochs"], retrain["learning_rate"],
                                 config.batch_size, seed) for seed in seeds]

    controls = {}

    def control() -> RatingModel:
        controls["runs"] = run([])
        return _Average(controls["runs"])

    def retrain_without(position: int) -> RatingModel:
        # paired with the control of the same seed: observed = mean over seeds of (control - removed)
        runs = run([position])
        return _Average(runs)

    def solve_ia(user, item, related, max_seconds):
        hvp_seconds = _seconds(lambda: full.hessian_vector_product(np.zeros(full.size)))
        cap = max(1, int(max_seconds / max(hvp_seconds, 1e-6)))
        out = ia(full.hessian_vector_product, full.prediction_gradient(user, item), full.loss_gradients(related),
                 damping=damping, tolerance=IA_TOLERANCE, max_iterations=cap)
        return out.values, out.iterations, out.residual

    config_record = dict(config.to_dict(), ia_damping=damping, retrain=dict(retrain, method="paired seeded Adam"))
    return _Trained("ncf", model, result.record(), retrain_without, control, solve_ia, config_record, last)


class _Average:
    """The mean prediction of several retrained models (stochastic retraining, averaged as the paper does)."""

    def __init__(self, models):
        self.models = models

    def predict(self, users, items):
        return np.mean([m.predict(users, items) for m in self.models], axis=0)


# -- the measurements ------------------------------------------------------------------------------

class _TrainingPositions:
    """(user row, item row) -> index into the training triples, for removing one rating."""

    def __init__(self, train: RatingTriples, n_items: int):
        self.n_items = n_items
        keys = train.users.astype(np.int64) * n_items + train.items
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def __call__(self, user: int, item: int) -> int:
        key = int(user) * self.n_items + int(item)
        where = int(np.searchsorted(self.sorted, key))
        if where >= len(self.sorted) or self.sorted[where] != key:
            raise KeyError((user, item))
        return int(self.order[where])


def _explain(model: RatingModel, index: RatingIndex, user: int, item: int):
    related = index.related(user, item)
    return fia(model.local_problem(user, item, related)), related


def _evaluate(trained: _Trained, index: RatingIndex, test: RatingTriples, chosen, timing_rows, positions,
              ia_points: int, ia_seconds: float, state: TaskState) -> dict:
    model = trained.model
    state.progress(0.0, f"{trained.name}: timing FIA")
    fia_ms = []
    for row in timing_rows:
        user, item = int(test.users[row]), int(test.items[row])
        begin = time.perf_counter()
        _explain(model, index, user, item)
        fia_ms.append((time.perf_counter() - begin) * 1000)

    state.progress(0.02, f"{trained.name}: control retrain (nothing removed)")
    control_started = time.perf_counter()
    control = trained.control()
    control_seconds = time.perf_counter() - control_started
    control_record = dict(trained.last_retrain)
    points = []
    for number, row in enumerate(chosen):
        state.progress(0.05 + 0.75 * number / len(chosen), f"{trained.name}: retrain {number + 1} of {len(chosen)}")
        user, item = int(test.users[row]), int(test.items[row])
        influences, related = _explain(model, index, user, item)
        top = int(np.argmax(np.abs(influences.values)))
        removed_user, removed_item = int(related.users[top]), int(related.items[top])
        position = positions(removed_user, removed_item)
        begin = time.perf_counter()
        retrained = trained.retrain(position)
        seconds = time.perf_counter() - begin
        corrected = _leverage_corrected(model, user, item, related, top)
        before = float(model.predict([user], [item])[0])
        after = float(retrained.predict([user], [item])[0])
        drift = float(control.predict([user], [item])[0]) - before
        points.append({
            "user": user, "item": item, "prediction": round(before, 5),
            "removed": {"user": removed_user, "item": removed_item, "rating": float(related.ratings[top]),
                        "kind": "own" if removed_user == user else "other"},
            "related": len(related), "estimated": float(influences.values[top]),
            **({} if corrected is None else {"estimated_leverage_corrected": corrected}),
            "observed": before - (after - drift), "control_drift": drift,
            "retrain_seconds": round(seconds, 2), **{f"retrain_{k}": v for k, v in trained.last_retrain.items()},
        })

    ia_rows = []
    for number, row in enumerate(chosen[:ia_points]):
        state.progress(0.8 + 0.2 * number / max(ia_points, 1), f"{trained.name}: IA {number + 1} of {ia_points}")
        user, item = int(test.users[row]), int(test.items[row])
        begin = time.perf_counter()
        influences, related = _explain(model, index, user, item)
        fia_seconds = time.perf_counter() - begin
        begin = time.perf_counter()
        values, iterations, residual = trained.ia_solver(user, item, related, ia_seconds)
        seconds = time.perf_counter() - begin
        top = int(np.argmax(np.abs(influences.values)))
        ia_rows.append({"user": user, "item": item, "related": len(related), "seconds": round(seconds, 3),
                        "fia_ms": round(fia_seconds * 1000, 3), "iterations": iterations, "residual": residual,
                        "converged": residual <= IA_TOLERANCE, "estimated_top": float(values[top]),
                        "fia_top": float(influences.values[top]), "observed_top": points[number]["observed"]})

    estimated = np.array([p["estimated"] for p in points])
    observed = np.array([p["observed"] for p in points])
    corrected = np.array([p.get("estimated_leverage_corrected", np.nan) for p in points])
    leverage = None if np.isnan(corrected).any() or not len(points) else {
        "pearson_r": _pearson(corrected, observed), "spearman_rho": _spearman(corrected, observed),
        "median_estimate_over_observed": float(np.median(corrected / observed))}
    fia_median = statistics.median(fia_ms)
    ia_median = statistics.median(r["seconds"] for r in ia_rows) if ia_rows else None
    return {
        "pearson_r": _pearson(estimated, observed),
        "spearman_rho": _spearman(estimated, observed),
        "sign_agreement": float(np.mean(np.sign(estimated) == np.sign(observed))) if len(points) else None,
        "median_estimate_over_observed": float(np.median(estimated / observed)) if len(points) else None,
        "leverage_corrected": leverage,
        "control": {"seconds": round(control_seconds, 1), **control_record},
        "fia_ms": {"median": round(fia_median, 3), "p95": round(float(np.percentile(fia_ms, 95)), 3),
                   "pairs": len(fia_ms)},
        "ia": {
            "points": len(ia_rows),
            "median_seconds": None if ia_median is None else round(ia_median, 2),
            "all_converged": all(r["converged"] for r in ia_rows),
            "speedup_ia_over_fia": None if ia_median is None else round(ia_median * 1000 / fia_median, 1),
            "pearson_r_ia_vs_observed": _pearson(np.array([r["estimated_top"] for r in ia_rows]),
                                                 np.array([r["observed_top"] for r in ia_rows])),
            "rows": ia_rows,
        },
        "points": points,
    }


def _leverage_corrected(model: RatingModel, user: int, item: int, related: RatingTriples, top: int) -> float | None:
    """MF only: the exact leave-one-out of the local ridge problem (first order / (1 - leverage))."""
    if not hasattr(model, "rating_jacobians"):
        return None
    problem = model.local_problem(user, item, related)
    return float(leave_one_out(problem, model.rating_jacobians(user, item, related))[top])


def _tuned_bias_regulariser(train: RatingTriples, n_users: int, n_items: int, seed: int) -> float:
    """λ_b of the bias baseline by RMSE on a second held-out rating per user (never the test)."""
    inner = hold_out_one_per_user(train, seed=seed + 1)
    scores = {reg: mf.rmse(mf.bias_baseline(inner.train, n_users, n_items, reg), inner.test) for reg in BIAS_REGULARISERS}
    return min(scores, key=scores.get)


def _rmse(predicted: np.ndarray, truth: RatingTriples) -> float:
    return float(np.sqrt(np.mean((predicted - truth.ratings) ** 2)))


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return round(float(scipy.stats.pearsonr(a, b)[0]), 4)


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3:
        return None
    return round(float(scipy.stats.spearmanr(a, b)[0]), 4)


def _seconds(function) -> float:
    begin = time.perf_counter()
    function()
    return time.perf_counter() - begin


# -- reports ------------------------------------------------------------------------------------

def _write(report: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"influence-{report['dataset']}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def markdown(report: dict) -> str:
    counts = report["counts"]
    lines = [
        f"# Influence benchmark on {report['dataset']} (FIA vs retraining, FIA vs IA)",
        "",
        f"Command: `{report['command'] or 'python -m engine bench influence'}`; {report['date']}; seed {report['seed']}; "
        f"{report['seconds']:.0f} s in all.",
        "",
        f"Data: {report['source']}. {counts['users']} users, {counts['items']} items; {counts['train']} training "
        f"ratings, {counts['test']} held out (one per user).",
        "",
        "## Test RMSE (same split)",
        "",
        "| model | RMSE |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {value:.4f} |" for name, value in report["rmse"].items()]
    lines += [
        "",
        f"User+item biases: λ_b = {report['bias_baseline_regulariser']} chosen on a second held-out rating per user.",
        "",
        f"## Estimated vs observed influence ({counts['points']} random test predictions, the top |influence| rating removed)",
        "",
        "| model | Pearson R | Spearman ρ | sign agreement | median estimate / observed | max |control drift| |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, result in report["models"].items():
        drift = max((abs(p["control_drift"]) for p in result["points"]), default=None)
        lines.append(f"| {name} | {_fmt(result['pearson_r'])} | {_fmt(result['spearman_rho'])} | "
                     f"{_fmt(result['sign_agreement'], 2)} | {_fmt(result['median_estimate_over_observed'], 2)} | "
                     f"{_fmt(drift, 6)} |")
        corrected = result.get("leverage_corrected")
        if corrected:
            lines.append(f"| {name}, FIA / (1 - leverage) | {_fmt(corrected['pearson_r'])} | "
                         f"{_fmt(corrected['spearman_rho'])} | | {_fmt(corrected['median_estimate_over_observed'], 2)} | |")
    lines += [
        "",
        "## Time per explanation (every related rating of one prediction)",
        "",
        "| model | FIA median ms | FIA p95 ms | IA median s (points) | IA converged | IA / FIA | Pearson R of IA (its points) |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, result in report["models"].items():
        timing, ia_result = result["fia_ms"], result["ia"]
        lines.append(
            f"| {name} | {timing['median']:.3f} | {timing['p95']:.3f} | {_fmt(ia_result['median_seconds'], 2)} "
            f"({ia_result['points']}) | {'yes' if ia_result['all_converged'] else 'no: a lower bound'} | "
            f"{_fmt(ia_result['speedup_ia_over_fia'], 0)}x | {_fmt(ia_result['pearson_r_ia_vs_observed'])} |")
    lines += [
        "",
        "FIA is timed over random test pairs (gathering R_t, forming the local problem, solving it); IA "
        "on the first points only (each IA solve is a conjugate-gradient run over all parameters; a run "
        "stopped by its time budget before the tolerance makes its time, and the ratio, a lower bound).",
        "",
        "## Training",
        "",
    ]
    for name, result in report["models"].items():
        lines.append(f"- {name}: config {json.dumps(result['config'])}; training {json.dumps(result['training'])}.")
    machine = report["machine"]
    lines += [
        "",
        f"Machine: {machine['platform']}, {machine['cpus']} CPUs (shared; load average {machine['load_average_at_start']} "
        f"at the start), torch threads {machine['torch_threads']}.",
        "",
        " ".join(report["protocol"].split()),
        "",
        "Every point (removed rating, estimate, observed change, retrain iterations) is in the JSON report.",
        "",
    ]
    return "\n".join(lines)
