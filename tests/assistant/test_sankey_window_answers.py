"""In the window: the Sankey's grouped view reaches the conversation, and "why not Fargo?" for a
profile movie draws Fargo explained as if left out (issue 13.2, 13.3)."""
from __future__ import annotations

import pytest

from assistant.live_recommender import LiveRecommender
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from engine.api import GROUP_KIND, Lens


@pytest.fixture
def window(qtbot, app_engine, store_path, settings, monkeypatch):
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    store = ProfileStore(store_path)
    window = MainWindow(app_engine, store, settings, start=("user", 1))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=10_000)
    yield window
    store.close()


def answered(qtbot, window, text):
    with qtbot.waitSignal(window.conversation.answered, timeout=30_000) as asked:
        window.ask(text)
    return asked.args[0].answer


def test_grouped_view_toggle_makes_why_name_the_genre_groups(qtbot, window):
    panel = window.tabs.panel(Lens.RELEVANCE)
    panel.group_action.trigger()  # Ctrl+G
    assert panel.grouped

    answer = answered(qtbot, window, "why this movie?")

    assert answer.shares and answer.shares[0].kind == GROUP_KIND
    qtbot.waitUntil(lambda: bool(getattr(panel.view.drawn_explanation, "groups", None)), timeout=10_000)
    bands = [b.name for b in panel.view.sankey_layout().bands]
    assert answer.shares[0].name in bands  # what is said is what is drawn


def test_why_not_fargo_draws_it_as_if_left_out(qtbot, window, app_engine):
    fargo = next(m for m in app_engine.movies() if m.title == "Fargo")
    assert fargo.id in window.profile.movies

    answer = answered(qtbot, window, "why not Fargo?")

    assert "as if you had not watched it" in answer.text
    panel = window.tabs.panel(Lens.RELEVANCE)
    qtbot.waitUntil(lambda: panel.view.explanation is not None and panel.view.explanation.item_id == fargo.id,
                    timeout=10_000)
    layout = panel.view.sankey_layout()
    assert all(b.movie_id != fargo.id for b in layout.bands)  # not its own evidence
    assert layout.coverage.full_text.startswith("Explained as if it were not in your profile.")
    assert layout.probability.full_text.startswith("would rank")


def test_a_shown_movie_added_to_the_profile_is_then_explained_as_left_out(qtbot, window):
    chosen = window.recommendations.recommendation_model.recommendations()[3].movie.id
    window.select_recommendation(chosen)
    window.add_movie(chosen)
    panel = window.tabs.panel(Lens.RELEVANCE)
    qtbot.waitUntil(lambda: getattr(panel.view.explanation, "left_out", False), timeout=10_000)
    assert panel.view.explanation.item_id == chosen
    assert all(b.movie_id != chosen for b in panel.view.sankey_layout().bands)
    assert "is in your profile, so it is not recommended" in panel.notice.text()
    assert panel.view.sankey_layout().coverage.full_text.startswith("Explained as if it were not in your profile.")
