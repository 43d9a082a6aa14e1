"""`python -m engine`: JSON shapes, conservation in the output, clear errors without tracebacks."""
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from tests.engine.small_movielens import tiny_args

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
        (["recommend", "--items", "5\u00b2"], "digits 0-9"),  # '5²': isdigit() but not int()
        (["recommend", "--items", "\uff15\uff10"], "digits 0-9"),  # full-width '50'
        (["explain", "--items", "50", "--age", "2\u00b2"], "--age takes years in digits 0-9"),
        (["explain", "--items", "50", "--age", "9" * 5000], "out of range"),
        (["recommend", "--items", "9" * 5000], "longer than any movie id"),
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


TWO_RATINGS = "1\t1\t5\t881250949\n2\t2\t4\t881250950\n"


@pytest.mark.parametrize("manifest", ["[]", "null", "[" * 100_000 + "]" * 100_000])
def test_a_damaged_model_manifest_is_rebuilt_with_a_note(tmp_path, capsys, manifest):
    assert run_cli(capsys, "train", *tiny_args(tmp_path))[0] == 0
    (path,) = (tmp_path / "cache" / "models").glob("*-relevance-reconet-*/manifest.json")
    path.write_text(manifest)
    code, out, err = run_cli(capsys, "recommend", "--user", "1", "--k", "1", *tiny_args(tmp_path))
    assert code == 0 and out.startswith(" 1. ")
    assert "moved to" in err and "retrained" in err and "Traceback" not in err
    assert run_cli(capsys, "recommend", "--user", "1", "--k", "1", *tiny_args(tmp_path))[2] == ""  # rebuilt


def test_a_changed_weights_file_is_retrained_with_a_note(tmp_path, capsys):
    assert run_cli(capsys, "train", *tiny_args(tmp_path))[0] == 0
    (path,) = (tmp_path / "cache" / "models").glob("*-relevance-reconet-*/weights.npz")
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    np.savez(path, **dict(arrays, output_bias=arrays["output_bias"] + 1.0))  # finite, same shapes
    code, _, err = run_cli(capsys, "recommend", "--user", "1", "--k", "1", *tiny_args(tmp_path))
    assert code == 0 and "SHA-256" in err and "moved to" in err


def test_an_unwritable_cache_is_reported_before_training(tmp_path, capsys):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    folder = tmp_path / "ml-100k"
    write_ml100k(folder, TWO_RATINGS)
    code, out, err = run_cli(capsys, "train", "--data", str(folder), "--offline", "--cache-dir", str(blocker / "cache"))
    assert code == 2 and out == ""
    assert "cannot be written" in err and "CINEWHY_CACHE" in err and "Traceback" not in err
    assert "Training" not in err


@pytest.mark.parametrize("k", ["10000000000000000000", "18446744073709551616", "9" * 5000])
def test_a_huge_k_lists_the_whole_catalogue(capsys, data_args, k):
    code, out, err = run_cli(capsys, "recommend", "--items", "50", "--k", k, *data_args)
    assert code == 0 and "Traceback" not in err
    assert len(out.splitlines()) == 1682 - 1  # every movie but the one in the profile


def test_k_is_bounded_by_the_catalogue_before_ranking(capsys, data_args, monkeypatch):
    from engine.api import Engine

    asked = []
    real = Engine.recommend
    monkeypatch.setattr(Engine, "recommend", lambda self, profile, k=10, explain=False: asked.append(k) or real(
        self, profile, k, explain))
    assert run_cli(capsys, "recommend", "--items", "50", "--k", "1000000000", "--json", *data_args)[0] == 0
    assert asked == [1682]  # not a billion: the ranking allocates per requested slot


@pytest.mark.parametrize("k", ["\u00b2", "0", "000", "-3", "\uff13"])
def test_k_takes_ascii_digits_only(capsys, k):
    with pytest.raises(SystemExit) as exit_info:
        main(["recommend", "--user", "1", "--k", k])
    assert exit_info.value.code == 2
    assert "positive whole number (digits 0-9)" in capsys.readouterr().err
