"""`python -m engine bench fidelity`: are the relevance lens's reasons the ones the model relies on?

Protocol (RecoNet paper, sections 5.4 and 5.5): a seeded sample of dataset users plus ad-hoc
profiles of random movies (with a random dataset user's attributes); for each profile's top
recommendation, remove the top k features by LRP relevance (k = 1..50, at most the profile's
feature count) and record the change of the target logit and the rank the movie falls to; the same
for k random features (many seeded draws) and for the k features LIME ranks highest (LIME's default
budget). Mean change with its 95% interval per k; "top 1" vs "random 1" by a Mann-Whitney U test.
LIME (captum, RecoNet as the black box over the feature mask) runs at LIME's default budget and at
one ten times smaller; agreement with LRP is the overlap of the top 5 and Spearman's rank
correlation over LRP's top 20; LRP and LIME are timed per explanation on the same explanations in
the same run, LRP as the engine serves it (Engine.explain).
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import threadpoolctl
import torch

from engine.evaluation.report_index import machine_record
from engine.api import Engine
from engine.evaluation import fidelity
from engine.evaluation.lime_baseline import LIME_DEFAULT_SAMPLES, explain_with_lime, top_overlap, top_spearman
from engine.profile import Profile
from engine.progress import SILENT, TaskState

DEFAULT_USERS = 50
DEFAULT_DRAWS = 30  # random removal orders per profile
LRP_REPEATS = 5  # timed calls per explanation (the median is kept): one call is a fraction of a ms
ADHOC_SIZES = (5, 40)  # movies in an ad-hoc profile, drawn uniformly


def run(dataset: str = "ml-100k", data_path=None, offline: bool = False, cache_dir=None,
        state: TaskState = SILENT, **options) -> dict:
    engine = Engine.load(dataset, data_path, offline=offline, cache_dir=cache_dir, state=state.sub(0.0, 0.05))
    return run_on(engine, state=state.sub(0.05, 1.0), **options)


def run_on(engine: Engine, seed: int = 0, users: int = DEFAULT_USERS, adhoc: int | None = None,
           draws: int = DEFAULT_DRAWS, lime_samples: int = LIME_DEFAULT_SAMPLES, max_k: int = fidelity.MAX_K,
           output_dir: str | Path = "reports", command: str = "", state: TaskState = SILENT) -> dict:
    """The benchmark on a loaded engine; writes reports/fidelity-<dataset>[-seedS].json, .md and figures."""
    with threadpoolctl.threadpool_limits(1):  # serving's own setting: tiny products, shared cores
        torch.set_num_threads(1)
        return _run_on(engine, seed, users, users // 2 if adhoc is None else adhoc, draws, lime_samples, max_k,
                       Path(output_dir), command, state)


def _run_on(engine, seed, users, adhoc, draws, lime_samples, max_k, output_dir, command, state) -> dict:
    started = time.perf_counter()
    load_average = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    rng = np.random.default_rng(seed)
    profiles = _profiles(engine, rng, users, adhoc)
    explainer = engine._relevance  # the served model's row space; the engine keeps one per dataset
    weights = explainer._weights
    small_samples = max(lime_samples // 10, 1)
    results, per_instance = [], []
    for number, (label, profile) in enumerate(profiles):
        state.progress(number / len(profiles), f"Profile {number + 1} of {len(profiles)}")
        instance = _instance(engine, explainer, label, profile)
        if instance is None:
            continue
        movie_id = int(explainer._vocabulary.item_ids[instance.target])
        lrp_ms = _lrp_ms(engine, profile, movie_id)
        lrp_cold_ms = _lrp_ms(engine, profile, movie_id, forget=explainer.forget_scored)
        lime = explain_with_lime(weights, instance.rows, instance.target, lime_samples, seed * 100003 + number)
        lime_small = explain_with_lime(weights, instance.rows, instance.target, small_samples, seed * 100003 + number)
        result = fidelity.evaluate(weights, instance, rng, draws, max_k, others={"lime": lime.coefficients})
        results.append(result)
        relevance = result.relevance
        per_instance.append({
            "profile": label, "movie": movie_id, "title": engine.movie(movie_id).label,
            "features": len(instance.rows), "logit": round(result.logit, 5), "lrp_ms": round(lrp_ms, 4),
            "lrp_cold_ms": round(lrp_cold_ms, 4),
            "lime": {str(s.samples): {"seconds": round(s.seconds, 4), "top5_overlap": top_overlap(relevance, s.coefficients),
                                      "spearman_top20": _finite(top_spearman(relevance, s.coefficients))}
                     for s in (lime, lime_small)},
            "top1_delta": float(result.lrp.deltas[0]), "random1_delta": float(result.random[0].deltas[0]) if draws else None,
            "rank_after_top": result.lrp.ranks[: min(10, len(result.lrp.ranks))].tolist(),
        })
    report = _report(engine, results, per_instance, seed, users, adhoc, draws, lime_samples, small_samples, max_k,
                     command, load_average, time.perf_counter() - started)
    _write(report, output_dir)
    state.progress(1.0, "Fidelity benchmark written")
    return report


def _profiles(engine: Engine, rng: np.random.Generator, users: int, adhoc: int) -> list[tuple[str, Profile]]:
    ids = engine.user_ids()
    chosen = rng.choice(len(ids), size=min(users, len(ids)), replace=False)
    profiles = [(f"user {ids[i]}", engine.user_profile(ids[i])) for i in chosen]
    movies = [m.id for m in engine.movies()]
    for number in range(adhoc):
        size = int(rng.integers(ADHOC_SIZES[0], ADHOC_SIZES[1] + 1))
        picked = rng.choice(len(movies), size=min(size, len(movies) - 1), replace=False)
        donor = engine.user_profile(ids[int(rng.integers(len(ids)))])
        profile = engine.make_profile([movies[i] for i in picked], donor.gender, donor.age, donor.occupation)
        profiles.append((f"ad-hoc {number + 1}", profile))
    return profiles


def _instance(engine, explainer, label: str, profile: Profile) -> fidelity.Instance | None:
    rows, held = explainer.rows(profile)
    if len(rows) == 0:
        return None  # an empty profile is explained by popularity, not by features
    top = engine.recommend(profile, 1)[0].movie.id
    return fidelity.Instance(label, rows, held, explainer._vocabulary.item_index[int(top)])


def _lrp_ms(engine: Engine, profile: Profile, movie_id: int, forget=None) -> float:
    """Median time of Engine.explain. Warm (forget=None): the profile was just scored to recommend, as in
    the app's "why this movie?". Cold: `forget` drops the kept scores first, so the forward pass counts."""
    times = []
    for _ in range(LRP_REPEATS):
        if forget is not None:
            forget()
        begin = time.perf_counter()
        engine.explain(profile, movie_id)
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _summary(values) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"mean": None, "median": None, "n": 0}
    return {"mean": float(np.mean(values)), "median": float(np.median(values)), "n": len(values)}


def _report(engine, results, per_instance, seed, users, adhoc, draws, lime_samples, small_samples, max_k, command,
            load_average, seconds) -> dict:
    curves = fidelity.curves(results, max_k)
    test = fidelity.top1_vs_random1(results) if draws else None
    lrp_ms = statistics.median(p["lrp_ms"] for p in per_instance)
    lrp_cold_ms = statistics.median(p["lrp_cold_ms"] for p in per_instance)
    lime = {}
    for samples in (lime_samples, small_samples):
        rows = [p["lime"][str(samples)] for p in per_instance]
        median_s = statistics.median(r["seconds"] for r in rows)
        lime[str(samples)] = {
            "samples": samples,
            "median_seconds": median_s,
            "mean_seconds": float(np.mean([r["seconds"] for r in rows])),
            "speed_ratio_lime_over_lrp": median_s * 1000 / lrp_ms,
            "speed_ratio_lime_over_lrp_cold": median_s * 1000 / lrp_cold_ms,
            "top5_overlap": _summary(r["top5_overlap"] for r in rows),
            "spearman_top20": _summary(r["spearman_top20"] for r in rows),
        }
    by_k = {row["k"]: row for row in curves}
    separated = [row["k"] for row in curves if row["lrp"]["high"] < row["random"]["low"]]
    lrp_below_lime = all(row["lrp"]["mean"] <= row["lime"]["mean"] for row in curves if row["k"] >= 5)
    machine = machine_record(python=platform.python_version(), load_average_at_start=load_average,
                             torch_threads=torch.get_num_threads(), blas_threads=1)
    return {
        "dataset": engine.dataset.name,
        "source": engine.dataset.source,
        "model": engine.info.variant,
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seed": seed,
        "protocol": " ".join(__doc__.split("\n\n", 1)[1].split()),
        "machine": machine,
        "counts": {"profiles": len(results), "dataset_users": users, "adhoc_profiles": adhoc, "random_draws": draws,
                   "max_k": max_k, "median_features": float(np.median([len(r.instance.rows) for r in results]))},
        "lime_settings": {"library": "captum 0.9.0 Lime", "default_budget": lime_samples, "small_budget": small_samples,
                          "why": "LIME's own default num_samples is 5000 (captum's Lime.attribute defaults to 25); "
                                 "sampling, kernel and surrogate as LIME's text explainer (see lime_baseline.py)"},
        "removal": curves,
        "headline": {str(k): {"lrp": by_k[k]["lrp"]["mean"], "random": by_k[k]["random"]["mean"],
                              "lime": by_k[k]["lime"]["mean"], "rank_lrp": by_k[k]["rank_lrp"],
                              "rank_random": by_k[k]["rank_random"]} for k in (1, 5, 10, 20, 50) if k in by_k},
        "top1_vs_random1": test,
        "lrp_ms_median": lrp_ms,
        "lrp_cold_ms_median": lrp_cold_ms,
        "lime": lime,
        "checks": {
            "intervals_separated_at_every_k": len(separated) == len(curves),
            "first_k_not_separated": next((row["k"] for row in curves if row["k"] not in separated), None),
            "mann_whitney_p_below_1e-4": bool(test and test["p_two_sided"] < 1e-4),
            "lrp_at_or_below_lime_for_k_from_5": lrp_below_lime,
            "lrp_10000x_faster_than_lime": lime[str(lime_samples)]["speed_ratio_lime_over_lrp"] >= 10_000,
            "lrp_10000x_faster_than_lime_cold": lime[str(lime_samples)]["speed_ratio_lime_over_lrp_cold"] >= 10_000,
        },
        "instances": per_instance,
        "seconds": round(seconds, 1),
    }


# -- files ----------------------------------------------------------------------------------------

def stem(dataset: str, seed: int) -> str:
    return f"fidelity-{dataset}" + ("" if seed == 0 else f"-seed{seed}")


def rewrite(json_path: str | Path) -> None:
    """Redraw a saved report's figures and Markdown from its JSON (after a change of presentation)."""
    path = Path(json_path)
    _write(json.loads(path.read_text()), path.parent)


def _write(report: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = stem(report["dataset"], report["seed"])
    report["figures"] = _figures(report, folder, name)
    (folder / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (folder / f"{name}.md").write_text(markdown(report))


def _figures(report: dict, folder: Path, name: str) -> dict:
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    figures = {}
    curves = report["removal"]
    ks = [row["k"] for row in curves]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    # LRP last and solid, LIME dashed: on RecoNet the two curves nearly coincide
    for key, label, colour, style in (("random", "random k", "tab:gray", "-"), ("lime", "LIME top k", "tab:blue", "--"),
                                      ("lrp", "LRP top k", "tab:red", "-")):
        mean = [row[key]["mean"] for row in curves]
        ax.plot(ks, mean, style, label=label, color=colour, linewidth=1.2 if key == "lime" else 1.8)
        ax.fill_between(ks, [row[key]["low"] for row in curves], [row[key]["high"] for row in curves],
                        color=colour, alpha=0.2)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("features removed (k); each k averages the profiles with at least k features")
    ax.set_ylabel("Δ logit of the top recommendation")
    ax.set_title(f"{report['dataset']}: removing features (mean, 95% interval; {report['counts']['profiles']} profiles)")
    ax.legend()
    figures["removal"] = _save(fig, folder, f"{name}-removal.png")

    test = report["top1_vs_random1"]
    if test:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        values = test["top1"] + test["random1_all_draws"]
        bins = np.linspace(min(values), max(values), 40)
        ax.hist(test["random1_all_draws"], bins=bins, density=True, alpha=0.6, color="tab:gray",
                label="random 1 (all draws)")
        ax.hist(test["top1"], bins=bins, density=True, alpha=0.6, color="tab:red", label="top 1 (LRP)")
        ax.set_xlabel("Δ logit after removing one feature")
        ax.set_ylabel("density")
        ax.set_title(f"top 1 vs random 1: Mann-Whitney p = {test['p_two_sided']:.2g}")
        ax.legend()
        figures["top1_vs_random1"] = _save(fig, folder, f"{name}-top1-random1.png")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    budgets = [str(report["lime_settings"]["default_budget"]), str(report["lime_settings"]["small_budget"])]
    overlaps = [[p["lime"][b]["top5_overlap"] for p in report["instances"]] for b in budgets]
    rhos = [[p["lime"][b]["spearman_top20"] for p in report["instances"] if p["lime"][b]["spearman_top20"] is not None]
            for b in budgets]
    labels = [f"LIME, {b} samples" for b in budgets]
    left.hist(overlaps, bins=np.linspace(-0.1, 1.1, 7), label=labels, color=["tab:blue", "tab:orange"])
    left.set_xlabel("top-5 overlap, LRP vs LIME")
    left.set_ylabel("profiles")
    left.legend()
    right.hist(rhos, bins=np.linspace(-1, 1, 41), label=labels, color=["tab:blue", "tab:orange"])
    right.set_xlabel("Spearman ρ over LRP's top 20")
    fig.suptitle("Agreement of LRP and LIME on the same explanations")
    figures["agreement"] = _save(fig, folder, f"{name}-agreement.png")
    return figures


def _save(fig, folder: Path, filename: str) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(folder / filename, dpi=110)
    plt.close(fig)
    return filename


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def markdown(report: dict) -> str:
    counts, test = report["counts"], report["top1_vs_random1"]
    lines = [
        f"# Fidelity of the relevance lens on {report['dataset']} (perturbation test, LIME baseline)",
        "",
        f"Command: `{report['command'] or 'python -m engine bench fidelity'}`; {report['date']}; seed {report['seed']}; "
        f"{report['seconds']:.0f} s in all. Model: {report['model']}.",
        "",
        f"{counts['profiles']} profiles ({counts['dataset_users']} dataset users, {counts['adhoc_profiles']} ad-hoc), "
        f"median {counts['median_features']:.0f} features each; {counts['random_draws']} random draws per profile.",
        "",
        "## Δ logit of the top recommendation after removing k features (mean [95% interval])",
        "",
        "Each k averages the profiles with at least k features (last column), so the tail of the curve is over "
        "fewer, larger profiles. Rank: where the recommended movie falls among the movies the profile does not hold.",
        "",
        "| k | LRP top k | random k | LIME top k | median rank after (LRP / random / LIME) | profiles |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    for row in report["removal"]:
        if row["k"] in (1, 2, 3, 5, 10, 15, 20, 30, 40, 50):
            cells = [f"{row[key]['mean']:+.3f} [{row[key]['low']:+.3f}, {row[key]['high']:+.3f}]"
                     for key in ("lrp", "random", "lime")]
            lines.append(f"| {row['k']} | {' | '.join(cells)} | {row['rank_lrp']:.0f} / {row['rank_random']:.0f} / "
                         f"{row['rank_lime']:.0f} | {row['lrp']['n']} |")
    if test:
        lines += ["", f"Top 1 vs random 1 (one value per profile): Mann-Whitney U = {test['u']:.0f}, "
                      f"p = {test['p_two_sided']:.3g} (two-sided), {test['p_less']:.3g} (top 1 lower); medians "
                      f"{test['median_first']:+.3f} vs {test['median_second']:+.3f}."]
    lines += ["", "## LIME vs LRP (same explanations, same run)", "",
              "| LIME samples | median s per explanation | LIME / LRP time (warm; cold) | top-5 overlap (mean) | Spearman ρ top 20 (mean, median) |",
              "|---:|---:|---:|---:|---|"]
    for entry in report["lime"].values():
        rho = entry["spearman_top20"]
        lines.append(f"| {entry['samples']} | {entry['median_seconds']:.3f} | {entry['speed_ratio_lime_over_lrp']:,.0f}x; {entry['speed_ratio_lime_over_lrp_cold']:,.0f}x | "
                     f"{_fmt(entry['top5_overlap']['mean'], 2)} | {_fmt(rho['mean'])}, {_fmt(rho['median'])} |")
    lines += ["", f"LRP per explanation (Engine.explain, median): {report['lrp_ms_median']:.3f} ms warm (the profile "
                  f"already scored to recommend, as in the app), {report['lrp_cold_ms_median']:.3f} ms cold (its "
                  "forward pass included).",
              f"LIME: {report['lime_settings']['library']}; {report['lime_settings']['why']}.", "",
              "## Checks (issue 11)", ""]
    lines += [f"- {name}: {value}" for name, value in report["checks"].items()]
    lines += ["", "## Figures", ""]
    lines += [f"![{key}]({filename})" for key, filename in report.get("figures", {}).items()]
    machine = report["machine"]
    lines += ["", f"Machine: {machine['platform']}, {machine['cpus']} CPUs (shared; load average "
                  f"{machine['load_average_at_start']} at the start), one BLAS and torch thread.", "",
              report["protocol"], "", "Every profile's figures are in the JSON report.", ""]
    return "\n".join(lines)
