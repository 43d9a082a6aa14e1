"""`python -m engine experts` on real MovieLens 100k with the CI-sized expert models
(tests/engine/expert_model_fixture.py): the notes' JSON shapes, the text tables, and one-sentence errors."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from engine.api import Engine, Lens
from engine.cli import main
from engine.explain.expert_explainer import ExpertExplainer
from tests.engine.expert_model_fixture import ci_explainer, ci_settings


def run_cli(capsys, *argv):
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def data_args(ml100k_engine: Engine, engine_cache, monkeypatch):
    ci_explainer(ml100k_engine)  # trains the CI models into the cache once; the command then loads them
    static, session = ci_settings()
    monkeypatch.setattr(ExpertExplainer, "static_settings", static)
    monkeypatch.setattr(ExpertExplainer, "session_training", session)
    return ["--data", str(Path(os.environ["CINEWHY_DATA"]) / "ml-100k"), "--cache-dir", engine_cache, "--offline"]


def check_shares(payload: dict) -> None:
    assert payload["lens"] == "experts" and payload["dataset"] == "ml-100k"
    votes = payload["experts"]
    assert [v["id"] for v in votes] == [e["id"] for e in payload["model"]["experts"]] == ["S1", "S2", "S3", "S4"]
    assert math.fsum(v["share"] for v in votes) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(v["share"] * v["prediction"] for v in votes) == pytest.approx(payload["probability"], abs=1e-12)
    assert payload["decided_by"] == max(votes, key=lambda v: v["share"])["id"]
    assert payload["undecided"] == (payload["alpha_total"] < 0.05)


def test_json_for_a_dataset_user_and_a_movie(capsys, data_args, ml100k_engine: Engine):
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--item", "96", "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    check_shares(payload)
    assert payload["item"]["id"] == 96 and payload["profile"]["user"] == 1
    assert payload["model"]["children"] == {"S1": [], "S2": ["S1"], "S3": ["S1"], "S4": ["S1", "S2", "S3"]}
    assert payload["item"].pop("year") == ml100k_engine.movie(96).year == 1991
    gate, _ = payload["model"].pop("gate"), payload["model"].pop("children")
    assert gate == ci_explainer(ml100k_engine).serving.gate.to_dict()
    expected = ml100k_engine.explain(ml100k_engine.user_profile(1), 96, Lens.EXPERTS).to_dict()
    assert payload == dict(expected, dataset="ml-100k")


def test_the_default_movie_is_the_top_recommendation(capsys, data_args, ml100k_engine: Engine):
    code, out, _ = run_cli(capsys, "experts", "--user", "2", "--json", *data_args)
    assert code == 0
    top = ml100k_engine.recommend(ml100k_engine.user_profile(2), 1)[0].movie.id
    assert json.loads(out)["item"]["id"] == top


def test_json_for_an_ad_hoc_profile(capsys, data_args):
    code, out, _ = run_cli(capsys, "experts", "--ratings", "50:5,172:4,181:2", "--gender", "F", "--age", "30",
                           "--item", "96", "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    check_shares(payload)
    assert payload["profile"]["user"] is None and "3 rated movies" in payload["model"]["user_group"]


def test_text_is_a_table_of_the_four_experts(capsys, data_args):
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--item", "96", *data_args)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Terminator 2") and "for user 1" in lines[0]
    assert any(line.startswith("Decided mostly by S") or line.startswith("No expert was confident") for line in lines)
    rows = [line for line in lines if line.strip().startswith(("S1 ", "S2 ", "S3 ", "S4 "))]
    assert len(rows) == 4 and all("%" in row for row in rows)
    assert "sum of share x own guess" in lines[-1]


def test_a_sitting_as_json_is_the_explainers_timeline(capsys, data_args, ml100k_engine: Engine):
    explainer = ci_explainer(ml100k_engine)
    profile = ml100k_engine.user_profile(1)
    index = explainer.sittings(profile)[2].index
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--sitting", str(index), "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    assert payload["model"].pop("session_gap_s") == 3600
    assert payload == dict(explainer.timeline(profile, index).to_dict(), dataset="ml-100k")
    assert payload["session"]["index"] == index and payload["model"]["name"] == "intrp-session"


def test_the_latest_sitting_and_a_window_of_a_long_one(capsys, data_args, ml100k_engine: Engine):
    explainer = ci_explainer(ml100k_engine)
    listed = explainer.sittings(ml100k_engine.user_profile(1))
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--sitting", "latest", "--json", *data_args)
    assert code == 0 and json.loads(out)["session"]["index"] == listed[-1].index
    long = next(s for s in listed if s.windows > 1)
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--sitting", str(long.index), "--window", "2", *data_args)
    assert code == 0 and f"Window 2 of {long.windows}" in out


def test_the_timeline_text_marks_given_guessed_and_aggregates(capsys, data_args):
    code, out, _ = run_cli(capsys, "experts", "--ratings", "50:5,172:4,181:2,1:3,121:4,7:5", "--sitting", "1", *data_args)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("This profile, sitting 1 of 1: 3 ratings given, 3 guessed")
    assert sum(" given" in line for line in lines if line.strip()[:1].isdigit()) == 3
    header = next(line for line in lines if "decided by" in line)
    for key in ("persistence", "session_taste", "film", "profile", "all"):
        assert key in header


def test_the_sittings_are_listed(capsys, data_args, ml100k_engine: Engine):
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--sittings", "--json", *data_args)
    assert code == 0
    listed = json.loads(out)["sittings"]
    expected = ci_explainer(ml100k_engine).sittings(ml100k_engine.user_profile(1))
    assert listed == [json.loads(json.dumps(s._asdict())) for s in expected]
    code, out, _ = run_cli(capsys, "experts", "--user", "1", "--sittings", *data_args)
    assert code == 0 and f"{len(expected)} sittings with a timeline" in out
    first = next(line for line in out.splitlines() if line.split()[:1] == [str(expected[0].index)])
    assert first.endswith(f"{sum(r for r, _ in expected[0].right)} of {sum(n for _, n in expected[0].right)}")


@pytest.mark.parametrize("argv, message", [
    (["--user", "1", "--sitting", "0"], "--sitting takes a sitting number"),
    (["--user", "1", "--sitting", "soon"], "--sitting takes a sitting number"),
    (["--user", "1", "--sitting", "999"], "has sittings 1 to"),
    (["--user", "1", "--window", "2"], "use it with --sitting"),
    (["--ratings", "50:5,172:4", "--sitting", "2"], "one sitting"),
    (["--ratings", "50:5", "--sitting", "1"], "at least 2 rated movies"),
    (["--user", "1", "--item", "99999"], "Unknown movie"),
])
def test_mistakes_are_one_sentence(capsys, data_args, argv, message):
    code, out, err = run_cli(capsys, "experts", *argv, *data_args)
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""
