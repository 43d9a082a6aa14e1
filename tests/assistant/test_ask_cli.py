"""`python -m assistant ask` with typed questions: the answer's lens and the explanation it was phrased
from are in --json, and --lens sets the lens "why" is asked through."""
from __future__ import annotations

import json
import os

import pytest

from assistant.ask_cli import main
from engine.api import Lens


@pytest.fixture
def ask(app_engine, capsys):
    """Runs the command in this process on the test data and cache; returns (exit code, stdout)."""
    data = os.path.join(os.environ["CINEWHY_DATA"], "ml-100k")

    def run(*argv: str) -> tuple[int, str]:
        code = main([*argv, "--data", data, "--offline", "--cache-dir", os.environ["CINEWHY_CACHE"]])
        return code, capsys.readouterr().out
    return run


def test_who_influenced_this_reports_the_influence_lens_and_its_explanation(ask, app_engine):
    code, out = ask("who influenced this?", "--user", "1", "--json")
    assert code == 0
    report = json.loads(out)
    profile = app_engine.user_profile(1)
    top = app_engine.recommend(profile, 1)[0].movie
    assert report["intent"] == "who_influenced" and report["lens"] == "influence" and report["movie_id"] == top.id
    explanation = app_engine.explain(profile, top.id, Lens.INFLUENCE)
    assert report["explanation"] == json.loads(json.dumps(explanation.to_dict()))
    assert report["explanation"]["lens"] == "influence" and report["explanation"]["item"]["id"] == top.id
    assert {r["kind"] for r in report["explanation"]["ratings"]} == {"own", "other"}


def test_why_follows_the_lens_given_and_defaults_to_relevance(ask, app_engine):
    _, out = ask("why this movie?", "--user", "1", "--json")
    default = json.loads(out)
    assert default["lens"] == "relevance" and default["explanation"]["lens"] == "relevance"
    _, out = ask("why this movie?", "--user", "1", "--json", "--lens", "influence")
    influence = json.loads(out)
    assert influence["lens"] == "influence" and influence["explanation"]["lens"] == "influence"
    assert influence["movie_id"] == default["movie_id"]


def test_text_output_names_the_lens_and_an_answer_without_explanation_has_none(ask):
    code, out = ask("which of my ratings mattered most for Heat", "--user", "1")
    assert code == 0 and "intent: my_ratings (title=Heat)" in out and "lens: influence" in out
    _, out = ask("help", "--user", "1", "--json")
    assert json.loads(out)["explanation"] is None and json.loads(out)["lens"] is None
