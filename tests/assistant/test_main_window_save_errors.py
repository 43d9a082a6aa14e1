"""An edit the database refuses, in the real window: the disk is full (SQLite's own SQLITE_FULL, by
capping the file's pages), another program holds the database's lock (a second connection in BEGIN
EXCLUSIVE), or the database is read-only (a read-only SQLite connection: the tests run as root, whom
chmod does not stop). The edit stays on screen, marked, the window says it was not saved and why,
without a dialog, retries, and the undo stack holds only edits that were saved."""
from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.live_recommender import LiveRecommender
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from test_main_window import show_ready, wait_fresh

DS = "ml-100k"


@pytest.fixture
def window_on(qtbot, app_engine, store_path, settings, monkeypatch):
    """The window on a store that waits at most 50 ms for another program's lock."""
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    stores = []

    def make(start):
        store = ProfileStore(store_path, timeout=0.05)
        stores.append(store)
        window = MainWindow(app_engine, store, settings, start=start)
        return show_ready(qtbot, window)

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def saved_profile(store_path, app_engine):
    with ProfileStore(store_path) as store:
        return store.create_from(DS, "Mine", app_engine.catalogue.user_profile(2))


def new_movies(engine, profile, n):
    return [m.id for m in engine.catalogue.movies if m.id not in profile.movies][:n]


def no_dialog_shown() -> bool:
    return not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())


def saved_in_file(window, profile_id):
    """What the file holds (read beside another program's write lock: the store's journal is WAL)."""
    return window.store.get(profile_id).to_profile()


def test_a_database_locked_by_another_program_keeps_the_edit_on_screen_and_saves_it_later(
        qtbot, window_on, saved_profile, app_engine, monkeypatch):
    window = window_on(("saved", saved_profile.id))
    before = window.profile
    undo_entries = list(window._undo)
    first, second = new_movies(app_engine, before, 2)
    waits = []  # how long each save may wait for the other program's lock, in ms
    real_save = window.store.save_profile

    def save_profile(*args):
        waits.append(window.store._conn.execute("PRAGMA busy_timeout").fetchone()[0])
        return real_save(*args)

    monkeypatch.setattr(window.store, "save_profile", save_profile)
    holder = sqlite3.connect(window.store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        window.add_movie(first, 4)
        wait_fresh(qtbot, window)
        assert window.profile.movies[-1] == first and window.panel.select_movie(first)  # still on screen
        assert window.unsaved is not None and window._undo == undo_entries  # no undo entry yet
        bar = window.save_problem.text()
        assert bar.startswith("Your changes to “Mine” are not saved: another program is using the profile database.")
        assert "tries again every 5 s" in bar and window.save_problem.retry_button.isVisible()
        assert "Not saved: another program is using the profile database." in window.statusBar().currentMessage()
        assert window.panel._editor.title().endswith("— not saved")
        window.set_attribute("age", "18-24")  # the next edit tries again, fails again: one bar, no dialog
        assert window.unsaved is not None and first in window.profile.movies
        assert window.profile.age == "18-24" != before.age
        assert no_dialog_shown() and window._undo == undo_entries
        assert waits == [50, 0]  # the store's timeout once; a try after a failure does not stall the window
        assert saved_in_file(window, saved_profile.id) == before  # nothing of either edit is in the file
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    window._save_retry.setInterval(10)  # the timer's next try finds the lock gone
    qtbot.waitUntil(lambda: window.unsaved is None, timeout=10_000)
    assert saved_in_file(window, saved_profile.id) == window.profile
    assert window.save_problem.isHidden() and not window.panel._editor.title().endswith("not saved")
    assert window.statusBar().currentMessage() == "Saved your changes to Mine."
    # Both edits landed together, so one undo goes back to the profile as saved before them.
    assert window._undo == undo_entries + [(("saved", saved_profile.id), before)]
    edited, entries = window.profile, list(window._undo)
    holder = sqlite3.connect(window.store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:  # undo writes too: refused, it changes nothing and keeps its entry for the next try
        assert not window.undo() and window._undo == entries and window.profile == edited
        assert window.statusBar().currentMessage() == ("Not undone: another program is using the profile "
                                                       "database. The profile stays as it is.")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert window.undo() and window.profile == before and saved_in_file(window, saved_profile.id) == before


def test_a_full_disk_leaves_a_dataset_user_unchanged_until_the_next_edit_saves(qtbot, window_on, app_engine):
    catalogue = app_engine.catalogue
    # The user with the most ratings: their copy needs more pages than the fresh file has room in.
    user = max(catalogue.user_ids, key=lambda uid: len(catalogue.user_profile(uid).movies))
    window = window_on(("user", user))
    original = window.profile
    conn = window.store._conn
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    first, second = new_movies(app_engine, original, 2)
    window.add_movie(first, 5)
    assert window.source == ("user", user) and window.profile.movies[-1] == first
    assert window.store.list_profiles(DS) == []  # no "User N (edited)" was made
    assert "not saved: the disk is full." in window.save_problem.text()
    assert window.statusBar().currentMessage().startswith(f"Added {window._movies[first].label} 5★. "
                                                          "Not saved: the disk is full.")
    assert not window._undo and window.undo_action.isEnabled()  # Undo would discard the unsaved edit
    conn.execute("PRAGMA max_page_count = 1073741823")  # space again
    window.add_movie(second, 3)
    wait_fresh(qtbot, window)
    assert window.unsaved is None and window.save_problem.isHidden()
    stored = window.store.find(DS, f"User {user} (edited)")
    assert window.source == ("saved", stored.id) and stored.to_profile() == window.profile
    assert stored.movies[-2:] == (first, second) and stored.ratings[-2:] == (5, 3)
    assert window._undo == [(("user", user), original)]
    assert window.undo() and window.source == ("user", user) and window.profile == original


def read_only_store(monkeypatch):
    def connect(self):
        uri = self.path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False)
    monkeypatch.setattr(ProfileStore, "_connect", connect)


def test_a_read_only_database_opens_and_undo_or_discard_drops_the_unsaved_edit(
        qtbot, window_on, saved_profile, app_engine, monkeypatch):
    read_only_store(monkeypatch)
    window = window_on(("saved", saved_profile.id))
    before = window.profile
    movie = new_movies(app_engine, before, 1)[0]
    window.add_movie(movie)
    wait_fresh(qtbot, window)  # a saved profile's edit is written once its result is drawn
    assert window.unsaved is not None and movie in window.profile.movies
    assert "not saved: the profile database is read-only." in window.save_problem.text()
    assert window.undo()  # discards the unsaved edit: back to what the file holds, nothing written
    wait_fresh(qtbot, window)
    assert window.profile == before and window.unsaved is None and window.save_problem.isHidden()
    assert window.statusBar().currentMessage().startswith("Discarded the changes that were not saved")
    assert not window._undo and not window.undo_action.isEnabled()

    window.set_rating(before.movies[0], 1)
    wait_fresh(qtbot, window)
    assert window.unsaved is not None and window._save_retry.isActive()
    window.save_problem.discard_button.click()  # the bar's own button does the same
    assert window.profile == before and window.save_problem.isHidden() and not window._save_retry.isActive()
    assert window.retry_save()  # nothing is left to save


def test_leaving_a_profile_with_unsaved_edits_asks_once_and_keeps_them_unless_discarded(
        qtbot, window_on, saved_profile, app_engine, monkeypatch):
    read_only_store(monkeypatch)
    window = window_on(("saved", saved_profile.id))
    before = window.profile
    window.set_attribute("gender", "M" if before.gender != "M" else "F")
    edited = window.profile
    asked = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert not window.open_user(5)
    assert window.source == ("saved", saved_profile.id) and window.profile == edited and window.unsaved is not None
    assert asked == ["Your changes to “Mine” could not be saved (the profile database is read-only). "
                     "Discard them and open User 5?"]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert window.open_user(5)
    wait_fresh(qtbot, window)
    assert window.source == ("user", 5) and window.unsaved is None and window.save_problem.isHidden()
    # Undoing the switch writes nothing (the file holds that state), so it works on a read-only file.
    assert window.undo() and window.source == ("saved", saved_profile.id) and window.profile == before
