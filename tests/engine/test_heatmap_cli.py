"""`python -m engine heatmap` on the CI-sized pixel model (tests/engine/pixel_model_fixture.py): the
JSON's invariants, the text's numbers, `--top`, that MovieLens is never loaded, and errors a user can
cause (one sentence, exit code 2)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine import heatmap_command
from engine.api import Engine
from engine.cli import main
from tests.engine.pixel_model_fixture import cache_dir, ci_explainer, model_options


@pytest.fixture()
def cli(monkeypatch, capsys):
    """Runs the verb on the CI model (trained once); Engine.load fails the test if MovieLens is touched."""
    ci_explainer()  # trains or loads it once, or skips without Fashion-MNIST
    monkeypatch.setattr(heatmap_command, "MODEL_OPTIONS", model_options())

    def no_movielens(*args, **kwargs):
        raise AssertionError("the heatmap verb loaded MovieLens")

    monkeypatch.setattr(Engine, "load", no_movielens)

    def run(*words):
        code = main(["heatmap", *words, "--offline", "--quiet", "--cache-dir", str(cache_dir())])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_json_of_a_pair_keeps_the_invariants(cli):
    code, out, err = cli("--shopper", "brand", "--item", "21", "--with", "22", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["lens"] == "pixels" and data["shopper"] == "brand" and "rule" in data["note"]
    assert data["query"]["id"] == 21 and data["candidate"]["id"] == 22
    assert data["related_by_rule"] == (data["query"]["brand"] == data["candidate"]["brand"])
    assert data["probability"] == pytest.approx(1 / (1 + math.exp(-data["logit"])), rel=1e-12)
    parts = data["decomposition"]
    net = data["views"]["net"]
    for image in ("query", "candidate"):
        assert np.array(net[image]).shape == (28, 28)
        assert float(np.sum(net[image])) == pytest.approx(parts[f"{image}_pixels"], abs=1e-9)
    total = parts["offset"] + parts["query_pixels"] + parts["candidate_pixels"] + parts["kept_back"]
    assert total == pytest.approx(data["logit"], abs=1e-4)
    shared = data["views"]["shared"]
    for image in ("query", "candidate"):
        assert shared["totals"][image] + shared["kept_back"][image] == pytest.approx(data["similarity"], abs=1e-4)
    assert data["conservation_error"] <= 1e-4 and set(data["mark_mass"]) == {"why_not", "why_related"}


def test_the_json_equals_the_explainers_explanation(cli):
    code, out, _ = cli("--shopper", "style", "--item", "3", "--with", "17", "--json", "--view", "shared")
    assert code == 0
    data = json.loads(out)
    expected = ci_explainer().explain_pair("style", 3, 17).to_dict()
    assert set(data["views"]) == {"shared"}
    assert data["views"]["shared"] == expected["views"]["shared"]
    assert data["logit"] == expected["logit"] and data["decomposition"] == expected["decomposition"]


def test_text_names_the_pair_the_decomposition_and_the_mark_mass(cli):
    code, out, _ = cli("--shopper", "brand", "--item", "21", "--with", "22", "--view", "net")
    assert code == 0
    e = ci_explainer().explain_pair("brand", 21, 22)
    assert f"P(related) = {e.probability:.3f}" in out
    assert f"Logit {e.logit:+.4f} = offset {e.offset:+.4f}" in out
    assert f"why-not mass on the planted marks {e.mark_share('why_not'):.0%}" in out
    assert "What differs" in out and "What they share" not in out
    assert "item 21 (" in out and "item 22 (" in out and "rule, not from purchases" in out
    rows = [line for line in out.splitlines() if line.startswith("  ") and len(line.strip().split()) == 2
            and set(line.strip()) <= set(".+#-= ")]
    assert len(rows) == 28


def test_top_lists_the_most_related_items(cli):
    code, out, _ = cli("--shopper", "brand", "--item", "5", "--top", "4", "--json")
    assert code == 0
    data = json.loads(out)
    expected = ci_explainer().related("brand", 5, 4)
    assert [r["id"] for r in data["related"]] == [item.id for item, _ in expected]
    assert [r["probability"] for r in data["related"]] == [p for _, p in expected]
    code, out, _ = cli("--shopper", "brand", "--item", "5", "--top", "4")
    assert code == 0 and out.count(" P = ") == 4 and "Most related for the brand shopper" in out


@pytest.mark.parametrize("words, message", [
    (("--shopper", "shoes", "--item", "1", "--with", "2"), "Unknown shopper 'shoes'"),
    (("--shopper", "brand", "--item", "1", "--with", "10000"), "no catalogue item 10000"),
    (("--shopper", "brand", "--item", "-3", "--with", "2"), "--item -3 is not a product"),
    (("--shopper", "brand", "--item", "1"), "--with ID"),
    (("--shopper", "brand", "--item", "1", "--with", "2", "--view", "all"), "Unknown view 'all'"),
    (("--shopper", "brand", "--item", "1", "--with", "2", "--rules", "magic"), "Unknown rule set 'magic'"),
])
def test_errors_are_one_sentence_with_exit_code_2(cli, words, message):
    code, out, err = cli(*words)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and err.startswith("error: ")


def test_missing_data_is_one_sentence(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(Engine, "load", lambda *a, **k: pytest.fail("the heatmap verb loaded MovieLens"))
    code = main(["heatmap", "--shopper", "brand", "--item", "1", "--with", "2", "--quiet",
                 "--fashion-data", str(tmp_path / "nowhere"), "--cache-dir", str(tmp_path / "cache")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "Fashion-MNIST" in err and "does not exist" in err and err.count("\n") == 1
