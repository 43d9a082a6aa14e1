"""`python -m assistant ask` with typed questions: the answer's lens and the explanation it was phrased
from are in --json, and --lens sets the lens "why" is asked through; with --profile, a change and the
exchange are saved; a damaged or unusable profiles database and control characters are reported
plainly."""
from __future__ import annotations

import json
import os
import sqlite3
import unicodedata

import pytest

from assistant.ask_cli import main, terminal_safe
from assistant.storage import LATEST_VERSION, ProfileStore
from engine.api import Lens


@pytest.fixture
def ask(app_engine, capsys):
    """Runs the command in this process on the test data and cache; returns (exit code, stdout)."""
    data = os.path.join(os.environ["CINEWHY_DATA"], "ml-100k")

    def run(*argv: str) -> tuple[int, str]:
        code = main([*argv, "--data", data, "--offline", "--cache-dir", os.environ["CINEWHY_CACHE"]])
        return code, capsys.readouterr().out
    return run


@pytest.fixture
def ask_err(app_engine, capsys):
    """As `ask`, returning (exit code, stdout, stderr)."""
    data = os.path.join(os.environ["CINEWHY_DATA"], "ml-100k")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--data", data, "--offline", "--cache-dir", os.environ["CINEWHY_CACHE"]])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
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


# ---- saved profiles ------------------------------------------------------------------------------------


def heat(engine):
    return next(m for m in engine.catalogue.movies if m.title == "Heat")


@pytest.fixture
def mine(store_path, app_engine):
    """A saved profile "Mine" without Heat."""
    with ProfileStore(store_path) as store:
        return store.create("ml-100k", "Mine", movies=[1, 50], ratings=[4, 5])


def test_a_change_through_a_saved_profile_saves_the_edit_and_the_conversation(ask_err, app_engine, mine, store_path):
    code, out, err = ask_err("add Heat", "--profile", "Mine")
    assert code == 0, err
    assert "answer: Added Heat (1995)" in out
    assert "saved: “Mine” now has 3 movies; the question and answer are in its conversation" in out
    with ProfileStore(store_path) as store:
        stored = store.get(mine.id)
        assert stored.movies == (1, 50, heat(app_engine).id) and stored.ratings[:2] == (4, 5)
        said = [(m.speaker, m.text) for m in store.messages(mine.id)]
    assert said[0] == ("user", "add Heat") and said[1][0] == "assistant" and said[1][1].startswith("Added Heat (1995)")
    assert len(said) == 2

    code, out, _ = ask_err("help", "--profile", "mine", "--json")  # no change: the exchange is kept all the same
    report = json.loads(out)
    assert code == 0 and report["saved"] == {"profile": "Mine", "profile_id": mine.id, "profile_changed": False,
                                             "movies": 3, "conversation": True}
    with ProfileStore(store_path) as store:
        assert [m.text for m in store.messages(mine.id)][2] == "help" and len(store.messages(mine.id)) == 4
        assert store.get(mine.id).movies == (1, 50, heat(app_engine).id)


def test_a_change_for_a_dataset_user_says_it_was_not_kept(ask_err, app_engine, store_path):
    movie = next(m for m in app_engine.catalogue.movies if m.title in ("Heat", "Fargo", "Braveheart", "Casablanca")
                 and m.id not in app_engine.user_profile(1).movies)
    code, out, _ = ask_err(f"add {movie.title}", "--user", "1")
    assert code == 0 and f"answer: Added {movie.label}" in out
    assert "not saved: dataset users are read-only, so this change was not kept; ask with --profile NAME" in out
    assert not store_path.exists()  # nothing was written anywhere


def test_a_save_that_fails_says_nothing_was_saved(ask_err, mine, store_path, monkeypatch):
    def read_only(self):
        uri = self.path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False)
    monkeypatch.setattr(ProfileStore, "_connect", read_only)
    code, out, err = ask_err("add Heat", "--profile", "Mine")
    assert code == 2 and "answer: Added Heat (1995)" in out and "saved:" not in out
    assert err.strip() == ("error: nothing was saved, neither the change nor this exchange: Could not save to the "
                           "profile database: the profile database is read-only.")
    monkeypatch.undo()
    with ProfileStore(store_path) as store:
        assert store.get(mine.id).movies == (1, 50) and store.messages(mine.id) == []


@pytest.mark.parametrize("damage", ["garbage", "newer schema", "schema version -1"])
def test_a_damaged_or_newer_database_is_moved_aside_and_the_cli_says_where(ask_err, mine, store_path, damage):
    if damage == "garbage":
        store_path.write_bytes(b"not a database at all " * 200)
    else:
        conn = sqlite3.connect(store_path, isolation_level=None)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1 if damage == 'newer schema' else -1}")
        conn.close()
    code, out, err = ask_err("help", "--profile", "Mine")
    assert code == 2 and out == ""
    moved = [p for p in store_path.parent.iterdir()
             if p.name.startswith("profiles.sqlite3.") and not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("note: The saved profiles file could not be used because ")
    assert lines[0].endswith(f"The old file was kept as {moved[0]}.")
    assert lines[1] == "error: No saved profile called 'Mine' for ml-100k (saved profiles: none yet)."


@pytest.mark.parametrize("where", ["under a file", "a folder at the database's path"])
def test_an_unusable_profiles_path_is_one_line_not_a_traceback(ask_err, tmp_path, monkeypatch, where):
    if where == "under a file":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file")
        monkeypatch.setenv("CINEWHY_DATA_HOME", str(blocker / "cinewhy"))
        reason = f"{blocker} is a file, not a folder; choose another data folder with CINEWHY_DATA_HOME."
    else:
        home = tmp_path / "home"
        (home / "profiles.sqlite3").mkdir(parents=True)
        monkeypatch.setenv("CINEWHY_DATA_HOME", str(home))
        reason = "that is a folder, where the database file should be; move the folder away or choose another data"
    code, out, err = ask_err("help", "--profile", "Mine")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: Could not open the saved profiles at ")
    assert reason in err


# ---- what reaches the terminal ------------------------------------------------------------------------


def steers(text: str) -> bool:
    return any((unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in "\u202e\u2066\u2028"
               for ch in text)


def test_control_characters_from_the_question_are_printed_escaped(ask_err):
    question = "why not \x1b[31mFargoo\x07\x9b2J\u202e?"
    code, out, err = ask_err(question, "--user", "1")
    assert code == 0 and not steers(out) and not steers(err)
    assert "\\x1b[31mFargoo\\x07\\x9b2J\\u202e" in out  # visible as escapes, not lost
    code, out, _ = ask_err(question, "--user", "1", "--json")
    assert code == 0 and not steers(out)
    assert json.loads(out)["question"] == question  # the same value, only written with escapes


def test_terminal_safe_escapes_what_steers_a_terminal_and_keeps_the_rest():
    assert terminal_safe("Amélie (2001)\n\tnext") == "Amélie (2001)\n\tnext"
    assert terminal_safe("a\x1b]0;title\x07b\x7f\x85\u2066c\u2028") == "a\\x1b]0;title\\x07b\\x7f\\x85\\u2066c\\u2028"


def test_a_damaged_model_is_retrained_with_a_note_on_stderr(tmp_path, capsys):
    """As `python -m engine`: a damaged cached model is moved aside and retrained, and ask says so."""
    from engine.cli import main as engine_main
    from tests.engine.small_movielens import tiny_args

    assert engine_main(["train", *tiny_args(tmp_path)]) == 0
    (manifest,) = (tmp_path / "cache" / "models").glob("*-relevance-reconet-*/manifest.json")
    manifest.write_text("[]")
    capsys.readouterr()
    code = main(["recommend something", "--user", "1", *tiny_args(tmp_path)])
    err = capsys.readouterr().err
    assert code == 0 and "note:" in err and "moved to" in err and "retrained" in err
