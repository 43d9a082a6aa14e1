"""The Expert attribution tab in the real window, offscreen, on MovieLens 100k with the CI-sized expert
models (tests/engine/expert_model_fixture.py): the tab draws the selected recommendation's shares
and the profile's sitting, follows an edit (the edited profile's own rating order), and the
conversation's expert answers switch to it and draw the very objects they were phrased from."""
from __future__ import annotations

import pytest

from assistant.conversation.titles import TitleResolver
from assistant.live_recommender import LiveRecommender
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from engine.api import Lens
from tests.assistant.expert_lens import serve_ci_experts


@pytest.fixture
def explainer(app_engine, monkeypatch):
    return serve_ci_experts(app_engine, monkeypatch)


@pytest.fixture
def window(qtbot, app_engine, explainer, store_path, settings, monkeypatch):
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    store = ProfileStore(store_path)
    win = MainWindow(app_engine, store, settings, start=("user", 42))
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.tabs.panel(Lens.EXPERTS).stop_worker()
    store.close()


def ask(qtbot, win, text):
    before = win.last_answer
    win.ask(text)
    qtbot.waitUntil(lambda: win.last_answer is not before and win.last_answer is not None, timeout=60_000)
    return win.last_answer


def sitting_of(qtbot, panel, win):
    qtbot.waitUntil(lambda: panel.state == "drawing" and panel.view.timeline is not None
                    and panel.view.timeline_profile == win.profile, timeout=60_000)
    return panel.view.timeline


def test_expert_tab_follows_the_profile_and_draws_the_answers_objects(qtbot, window, app_engine, explainer):
    qtbot.waitUntil(lambda: window.selected is not None, timeout=20_000)
    panel = window.tabs.panel(Lens.EXPERTS)
    window.show_lens(Lens.EXPERTS)
    timeline = sitting_of(qtbot, panel, window)
    assert timeline == explainer.timeline(window.profile) and timeline.user_id == 42
    qtbot.waitUntil(lambda: panel.view.shares is not None and panel.view.shares.item_id == window.selected, timeout=60_000)
    assert panel.view.shares == app_engine.explain(window.profile, window.selected, Lens.EXPERTS)

    # an edit: the profile is now the user's edited copy, whose sitting is its own rating order
    added = next(m.id for m in app_engine.catalogue.movies if m.id not in window.profile.movies)
    window.add_movie(added, 2)
    qtbot.waitUntil(lambda: panel.view.timeline is not None and panel.view.timeline.user_id is None
                    and panel.view.timeline_profile == window.profile, timeout=60_000)
    edited = panel.view.timeline
    assert edited == explainer.timeline(window.profile) and edited.steps[-1].item_id == added

    # "why did you think I'd dislike ...?" about a guess on screen: the tab draws that object, on that movie
    resolver = TitleResolver(app_engine.catalogue.movies)
    step = next(s for s in edited.predicted
                if (hit := resolver.resolve(app_engine.movie(s.item_id).title)).movie is not None and hit.movie.id == s.item_id)
    answer = ask(qtbot, window, f"why did you think I'd dislike {app_engine.movie(step.item_id).title}?")
    assert answer.lens == "experts" and answer.explanation == edited
    assert panel.view.timeline is answer.explanation and window.tabs.current_lens() is Lens.EXPERTS
    highlighted = panel.view.highlighted_item
    assert highlighted is not None and highlighted.movie_id == step.item_id

    # "which part of my profile decided this?": the window selects the movie and the tab draws the answer's shares
    decided = ask(qtbot, window, "which part of my profile decided this?")
    assert decided.lens == "experts" and decided.explanation.item_id == decided.movie_id
    qtbot.waitUntil(lambda: panel.view.shares is decided.explanation, timeout=20_000)
    assert window.selected == decided.movie_id and window.tabs.current_lens() is Lens.EXPERTS
