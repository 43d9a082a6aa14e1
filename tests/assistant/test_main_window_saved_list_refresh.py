"""The saved-profiles list is read again after a save only when it would show something else: a new
rating leaves every count as it is (no SQLite read on the UI thread for it), an added or removed movie
changes its profile's count in place, and after a failed read the next save reads the list again.
A saved profile's edit is written once its result is drawn (`wait_fresh`)."""
from __future__ import annotations

import pytest

from assistant.storage import ProfileStore
from assistant.storage.profile_store import ProfileAccessError
from test_main_window import wait_fresh

DS = "ml-100k"


@pytest.fixture
def window(saved_profile_window):
    return saved_profile_window


@pytest.fixture
def reads(window, monkeypatch):
    calls = []
    real = window.store.list_profiles

    def counted(dataset):
        calls.append(dataset)
        return real(dataset)

    monkeypatch.setattr(window.store, "list_profiles", counted)
    return calls


def shown_counts(window) -> list[str]:
    listing = window.panel.saved_list
    return [listing.item(r).text() for r in range(listing.count())]


def test_a_rating_saves_without_reading_the_list_again(qtbot, window, reads):
    movie, stars = window.profile.rated[0]
    window.set_rating(movie, 1 if stars != 1 else 5)
    wait_fresh(qtbot, window)
    assert window.store.get(window.source[1]).to_profile().rating(movie) == (1 if stars != 1 else 5)
    assert reads == []


def test_adding_or_removing_a_movie_updates_its_count(qtbot, window, reads, app_engine):
    n = len(window.profile.movies)
    added = next(m.id for m in app_engine.catalogue.movies if m.id not in window.profile.movies)
    window.add_movie(added, 4)
    wait_fresh(qtbot, window)
    assert shown_counts(window) == [f"Mine  ({n + 1} movies)"]
    window.remove_movie(added)
    wait_fresh(qtbot, window)
    assert shown_counts(window) == [f"Mine  ({n} movies)"]
    assert reads == []  # written in place
    window._refresh_saved()
    assert shown_counts(window) == [f"Mine  ({n} movies)"]  # as the database has it


def test_after_a_failed_read_the_next_save_reads_the_list(qtbot, window, reads, monkeypatch):
    real = ProfileStore.list_profiles.__get__(window.store)  # not the counting one

    def failing(dataset):
        raise ProfileAccessError("The profiles database is locked.", "another program holds its lock")

    monkeypatch.setattr(window.store, "list_profiles", failing)
    window._refresh_saved()
    monkeypatch.setattr(window.store, "list_profiles", lambda dataset: reads.append(dataset) or real(dataset))
    movie, stars = window.profile.rated[0]
    window.set_rating(movie, 1 if stars != 1 else 5)
    wait_fresh(qtbot, window)
    assert reads == [DS]



def test_the_worker_is_asked_before_the_save_and_only_once(qtbot, window, monkeypatch):
    """The edited profile is scored on the worker while the UI thread writes it to SQLite."""
    generations = []
    real = ProfileStore.save_profile.__get__(window.store)
    monkeypatch.setattr(window.store, "save_profile",
                        lambda *args, **kwargs: generations.append(window.live.generation) or real(*args, **kwargs))
    before = window.live.generation
    movie, stars = window.profile.rated[0]
    window.set_rating(movie, 1 if stars != 1 else 5)
    wait_fresh(qtbot, window)
    assert generations == [before + 1] and window.live.generation == before + 1


def test_a_failed_save_keeps_the_early_request_for_the_edit_on_screen(qtbot, window, monkeypatch):
    """Not saved, the edit stays on screen: the request sent before the save is the right one."""
    def locked(*args, **kwargs):
        raise ProfileAccessError("The profiles could not be saved: the database is locked.", "the database is locked")

    monkeypatch.setattr(window.store, "save_profile", locked)
    before = window.live.generation
    movie, stars = window.profile.rated[0]
    window.set_rating(movie, 1 if stars != 1 else 5)
    wait_fresh(qtbot, window)
    assert window.unsaved is not None and window.live.generation == before + 1
    assert window.profile.rating(movie) == (1 if stars != 1 else 5)
    assert window.undo() and window.unsaved is None  # discarded: closing the window asks nothing


def test_an_unexpected_error_in_the_save_sends_the_worker_back_to_the_profile_shown(window, monkeypatch):
    shown = window.profile

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    asked = []
    monkeypatch.setattr(window.store, "save_profile", broken)
    real_request = window.live.request
    monkeypatch.setattr(window.live, "request", lambda profile, *a, **k: asked.append(profile) or real_request(profile, *a, **k))
    movie, stars = window.profile.rated[0]
    window.set_rating(movie, 1 if stars != 1 else 5)  # shown at once, written once its result is drawn
    with pytest.raises(RuntimeError):
        window.save_pending()  # (here before the result: the window's own call would raise in a Qt slot)
    assert window.profile is shown and asked[-1] is shown
