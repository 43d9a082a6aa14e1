"""`python -m engine bench experts --part session` writes its report; a dataset without enough
sittings is one clear sentence."""
import json

from engine.cli import main
from tests.engine.small_movielens import write_small_ml100k
from tests.engine.synthetic_sittings import synthetic_sittings, write_ml100k_folder


def test_the_session_bench_writes_its_report(tmp_path, capsys):
    folder = tmp_path / "ml-100k"
    write_ml100k_folder(synthetic_sittings(users=60), folder)
    code = main(["bench", "experts", "--part", "session", "--data", str(folder), "--offline", "--cache-dir",
                 str(tmp_path / "cache"), "--output", str(tmp_path / "reports"), "--seed", "0", "--max-epochs", "1",
                 "--folds", "3", "--quiet"])
    assert code == 0
    report = json.loads((tmp_path / "reports" / "experts-session-ml-100k-seed0.json").read_text())
    assert report["seeds"] == [0] and report["runs"][0]["training"]["epochs"] == 1
    assert report["cross_validation"]["folds"] == 3 and report["cross_validation"]["users_tested"] == 60
    out = capsys.readouterr().out
    assert "Session expert model on ml-100k" in out and "3-fold user cross-validation" in out


def test_too_few_sittings_is_one_sentence(tmp_path, capsys):
    folder = tmp_path / "ml-100k"
    write_small_ml100k(folder)  # 12 users with 6 ratings each: no sitting of 10
    code = main(["bench", "experts", "--part", "session", "--data", str(folder), "--offline", "--cache-dir",
                 str(tmp_path / "cache"), "--output", str(tmp_path / "reports"), "--seed", "0", "--quiet"])
    assert code != 0
    assert "too few sittings" in capsys.readouterr().err
