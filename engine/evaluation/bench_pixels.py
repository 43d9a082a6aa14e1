"""`python -m engine bench pixels`: does the pixel lens's relation model decide well, and do its LRP
heatmaps point at what decides (issue 10 item 5; protocol of specs/pixels.md sections 3 and 5)?

Product catalogue demo: Fashion-MNIST test images with planted brand marks; the relations are made
by rule, not purchases. Every pair is drawn from the test images only (the model never trained on
them); --seed changes the pairs, the flipping noise and the random maps, not the model. The counts
below are the full run's; the report's "sizes" say what ran.
1. Relation accuracy and AUC per shopper on 10,000 held-out pairs each.
2. Ground truth on the brand shopper (the answer is the two planted 5x5 marks, 50 of 1568 pixels):
   why not = the first 200 "other mark, same class" pairs decided unrelated, the positive part of
   the evidence against (net view, i.e. the relevance of the distance); why related = the first 200
   related pairs decided related, the positive part of the shared view. Mass accuracy and rank
   accuracy, LRP against the paper's epsilon rule everywhere, gradient x input, gradient magnitude,
   occlusion (4x4, stride 2) and random maps; the baselines explain the logit, oriented the same way.
3. Personalisation: the same pairs explained for the style shopper; LRP's mark mass should fall.
4. Pixel flipping per shopper: the first 200 related pairs decided related; the candidate image's
   2x2 regions replaced by seeded U(0,1) noise (the same for every method) most- and
   least-relevant-first; AOPC and ABPC (most minus least) after 10 and 25 regions, and the share
   still decided related. The random order is the mean of 10 seeded draws per pair. The app's model is
   trained with such noise regions (random erasing with random values, on about half the training
   images), so the noise is not off the training distribution and a flip measures removed evidence,
   not the damage any unseen noise does (ROAR/ROAD's point); without it the style shopper's LRP figure
   was mostly that damage and depended on the training seed (mean ABPC@25 0.26 over seeds 0-3).
5. Conservation (largest error of every LRP explanation made here, end to end and per layer),
   heatmap latency (one pair, both views, one torch thread, median of 100 pairs), training time.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import scipy.stats
import threadpoolctl
import torch

from engine.evaluation.report_index import machine_record
from engine.data.product_catalogue import PAIR_KINDS, SHOPPERS, TEST_PAIRS_PER_SHOPPER, ProductCatalogue, sample_pairs
from engine.evaluation import pixel_flipping as flipping
from engine.evaluation import pixel_ground_truth as truth
from engine.evaluation.pixel_baselines import gradient, gradient_times_input, occlusion, random_maps
from engine.explain.pixel_lrp import COMPOSITE, PAPER_EPSILON, PixelRelevance, explain_pairs
from engine.models.relation_cnn import APP_CONFIG, RelationCNN, image_tensor, relation_logits
from engine.progress import SILENT, TaskState

DATASET = "fashion-mnist"
FLIP_AT = (10, 25)  # AOPC / ABPC after this many regions
LAYERS = ("head", "fc2", "fc1", "pool2", "conv2", "pool1", "conv1")


@dataclass(frozen=True)
class BenchSizes:
    test_pairs: int = TEST_PAIRS_PER_SHOPPER  # per shopper, for accuracy and AUC
    explained_pairs: int = 200  # per ground-truth question
    flip_pairs: int = 200  # per shopper
    flip_regions: int = 25
    random_draws: int = 10  # random orders per flipped pair, averaged
    latency_pairs: int = 100


FULL = BenchSizes()

# Issue 10's "Done when" bars.
BARS = {
    "brand_accuracy": 0.98, "brand_auc": 0.99, "style_accuracy": 0.85, "style_auc": 0.93,
    "conservation": 1e-4, "latency_ms": 30.0, "mark_mass": 0.45, "rank_accuracy": 0.65,
    "personalisation": 2.5, "brand_aopc_over_random": 5.0, "style_abpc": 0.3, "style_abpc_over_gxi": 1.5,
    "random_abpc": 0.1, "training_seconds": 20 * 60,
}

# Method name -> how the report names it.
METHODS = {
    "lrp": "LRP (composite)",
    "lrp_net": "LRP net view",
    "lrp_shared": "LRP shared view",
    "lrp_paper_epsilon": "LRP epsilon everywhere (paper eq. 4)",
    "gradient_x_input": "gradient x input",
    "gradient": "gradient magnitude (sensitivity)",
    "occlusion": "occlusion 4x4",
    "random": "random",
}
UNSIGNED = {"gradient"}  # no side "against": the same map answers why and why not


def run(data_path=None, offline: bool = False, cache_dir=None, state: TaskState = SILENT,
        model_seeds: tuple[int, ...] = (), **options) -> dict:
    """Obtain the app's relation model (the cache, else trained now) and run the benchmark on it,
    timing heatmaps through the explainer the app serves them with. `model_seeds`: other training
    seeds of the same model (each cached, else trained now: ~11 min each) whose relation accuracy and
    style-shopper flipping are reported beside the app model's, since that figure depends on the seed."""
    from engine.data.registry import default_cache_dir
    from engine.explain.pixel_explainer import PixelExplainer
    from engine.models.pixel_model import obtain_pixel_model

    if options.get("seed") is None:  # the command line's default
        options["seed"] = 0
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    extra = [s for s in dict.fromkeys(model_seeds) if s != APP_CONFIG.seed]
    loading = 0.5 / (1 + len(extra))
    model = obtain_pixel_model(cache, data_path=data_path, offline=offline, state=state.sub(0.0, loading))
    others = {}
    for number, model_seed in enumerate(extra, start=1):
        other = obtain_pixel_model(cache, config=replace(APP_CONFIG, seed=model_seed), catalogues=model.catalogues,
                                   state=state.sub(loading * number, loading * (number + 1)))
        others[model_seed] = other.module
    explainer = PixelExplainer(cache_dir=cache, offline=True, catalogues=model.catalogues)
    explainer.prepare()  # the same cache entry: loads what was just obtained
    return run_on(model.module, model.catalogues[1], model_facts(model), explainer=explainer,
                  state=state.sub(0.5, 1.0), other_models=others, **options)


def model_facts(model) -> dict:
    """What the report says about the model, from a PixelModel (its cache manifest)."""
    manifest = model.cached.manifest
    return {"config": manifest.get("config"), "trained_now": model.trained_now, "training": manifest.get("training", {}),
            "sampling": manifest.get("sampling"), "cache_note": model.note}


def run_on(module: RelationCNN, test: ProductCatalogue, facts: dict, seed: int = 0, sizes: BenchSizes = FULL,
           output_dir: str | Path = "reports", command: str = "", explainer=None, state: TaskState = SILENT,
           other_models: dict[int, RelationCNN] | None = None) -> dict:
    """The benchmark on a model and the test catalogue; writes reports/pixels-fashion-mnist[-seedS].json, .md, .png.
    `explainer` (a prepared PixelExplainer of the same model): heatmaps are timed as it serves them.
    `other_models` (training seed -> the same model trained with that seed): their relation accuracy and
    style flipping on the same pairs and noise, in the report's "model_seeds"."""
    threads = torch.get_num_threads()
    with threadpoolctl.threadpool_limits(1):  # the lens explains on one thread (notes: 2 were slower on 2 cores)
        torch.set_num_threads(1)
        try:
            report = _run_on(module.eval(), test, facts, seed, sizes, command, explainer, state)
            if other_models:
                report["model_seeds"] = _model_seeds(report, {s: m.eval() for s, m in other_models.items()},
                                                     test, seed, sizes, facts)
        finally:
            torch.set_num_threads(threads)
    _write(report, Path(output_dir))
    state.progress(1.0, "Pixel benchmark written")
    return report


def _run_on(module, test, facts, seed, sizes, command, explainer, state) -> dict:
    started = time.perf_counter()
    load_average = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    ledger = _Conservation()
    state.progress(0.0, "Relation accuracy on held-out pairs")
    pairs, logits, relation = {}, {}, {}
    for shopper in SHOPPERS:
        pairs[shopper] = sample_pairs(test, shopper, sizes.test_pairs, seed=seed)
        logits[shopper] = _logits(module, test, pairs[shopper].query, pairs[shopper].candidate, SHOPPERS.index(shopper))
        relation[shopper] = _accuracy(logits[shopper], pairs[shopper].related)
    brand, brand_logits = pairs["brand"], logits["brand"]
    hard = PAIR_KINDS.index("other mark, same class")
    why_not = np.flatnonzero((brand.kind == hard) & (brand_logits < 0))[: sizes.explained_pairs]
    related = np.flatnonzero(brand.related & (brand_logits > 0))[: sizes.explained_pairs]

    state.progress(0.1, "Ground truth: why not")
    gt_why_not, style_why_not = _ground_truth(module, test, brand.query[why_not], brand.candidate[why_not], "why_not",
                                              seed, ledger)
    state.progress(0.3, "Ground truth: why related")
    gt_related, style_related = _ground_truth(module, test, brand.query[related], brand.candidate[related],
                                              "why_related", seed + 1, ledger)
    personalisation = {
        "why_not": _personalised(gt_why_not["methods"]["lrp"]["mass"], style_why_not, "net"),
        "why_related": _personalised(gt_related["methods"]["lrp"]["mass"], style_related, "shared"),
    }
    flips = {}
    for number, shopper in enumerate(SHOPPERS):
        state.progress(0.5 + 0.2 * number, f"Pixel flipping: {shopper} shopper")
        chosen = np.flatnonzero(pairs[shopper].related & (logits[shopper] > 0))[: sizes.flip_pairs]
        flips[shopper] = _flipping(module, test, pairs[shopper].query[chosen], pairs[shopper].candidate[chosen],
                                   SHOPPERS.index(shopper), sizes.flip_regions, sizes.random_draws, seed * 10 + number,
                                   ledger)
    state.progress(0.9, "Heatmap latency")
    latency = _latency(module, test, brand.query, brand.candidate, sizes.latency_pairs, explainer)
    report = {
        "dataset": DATASET,
        "catalogue": test.note,
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seed": seed,
        "protocol": " ".join(__doc__.split("\n\n", 1)[1].split()),
        "machine": machine_record(python=platform.python_version(), load_average_at_start=load_average,
                                  torch_threads=1, blas_threads=1),
        "sizes": asdict(sizes),
        "model": facts,
        "methods": dict(METHODS),
        "relation": relation,
        "conservation": ledger.summary(),
        "latency": latency,
        "ground_truth": {"why_not": gt_why_not, "why_related": gt_related},
        "personalisation": personalisation,
        "flipping": flips,
        "training_seconds": (facts.get("training") or {}).get("seconds"),
    }
    report["checks"] = checks(report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


# -- relation accuracy ----------------------------------------------------------------------------

def _logits(module, test, query, candidate, shopper: int) -> np.ndarray:
    """Logits of pairs of test items; the images are indexed once, so a 10k-pair sample is cheap."""
    items = np.concatenate([query, candidate])
    return relation_logits(module, test.images[items], (np.arange(len(query)), np.arange(len(query), len(items)),
                                                        np.full(len(query), shopper), np.zeros(len(query))))


def _accuracy(logits: np.ndarray, related: np.ndarray) -> dict:
    related = np.asarray(related, dtype=bool)
    positives, negatives = int(related.sum()), int((~related).sum())
    ranks = scipy.stats.rankdata(logits)  # ties share their mean rank, as the AUC's 1/2 for ties
    auc = (ranks[related].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    return {"pairs": len(logits), "related": positives, "accuracy": float(((logits > 0) == related).mean()),
            "auc": float(auc)}


# -- explanations ---------------------------------------------------------------------------------

class _Conservation:
    """The largest conservation errors over every composite LRP explanation the benchmark makes."""

    def __init__(self):
        self.pairs = 0
        self.error = 0.0
        self.layers = {name: 0.0 for name in LAYERS}
        self.kept_back = 0.0  # largest |bias + epsilon share| of one image's branch, net view

    def add(self, result: PixelRelevance) -> PixelRelevance:
        if len(result.logit):
            self.pairs += len(result.logit)
            self.error = max(self.error, result.conservation_error)
            for name, value in result.layer_error.items():
                self.layers[name] = max(self.layers.get(name, 0.0), value)
            for image in ("query", "candidate"):
                kept = np.abs(result.bias["net"][image] + result.absorbed["net"][image])
                self.kept_back = max(self.kept_back, float(kept.max()))
        return result

    def summary(self) -> dict:
        return {"pairs": self.pairs, "max_error": self.error, "per_layer": dict(self.layers),
                "max_kept_back": self.kept_back, "rules": COMPOSITE.labels, "dtype": "float32"}


def _lrp(module, a, b, shopper, rules=COMPOSITE, ledger: _Conservation | None = None) -> PixelRelevance:
    result = explain_pairs(module, a, b, shopper, rules)
    return ledger.add(result) if ledger is not None and rules is COMPOSITE else result


def _oriented(maps: dict, method: str, question: str) -> dict:
    """Evidence for the question's answer: "why_related" reads maps as they are (positive = related),
    "why_not" flips signed maps (positive = pushes the pair apart)."""
    if question == "why_related" or method in UNSIGNED:
        return maps
    return {image: -values for image, values in maps.items()}


def _ground_truth(module, test, query, candidate, question: str, seed: int, ledger) -> tuple[dict, float | None]:
    """Mass and rank accuracy of every method on brand pairs, and LRP's mark mass of the same pairs
    explained for the style shopper (personalisation)."""
    brand, style = SHOPPERS.index("brand"), SHOPPERS.index("style")
    view = "net" if question == "why_not" else "shared"
    result = {"pairs": len(query), "chance": None,
              "view": "net (relevance of the distance)" if view == "net" else "shared", "methods": {}}
    if not len(query):
        return result, None
    a, b = test.floats(query), test.floats(candidate)
    regions = test.marks.region(query), test.marks.region(candidate)
    result["chance"] = truth.chance(*regions)
    lrp = _lrp(module, a, b, brand, ledger=ledger)
    paper = _lrp(module, a, b, brand, PAPER_EPSILON)
    candidates = {
        "lrp": lrp.maps[view],
        "lrp_paper_epsilon": paper.maps[view],
        "gradient_x_input": gradient_times_input(module, a, b, brand),
        "gradient": gradient(module, a, b, brand),
        "occlusion": occlusion(module, a, b, brand),
        "random": random_maps(len(a), a.shape[-1], seed),
    }
    if question == "why_related":
        candidates["lrp_net"] = lrp.maps["net"]  # the notes: sign-split between the images on related pairs

    def scores(maps: dict, method: str) -> dict:
        evidence = _oriented(maps, method, question)
        mass = truth.mass_accuracy(evidence["query"], evidence["candidate"], *regions)
        rank = truth.rank_accuracy(evidence["query"], evidence["candidate"], *regions)
        return {"mass": truth.mean_finite(mass), "rank_accuracy": truth.mean_finite(rank)}

    for method, maps in candidates.items():
        result["methods"][method] = scores(maps, method)
    for_style = _lrp(module, a, b, style, ledger=ledger)
    return result, scores(for_style.maps[view], "lrp")["mass"]


def _personalised(brand_mass: float | None, style_mass: float | None, view: str) -> dict:
    """The brand pairs' mark mass for the brand shopper against the same pairs for the style shopper."""
    ratio = brand_mass / style_mass if brand_mass is not None and style_mass else None
    return {"view": view, "brand": brand_mass, "style": style_mass, "ratio": ratio}


# -- pixel flipping -------------------------------------------------------------------------------

class _CandidateLogits:
    """z(candidates) with the queries' style vectors fixed (only the candidate is perturbed). Each call
    also splits the logit drop from the curve's first (unperturbed) candidate, exactly, into

        z_0 - z_k = -2 <s_q - s_0, delta_k>  +  |delta_k|^2      (delta_k = s_k - s_0, the candidate's change)

    a first-order part (what a signed relevance map can predict: positive when evidence for the
    relation was removed) and a second-order part (>= 0 whatever was flipped: the damage noise does
    anywhere, as the random order shows, plus, on related brand pairs, whose
    style vectors nearly coincide, the way removing the mark acts). JSON key "noise" is this part.
    `begin()` starts a curve."""

    def __init__(self, module, query_images: np.ndarray, shopper: int):
        self.module = module
        self.shoppers = torch.full((len(query_images),), shopper, dtype=torch.int64)
        with torch.no_grad():
            self.fixed = module.style(module.features(image_tensor(query_images)), self.shoppers)
        self.begin()

    def begin(self) -> None:
        self.start, self.first, self.noise = None, [], []

    def __call__(self, candidates: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            s = self.module.style(self.module.features(image_tensor(candidates)), self.shoppers)
            if self.start is None:
                self.start = s
            delta = s - self.start
            self.first.append((-2 * ((self.fixed - self.start) * delta).sum(-1)).numpy())
            self.noise.append((delta ** 2).sum(-1).numpy())
            return (self.module.offset[self.shoppers] - ((self.fixed - s) ** 2).sum(-1)).numpy()

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(first order, noise), each (n, steps + 1), of the curve since begin()."""
        return np.stack(self.first, 1).astype(np.float64), np.stack(self.noise, 1).astype(np.float64)


def _model_seeds(report: dict, others: dict[int, RelationCNN], test, seed: int, sizes: BenchSizes, facts: dict) -> dict:
    """Style flipping (LRP net, gradient x input, random) and relation accuracy of the same model trained
    with other seeds, on this run's pairs and noise: how much the style figure owes to the training seed."""
    app_seed = (facts.get("config") or {}).get("seed")
    rows = {str(app_seed): _seed_row(report["relation"], report["flipping"]["style"])}
    ledger = _Conservation()  # not the report's: these models are not the one served
    for model_seed, module in sorted(others.items()):
        relation, chosen = {}, None
        for shopper in SHOPPERS:
            pairs = sample_pairs(test, shopper, sizes.test_pairs, seed=seed)
            logits = _logits(module, test, pairs.query, pairs.candidate, SHOPPERS.index(shopper))
            relation[shopper] = _accuracy(logits, pairs.related)
            if shopper == "style":
                chosen = pairs, np.flatnonzero(pairs.related & (logits > 0))[: sizes.flip_pairs]
        pairs, rows_chosen = chosen
        flips = _flipping(module, test, pairs.query[rows_chosen], pairs.candidate[rows_chosen], SHOPPERS.index("style"),
                          sizes.flip_regions, sizes.random_draws, seed * 10 + SHOPPERS.index("style"), ledger,
                          methods=SEED_METHODS)
        rows[str(model_seed)] = _seed_row(relation, flips)
    abpc = [row["abpc_25"]["lrp_net"] for row in rows.values() if row["abpc_25"].get("lrp_net") is not None]
    return {"app_model_seed": app_seed, "models": rows,
            "lrp_net_abpc_25_mean": float(np.mean(abpc)) if abpc else None,
            "lrp_net_abpc_25_sd": float(np.std(abpc, ddof=1)) if len(abpc) > 1 else None}


SEED_METHODS = ("lrp_net", "gradient_x_input")  # and random: what the style bars compare


def _seed_row(relation: dict, flips: dict) -> dict:
    methods = flips.get("methods", {})
    return {"style_accuracy": relation["style"]["accuracy"], "style_auc": relation["style"]["auc"],
            "brand_accuracy": relation["brand"]["accuracy"], "brand_auc": relation["brand"]["auc"],
            "pairs": flips.get("pairs"),
            "abpc_25": {m: _get(methods, m, "abpc", "25") for m in (*SEED_METHODS, "random")},
            "abpc_25_interval": {m: _get(methods, m, "abpc_interval", "25") for m in (*SEED_METHODS, "random")},
            "aopc_25": {m: _get(methods, m, "aopc", "25") for m in (*SEED_METHODS, "random")},
            "aopc_lerf_25": {m: _get(methods, m, "aopc_lerf", "25") for m in (*SEED_METHODS, "random")}}


def _flipping(module, test, query, candidate, shopper: int, regions: int, random_draws: int, seed: int, ledger,
              methods: tuple[str, ...] | None = None) -> dict:
    a, b = test.floats(query), test.floats(candidate)
    result = {"pairs": len(query), "region": flipping.REGION, "regions": regions, "noise": "U(0,1), seeded, shared by every method",
              "methods": {}}
    if not len(query):
        return result
    noise = np.random.default_rng([seed, 7]).uniform(size=b.shape).astype(np.float32)
    lrp = _lrp(module, a, b, shopper, ledger=ledger)
    paper = _lrp(module, a, b, shopper, PAPER_EPSILON)
    makers = {
        "lrp_net": lambda: lrp.maps["net"]["candidate"],
        "lrp_shared": lambda: lrp.maps["shared"]["candidate"],
        "lrp_paper_epsilon": lambda: paper.maps["net"]["candidate"],
        "gradient_x_input": lambda: gradient_times_input(module, a, b, shopper)["candidate"],
        "gradient": lambda: gradient(module, a, b, shopper)["candidate"],
        "occlusion": lambda: occlusion(module, a, b, shopper, images=("candidate",))["candidate"],
    }
    maps = {method: make() for method, make in makers.items() if methods is None or method in methods}
    logits = _CandidateLogits(module, a, shopper)

    def curve(values: np.ndarray, most_relevant_first: bool) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        logits.begin()
        order = flipping.region_order(values, most_relevant_first)
        return flipping.perturbation_curves(logits, b, order, noise, regions), logits.parts()

    def curves(values: np.ndarray):
        (morf, morf_parts), (lerf, lerf_parts) = curve(values, True), curve(values, False)
        return morf, lerf, {"morf": morf_parts, "lerf": lerf_parts}

    at = [k for k in FLIP_AT if k <= regions]
    for method, values in maps.items():
        morf, lerf, parts = curves(values)
        result["methods"][method] = _flip_summary(morf, lerf, at, parts=parts)
    # Random order: the mean of several draws (one draw's ABPC@25 varied by +-0.05 over 200 style pairs).
    draws = [curves(random_maps(len(a), a.shape[-1], seed * 1000 + draw)["candidate"]) for draw in range(random_draws)]
    parts = {side: tuple(np.concatenate([d[2][side][i] for d in draws]) for i in range(2)) for side in ("morf", "lerf")}
    result["methods"]["random"] = _flip_summary(np.concatenate([d[0] for d in draws]),
                                                np.concatenate([d[1] for d in draws]), at, random_draws, parts)
    result["random_draws"] = random_draws
    return result


def _flip_summary(morf: np.ndarray, lerf: np.ndarray, at: list[int], draws: int = 1, parts: dict | None = None) -> dict:
    """AOPC, LeRF AOPC and ABPC after each of `at` regions, and the mean curves (rows: pairs, or `draws`
    blocks of pairs); ABPC's 95% bootstrap interval resamples pairs (a pair's draws averaged first).
    `parts` ("morf"/"lerf" -> (first order, noise) drops, like the curves): AOPC split into the two,
    which add up to it."""
    def interval(k: int) -> list[float]:
        per_pair = flipping.abpc_per_pair(morf, lerf, k).reshape(draws, -1).mean(0)
        return list(flipping.bootstrap_interval(per_pair, seed=k))

    split = {} if parts is None else {"aopc_parts": {
        side: {name: {str(k): float(values[:, : k + 1].mean()) for k in at}
               for name, values in zip(("first_order", "noise"), parts[side])}
        for side in ("morf", "lerf")}}
    return {**split,
        "abpc_interval": {str(k): interval(k) for k in at},
        "aopc": {str(k): flipping.aopc(morf, k) for k in at},
        "aopc_lerf": {str(k): flipping.aopc(lerf, k) for k in at},
        "abpc": {str(k): flipping.abpc(morf, lerf, k) for k in at},
        "mean_drop": flipping.mean_drop(morf).tolist(),
        "mean_drop_lerf": flipping.mean_drop(lerf).tolist(),
        "still_related": flipping.still_related(morf).tolist(),
        "still_related_lerf": flipping.still_related(lerf).tolist(),
    }


# -- latency --------------------------------------------------------------------------------------

def _latency(module, test, query, candidate, count: int, explainer=None) -> dict:
    """Median and p95 ms for one pair, both views, one thread: explain_pairs (the LRP itself, one
    stacked pass), and, given the explainer, explain_pair as the app and the CLI are served (the
    PixelExplanation with its nested tuples and mark mass). The bar reads the served time when there is one."""
    count = min(count, len(query))
    brand = SHOPPERS.index("brand")
    ways = {"lrp": lambda q, c: explain_pairs(module, test.images[[q]], test.images[[c]], brand)}
    if explainer is not None:
        ways["served"] = lambda q, c: explainer.explain_pair("brand", q, c)
    result = {"pairs": count, "threads": 1,
              "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    for name, explain in ways.items():
        for k in range(min(3, count)):  # warm-up: first calls allocate
            explain(int(query[k]), int(candidate[k]))
        times, cpu = [], []
        for k in range(count):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            explain(int(query[k]), int(candidate[k]))
            times.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.process_time() - begin_cpu) * 1000)
        # CPU time of this (one-thread) process: what a pair costs a core, whatever else runs on it
        result[name] = {"median_ms": statistics.median(times) if times else None,
                        "p95_ms": float(np.percentile(times, 95)) if times else None,
                        "cpu_median_ms": statistics.median(cpu) if cpu else None}
    timed = "served" if "served" in result else "lrp"
    result.update(median_ms=result[timed]["median_ms"], p95_ms=result[timed]["p95_ms"],
                  cpu_median_ms=result[timed]["cpu_median_ms"], what=(
        "PixelExplainer.explain_pair, as served: one pair, both views, the explanation object built"
        if timed == "served" else "explain_pairs: one pair, net and shared views of both images in one stacked pass"))
    return result


# -- checks ---------------------------------------------------------------------------------------

def _get(tree, *keys):
    """tree[k1][k2]... or None where a level is missing (a run with too few pairs)."""
    for key in keys:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return None
        tree = tree[key]
    return tree


def _ratio(top, bottom):
    return top / bottom if top is not None and bottom not in (None, 0) else None


def checks(report: dict) -> list[dict]:
    """Each "Done when" bar of issue 10 item 5 with the measured value and whether it was reached."""
    rows = []

    def add(name: str, value, bar: str, passed) -> None:
        rows.append({"name": name, "value": value, "bar": bar, "passed": bool(passed) if value is not None else False})

    relation = report["relation"]
    for shopper in ("brand", "style"):
        for metric in ("accuracy", "auc"):
            bar = BARS[f"{shopper}_{metric}"]
            value = relation[shopper][metric]
            add(f"{shopper} shopper {metric}", value, f">= {bar}", value is not None and value >= bar)
    conservation = report["conservation"]["max_error"]
    worst_layer = max(report["conservation"]["per_layer"].values(), default=0.0)
    value = max(conservation, worst_layer)
    add("conservation error, end to end and per layer (float32)", value, f"<= {BARS['conservation']:g}",
        value <= BARS["conservation"] and report["conservation"]["pairs"] > 0)
    latency = report["latency"]["median_ms"]
    add("heatmap latency, one pair, both views, 1 thread (median ms)", latency, f"<= {BARS['latency_ms']:g}",
        latency is not None and latency <= BARS["latency_ms"])
    for question, label in (("why_not", "why-not (net view)"), ("why_related", "why-related (shared view)")):
        lrp = _get(report, "ground_truth", question, "methods", "lrp") or {}
        for metric, bar in (("mass", BARS["mark_mass"]), ("rank_accuracy", BARS["rank_accuracy"])):
            value = lrp.get(metric)
            add(f"brand {label}: LRP mark {metric.replace('_', ' ')}", value, f">= {bar}",
                value is not None and value >= bar)
    for question, label in (("why_not", "net view"), ("why_related", "shared view")):
        value = report["personalisation"][question]["ratio"]
        add(f"personalisation, {label}: brand / style mark mass", value, f">= {BARS['personalisation']}",
            value is not None and value >= BARS["personalisation"])
    lrp, random = (_get(report, "flipping", "brand", "methods", m, "aopc", "25") for m in ("lrp_shared", "random"))
    add("brand flipping: LRP shared AOPC@25 / random", _ratio(lrp, random), f">= {BARS['brand_aopc_over_random']:g}",
        lrp is not None and random is not None and lrp > 0 and lrp >= BARS["brand_aopc_over_random"] * max(random, 0.0))
    lrp, gxi, random = (_get(report, "flipping", "style", "methods", m, "abpc", "25")
                        for m in ("lrp_net", "gradient_x_input", "random"))
    add("style flipping: LRP net ABPC@25", lrp, f">= {BARS['style_abpc']}", lrp is not None and lrp >= BARS["style_abpc"])
    add("style flipping: LRP net ABPC@25 / gradient x input", _ratio(lrp, gxi), f">= {BARS['style_abpc_over_gxi']}",
        lrp is not None and gxi is not None and lrp >= BARS["style_abpc_over_gxi"] * gxi)
    add("style flipping: random ABPC@25", random, f"within ±{BARS['random_abpc']} of 0",
        random is not None and abs(random) <= BARS["random_abpc"])
    seconds = report["training_seconds"]
    add("app model training (s, from the cache manifest)", seconds, f"<= {BARS['training_seconds']}",
        seconds is not None and seconds <= BARS["training_seconds"])
    return rows


# -- files ----------------------------------------------------------------------------------------

def stem(dataset: str, seed: int) -> str:
    return f"pixels-{dataset}" + ("" if seed == 0 else f"-seed{seed}")


def rewrite(json_path: str | Path) -> None:
    """Redraw a saved report's figure and Markdown from its JSON (after a change of presentation)."""
    path = Path(json_path)
    _write(json.loads(path.read_text()), path.parent)


def _write(report: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = stem(report["dataset"], report["seed"])
    report["figures"] = {"flipping": _figure(report, folder, f"{name}-flipping.png")}
    (folder / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (folder / f"{name}.md").write_text(markdown(report))


COLOURS = {"lrp_net": "tab:red", "lrp_shared": "tab:purple", "lrp_paper_epsilon": "tab:orange",
           "gradient_x_input": "tab:blue", "gradient": "tab:cyan", "occlusion": "tab:green", "random": "tab:gray"}


def _figure(report: dict, folder: Path, filename: str) -> str:
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
    for column, shopper in enumerate(("brand", "style")):
        flips = report["flipping"][shopper]
        top, bottom = axes[0][column], axes[1][column]
        for method, curves in flips["methods"].items():
            steps = range(len(curves["mean_drop"]))
            colour, label = COLOURS.get(method, "black"), METHODS.get(method, method)
            top.plot(steps, curves["mean_drop"], "-", color=colour, label=label, linewidth=1.6)
            top.plot(steps, curves["mean_drop_lerf"], "--", color=colour, linewidth=1.0)
            bottom.plot(steps, curves["still_related"], "-", color=colour, label=label, linewidth=1.6)
        top.set_title(f"{shopper} shopper: {flips['pairs']} related pairs, candidate perturbed")
        top.set_ylabel("mean logit drop (solid: most relevant first,\ndashed: least relevant first)")
        bottom.set_ylabel("share still decided related (MoRF)")
        bottom.set_xlabel(f"{flips['region']}x{flips['region']} regions replaced by U(0,1) noise")
        top.axhline(0, color="black", linewidth=0.5)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"Pixel flipping, {report['dataset']} catalogue demo (seed {report['seed']})")
    fig.tight_layout()
    fig.savefig(folder / filename, dpi=110)
    plt.close(fig)
    return filename


def _fmt(value, digits: int = 3, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _value(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"


def check_table(report: dict) -> list[str]:
    lines = ["| check | measured | bar | |", "|---|---:|---|---|"]
    for row in report["checks"]:
        lines.append(f"| {row['name']} | {_value(row['value'])} | {row['bar']} | {'PASS' if row['passed'] else 'MISS'} |")
    return lines


def markdown(report: dict) -> str:
    model, sizes = report["model"], report["sizes"]
    training = model.get("training") or {}
    lines = [
        f"# Pixel lens on the {report['dataset']} catalogue demo: relation model and heatmap benchmark",
        "",
        f"Command: `{report['command'] or 'python -m engine bench pixels'}`; {report['date']}; seed {report['seed']}; "
        f"{report['seconds']:.0f} s in all.",
        "",
        f"Catalogue: {report['catalogue']}. Model: relation CNN {_config_text(model.get('config'))}; "
        f"{'trained in this run' if model.get('trained_now') else 'loaded from the cache'} "
        f"(training took {_value(training.get('seconds'))} s).",
        "",
        f"Sizes: {sizes['test_pairs']:,} test pairs per shopper; {sizes['explained_pairs']} pairs per ground-truth "
        f"question; {sizes['flip_pairs']} pairs per shopper flipped over {sizes['flip_regions']} regions, random order "
        f"averaged over {sizes.get('random_draws', 1)} draws; latency over {sizes['latency_pairs']} pairs.",
        "",
        "## Bars (issue 10)",
        "",
        *check_table(report),
        "",
        "## Relation accuracy (held-out test pairs)",
        "",
        "| shopper | pairs | accuracy | AUC |",
        "|---|---:|---:|---:|",
    ]
    for shopper, row in report["relation"].items():
        lines.append(f"| {shopper} | {row['pairs']} | {_fmt(row['accuracy'])} | {_fmt(row['auc'])} |")
    for question, title in (("why_not", "why not (hard negatives: other mark, same class; decided unrelated)"),
                            ("why_related", "why related (same mark; decided related)")):
        gt = report["ground_truth"][question]
        lines += ["", f"## Ground truth, brand shopper, {title}", "",
                  f"{gt['pairs']} pairs; evidence: {gt['view']}; chance {_fmt(gt['chance'])}.", "",
                  "| method | mark mass | rank accuracy |", "|---|---:|---:|"]
        for method, row in gt["methods"].items():
            lines.append(f"| {METHODS[method]} | {_fmt(row['mass'])} | {_fmt(row['rank_accuracy'])} |")
    lines += ["", "## Personalisation: the same brand pairs explained for the style shopper (LRP)", "",
              "| question | view | brand shopper mark mass | style shopper | ratio |", "|---|---|---:|---:|---:|"]
    for question, row in report["personalisation"].items():
        lines.append(f"| {question.replace('_', ' ')} | {row['view']} | {_fmt(row['brand'])} | {_fmt(row['style'])} | "
                     f"{_fmt(row['ratio'], 2)} |")
    for shopper, flips in report["flipping"].items():
        random = _get(flips, "methods", "random", "aopc", "25")
        lines += ["", f"## Pixel flipping, {shopper} shopper", "",
                  f"{flips['pairs']} related pairs decided related; the candidate's {flips['region']}x{flips['region']} "
                  f"regions replaced by {flips['noise']}; values are mean logit drops; random: the mean of "
                  f"{flips.get('random_draws', 1)} seeded orders per pair.", "",
                  "| method | AOPC@10 | AOPC@25 | ÷ random @25 | LeRF AOPC@25 | ABPC@10 | ABPC@25 [95% interval] | still related after 10 / 25 |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for method, row in flips["methods"].items():
            still = row["still_related"]
            after = " / ".join(_fmt(still[k], 2) if k < len(still) else "n/a" for k in FLIP_AT)
            lines.append(f"| {METHODS[method]} | {_fmt(row['aopc'].get('10'))} | {_fmt(row['aopc'].get('25'))} | "
                         f"{_fmt(_ratio(row['aopc'].get('25'), random), 1)} | {_fmt(row['aopc_lerf'].get('25'))} | "
                         f"{_fmt(row['abpc'].get('10'), signed=True)} | {_fmt(row['abpc'].get('25'), signed=True)}"
                         f"{_interval_text(row.get('abpc_interval', {}).get('25'))} | {after} |")
        lines += _parts_lines(flips)
    lines += _model_seed_lines(report.get("model_seeds"))
    conservation, latency = report["conservation"], report["latency"]
    lines += ["", "## Conservation and latency", "",
              f"{conservation['pairs']} pairs explained with the composite rules ({_rules_text(conservation['rules'])}), "
              f"float32: largest end-to-end error {conservation['max_error']:.2e}; largest bias + epsilon share of "
              f"one image {conservation['max_kept_back']:.2e}.", "",
              "| layer | largest error |", "|---|---:|"]
    lines += [f"| {name} | {value:.2e} |" for name, value in conservation["per_layer"].items()]
    lines += ["", f"Heatmap latency ({latency['what']}): median {_fmt(latency['median_ms'], 2)} ms, p95 "
                  f"{_fmt(latency['p95_ms'], 2)} ms over {latency['pairs']} pairs, {latency['threads']} torch thread, "
                  f"load average {latency.get('load_average')}; CPU time of the process per pair (median) "
                  f"{_fmt(latency.get('cpu_median_ms'), 2)} ms"
                  + (f"; the LRP alone (explain_pairs) median {_fmt(latency['lrp']['median_ms'], 2)} ms wall, "
                     f"{_fmt(latency['lrp'].get('cpu_median_ms'), 2)} ms CPU." if "served" in latency else "."),
              "", "## Figures", ""]
    lines += [f"![{key}]({filename})" for key, filename in report.get("figures", {}).items()]
    machine = report["machine"]
    lines += ["", f"Machine: {machine['platform']}, {machine['cpus']} CPUs (shared; load average "
                  f"{machine['load_average_at_start']} at the start), one torch and BLAS thread; timings on a loaded "
                  "machine are pessimistic.", "", report["protocol"], ""]
    return "\n".join(lines)


def _parts_lines(flips: dict) -> list[str]:
    """Each method's AOPC@25 split into the first-order drop and the 'noise anywhere' drop."""
    rows = {m: r["aopc_parts"] for m, r in flips["methods"].items() if "25" in r.get("aopc_parts", {}).get("morf", {}).get("noise", {})}
    if not rows:
        return []
    lines = ["", "AOPC@25 split exactly into the first-order drop -2<s_q - s_c, delta> (what a signed map can rank: "
                 "positive when evidence for the relation was removed) and the second-order drop |delta|^2 (>= 0 for "
                 "any flip; delta: the candidate's change in style space). The random order's second-order drop is what "
                 "noise does anywhere (small once the model has seen such noise in training); on related brand pairs, "
                 "whose style vectors nearly coincide, removing the mark acts through it. ABPC = MoRF minus LeRF of each "
                 "part.", "",
             "| method | MoRF: first order + second order | LeRF: first order + second order | ABPC@25: first order + second order |",
             "|---|---|---|---|"]

    def pair(first, noise) -> str:
        return f"{first:+.3f} + {noise:.3f}"

    for method, p in rows.items():
        mf, mn = p["morf"]["first_order"]["25"], p["morf"]["noise"]["25"]
        lf, ln = p["lerf"]["first_order"]["25"], p["lerf"]["noise"]["25"]
        lines.append(f"| {METHODS[method]} | {pair(mf, mn)} | {pair(lf, ln)} | {mf - lf:+.3f} + ({mn - ln:+.3f}) |")
    return lines


def _model_seed_lines(seeds: dict | None) -> list[str]:
    """The style flipping figure per training seed of the model (same pairs and noise)."""
    if not seeds:
        return []
    lines = ["", "## The style figure per training seed of the model", "",
             "The same architecture and training (data, epochs, optimiser, augmentation) with another seed for the "
             "initial weights, the batch order, the training pairs and the training noise; this run's pairs and noise. "
             "The app's model is seed "
             f"{seeds['app_model_seed']} (the bars above).", "",
             "| model seed | style acc / AUC | brand acc / AUC | LRP net ABPC@25 [95% interval] | "
             "gradient x input ABPC@25 | random ABPC@25 | LRP net MoRF / LeRF AOPC@25 | random AOPC@25 |",
             "|---|---|---|---:|---:|---:|---|---:|"]
    for model_seed, row in seeds["models"].items():
        abpc, aopc, lerf = row["abpc_25"], row["aopc_25"], row["aopc_lerf_25"]
        app = " (app)" if model_seed == str(seeds["app_model_seed"]) else ""
        lines.append(f"| {model_seed}{app} | {_fmt(row['style_accuracy'])} / {_fmt(row['style_auc'])} | "
                     f"{_fmt(row['brand_accuracy'])} / {_fmt(row['brand_auc'])} | {_fmt(abpc['lrp_net'], signed=True)}"
                     f"{_interval_text(row['abpc_25_interval'].get('lrp_net'))} | "
                     f"{_fmt(abpc['gradient_x_input'], signed=True)} | {_fmt(abpc['random'], signed=True)} | "
                     f"{_fmt(aopc['lrp_net'])} / {_fmt(lerf['lrp_net'])} | {_fmt(aopc['random'])} |")
    lines += ["", f"LRP net ABPC@25 over these {len(seeds['models'])} models: mean "
                  f"{_fmt(seeds['lrp_net_abpc_25_mean'])}, standard deviation {_fmt(seeds['lrp_net_abpc_25_sd'])}."]
    return lines


def _interval_text(interval) -> str:
    return f" [{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else ""


def _config_text(config) -> str:
    if not isinstance(config, dict):
        return "(config not recorded)"
    text = (f"conv {config.get('conv1')}/{config.get('conv2')}, fc {config.get('hidden')}, F {config.get('features')}, "
            f"K {config.get('rank')}, {config.get('epochs')} epochs")
    if config.get("noise_share"):
        size = config.get("noise_size")
        text += (f", trained with noise regions (each training image with probability {config['noise_share']:g}: "
                 f"1 to {config.get('noise_regions')} random {size}x{size} regions replaced by U(0,1) noise, "
                 "the flipping's perturbation; see item 4 below)")
    return text


def _rules_text(rules: dict) -> str:
    return ", ".join(f"{layer} {rule}" for layer, rule in rules.items())
