"""`python -m assistant bench`: runs on ml-100k unless told otherwise, and says plainly when the data
it needs is not on this computer (it used to default to ml-1m and end in a traceback)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assistant import bench_app

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_defaults_to_ml_100k():
    assert bench_app.build_parser().parse_args([]).dataset == "ml-100k"
    assert bench_app.build_parser().parse_args(["--dataset", "ml-1m"]).dataset == "ml-1m"


def test_missing_data_is_one_clear_message_not_a_traceback(tmp_path):
    empty = tmp_path / "no-movielens-here"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CINEWHY_DATA"}
    env.update(QT_QPA_PLATFORM="offscreen", CINEWHY_CACHE=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "bench", "--dataset", "ml-1m", "--data", str(empty), "--starts", "0",
         "--out", str(tmp_path / "report.json")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and "ml-1m" in done.stderr
    assert "Without --dataset the benchmark runs on ml-100k" in done.stderr
    assert not (tmp_path / "report.json").exists()


def test_percentiles_interpolate_like_numpy():
    assert bench_app._percentile([1.0, 2.0, 3.0, 4.0], 95) == 3.85
    assert bench_app._summary([5.0])["p95"] == 5.0


def test_the_app_case_of_an_explanation_is_timed_for_each_profile(app_engine):
    from assistant.bench_app import time_explanations

    timings = time_explanations(app_engine, 4, seed=1)
    assert len(timings["explain_in_app"]) == len(timings["explain_in_app_cpu"]) == len(timings["recommend_one"]) == 4
    assert all(value >= 0 for value in timings["explain_in_app"])


def test_edits_are_timed_after_a_pause_with_the_ui_threads_cpu_after_the_sankey(qapp, app_engine):
    """Each edit comes `pause_ms` after the last one's Sankey (a quick user), so that what an edit
    leaves for after its Sankey (the list's rows, the save) is measured apart, not in the next edit."""
    from assistant.bench_app import CPU_PARTS, STAGES, time_edits

    assert bench_app.build_parser().parse_args([]).pause_ms == 100
    assert bench_app.main(["--pause-ms", "-1"]) == 2
    style = qapp.styleSheet()
    try:
        timed = time_edits(app_engine, 3, seed=0, user=1, pause_ms=20)
    finally:
        qapp.setStyleSheet(style)
    for part in ("total", *STAGES, *CPU_PARTS):
        assert len(timed[part]) == 3 and all(value >= 0 for value in timed[part]), part
    assert all(after > 0 for after in timed["ui_thread_cpu_after"])  # at least the list's rows and the save
