"""An edit of a saved profile is written once its result is drawn, not before (issue 12: the save's
fsync came before the Sankey could be painted); at the latest shortly after the edit, and always
before anything else reads or changes the saved profiles. The profile panel follows the edit once
its result is drawn too (its update and repaint held the worker and the Sankey back). A save refused then is shown and retried
as any failed save, and gives no undo entry; every saved edit keeps its own undo entry."""
from __future__ import annotations

import pytest

from assistant.main_window import PANEL_LATEST_MS, SAVE_LATEST_MS
from assistant.storage.profile_store import ProfileSaveError
from engine.api import Lens
from test_main_window import wait_fresh



@pytest.fixture
def window(saved_profile_window):
    return saved_profile_window


def in_file(window):
    return window.store.get(window.source[1]).to_profile()


def new_movie(engine, profile, skip=0):
    return [m.id for m in engine.catalogue.movies if m.id not in profile.movies][skip]


def test_the_panel_and_the_save_come_after_the_edits_sankey_is_painted(qtbot, window, app_engine, monkeypatch):
    before, entries = window.profile, list(window._undo)
    events = []
    real = window.store.save_profile
    monkeypatch.setattr(window.store, "save_profile", lambda *a: events.append("saved") or real(*a))
    real_show = window.panel.show_profile
    monkeypatch.setattr(window.panel, "show_profile", lambda *a: events.append("panel") or real_show(*a))
    view = window.tabs.panel(Lens.RELEVANCE).view
    view.painted.connect(lambda: events.append("painted") if window.last_result.profile == window.profile else None)
    movie = new_movie(app_engine, before)
    window.add_movie(movie, 4)
    assert window.profile.movies[-1] == movie  # the window's profile at once: the worker scores it
    assert window.panel.movie_list.count() == len(before.movies)
    assert events == [] and in_file(window) == before and window._undo == entries  # not written yet
    wait_fresh(qtbot, window)
    assert events[:3] == ["painted", "panel", "saved"]
    assert window.panel.movie_list.count() == len(window.profile.movies) and window.panel.selected_movies() == [movie]
    assert in_file(window) == window.profile and window.unsaved is None
    assert window._undo == entries + [(window.source, before)]
    assert window.statusBar().currentMessage() == f"Added {window._movies[movie].label} 4★."


def test_a_save_refused_after_the_drawing_is_shown_kept_on_screen_and_retried(qtbot, window, app_engine, monkeypatch):
    before, entries = window.profile, list(window._undo)
    real = window.store.save_profile

    def refused(*args):
        raise ProfileSaveError("Could not save to the profile database: the disk is full.", "the disk is full", True)

    monkeypatch.setattr(window.store, "save_profile", refused)
    window.set_attribute("occupation", "lawyer" if before.occupation != "lawyer" else "writer")
    edited = window.profile
    wait_fresh(qtbot, window)
    assert window.unsaved is not None and window.profile == edited and window._undo == entries
    assert "are not saved: the disk is full." in window.save_problem.text() and window.save_problem.isVisible()
    assert "Not saved: the disk is full." in window.statusBar().currentMessage()
    assert window._save_retry.isActive() and window.panel._editor.title().endswith("— not saved")
    assert in_file(window) == before
    monkeypatch.setattr(window.store, "save_profile", real)
    window._save_retry.setInterval(10)
    qtbot.waitUntil(lambda: window.unsaved is None, timeout=10_000)
    assert in_file(window) == edited and window.save_problem.isHidden()
    assert window._undo == entries + [(window.source, before)]


def test_edits_faster_than_their_results_each_keep_an_undo_entry(qtbot, window, app_engine):
    before, entries = window.profile, list(window._undo)
    first, second = new_movie(app_engine, before), new_movie(app_engine, before, 1)
    window.add_movie(first)
    middle = window.profile
    window.add_movie(second)  # before the first one's result: its save lands first
    assert in_file(window) == middle
    wait_fresh(qtbot, window)
    assert in_file(window) == window.profile and window.profile.movies[-2:] == (first, second)
    assert window._undo == entries + [(window.source, before), (window.source, middle)]
    assert window.undo() and window.profile == middle and in_file(window) == middle


def test_undo_or_closing_right_after_an_edit_saves_it_first(qtbot, window, app_engine):
    before = window.profile
    window.add_movie(new_movie(app_engine, before))
    assert window.undo()  # the edit is saved, then undone: back to the profile before it, in the file too
    assert window.profile == before and in_file(window) == before and window.unsaved is None
    window.add_movie(new_movie(app_engine, before, 2))
    edited = window.profile
    window.close()
    assert in_file(window) == edited


def test_with_no_result_the_panel_and_the_save_follow_shortly_after_the_edit(qtbot, window, app_engine, monkeypatch):
    monkeypatch.setattr(window.live, "request", lambda *args, **kwargs: None)  # no result will come
    movie = new_movie(app_engine, window.profile)
    window.add_movie(movie)
    assert window._save_soon.isActive() and window._save_soon.interval() == SAVE_LATEST_MS
    assert window._panel_soon.isActive() and window._panel_soon.interval() == PANEL_LATEST_MS
    qtbot.waitUntil(lambda: in_file(window) == window.profile, timeout=5_000)
    qtbot.waitUntil(lambda: window.panel.selected_movies() == [movie], timeout=5_000)
