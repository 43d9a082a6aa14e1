"""evaluate_session_model end to end on a CI-sized synthetic sitting set: every figure the benchmark
reports is present and consistent (the bars themselves are measured on MovieLens 100k)."""
import json

import pytest

from engine.evaluation import session_experts_evaluation as E
from engine.models.experts_session import SessionModelConfig, SessionTraining
from tests.engine.synthetic_sittings import synthetic_sittings

SMALL = SessionModelConfig(width=8, heads=2, feed_forward=8)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    data = synthetic_sittings(users=60)
    result = E.run_session_benchmark(data, folder, seeds=(0,), training=SessionTraining(epochs=2, batch_size=16),
                                     interpretable=SMALL, control=SMALL)
    return result, folder


def test_the_report_has_every_figure(report):
    result, folder = report
    run = result["runs"][0]
    assert set(run["baselines"]) == {"last", "mean", "like_rate", "mean_plus_offset"}
    for name in ("interpretable", "control"):
        row = run[name]
        low, high = row["accuracy_interval"]
        assert 0.0 <= low <= high <= 1.0
        assert row["positions"] == run["split"]["test_positions"] > 0
    attribution = run["interpretable"]["attribution"]
    assert len(attribution["experts"]) == 8
    assert sum(e["decided"] for e in attribution["experts"]) == pytest.approx(1.0)
    assert sum(e["mean_share"] for e in attribution["experts"]) == pytest.approx(1.0, abs=1e-3)
    assert attribution["shares_sum_error"] < 1e-5 and attribution["mixture_error"] < 1e-5
    assert sum(a["decided"] for a in attribution["aggregates"]) == pytest.approx(1.0, abs=1e-3)
    assert run["best_baseline"] in run["baselines"]
    low, high = run["gain_over_best_baseline_interval"]
    assert -1.0 <= low <= high <= 1.0
    assert run["gap_to_control"] == pytest.approx(run["control"]["accuracy"] - run["interpretable"]["accuracy"])
    assert run["interpretable"]["timeline_ms"]["threads"] == 1
    assert set(run["bars"]) == {"accuracy_at_least_68", "within_1_5_of_control", "no_expert_over_60",
                                "beats_best_baseline", "timeline_under_50_ms"}
    on_disk = json.loads((folder / "experts-session-synthetic.json").read_text())
    assert on_disk["runs"][0]["interpretable"]["accuracy"] == run["interpretable"]["accuracy"]
    markdown = (folder / "experts-session-synthetic.md").read_text()
    assert "what other viewers thought" in markdown and "mean_plus_offset" in markdown


def test_users_are_disjoint_and_the_split_is_recorded(report):
    run = report[0]["runs"][0]
    users = run["split"]["users"]
    assert users["train"] + users["validation"] + users["test"] == 60


def test_cross_validation_tests_every_user_once_and_pools_the_folds():
    data = synthetic_sittings(users=45)
    result = E.evaluate_session_cross_validation(data, folds=3, training=SessionTraining(epochs=1, batch_size=16),
                                                 interpretable=SMALL, control=SMALL)
    assert result["users_tested"] == 45  # every synthetic user has one sitting of 12 or more
    positions = [fold["test_positions"] for fold in result["per_fold"]]
    assert result["interpretable"]["positions"] == sum(positions)
    pooled = sum(f["interpretable"] * n for f, n in zip(result["per_fold"], positions)) / sum(positions)
    assert result["interpretable"]["accuracy"] == pytest.approx(pooled)
    assert sum(result["interpretable"]["decided"].values()) == pytest.approx(1.0, abs=1e-3)
    assert set(result["baselines"]) == {"last", "mean", "like_rate", "mean_plus_offset"}
