"""The chat shows again only what was said about the profile in view, of the window's own dataset:
each dataset user has a conversation of its own, and an ml-1m window on the same data folder does
not show what was asked about ml-100k's users (all of it used to be kept, and shown, together)."""
from __future__ import annotations

import pytest

from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from engine.api import Engine
from test_main_window import open_window, wait_fresh  # noqa: F401 (a fixture)
from test_rough_edges_window import write_reindexed_ml1m

QUESTION = "why this movie?"


def ask_and_wait(qtbot, window, text: str = QUESTION) -> str:
    with qtbot.waitSignal(window.conversation.answered, timeout=20_000) as answered:
        window.ask(text)
    return answered.args[0].answer.text


def after_last_divider(window, name: str) -> str:
    text = window.chat.transcript_text()
    return text[text.rindex(name):]


def test_each_dataset_user_gets_back_only_its_own_conversation(qtbot, open_window):
    window = open_window(("user", 1))
    ask_and_wait(qtbot, window)
    window.open_user(2)
    wait_fresh(qtbot, window)
    assert after_last_divider(window, "User 2 (dataset user)").strip() == "User 2 (dataset user)"
    window.open_user(1)
    wait_fresh(qtbot, window)
    shown = after_last_divider(window, "User 1 (dataset user)")
    assert shown.startswith("User 1 (dataset user) · 2 earlier messages") and QUESTION in shown
    window.close()

    again = open_window(("user", 1))  # after a restart too
    assert "User 1 (dataset user) · 2 earlier messages" in again.chat.transcript_text()


@pytest.fixture(scope="module")
def reindexed_engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("reindexed")
    return Engine.load("ml-1m", write_reindexed_ml1m(root / "ml-1m"), offline=True, cache_dir=root / "cache")


def test_an_ml1m_window_does_not_show_what_was_asked_on_ml100k(qtbot, open_window, reindexed_engine, store_path,
                                                                settings):
    ml100k = open_window(("user", 1))
    answer = ask_and_wait(qtbot, ml100k)
    ml100k.close()

    store = ProfileStore(store_path)  # the same data folder
    try:
        window = MainWindow(reindexed_engine, store, settings, start=("user", 1))
        qtbot.addWidget(window)
        window.show()
        wait_fresh(qtbot, window)
        text = window.chat.transcript_text()
        assert "User 1 (dataset user)" in text and "earlier message" not in text
        assert QUESTION not in text and answer.splitlines()[0] not in text
        ask_and_wait(qtbot, window, "recommend something")
        kept = store.messages(None, dataset="ml-1m", dataset_user=1)
        assert [(m.speaker, m.text) for m in kept][0] == ("user", "recommend something")
        assert [m.text for m in store.messages(None, dataset="ml-100k", dataset_user=1)][0] == QUESTION
        window.close()
    finally:
        store.close()
