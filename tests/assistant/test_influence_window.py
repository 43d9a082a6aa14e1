"""The influence tab in the real window, offscreen, on MovieLens 100k: it draws engine.explain's
influence explanation of the selected movie, and follows an edited rating."""
from __future__ import annotations

import pytest

from assistant.live_recommender import LiveRecommender
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from assistant.views.influence_layout import OWN
from engine.api import Lens


@pytest.fixture
def window(qtbot, app_engine, store_path, settings, monkeypatch):
    if app_engine.lenses().get(Lens.INFLUENCE) is not None:
        pytest.skip(app_engine.lenses()[Lens.INFLUENCE])
    app_engine.prepare(Lens.INFLUENCE)  # the model is cached: the tab then draws without a busy state
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    store = ProfileStore(store_path)
    win = MainWindow(app_engine, store, settings, start=("user", 42))
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    store.close()


def graph(win):
    return win.tabs.panel(Lens.INFLUENCE)


def wait_drawn(qtbot, win, previous=None):
    """Until the influence tab draws the selected movie, in an explanation other than `previous`."""
    def drawn():
        x = graph(win).explanation
        return x is not None and x.item_id == win.selected and x is not previous
    qtbot.waitUntil(drawn, timeout=20_000)
    return graph(win).explanation


def assert_equals_engine(win, engine):
    drawn = graph(win).explanation
    expected = engine.explain(win.profile, win.selected, Lens.INFLUENCE)
    assert drawn == expected  # the same object's values: no second computation in the view
    layout = graph(win).view.graph_layout()
    assert layout.centre.value == expected.predicted_rating
    by_item = {r.item: r.influence for r in expected.own}
    for node in layout.nodes:
        if node.kind == OWN:
            assert node.value == by_item[node.movie_id]
    return expected


def test_influence_tab_draws_the_engines_explanation_and_follows_a_rating(qtbot, window, app_engine):
    qtbot.waitUntil(lambda: window.selected is not None, timeout=20_000)
    window.tabs.show_lens(Lens.INFLUENCE)
    before = wait_drawn(qtbot, window)
    assert_equals_engine(window, app_engine)

    # Change the rating of the profile's most influential movie: the graph follows.
    top = max(before.own, key=lambda r: abs(r.influence))
    stars = 1 if top.rating >= 3 else 5
    window.set_rating(top.item, stars)
    after = wait_drawn(qtbot, window, before)
    assert window.profile.rating(top.item) == stars
    expected = assert_equals_engine(window, app_engine)
    assert after.fold_in  # an edited dataset user is served by fold-in, without retraining
    assert next(r for r in expected.own if r.item == top.item).rating == stars
    assert after.predicted_rating != before.predicted_rating
