"""`python -m engine`: JSON shapes, conservation in the output, clear errors without tracebacks."""
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *argv):
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def data_args(ml100k_engine, engine_cache):
    return ["--data", str(Path(os.environ["CINEWHY_DATA"]) / "ml-100k"), "--cache-dir", engine_cache, "--offline"]


def assert_conserved(payload):
    total = sum(f["relevance"] for f in payload["features"]) + payload["bias_share"] + payload["absorbed"]
    assert abs(total - payload["logit"]) <= 1e-4 * max(1.0, abs(payload["logit"]))


def test_explain_json_for_a_dataset_user(capsys, data_args):
    code, out, _ = run_cli(capsys, "explain", "--user", "1", "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    assert set(payload["item"]) == {"id", "title"}
    assert 0 < payload["probability"] < 1
    assert {"logit", "bias_share", "features", "rank", "profile"} <= set(payload)
    assert payload["rank"] == 1
    for feature in payload["features"]:
        assert set(feature) == {"kind", "id", "name", "relevance"}
    assert_conserved(payload)


def test_explain_json_for_an_ad_hoc_profile(capsys, data_args):
    code, out, _ = run_cli(capsys, "explain", "--items", "50,172,181", "--gender", "F", "--age", "25",
                           "--item", "1", "--json", *data_args)
    assert code == 0
    payload = json.loads(out)
    assert payload["item"]["id"] == 1
    assert {f["id"] for f in payload["features"] if f["kind"] == "movie"} == {"50", "172", "181"}
    assert_conserved(payload)


def test_recommend_text_names_reasons(capsys, data_args):
    code, out, _ = run_cli(capsys, "recommend", "--user", "1", "--k", "3", *data_args)
    assert code == 0
    lines = out.rstrip("\n").splitlines()
    assert len(lines) == 3 and lines[0].startswith(" 1. ") and "because" in lines[0]


def test_recommend_json_shape(capsys, data_args):
    code, out, _ = run_cli(capsys, "recommend", "--items", "1,2", "--k", "4", "--json", *data_args)
    payload = json.loads(out)
    assert code == 0 and len(payload["recommendations"]) == 4
    first = payload["recommendations"][0]
    assert set(first) == {"rank", "item", "probability", "logit", "reasons"}
    assert set(first["item"]) == {"id", "title", "year", "genres"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["explain", "--user", "5000"], "Unknown user 5000"),
        (["explain", "--user", "1", "--item", "99999"], "Unknown movie id 99999"),
        (["recommend", "--items", "1,x"], "comma-separated movie ids"),
        (["recommend", "--items", "1", "--age", "old"], "Unknown age"),
        (["recommend", "--user", "1", "--gender", "F"], "ad-hoc profile"),
    ],
)
def test_bad_arguments_give_one_clear_message(capsys, data_args, argv, message):
    code, out, err = run_cli(capsys, *argv, *data_args)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def write_ml100k(folder: Path, ratings: str):
    folder.mkdir()
    (folder / "u.data").write_text(ratings)
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    item = "|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    (folder / "u.item").write_text(f"1|Toy Story (1995){item}2|GoldenEye (1995){item}")


@pytest.mark.parametrize(
    "ratings, expected",
    [
        ("1\t1\t5\t881250949\n1\t2\tfive\t881250949\n", "line 2"),
        ("1,1,5,881250949\n", "line 1"),
    ],
)
def test_malformed_data_exits_non_zero_without_traceback(tmp_path, ratings, expected):
    folder = tmp_path / "ml-100k"
    write_ml100k(folder, ratings)
    result = subprocess.run(
        [sys.executable, "-m", "engine", "recommend", "--user", "1", "--data", str(folder), "--offline",
         "--cache-dir", str(tmp_path / "cache"), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "u.data" in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_truncated_gzip_exits_non_zero_without_traceback(tmp_path):
    folder = tmp_path / "ml-100k"
    write_ml100k(folder, "")
    blob = gzip.compress(b"1\t1\t5\t881250949\n" * 2000)
    (folder / "u.data").unlink()
    (folder / "u.data.gz").write_bytes(blob[: len(blob) // 2])
    result = subprocess.run(
        [sys.executable, "-m", "engine", "train", "--data", str(folder), "--offline",
         "--cache-dir", str(tmp_path / "cache"), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "u.data.gz" in result.stderr and "Traceback" not in result.stderr


def test_argparse_rejects_non_positive_k(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["recommend", "--user", "1", "--k", "0"])
    assert exit_info.value.code == 2
    assert "positive whole number" in capsys.readouterr().err
