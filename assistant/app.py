"""Start the desktop app: parse the command line, load the engine off the UI thread with a progress
dialog (Cancel stops it), then show the main window."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

# The Qt-free modules come first, on purpose: once PySide6 is imported, its import hook reads the
# source of every module imported after it (looking for `from __feature__`), which cost the start
# about 0.2 s for numpy, scipy and the conversation. Keep this block above the PySide6 imports.
from engine.api import DataUnavailableError, EngineError, TaskState
import assistant.conversation.dialogue  # noqa: F401  (imported before Qt for that hook)
from assistant.storage import ProfileStore, ProfileStoreError
from assistant.speech.voice import Voice
from assistant.text_report import info_text, plain_reasons, profile_text
from resources import read_text

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QProgressDialog

from assistant.main_window import MainWindow
from assistant.workers import EngineLoader, LoadRequest, LoadResult, load_recommendations

APP_NAME = "CineWhy"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="CineWhy: a movie recommender that explains its recommendations.",
    )
    parser.add_argument("--dataset", default="ml-100k", help="ml-100k (default) or ml-1m")
    parser.add_argument("--data", metavar="PATH", type=Path, help="a folder holding MovieLens files (skips the search)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--user", metavar="ID", type=int,
                        help="open this dataset user (default: the profile shown last time, else user 1)")
    source.add_argument("--profile", metavar="NAME", help="open this saved profile (see the 'My profiles' tab)")
    parser.add_argument("--offline", action="store_true", help="never download; use local files and the cache only")
    parser.add_argument("--cache-dir", metavar="DIR", type=Path, help="where data and models are cached")
    parser.add_argument(
        "--screenshot", metavar="OUT.png", type=Path,
        help="render the window offscreen with the first recommendation's explanation, save it as PNG and exit",
    )
    parser.add_argument("--ask", metavar="QUESTION",
                        help="ask this in the chat panel once the window is up (with --screenshot: shot after the answer)")
    return parser


def main(argv: list[str] | None = None, on_window: Callable[[MainWindow], None] | None = None) -> int:
    """Run the app; `on_window` (for benchmarks) is called with the main window once it exists."""
    args = build_parser().parse_args(argv)
    if args.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif not _display_available():
        print(
            "No display found, so the window cannot open: showing the recommendations as text instead. "
            "Run it on a desktop (or under xvfb-run) for the window, or save a picture of it with --screenshot OUT.png.",
            file=sys.stderr,
        )
        return print_recommendations(args)
    from assistant.qt_requirements import QT_LIBRARIES_MISSING, platform_problem

    if QApplication.instance() is None and (problem := platform_problem()) is not None:
        print(problem, file=sys.stderr)  # said once, instead of Qt's own abort (exit 134)
        return QT_LIBRARIES_MISSING
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("cinewhy")
    app.setStyleSheet(read_text("style.qss"))
    app.setQuitOnLastWindowClosed(False)  # the controller quits: the progress dialog may be the only window
    try:
        store = ProfileStore()
    except ProfileStoreError as error:
        _report(args, f"Could not open the saved profiles: {error}")
        return 1
    controller = AppController(app, args, store, on_window)
    controller.start()
    code = app.exec()
    controller.shutdown()
    if controller.exit_code is not None:
        code = controller.exit_code
    # Qt objects must go before the QApplication does; Python's order of clean-up at exit does not ensure it.
    controller.dispose()
    del controller
    store.close()
    return code


def print_recommendations(args: argparse.Namespace) -> int:
    """The window's content as text, for a machine without a screen."""
    request = LoadRequest(args.dataset, args.data, args.offline, args.cache_dir, args.user or 1)
    last = {"step": -1, "topic": None}

    def report(fraction: float, message: str) -> None:
        """Print a new step of the work, and every tenth of the way through a long one."""
        step, topic = int(fraction * 10), message.split(":")[0]
        if step > last["step"] or topic != last["topic"]:
            last.update(step=step, topic=topic)
            print(f"{int(fraction * 100):3d} % {message}", file=sys.stderr)

    try:
        result = load_recommendations(request, TaskState(report), lambda notice: print(notice, file=sys.stderr))
        profile, recommendations, who = result.profile, result.recommendations, f"user {request.user_id}"
        if args.profile:
            with ProfileStore() as store:
                stored = _find_profile(store, args.dataset, args.profile)
            profile, who = stored.to_profile(), f"profile “{stored.name}”"
            recommendations = result.engine.recommend(profile, 10, explain=True)
    except (EngineError, ProfileStoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(f"Recommendations for {who} ({profile_text(profile)}); {info_text(result.engine.info)}")
    for recommendation in recommendations:
        movie = recommendation.movie
        print(f"{recommendation.rank:>2}. {movie.label}  [{', '.join(movie.genres)}]  "
              f"p={100 * recommendation.probability:.2f} %")
        print(f"    {plain_reasons(recommendation)}")
    return 0


def _find_profile(store: ProfileStore, dataset: str, name: str):
    stored = store.find(dataset, name)
    if stored is None:
        names = ", ".join(f"“{p.name}”" for p in store.list_profiles(dataset)) or "none yet"
        raise ProfileStoreError(f"No saved {dataset} profile is named “{name}” (saved profiles: {names}).")
    return stored


def _display_available() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _report(args: argparse.Namespace, message: str) -> None:
    if args.screenshot is None and QApplication.instance() is not None:
        QMessageBox.critical(None, APP_NAME, message)
    else:
        print(f"error: {message}", file=sys.stderr)


class AppController(QObject):
    """Wires the loader thread, the progress dialog and the main window together."""

    def __init__(self, app: QApplication, args: argparse.Namespace, store: ProfileStore,
                 on_window: Callable[[MainWindow], None] | None = None):
        super().__init__()
        self._app = app
        self._args = args
        self._store = store
        self._on_window = on_window
        self._screenshot: Path | None = args.screenshot
        self._notices: list[str] = []
        self._finished = False
        self._settings_dir: tempfile.TemporaryDirectory | None = None
        self.exit_code: int | None = None
        self.window: MainWindow | None = None
        self._dialog = QProgressDialog("Loading the engine…", "Cancel", 0, 100)
        self._dialog.setWindowTitle(APP_NAME)
        self._dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        self._dialog.setMinimumDuration(400)
        self._dialog.setAutoReset(False)
        self._dialog.setAutoClose(False)
        self._dialog.setMinimumWidth(460)
        self._dialog.canceled.connect(self._on_cancel_clicked)
        self._loader: EngineLoader | None = None
        self._make_loader(args.data)

    def _make_loader(self, data_path: Path | None) -> None:
        args = self._args
        request = LoadRequest(args.dataset, data_path, args.offline, args.cache_dir, args.user or 1)
        self._loader = EngineLoader(request)
        self._loader.progressed.connect(self._on_progress)
        self._loader.notice.connect(self._notices.append)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._loader.cancelled.connect(self._on_cancelled)

    def start(self) -> None:
        self._finished = False
        self._dialog.setValue(0)
        self._loader.start()

    def shutdown(self) -> None:
        """Stop the worker threads before Qt objects go away."""
        self._loader.cancel()
        self._loader.wait()
        if self.window is not None:
            self.window.live.stop()

    def dispose(self) -> None:
        self._loader.deleteLater()
        self._dialog.deleteLater()
        if self.window is not None:
            self.window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if self._settings_dir is not None:
            self._settings_dir.cleanup()

    # ----- loader signals -----

    def _on_progress(self, percent: int, message: str) -> None:
        if self._finished:
            return
        self._dialog.setLabelText(message or "Loading the engine…")
        self._dialog.setValue(min(percent, 99))  # 100 only when the window is on screen

    def _on_loaded(self, result: LoadResult) -> None:
        engine = result.engine
        try:
            start = self._start_source(engine)
        except (EngineError, ProfileStoreError) as error:
            self._close_dialog()
            _report(self._args, str(error))
            self._quit(1)
            return
        settings = None
        if self._screenshot is not None:  # a screenshot must not change the user's remembered window
            self._settings_dir = tempfile.TemporaryDirectory(prefix="cinewhy-settings-")
            settings = QSettings(str(Path(self._settings_dir.name) / "settings.ini"), QSettings.Format.IniFormat)
        cache_dir = self._args.cache_dir
        self.window = MainWindow(engine, self._store, settings, start=start,
                                 voice_factory=lambda served, name, model: Voice(served.catalogue, cache_dir, name, model))
        self.window.closing.connect(lambda: self._quit(0 if self.exit_code is None else self.exit_code))
        for notice in self._notices:
            self.window.show_banner(notice)
        if self._args.ask:
            self.window.resultShown.connect(self._ask_once)
        if self._screenshot is not None:
            self.window.resize(1400, 900)
            if self._args.ask:
                self.window.conversation.answered.connect(lambda _: QTimer.singleShot(400, self._save_screenshot))
            else:
                self.window.resultShown.connect(self._screenshot_soon)
        if self._on_window is not None:
            self._on_window(self.window)
        self.window.show()
        self._close_dialog()

    def _start_source(self, engine) -> tuple[str, int] | None:
        if self._args.profile:
            return "saved", _find_profile(self._store, engine.catalogue.info.dataset, self._args.profile).id
        if self._args.user is not None:
            engine.catalogue.user_profile(self._args.user)  # a clear error for an unknown user
            return "user", self._args.user
        return None  # the window restores the last profile

    def _on_failed(self, message: str) -> None:
        self._close_dialog()
        if self._screenshot is None and isinstance(self._loader.error, DataUnavailableError):
            if not self._ask_for_data_folder(message):
                self._quit(1)  # the box said it already: no second one with the same words
            return
        _report(self._args, message)
        self._quit(1)

    def _ask_for_data_folder(self, message: str) -> bool:
        """No data source answered: offer to pick a local MovieLens folder, and load from it."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, message)
        box.setInformativeText("If you have MovieLens on this computer, choose its folder (the one holding "
                               "u.data and u.item for ml-100k, or ratings.dat for ml-1m).")
        choose = box.addButton("Choose folder…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is not choose:
            return False
        folder = QFileDialog.getExistingDirectory(None, "MovieLens folder", str(Path.home()))
        if not folder:
            return False
        self._loader.deleteLater()
        self._make_loader(Path(folder))
        self.start()
        return True

    def _on_cancelled(self, message: str) -> None:
        self._close_dialog()
        print(message, file=sys.stderr)
        self._quit(0)

    # ----- user actions -----

    def _on_cancel_clicked(self) -> None:
        if not self._finished:
            self._loader.cancel()
            self._dialog.setLabelText("Cancelling…")

    # ----- helpers -----

    def _ask_once(self) -> None:
        self.window.resultShown.disconnect(self._ask_once)
        self.window.ask(self._args.ask)

    def _screenshot_soon(self) -> None:
        self.window.resultShown.disconnect(self._screenshot_soon)
        QTimer.singleShot(300, self._save_screenshot)  # let the list and the Sankey paint

    def _save_screenshot(self) -> None:
        path = self._screenshot
        if self.window.grab().save(str(path), "PNG"):
            print(f"Saved a screenshot of the window to {path}", file=sys.stderr)
            self._quit(0)
        else:
            print(f"error: could not write the screenshot to {path}", file=sys.stderr)
            self._quit(1)

    def _close_dialog(self) -> None:
        self._finished = True
        # reset() stops the dialog's own timer, which otherwise shows it `minimumDuration` after
        # the first progress: a stale "Looking for ml-1m" over the message that follows a quick failure.
        self._dialog.reset()
        self._dialog.hide()  # hide, not close: closing a QProgressDialog emits canceled

    def _quit(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self._app.exit(code)
