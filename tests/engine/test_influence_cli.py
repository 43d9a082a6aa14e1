"""`python -m engine influence`: the JSON shape, the text report, and one-sentence errors."""
import json
import os
from pathlib import Path

import pytest

from engine.cli import main
from tests.engine.small_movielens import tiny_args


def run_cli(capsys, *argv):
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def data_args(ml100k_engine, engine_cache):
    return ["--data", str(Path(os.environ["CINEWHY_DATA"]) / "ml-100k"), "--cache-dir", engine_cache, "--offline"]


def test_json_for_a_dataset_user(capsys, data_args, ml100k_engine):
    code, out, _ = run_cli(capsys, "influence", "--user", "1", "--item", "96", "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    assert payload["lens"] == "influence" and payload["model"] == "mf" and payload["dataset"] == "ml-100k"
    assert payload["item"]["id"] == 96 and payload["user"] == 1 and payload["fold_in"] is False
    assert 1 < payload["predicted_rating"] < 6
    rows = payload["ratings"]
    assert {r["kind"] for r in rows} == {"own", "other"}
    assert sum(r["kind"] == "own" for r in rows) == len(ml100k_engine.user_profile(1).movies)
    for row in rows:
        assert set(row) >= {"kind", "user", "item", "title", "rating", "influence"}
    magnitudes = [abs(r["influence"]) for r in rows]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_json_for_an_ad_hoc_profile_is_a_fold_in(capsys, data_args):
    code, out, _ = run_cli(capsys, "influence", "--ratings", "50:5,172:4,181:2", "--gender", "F", "--age", "30",
                           "--item", "96", "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    assert payload["fold_in"] is True and payload["user"] is None and "folded" in payload["note"]
    own = [r for r in payload["ratings"] if r["kind"] == "own"]
    assert sorted((r["item"], r["rating"]) for r in own) == [(50, 5.0), (172, 4.0), (181, 2.0)]
    assert all(r["user"] is None for r in own)


def test_text_names_the_prediction_the_top_ratings_and_what_is_left_out(capsys, data_args):
    code, out, _ = run_cli(capsys, "influence", "--user", "1", "--top", "2", *data_args)
    assert code == 0
    lines = out.splitlines()
    assert "predicted" in lines[0] and "stars" in lines[0]
    assert lines[1].startswith("Own ratings that moved it most (of 272)")
    assert sum(line.startswith("  +") or line.startswith("  -") for line in lines) == 4
    assert any(line.startswith("Not listed: 270 more own ratings") for line in lines)
    assert "first-order estimate" in out


@pytest.mark.parametrize("argv, message", [
    (["--user", "99999"], "Unknown user 99999"),
    (["--user", "1", "--item", "999999"], "Unknown movie id 999999"),
    (["--ratings", "50-5"], "--ratings takes movie:stars pairs"),
    (["--ratings", "50:6"], "Stars are 1 to 5, got 6 for movie 50"),
    (["--ratings", "50:0,1:3"], "Stars are 1 to 5, got 0"),
    (["--ratings", ","], "needs at least one movie:stars pair"),
    (["--user", "1", "--gender", "F"], "use them with --ratings"),
    (["--ratings", "50:5\u00b2"], "--ratings takes movie:stars pairs"),  # '²' passes isdigit(), not int()
    (["--ratings", "5\u00b2:5"], "--ratings takes movie:stars pairs"),
    (["--ratings", "50:" + "9" * 5000], "Stars are 1 to 5"),
    (["--ratings", "50:5", "--age", "3\u00b2"], "--age takes years in digits 0-9"),
])
def test_bad_input_is_one_sentence_and_exit_2(capsys, data_args, argv, message):
    code, out, err = run_cli(capsys, "influence", *argv, *data_args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_damaged_influence_model_is_retrained_with_a_note(tmp_path, capsys):
    args = ["influence", "--ratings", "1:5,2:4", "--item", "3", *tiny_args(tmp_path)]
    assert run_cli(capsys, *args)[0] == 0
    (manifest,) = (tmp_path / "cache" / "models").glob("*-influence-mf-*/manifest.json")
    manifest.write_text("null")
    code, out, err = run_cli(capsys, *args)
    assert code == 0 and "predicted" in out
    assert "moved to" in err and "retrained" in err and "Traceback" not in err
