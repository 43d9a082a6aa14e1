"""`python -m engine bench reconet`: accuracy, cold start, explanation latency and training time in one run.

Protocol (RecoNet paper, section 5): ratings >= 3 are positives; each user's positives are split
60/20/20 at random (seeded); 10% of users with test items are cold-start users whose history is
withheld from training. A model sees each user's training positives (and attributes) as input,
as matrix-factorisation baselines must; recall@k = |top-k ∩ test| / |test| per user, ranking every
item not in the user's train or validation positives, averaged over users with at least one test item.
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from engine.evaluation.report_index import machine_record
from engine.api import Engine
from engine.data.registry import load_dataset
from engine.data.splits import Split, positives_matrix, random_split
from engine.data.vocabulary import Vocabulary
from engine.evaluation.metrics import mean_recall_at_k, recall_at_k
from engine.models.baselines import EASE, ItemKNN, Popularity
from engine.models.builder import ServedModel, default_config
from engine.models.profiles import dataset_user_attributes, profile_matrix
from engine.models.reconet import RecoNetConfig
from engine.models.training import train_reconet, validation_recall
from engine.progress import SILENT, TaskState

COLD_KS = list(range(1, 51))
KNN_NEIGHBOURS = (50, 100, 200, None)


def _reconet_variants(base: RecoNetConfig) -> dict[str, RecoNetConfig]:
    return {
        "RecoNet (no attributes)": replace(base, use_user_attributes=False, use_item_attributes=False),
        "RecoNet (attributes)": replace(base, use_user_attributes=True, use_item_attributes=True),
        "RecoNet + Layer (attributes)": replace(base, hidden=base.dim, use_user_attributes=True, use_item_attributes=True),
    }


class _Scorer:
    """Scores for a block of users given the history the model may see (train, or train+validation)."""

    def __init__(self, name, score_fn, uses_attributes: bool, fit_seconds: float, details: dict):
        self.name, self.score_fn, self.uses_attributes = name, score_fn, uses_attributes
        self.fit_seconds, self.details = fit_seconds, details


def run(
    dataset: str = "ml-1m",
    data_path: str | None = None,
    output_dir: str | Path = "reports",
    offline: bool = False,
    cache_dir: str | Path | None = None,
    max_epochs: int | None = None,
    latency_samples: int = 500,
    state: TaskState = SILENT,
) -> dict:
    torch.manual_seed(0)
    data = load_dataset(dataset, data_path, state=state.sub(0, 0.02), offline=offline, cache_dir=cache_dir)
    vocabulary = Vocabulary(data)
    user_ids, positives = positives_matrix(data, vocabulary)
    split = random_split(user_ids, positives, seed=0)
    attributes = dataset_user_attributes(vocabulary, data, user_ids)
    base = default_config(data.name)
    if max_epochs:
        base = replace(base, max_epochs=max_epochs)
    train, validation = split.fit_train, split.fit_validation
    popularity = Popularity().fit(train)

    scorers: list[_Scorer] = []
    trained_weights = {}
    variants = _reconet_variants(base)
    for index, (name, config) in enumerate(variants.items()):
        step = state.sub(0.02 + 0.25 * index, 0.02 + 0.25 * (index + 1))
        result = train_reconet(
            vocabulary, train, attributes, config,
            validation_recall(vocabulary, train, validation, attributes, config), step,
        )
        trained_weights[name] = (result.weights, config)
        scorers.append(_Scorer(
            name, _reconet_scores(vocabulary, result.weights, config, attributes, popularity),
            config.use_user_attributes or config.use_item_attributes, result.seconds,
            {"best_epoch": result.best_epoch, "validation_recall_at_50": [round(r, 4) for r in result.validation_recall],
             "config": config.to_dict()},
        ))

    state.progress(0.78, "Fitting baselines")
    started = time.perf_counter()
    scorers.append(_Scorer("Popularity", lambda h, rows: popularity.score(h), False, time.perf_counter() - started, {}))
    started = time.perf_counter()
    knn, knn_recall = _tuned_knn(train, validation)
    scorers.append(_Scorer("ItemKNN (cosine)", _with_fallback(knn, popularity), False, time.perf_counter() - started,
                           {"neighbours": knn.neighbours, "validation_recall_at_50": knn_recall}))
    started = time.perf_counter()
    ease = EASE.tuned(train, train, validation)
    scorers.append(_Scorer("EASE", _with_fallback(ease, popularity), False, time.perf_counter() - started,
                           {"l2": ease.l2, "validation_recall_at_50": {str(k): round(v, 4) for k, v in ease.validation_recall.items()}}))

    state.progress(0.85, "Evaluating")
    results = {s.name: _evaluate(s, split, vocabulary) for s in scorers}
    for s in scorers:
        results[s.name].update(fit_seconds=round(s.fit_seconds, 2), **s.details)

    state.progress(0.92, "Timing explanations")
    best_name = "RecoNet (attributes)"
    weights, config = trained_weights[best_name]
    latency = _explanation_latency(data, vocabulary, user_ids, positives, attributes, weights, config, latency_samples)

    report = {
        "dataset": data.name,
        "source": data.source,
        "protocol": __doc__.split("\n\n", 1)[1].strip(),
        "counts": {"users": int(positives.shape[0]), "items": int(positives.shape[1]), "positives": int(positives.nnz),
                   "train": int(split.train.nnz), "validation": int(split.validation.nnz), "test": int(split.test.nnz),
                   "cold_users": int(len(split.cold_users))},
        "machine": machine_record(torch_threads=torch.get_num_threads()),
        "models": results,
        "explanation_latency_ms": {"model": best_name, **latency},
    }
    _write(report, Path(output_dir))
    state.progress(1.0, "Benchmark written")
    return report


def _reconet_scores(vocabulary: Vocabulary, weights, config: RecoNetConfig, attributes, popularity: Popularity):
    def scores(history: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        user_attrs = attributes[rows] if config.use_user_attributes else None
        profiles = profile_matrix(vocabulary, history, user_attrs, config.use_item_attributes)
        result = weights.logits_batch(profiles)
        empty = np.diff(profiles.indptr) == 0  # an empty profile gets the most popular movies, as in the app
        if empty.any():
            result[empty] = popularity.score(history[empty])
        return result

    return scores


def _with_fallback(model, popularity: Popularity):
    """Item-item models cannot rank for a user with no history: they fall back to popularity."""

    def scores(history: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        result = model.score(history)
        empty = np.diff(history.indptr) == 0
        if empty.any():
            result[empty] = popularity.score(history[empty])
        return result

    return scores


def _tuned_knn(train: sp.csr_matrix, validation: sp.csr_matrix):
    best, best_recall, recalls = None, -1.0, {}
    for neighbours in KNN_NEIGHBOURS:
        model = ItemKNN(neighbours).fit(train)
        recall = mean_recall_at_k(model.score(train), train, validation, 50)
        recalls[str(neighbours or "all")] = round(float(recall), 4)
        if recall > best_recall:
            best, best_recall = model, recall
    return best, recalls


def _evaluate(scorer: _Scorer, split: Split, vocabulary: Vocabulary) -> dict:
    has_test = np.diff(split.test.indptr) > 0
    known = (split.train + split.validation).tocsr()
    known.data[:] = 1.0
    warm = np.flatnonzero(has_test & split.warm_mask)
    cold = split.cold_users
    empty = sp.csr_matrix((len(cold), known.shape[1]), dtype=np.float32)

    warm_scores = scorer.score_fn(split.train[warm], warm)
    result = {"recall_at_50": round(float(mean_recall_at_k(warm_scores, known[warm], split.test[warm], 50)), 4),
              "users": int(len(warm))}
    if len(cold):
        no_history = recall_at_k(scorer.score_fn(empty, cold), known[cold], split.test[cold], COLD_KS).mean(axis=0)
        new_user = recall_at_k(scorer.score_fn(split.train[cold], cold), known[cold], split.test[cold], COLD_KS).mean(axis=0)
        result["cold_start_recall_at_k"] = [round(float(v), 4) for v in no_history]
        result["new_user_recall_at_k"] = [round(float(v), 4) for v in new_user]
        result["cold_users"] = int(len(cold))
    return result


def _explanation_latency(data, vocabulary, user_ids, positives, attributes, weights, config, samples: int) -> dict:
    """Times the engine's own recommend+explain path, the one the app and the CLI call."""
    served = ServedModel(weights, config, {}, trained_now=False)
    engine = Engine(data, served, vocabulary, user_ids, positives, attributes)
    rng = np.random.default_rng(1)
    chosen = rng.choice(np.asarray(user_ids), size=min(samples, len(user_ids)), replace=False)
    profiles = [engine.user_profile(int(u)) for u in chosen]
    engine.recommend(profiles[0], 50, explain=True)  # warm caches once
    one, fifty = [], []
    for profile in profiles:
        started = time.perf_counter()
        engine.recommend(profile, 1, explain=True)
        one.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        engine.recommend(profile, 50, explain=True)
        fifty.append((time.perf_counter() - started) * 1000)
    sizes = [len(p.movies) for p in profiles]
    return {
        "profiles": len(profiles),
        "median_profile_movies": statistics.median(sizes),
        "one_explanation": _summary(one),
        "top_50_with_explanations": _summary(fifty),
    }


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 3), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3)}


def _write(report: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"reconet-{report['dataset']}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        f"# RecoNet benchmark on {report['dataset']}",
        "",
        f"Data: {report['source']}. Users {report['counts']['users']}, items {report['counts']['items']}, "
        f"positives {report['counts']['positives']} (train {report['counts']['train']}, validation "
        f"{report['counts']['validation']}, test {report['counts']['test']}); cold-start users {report['counts']['cold_users']}.",
        "",
        "| model | recall@50 | cold start recall@10 / @50 (no history) | new user recall@10 / @50 (history, not trained on) | fit seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in report["models"].items():
        cold = r.get("cold_start_recall_at_k") or [float("nan")] * 50
        new = r.get("new_user_recall_at_k") or [float("nan")] * 50
        lines.append(f"| {name} | {r['recall_at_50']:.4f} | {cold[9]:.4f} / {cold[49]:.4f} | {new[9]:.4f} / {new[49]:.4f} | {r['fit_seconds']:.1f} |")
    latency = report["explanation_latency_ms"]
    lines += [
        "",
        f"Explanation latency ({latency['model']}, {latency['profiles']} dataset users, median profile "
        f"{latency['median_profile_movies']} movies): one recommendation with full LRP median "
        f"{latency['one_explanation']['median']} ms, p95 {latency['one_explanation']['p95']} ms; "
        f"top-50 with explanations median {latency['top_50_with_explanations']['median']} ms, "
        f"p95 {latency['top_50_with_explanations']['p95']} ms.",
        "",
        f"Machine: {report['machine']['platform']}, torch threads {report['machine']['torch_threads']}.",
        "",
        "Cold-start recall@k for every k = 1..50 is in the JSON report.",
        "",
    ]
    return "\n".join(lines)
