"""`bench pixels` on the CI-sized relation model (brand shopper only, trained once into the run's
model cache) with small sample sizes: the JSON holds every section and bar, the Markdown and the
flipping figure are written, the figures obey their definitions, and --seed changes the pairs."""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.errors import DataUnavailableError
from engine.evaluation import bench_pixels
from engine.evaluation.bench_pixels import BenchSizes, checks, markdown, model_facts, run_on, stem

SMALL = BenchSizes(test_pairs=600, explained_pairs=12, flip_pairs=10, flip_regions=25, random_draws=3, latency_pairs=4)
SECTIONS = {"dataset", "catalogue", "command", "date", "seed", "protocol", "machine", "sizes", "model", "methods",
            "relation", "conservation", "latency", "ground_truth", "personalisation", "flipping", "training_seconds",
            "checks", "seconds", "figures"}


def _cache() -> Path:
    from engine.data.registry import default_cache_dir

    return Path(os.environ.get("CINEWHY_CACHE") or default_cache_dir())


@functools.cache
def _ci_model():
    """The CI model the pixel lens's tests share: the brand shopper, 60k pairs, one epoch (~30 s once)."""
    from engine.data.product_catalogue import load_catalogues
    from engine.models.pixel_model import obtain_pixel_model
    from engine.models.relation_cnn import CI_CONFIG

    try:
        catalogues = load_catalogues(offline=True, cache_dir=_cache())
    except DataUnavailableError as error:
        pytest.skip(f"Fashion-MNIST is not on this machine (set CINEWHY_DATA to a folder holding fashion-mnist/): {error}")
    from engine.explain.pixel_explainer import PixelExplainer

    options = {"config": CI_CONFIG, "shoppers": ("brand",), "catalogues": catalogues}
    explainer = PixelExplainer(cache_dir=_cache(), offline=True, **options)
    explainer.prepare()
    return obtain_pixel_model(_cache(), **options), explainer


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    model, explainer = _ci_model()
    folder = tmp_path_factory.mktemp("reports")
    first = run_on(model.module, model.catalogues[1], model_facts(model), seed=0, sizes=SMALL, output_dir=folder,
                   command="test", explainer=explainer)
    other = run_on(model.module, model.catalogues[1], model_facts(model), seed=3, sizes=SMALL, output_dir=folder)
    return first, other, folder


def test_the_json_and_markdown_hold_every_section_and_bar(reports):
    report, _, folder = reports
    saved = json.loads((folder / f"{stem('fashion-mnist', 0)}.json").read_text())
    assert SECTIONS <= set(saved)
    assert set(saved["relation"]) == {"style", "brand"}
    assert set(saved["ground_truth"]["why_not"]["methods"]) == {
        "lrp", "lrp_paper_epsilon", "gradient_x_input", "gradient", "occlusion", "random"}
    assert set(saved["ground_truth"]["why_related"]["methods"]) == {
        "lrp", "lrp_net", "lrp_paper_epsilon", "gradient_x_input", "gradient", "occlusion", "random"}
    for shopper in ("style", "brand"):
        methods = saved["flipping"][shopper]["methods"]
        assert set(methods) == {"lrp_net", "lrp_shared", "lrp_paper_epsilon", "gradient_x_input", "gradient",
                                "occlusion", "random"}
        for curves in methods.values():
            assert set(curves["aopc"]) == set(curves["abpc"]) == {"10", "25"}
            assert len(curves["mean_drop"]) == len(curves["still_related"]) == 26 and curves["mean_drop"][0] == 0.0
    assert len(saved["checks"]) == 17 and all(set(c) == {"name", "value", "bar", "passed"} for c in saved["checks"])
    assert (folder / saved["figures"]["flipping"]).stat().st_size > 10_000  # a PNG with curves on it
    text = (folder / f"{stem('fashion-mnist', 0)}.md").read_text()
    assert text == markdown(saved)
    for row in saved["checks"]:
        assert row["name"] in text
    assert "rule-made, not purchases" in text and "PASS" in text
    assert (folder / f"{stem('fashion-mnist', 3)}.json").exists()


def test_the_ci_model_passes_the_brand_bars_it_was_trained_for(reports):
    report, _, _ = reports
    passed = {row["name"]: row["passed"] for row in report["checks"]}
    print(bench_pixels.check_table(report))
    assert report["relation"]["brand"]["accuracy"] >= 0.98
    assert passed["conservation error, end to end and per layer (float32)"]
    assert report["conservation"]["pairs"] >= 2 * SMALL.explained_pairs
    why_not = report["ground_truth"]["why_not"]
    assert why_not["pairs"] == SMALL.explained_pairs
    assert why_not["methods"]["lrp"]["mass"] >= 0.35  # the bar for the CI model
    assert why_not["methods"]["lrp"]["mass"] > 3 * why_not["methods"]["random"]["mass"]
    assert why_not["chance"] == pytest.approx(50 / 1568)
    assert report["flipping"]["brand"]["pairs"] == SMALL.flip_pairs
    assert report["flipping"]["brand"]["random_draws"] == SMALL.random_draws


def test_the_figures_follow_their_definitions(reports):
    report, _, _ = reports
    for shopper in ("style", "brand"):
        for curves in report["flipping"][shopper]["methods"].values():
            assert curves["aopc"]["25"] == pytest.approx(np.mean(curves["mean_drop"][:26]))
            assert curves["abpc"]["25"] == pytest.approx(curves["aopc"]["25"] - curves["aopc_lerf"]["25"])
            low, high = curves["abpc_interval"]["25"]
            assert low <= curves["abpc"]["25"] <= high
            assert curves["still_related"][0] == 1.0  # only pairs decided related are flipped
    brand = report["relation"]["brand"]
    assert brand["pairs"] == SMALL.test_pairs and brand["related"] == SMALL.test_pairs // 2
    ratio = report["personalisation"]["why_not"]
    assert ratio["ratio"] == pytest.approx(ratio["brand"] / ratio["style"])
    assert report["ground_truth"]["why_not"]["methods"]["lrp"]["mass"] == ratio["brand"]


def test_latency_is_timed_as_served_and_for_the_lrp_alone(reports):
    first, other, _ = reports
    latency = first["latency"]
    assert latency["median_ms"] == latency["served"]["median_ms"] > 0 and latency["lrp"]["median_ms"] > 0
    assert latency["pairs"] == SMALL.latency_pairs and "explain_pair" in latency["what"]
    assert latency["cpu_median_ms"] == latency["served"]["cpu_median_ms"] >= 0
    assert "served" not in other["latency"] and other["latency"]["median_ms"] == other["latency"]["lrp"]["median_ms"]


def test_a_check_misses_when_its_value_misses_the_bar(reports):
    report, _, _ = reports
    worse = json.loads(json.dumps(report))
    worse["relation"]["brand"]["accuracy"] = 0.5
    worse["latency"]["median_ms"] = 31.0
    worse["flipping"]["style"]["methods"]["random"]["abpc"]["25"] = -0.2
    missed = {row["name"] for row in checks(worse) if not row["passed"]}
    assert {"brand shopper accuracy", "heatmap latency, one pair, both views, 1 thread (median ms)",
            "style flipping: random ABPC@25"} <= missed


def test_another_seed_draws_other_pairs(reports):
    first, other, _ = reports
    assert other["seed"] == 3
    assert first["relation"]["brand"]["auc"] != other["relation"]["brand"]["auc"] or \
        first["ground_truth"]["why_not"]["methods"]["lrp"] != other["ground_truth"]["why_not"]["methods"]["lrp"]


def test_the_report_index_lists_the_pixel_reports_with_a_key_figure(reports):
    from engine.evaluation import report_index

    _, _, folder = reports
    rows = [row for row in report_index.entries(folder) if row["kind"] == "pixels"]
    assert {row["seed"] for row in rows} == {0, 3}
    first = next(row for row in rows if row["seed"] == 0)
    assert first["title"] == report_index.TITLES["pixels"] and first["command"] == "test"
    assert "bars; brand why-not mark mass" in first["figure"]
    assert first["figures"] == [f"{stem('fashion-mnist', 0)}-flipping.png"]


def test_other_training_seeds_are_measured_on_the_same_pairs_and_noise(tmp_path):
    """The model-seed section re-measures each model with the run's pairs and noise: the served model
    listed again under another seed gives the very figures of the run's style flipping."""
    model, _ = _ci_model()
    report = run_on(model.module, model.catalogues[1], model_facts(model), seed=0, sizes=SMALL, output_dir=tmp_path,
                    other_models={7: model.module})
    seeds = report["model_seeds"]
    app_seed = str(model.cached.manifest["config"]["seed"])
    assert set(seeds["models"]) == {app_seed, "7"} and seeds["app_model_seed"] == int(app_seed)
    served, again = seeds["models"][app_seed], seeds["models"]["7"]
    style = report["flipping"]["style"]["methods"]
    for method in ("lrp_net", "gradient_x_input", "random"):
        assert served["abpc_25"][method] == pytest.approx(style[method]["abpc"]["25"])
        assert again["abpc_25"][method] == pytest.approx(served["abpc_25"][method], abs=1e-9)
    assert again["style_auc"] == served["style_auc"] and seeds["lrp_net_abpc_25_sd"] == pytest.approx(0.0, abs=1e-9)
    text = (tmp_path / f"{stem('fashion-mnist', 0)}.md").read_text()
    assert "## The style figure per training seed of the model" in text and f"| {app_seed} (app) |" in text
    assert json.loads((tmp_path / f"{stem('fashion-mnist', 0)}.json").read_text())["model_seeds"]["models"]["7"]


def test_the_command_line_takes_the_model_seeds_as_a_list():
    from engine.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["bench", "pixels", "--model-seeds", "0,1,3"]).model_seeds == (0, 1, 3)
    assert parser.parse_args(["bench", "pixels"]).model_seeds == ()
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "pixels", "--model-seeds", "one"])


def test_each_aopc_splits_exactly_into_first_order_and_noise_drops(reports):
    report, _, folder = reports
    for shopper in ("style", "brand"):
        methods = report["flipping"][shopper]["methods"]
        assert set(methods) == set(bench_pixels.METHODS) - {"lrp"}
        for method, row in methods.items():
            for side, aopc in (("morf", row["aopc"]), ("lerf", row["aopc_lerf"])):
                parts = row["aopc_parts"][side]
                for k in ("10", "25"):
                    assert parts["first_order"][k] + parts["noise"][k] == pytest.approx(aopc[k], abs=1e-4)
                    assert parts["noise"][k] >= 0
    assert "first order + second order" in (folder / f"{stem('fashion-mnist', 0)}.md").read_text()
