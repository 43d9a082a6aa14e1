"""The line under the Sankey (issue 11, in the app): its numbers are Engine.removal_check's for the
selected movie, computed on the worker; clicking it draws the what-if of a copy of the profile and
leaves the saved profile as it was; the line leads back."""
from __future__ import annotations

import pytest

from assistant.live_recommender import LiveRecommender
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from assistant.views.sankey_panel import BACK_LINK, SHOW_LINK
from engine.api import Lens


@pytest.fixture
def window(qtbot, app_engine, store_path, settings, monkeypatch):
    monkeypatch.setattr(LiveRecommender, "check_threads", True)  # every engine call off the UI thread
    store = ProfileStore(store_path)
    window = MainWindow(app_engine, store, settings, start=("user", 1))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.tabs.panel(Lens.RELEVANCE).removal_check is not None, timeout=10_000)
    yield window
    store.close()


def test_line_shows_the_engines_numbers_for_the_selected_movie(window, app_engine):
    panel = window.tabs.panel(Lens.RELEVANCE)
    profile = app_engine.user_profile(1)
    movie = window.selected
    expected = app_engine.removal_check(profile, movie)
    shown = panel.removal_check
    assert shown == expected  # the same frozen numbers, computed on the worker
    text = panel.check_line.text()
    assert text.startswith(f"Without your top 3 reasons, {expected.title} would ")
    assert f"#{expected.rank_before}" in text
    if expected.rank_after != expected.rank_before:
        assert f"#{expected.rank_after}" in text
    else:
        assert f"{expected.logit_before:.2f} to {expected.logit_after:.2f}" in text
    assert all(name in panel.check_line.toolTip() for name in expected.names)


def test_clicking_shows_the_copy_and_leaves_the_saved_profile(qtbot, window, app_engine):
    panel = window.tabs.panel(Lens.RELEVANCE)
    check = panel.removal_check
    saved_before = window.profile
    panel.check_line.linkActivated.emit(SHOW_LINK)  # what a click on the link sends

    drawn = panel.explanation
    assert drawn.item_id == check.movie_id
    assert drawn.logit == pytest.approx(check.logit_after, abs=1e-5)  # the copy's explanation
    assert drawn == app_engine.explain(check.profile_after, check.movie_id)
    removed_movies = {r.key for r in check.removed if r.kind == "movie"}
    assert not removed_movies & set(drawn.keys)  # the reasons are gone from the picture
    assert not panel.notice.isHidden() and "not saved" in panel.notice.text()
    assert f'href="{BACK_LINK}"' in panel.check_line.text() and "Back&nbsp;to&nbsp;your&nbsp;profile" in panel.check_line.text()
    assert window.profile == saved_before == app_engine.user_profile(1)
    assert window.source == ("user", 1) and window.unsaved is None

    panel.check_line.linkActivated.emit(BACK_LINK)
    qtbot.waitUntil(lambda: panel.explanation is not None
                    and panel.explanation.logit == pytest.approx(check.logit_before, abs=1e-5), timeout=10_000)
    assert f'href="{SHOW_LINK}"' in panel.check_line.text()
    assert window.profile == app_engine.user_profile(1)


def test_picking_another_recommendation_checks_that_one(qtbot, window, app_engine):
    panel = window.tabs.panel(Lens.RELEVANCE)
    second = window.last_result.recommendations[3].movie.id
    window.select_recommendation(second)
    qtbot.waitUntil(lambda: panel.removal_check is not None and panel.removal_check.movie_id == second,
                    timeout=10_000)
    assert panel.removal_check == app_engine.removal_check(app_engine.user_profile(1), second)
    assert panel.removal_check.rank_before == 4
