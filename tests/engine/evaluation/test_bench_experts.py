"""Smoke test of `bench experts` on a small planted dataset: invariants only (CI-sized models)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from engine.cli import main
from engine.data.types import Interactions
from engine.evaluation import bench_experts
from engine.progress import TaskState
from tests.engine.models.planted_tastes import small_movielens

TINY = {"factors": 8, "control_hidden": (16,), "content_hidden": (8,), "expert_hidden": (8, 4),
        "training": {"epochs": 1, "batch_size": 512, "learning_rate": 3e-3, "negatives": 4,
                     "demographics_dropout": 0.05, "seed": 0},
        "negative_draws": 2, "pure_svd_factors": (2, 4)}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_one_seed_report_holds_every_row_and_bar(tmp_path):
    report = bench_experts.run_on(small_movielens(), seed=1, output_dir=tmp_path, settings=TINY, command="test")
    assert set(report["rows"]) == set(bench_experts.ROW_NAMES)
    for row in report["rows"].values():
        assert len(row["sampled_hr"]) == 2 and len(row["sampled_ndcg"]) == 2
        assert all(0 <= v <= 1 for v in row["sampled_hr"] + row["sampled_ndcg"] + [row["full_hr"], row["full_ndcg"]])
        # NDCG@10 never exceeds HR@10 (each hit counts at most 1).
        assert all(n <= h + 1e-9 for h, n in zip(row["sampled_hr"], row["sampled_ndcg"]))
    for variant in ("learned", "profile"):
        attribution = report["attribution"][variant]
        assert sum(attribution["decided"].values()) == pytest.approx(1.0, abs=1e-3)
        assert sum(attribution["mean_share"].values()) == pytest.approx(1.0, abs=1e-3)
        assert attribution["gate"] in report["rows"][f"intrp_{variant}"]["validation_hr_by_gate"]
    assert report["shares_latency_ms"]["median"] > 0
    assert report["protocol"] == "leave-latest" and report["comparable_to_paper"]
    assert {bar["result"] for bar in report["bars"].values()} <= {"PASS", "MISS"}
    written = json.loads((tmp_path / "experts-small-seed1.json").read_text())
    assert written["rows"].keys() == report["rows"].keys()
    text = (tmp_path / "experts-small-seed1.md").read_text()
    assert "PASS" in text or "MISS" in text
    assert "Not comparable" not in text


def test_combined_run_reuses_seed_reports_with_the_same_settings(tmp_path):
    data = small_movielens()
    for seed in bench_experts.DEFAULT_SEEDS:
        bench_experts.run_on(data, seed=seed, output_dir=tmp_path, settings=TINY)
    messages = []
    report = bench_experts.run_on(data, output_dir=tmp_path, settings=TINY,
                                  state=TaskState(lambda f, m: messages.append(m)))
    assert sum("reusing" in m for m in messages) == 3
    assert report["seeds"] == [0, 1, 2]
    assert report["rows"]["control"]["sampled_hr"]["n"] == 3 * 2
    assert (tmp_path / "experts-small.md").exists()


def test_without_timestamps_the_report_says_it_is_not_comparable(tmp_path):
    data = small_movielens()
    inter = data.interactions
    bare = replace(data, movies={k: replace(m, genres=(), year=None) for k, m in data.movies.items()},
                   interactions=Interactions(inter.users, inter.items, inter.ratings, None), _fingerprint=[])
    report = bench_experts.run_on(bare, seed=0, output_dir=tmp_path, settings=TINY)
    assert report["protocol"] == "random leave-one-out" and not report["comparable_to_paper"]
    assert report["item_content"] == "popularity and mean-rating deciles"
    assert "Not comparable" in bench_experts.markdown(report)


def test_the_bench_command_rejects_an_unknown_dataset(capsys):
    assert main(["bench", "experts", "--dataset", "ml-20m", "--offline"]) == 2
    assert "Unknown dataset" in capsys.readouterr().err


def test_the_bench_measures_the_gate_the_app_serves(tmp_path):
    """One gate: the bench's Intrp-MLP is trained, selected and measured with the served model's gate
    and loss (before, the bench chose another gate after training than the one trained and served)."""
    from engine.models.intrp_mlp import STATIC_GATE, STATIC_GATE_NAME
    from engine.models.static_model_cache import SERVED

    assert SERVED.gate == STATIC_GATE and SERVED.gate_name == STATIC_GATE_NAME
    assert bench_experts.SETTINGS["gate"] == SERVED.gate.to_dict()
    assert bench_experts.SETTINGS["mixture_loss_weight"] == SERVED.mixture_loss_weight
    assert bench_experts.SETTINGS["training"] == SERVED.training.to_dict()
    assert bench_experts.SETTINGS["profile_pool_scale"] == SERVED.pool_scale
    report = bench_experts.run_on(small_movielens(), seed=0, output_dir=tmp_path, settings=TINY)
    for variant in ("learned", "profile"):
        assert report["attribution"][variant]["gate"] == STATIC_GATE_NAME
        assert next(iter(report["rows"][f"intrp_{variant}"]["validation_hr_by_gate"])) == STATIC_GATE_NAME


def test_a_served_model_cached_with_another_gate_is_retrained():
    """The gate and the mixture loss are in the served model's manifest: a cache written with other
    ones never matches."""
    from dataclasses import replace as swap

    from engine.models.intrp_mlp import REFERENCE_GATE
    from engine.models.static_model_cache import SERVED, static_manifest

    data = small_movielens()
    served = static_manifest(data, SERVED)
    assert served["config"]["gate"] == SERVED.gate.to_dict()
    assert static_manifest(data, swap(SERVED, gate=REFERENCE_GATE)) != served
    assert static_manifest(data, swap(SERVED, mixture_loss_weight=0.0)) != served


def test_a_rerun_with_other_intrp_settings_reuses_only_the_unchanged_baseline_rows(tmp_path):
    data = small_movielens()
    first = bench_experts.run_on(data, seed=0, output_dir=tmp_path, settings=TINY)
    assert first["reused_rows"] == {}
    messages = []
    changed = dict(TINY, mixture_loss_weight=2.0, content_hidden=(4,))
    second = bench_experts.run_on(data, seed=0, output_dir=tmp_path, settings=changed,
                                  state=TaskState(lambda f, m: messages.append(m)))
    assert set(second["reused_rows"]) == {"itempop", "pure_svd", "control"}
    assert all(second["reused_rows"][k] == first["date"] for k in second["reused_rows"])
    for key in ("itempop", "pure_svd", "control"):
        assert second["rows"][key] == json.loads(json.dumps(first["rows"][key]))  # as written to the report
    assert sum("reusing" in m for m in messages) == 3
    assert second["settings"]["mixture_loss_weight"] == 2.0
    assert "Rows copied from an earlier run" in (tmp_path / "experts-small-seed0.md").read_text()
    # The control's own settings changed: it is trained again.
    third = bench_experts.run_on(data, seed=0, output_dir=tmp_path, settings=dict(changed, control_epochs=2))
    assert "control" not in third["reused_rows"] and "pure_svd" in third["reused_rows"]


def test_nothing_is_reused_from_a_report_measured_by_other_code(tmp_path, monkeypatch):
    data = small_movielens()
    first = bench_experts.run_on(data, seed=0, output_dir=tmp_path, settings=TINY)
    assert first["code"] == bench_experts.code_version()
    monkeypatch.setattr(bench_experts, "code_version", lambda: "other-code")
    again = bench_experts.run_on(data, seed=0, output_dir=tmp_path, settings=TINY)  # same settings
    assert again["reused_rows"] == {} and again["date"] >= first["date"] and again["code"] == "other-code"
    changed = bench_experts.run_on(data, seed=0, output_dir=tmp_path, settings=dict(TINY, mixture_loss_weight=2.0))
    assert set(changed["reused_rows"]) == {"itempop", "pure_svd", "control", "content"}  # same code as `again`
