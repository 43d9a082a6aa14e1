"""`python -m engine bench fidelity` and `bench index` write their files (a small dataset, few profiles)."""
import json

import pytest

from engine.cli import main
from engine.evaluation import report_index
from tests.engine.small_movielens import tiny_args


def test_bench_fidelity_writes_json_markdown_figures_and_the_index(tmp_path, capsys):
    out = tmp_path / "reports"
    args = ["bench", "fidelity", *tiny_args(tmp_path), "--quiet", "--users", "4", "--lime-samples", "60",
            "--seed", "2", "--output", str(out)]
    assert main(args) == 0
    report = json.loads((out / "fidelity-ml-100k-seed2.json").read_text())
    assert report["seed"] == 2 and report["counts"]["profiles"] == 6  # 4 users + 2 ad-hoc profiles
    assert set(report["lime"]) == {"60", "6"}
    assert report["removal"][0]["k"] == 1 and {"lrp", "random", "lime"} <= set(report["removal"][0])
    for row in report["removal"]:
        assert row["lrp"]["low"] <= row["lrp"]["mean"] <= row["lrp"]["high"]
    assert report["top1_vs_random1"]["n_first"] == 6 and 0 <= report["top1_vs_random1"]["p_two_sided"] <= 1
    assert "bench fidelity" in report["command"] and report["machine"]["cpus"]
    for filename in report["figures"].values():
        assert (out / filename).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "fidelity-ml-100k-seed2.md").read_text()
    assert "Mann-Whitney" in markdown and "LIME / LRP time" in markdown

    (out / "reconet-ml-100k.json").write_text(json.dumps({"dataset": "ml-100k", "models": {}}))
    (out / "voice-ml-100k.json").write_text(json.dumps({"dataset": "ml-100k", "spoken": {}}))
    (out / "broken-x.json").write_text("{not json")
    assert main(["bench", "index", "--output", str(out)]) == 0
    index = (out / "README.md").read_text()
    assert "[fidelity-ml-100k-seed2.md](fidelity-ml-100k-seed2.md)" in index
    assert "fidelity-ml-100k-seed2-removal.png" in index and report["date"] in index
    assert "`python -m engine bench reconet --dataset ml-100k` (inferred)" in index
    assert "`python -m assistant bench voice --dataset ml-100k` (inferred)" in index
    assert "broken" not in index


def test_index_reads_command_date_and_machine_from_each_report(tmp_path):
    (tmp_path / "seed-1").mkdir()
    (tmp_path / "seed-1" / "influence-ml-1m.json").write_text(json.dumps({
        "dataset": "ml-1m", "seed": 1, "command": "python -m engine bench influence --seed 1", "date": "2026-12-07 13:43 UTC",
        "machine": {"platform": "Linux-x", "cpus": 2}}))
    (tmp_path / "app-ml-1m.json").write_text(json.dumps({"dataset": "ml-1m", "measured_at": "2026-12-07T15:46:13Z"}))
    rows = {row["json"]: row for row in report_index.entries(tmp_path)}
    influence = rows["seed-1/influence-ml-1m.json"]
    assert (influence["command"], influence["date"], influence["machine"], influence["seed"]) == (
        "python -m engine bench influence --seed 1", "2026-12-07 13:43 UTC", "Linux-x, 2 CPUs", 1)
    assert not influence["inferred"] and influence["markdown"] is None
    app = rows["app-ml-1m.json"]
    assert app["date"] == "2026-12-07T15:46:13Z" and app["machine"] == "not recorded" and app["inferred"]
    text = report_index.render(report_index.entries(tmp_path))
    assert text.index("## Influence lens") < text.index("## App latency")


def test_removing_a_feature_row_is_the_profile_without_that_movie_or_attribute(tmp_path):
    """The benchmark's row masks mean what a user would do: drop a movie (its genres are still
    covered by the others here, as every small-dataset movie has the same genres) or an attribute."""
    from dataclasses import replace


    from engine.api import Engine
    from engine.evaluation import bench_fidelity, fidelity
    from tests.engine.small_movielens import write_small_ml100k

    write_small_ml100k(tmp_path / "ml-100k")
    engine = Engine.load("ml-100k", tmp_path / "ml-100k", offline=True, cache_dir=tmp_path / "cache")
    explainer = engine._relevance
    profile = engine.user_profile(engine.user_ids()[0])
    instance = bench_fidelity._instance(engine, explainer, "u", profile)
    target = int(explainer._vocabulary.item_ids[instance.target])
    model = fidelity.ProfileModel(explainer._weights, instance)
    movie = profile.movies[0]
    gender_row = explainer._vocabulary.user_attributes(profile.gender, None, None)[0]
    for row, edited in ((explainer._vocabulary.item_index[movie], profile.without_movie(movie)),
                        (gender_row, replace(profile, gender=None))):
        mask = instance.rows != row
        assert mask.sum() == len(instance.rows) - 1
        expected = engine.explain(edited, target).logit
        assert float(model.logits(mask)[0, instance.target]) == pytest.approx(expected, abs=1e-5)
