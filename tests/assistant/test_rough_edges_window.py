"""Issue 13's rough edges of the window and its start: the "why is it silent" note on every start,
the loading dialog, Cancel during training, training progress with an ETA, ml-1m's re-indexed
dataset, stray Qt warnings, status-bar messages, a locked database and the data loader's notes."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.app import AppController, build_parser
from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from assistant.voice_output import VoiceOutput
from assistant.views.chat_panel import PLACEHOLDER
from engine.api import Engine
from test_main_window import show_ready, wait_fresh

# A speech child that cannot start (Python refuses an impossible home): a silent reason on any machine.
BROKEN_SPEECH_ENV = {"PYTHONHOME": "/nonexistent-python-home", "PATH": "/usr/bin:/bin"}


@pytest.fixture
def window_with(qtbot, app_engine, store_path, settings):
    stores = []

    def make(**kwargs):
        store = ProfileStore(store_path)
        stores.append(store)
        window = MainWindow(app_engine, store, settings, start=("user", 1), **kwargs)
        return show_ready(qtbot, window)

    yield make
    for store in stores:
        store.close()


def test_the_silent_note_shows_even_when_speech_is_ready_before_the_window(qtbot, window_with, monkeypatch):
    """The start-up race: the speech child said why it is silent before the window had connected."""
    forwarded = threading.Event()
    on_event = VoiceOutput._on_event

    def recording(self, event):
        on_event(self, event)
        forwarded.set()

    monkeypatch.setattr(VoiceOutput, "_on_event", recording)
    build = MainWindow._build

    def slow_build(self, catalogue):  # the child answers while the window is still being built
        self.voice.start()
        assert forwarded.wait(15), "the speech child never reported"
        build(self, catalogue)

    monkeypatch.setattr(MainWindow, "_build", slow_build)
    window = window_with(speech_env=BROKEN_SPEECH_ENV)
    qtbot.waitUntil(lambda: window.voice_label.isVisible(), timeout=5_000)
    assert "Speech is off" in window.voice_label.text()
    assert window.chat.silent_note.isVisible()
    assert "stopped while starting" in window.chat.silent_note.text()


class ExitRecorder:
    """Stands for the QApplication the controller ends: a real exit() would end every later event loop
    of the test session (Qt's quitNow)."""

    def __init__(self):
        self.codes = []

    def exit(self, code: int) -> None:
        self.codes.append(code)


def test_no_data_is_said_once_with_no_stale_progress_dialog_over_it(qtbot, store_path, tmp_path, monkeypatch):
    """ml-1m nowhere (offline, no $CINEWHY_DATA, an empty cache): one message, and the "Looking for
    ml-1m" dialog, hidden when the loader failed, must not show itself over it."""
    monkeypatch.delenv("CINEWHY_DATA", raising=False)
    criticals = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args, **kwargs: criticals.append(args))
    args = build_parser().parse_args(["--dataset", "ml-1m", "--offline", "--cache-dir", str(tmp_path / "cache")])
    store = ProfileStore(store_path)
    controller = AppController(ExitRecorder(), args, store)
    seen = {}

    def answer_the_box() -> None:
        box = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
        if box is None:
            return
        poll.stop()
        seen["text"] = box.text()
        progress = controller._dialog
        seen["pending"] = [(t.interval(), t.isSingleShot(), t.parent() is progress) for t in progress.findChildren(QTimer) if t.isActive()]
        QTest.qWait(progress.minimumDuration() + 300)  # longer than the dialog's own show timer
        seen["progress shown"] = progress.isVisible()
        box.button(QMessageBox.StandardButton.Close).click()

    poll = QTimer()
    poll.timeout.connect(answer_the_box)
    poll.start(20)
    try:
        controller.start()
        qtbot.waitUntil(lambda: controller.exit_code is not None, timeout=15_000)
    finally:
        poll.stop()
        controller.shutdown()
        controller.dispose()
        store.close()
    assert "No ml-1m data found" in seen["text"]
    assert seen["pending"] == [] and seen["progress shown"] is False
    assert criticals == []  # not the same words again in a second box
    assert controller.exit_code == 1 and controller._app.codes == [1]


def write_reindexed_ml1m(folder: Path, n_users: int = 30, n_items: int = 20) -> Path:
    """The shape of the re-indexed ML-1M: ratings (user, item, stars) and users.dat, no movies file;
    one rating given twice, which the loader drops with a note."""
    folder.mkdir(parents=True)
    lines = [f"{u}\t{(3 * u + j) % n_items + 1}\t{4 + j % 2}\n" for u in range(1, n_users + 1) for j in range(8)]
    (folder / "ratings_reindexed.tsv").write_text("".join([*lines, lines[0]]))
    (folder / "users.dat").write_text("".join(f"{u}::{'MF'[u % 2]}::25::{u % 21}::0000{u}\n" for u in range(1, n_users + 1)))
    return folder


@pytest.fixture(scope="module")
def reindexed_engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("reindexed")
    return Engine.load("ml-1m", write_reindexed_ml1m(root / "ml-1m"), offline=True, cache_dir=root / "cache")


def test_a_dataset_without_titles_says_why_and_asks_with_its_own_movies(qtbot, reindexed_engine, store_path, settings):
    store = ProfileStore(store_path)
    try:
        window = MainWindow(reindexed_engine, store, settings, start=("user", 1))
        qtbot.addWidget(window)
        window.show()
        wait_fresh(qtbot, window)
        banner = window.banner.text()
        assert window.banner.isVisible()
        assert "no movie titles" in banner and "“Item N”" in banner and "--data" in banner
        # The loader's note is shown too, next to (not instead of) the first message.
        assert "While reading ml-1m: ratings_reindexed.tsv: 1 duplicate rating" in banner
        placeholder = window.chat.input.placeholderText()
        assert placeholder != PLACEHOLDER and "Fargo" not in placeholder and "Alien" not in placeholder
        assert placeholder.count("Item ") == 2
        assert window.model_label.text().startswith("RecoNet (user attributes)")
    finally:
        store.close()


def test_a_dataset_with_titles_keeps_the_usual_placeholder_and_no_banner(qtbot, window_with):
    window = window_with()
    assert not window.banner.isVisible()
    assert window.chat.input.placeholderText() == PLACEHOLDER
    assert window.model_label.text().startswith("RecoNet (user+item attributes)")


def test_showing_and_editing_the_window_sends_no_size_hints_the_platform_cannot_take(qtbot, qtlog, window_with):
    """Offscreen (as --screenshot and the tests run) Qt printed "This plugin does not support
    propagateSizeHints()" whenever the layout moved the window's minimum size."""
    window = window_with()
    window.add_movie(next(m.id for m in window.catalogue.movies if m.id not in window.profile.movies), 4)
    wait_fresh(qtbot, window)
    window.show_banner("A long message " * 40)
    qtbot.waitUntil(lambda: window.banner.isVisible())
    QApplication.processEvents()
    messages = [record.message for record in qtlog.records]
    assert not [m for m in messages if "propagateSizeHints" in m]


def test_enter_on_no_movie_matches_adds_nothing_and_prints_nothing(qtbot, capfd, window_with):
    window = window_with()
    before = window.profile
    capfd.readouterr()
    window.panel.search_edit.setText("qqqzzxx no such movie")
    assert window.panel.results.item(0).text() == "No movie matches"
    qtbot.keyClick(window.panel.search_edit, Qt.Key.Key_Return)
    QApplication.processEvents()
    assert "copy-convert" not in capfd.readouterr().err  # None sent as a movie id
    assert window.panel.search_edit.text() == "qqqzzxx no such movie"  # what was typed stays to be corrected
    assert window.profile == before


def test_a_long_status_message_is_shortened_visibly_and_told_in_full_in_the_tooltip(qtbot, window_with):
    window = window_with()
    window.resize(window.minimumWidth(), 700)
    qtbot.waitUntil(lambda: window.width() == window.minimumWidth())
    bar = window.statusBar()
    text = ("Your changes to “User 1 (edited)” are not saved: the database is locked by another program. "
            "CineWhy tries again every 5 s and with your next edit; Undo discards them.")
    bar.showMessage(text, 60_000)
    labels = [window.voice_label, window.dataset_label, window.model_label, window.timing_label]
    room = min(label.geometry().left() for label in labels if label.isVisible()) - 6  # where the message starts
    shown = bar.shown_message() if hasattr(bar, "shown_message") else bar.currentMessage()
    assert 0 < room < bar.fontMetrics().horizontalAdvance(text)  # too long for the room it has
    assert "…" in shown and bar.fontMetrics().horizontalAdvance(shown) <= room
    head, tail = shown.split("…")
    assert text.startswith(head) and text.endswith(tail) and tail.endswith("Undo discards them.")
    assert bar.toolTip() == text and bar.currentMessage() == text
    window.resize(1900, 700)  # more room: more of it is shown
    qtbot.waitUntil(lambda: bar.shown_message() != shown)
    assert len(bar.shown_message()) > len(shown) and bar.currentMessage() == text
    bar.showMessage("Saved.", 5000)
    assert bar.currentMessage() == bar.shown_message() == "Saved." and bar.toolTip() == ""
    bar.clearMessage()
    assert bar.currentMessage() == "" and bar.toolTip() == ""


def test_the_window_does_not_wait_seconds_for_a_database_another_program_locked(qtbot, window_with, store_path):
    window = window_with()  # its store opened with the default wait (5 s), as the app opens it
    with window.store._lock:
        assert window.store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 50
    holder = sqlite3.connect(store_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        window.add_movie(next(m.id for m in window.catalogue.movies if m.id not in window.profile.movies), 4)
        assert window.unsaved is not None and "another program" in window.unsaved.error.reason
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert window.retry_save()
