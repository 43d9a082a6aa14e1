"""The Pixel relevance tab in the real window, offscreen, on MovieLens 100k with the CI-sized pixel
model (tests/engine/pixel_model_fixture.py; skips without Fashion-MNIST): the tab draws its own
catalogue pair once its tab is in front (the movie profile does not drive it), and the conversation
answers about that pair, switches the shopper and the view, and never selects a movie for it."""
from __future__ import annotations

import pytest

from assistant.live_recommender import LiveRecommender
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from engine.api import Lens
from tests.engine.pixel_model_fixture import ci_explainer


@pytest.fixture
def window(qtbot, app_engine, store_path, settings, monkeypatch):
    if app_engine.lenses().get(Lens.PIXELS) is not None:
        pytest.skip(app_engine.lenses()[Lens.PIXELS])
    # The CI model stands in for the app's (which trains for minutes): the engine serves it as prepared.
    monkeypatch.setitem(app_engine._explainers, Lens.PIXELS, ci_explainer())
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    store = ProfileStore(store_path)
    win = MainWindow(app_engine, store, settings, start=("user", 42))
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.tabs.panel(Lens.PIXELS).stop_worker()
    store.close()


def ask(qtbot, win, text):
    before = win.last_answer
    win.ask(text)
    qtbot.waitUntil(lambda: win.last_answer is not before and win.last_answer is not None, timeout=60_000)
    return win.last_answer


def test_pixel_tab_in_the_window_and_its_conversation(qtbot, window):
    qtbot.waitUntil(lambda: window.selected is not None, timeout=20_000)
    movie = window.selected
    panel = window.tabs.panel(Lens.PIXELS)
    assert window.tabs.tabText(window.tabs.indexOf(panel)) == "Pixel relevance (catalogue demo)"
    window.tabs.show_lens(Lens.PIXELS)
    qtbot.waitUntil(lambda: panel.state == "drawing" and panel.view.explanation is not None, timeout=60_000)
    shown = panel.view.explanation
    explainer = ci_explainer()
    assert shown == explainer.explain_pair(shown.shopper, shown.query.id, shown.candidate.id)

    answer = ask(qtbot, window, "why are these related?")
    assert answer.lens == "pixels" and answer.explanation is panel.view.explanation  # the object on screen
    assert f"P(related) = {shown.probability:.2f}" in answer.text
    assert window.selected == movie and window.tabs.current_lens() is Lens.PIXELS  # no movie selected for a product

    other = "brand" if shown.shopper != "brand" else "style"
    switched = ask(qtbot, window, f"switch to the {other} shopper")
    assert switched.explanation.shopper == other
    assert (switched.explanation.query.id, switched.explanation.candidate.id) == (shown.query.id, shown.candidate.id)
    qtbot.waitUntil(lambda: panel.view.explanation is switched.explanation, timeout=20_000)
    assert panel.shopper_box.currentData() == other
    ranking = [item.id for item, _ in explainer.related(other, shown.query.id, k=8)]
    qtbot.waitUntil(lambda: [item.id for item, _ in panel.strip.items] == ranking, timeout=20_000)  # the strip follows
    assert panel.view.explanation is switched.explanation  # and the answer's object stays drawn

    why_not = ask(qtbot, window, "why not?")
    assert why_not.explanation is switched.explanation and panel.view.view == "net"
    assert "logit" in why_not.text and window.selected == movie

    listed = ask(qtbot, window, "show me related items")
    assert [f"#{item.id}" in listed.text for item, _ in panel.strip.items] == [True] * len(panel.strip.items)


@pytest.fixture
def unprepared_window(qtbot, app_engine, store_path, settings, monkeypatch):
    """The window with a pixel explainer not prepared yet, whose preparation waits at a gate."""
    import threading

    from engine.explain.pixel_explainer import PixelExplainer
    from tests.engine.pixel_model_fixture import cache_dir, model_options

    if app_engine.lenses().get(Lens.PIXELS) is not None:
        pytest.skip(app_engine.lenses()[Lens.PIXELS])
    ci_explainer()  # trained (or loaded) once, so the gated preparation below only loads it
    explainer = PixelExplainer(cache_dir=cache_dir(), offline=True, **model_options())
    gate = threading.Event()
    load = explainer.prepare

    def gated_prepare(state):
        state.progress(0.3, "Loading the relation model")
        while not gate.wait(0.01):
            state.check_cancelled()
        load(state)

    monkeypatch.setattr(explainer, "prepare", gated_prepare)
    monkeypatch.setitem(app_engine._explainers, Lens.PIXELS, explainer)
    store = ProfileStore(store_path)
    win = MainWindow(app_engine, store, settings, start=("user", 42))
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    qtbot.waitExposed(win)
    yield win, gate
    gate.set()
    win.tabs.panel(Lens.PIXELS).stop_worker()
    store.close()


def test_pixel_tab_is_busy_with_progress_and_cancel_until_its_model_is_prepared(qtbot, unprepared_window):
    window, gate = unprepared_window
    qtbot.waitUntil(lambda: window.selected is not None, timeout=20_000)
    panel = window.tabs.panel(Lens.PIXELS)
    window.tabs.show_lens(Lens.PIXELS)
    qtbot.waitUntil(lambda: panel.state == "busy" and panel.progress.value() == 30, timeout=20_000)
    assert panel.cancel_button.isVisible() and "Loading the relation model" in panel.message.text()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.state == "empty" and "cancelled" in panel.message.text(), timeout=20_000)
    window.tabs.show_lens(Lens.RELEVANCE)
    window.tabs.show_lens(Lens.PIXELS)  # coming back starts it again
    qtbot.waitUntil(lambda: panel.state == "busy", timeout=20_000)
    gate.set()
    qtbot.waitUntil(lambda: panel.state == "drawing" and panel.view.explanation is not None, timeout=60_000)
