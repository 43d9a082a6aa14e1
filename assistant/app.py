"""Start the desktop app: parse the command line, load the engine off the UI thread with a progress
dialog, and show the minimal recommendations window."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from assistant.minimal_window import MinimalWindow, info_text, plain_reasons, profile_text
from assistant.workers import EngineLoader, LoadRequest, LoadResult, load_recommendations
from engine.errors import EngineError
from engine.progress import TaskState
from resources import read_text

APP_NAME = "CineWhy"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="CineWhy: a movie recommender that explains its recommendations.",
    )
    parser.add_argument("--dataset", default="ml-100k", help="ml-100k (default) or ml-1m")
    parser.add_argument("--data", metavar="PATH", type=Path, help="a folder holding MovieLens files (skips the search)")
    parser.add_argument("--user", metavar="ID", type=int, default=1, help="the dataset user to show (default 1)")
    parser.add_argument("--offline", action="store_true", help="never download; use local files and the cache only")
    parser.add_argument("--cache-dir", metavar="DIR", type=Path, help="where data and models are cached")
    parser.add_argument(
        "--screenshot", metavar="OUT.png", type=Path,
        help="render the window offscreen once the recommendations are shown, save it as PNG and exit",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
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
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setStyleSheet(read_text("style.qss"))
    controller = AppController(app, args)
    controller.start()
    code = app.exec()
    controller.shutdown()
    if controller.exit_code is not None:
        code = controller.exit_code
    # Qt objects must go before the QApplication does; Python's order of clean-up at exit does not ensure it.
    controller.dispose()
    del controller
    return code


def print_recommendations(args: argparse.Namespace) -> int:
    """The window's content as text, for a machine without a screen."""
    request = LoadRequest(args.dataset, args.data, args.offline, args.cache_dir, args.user)
    last = {"step": -1, "topic": None}

    def report(fraction: float, message: str) -> None:
        """Print a new step of the work, and every tenth of the way through a long one."""
        step, topic = int(fraction * 10), message.split(":")[0]
        if step > last["step"] or topic != last["topic"]:
            last.update(step=step, topic=topic)
            print(f"{int(fraction * 100):3d} % {message}", file=sys.stderr)

    try:
        result = load_recommendations(request, TaskState(report), lambda notice: print(notice, file=sys.stderr))
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(f"Recommendations for user {args.user} ({profile_text(result.profile)}); {info_text(result.engine.info)}")
    for recommendation in result.recommendations:
        movie = recommendation.movie
        print(f"{recommendation.rank:>2}. {movie.label}  [{', '.join(movie.genres)}]  "
              f"p={100 * recommendation.probability:.2f} %")
        print(f"    {plain_reasons(recommendation)}")
    return 0


def _display_available() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class AppController(QObject):
    """Wires the window, the loader thread and the progress dialog together."""

    def __init__(self, app: QApplication, args: argparse.Namespace):
        super().__init__()
        self._app = app
        self._screenshot: Path | None = args.screenshot
        self._engine = None
        self._finished = False
        self.exit_code: int | None = None
        self.window = MinimalWindow(args.user)
        self.window.user_requested.connect(self._show_user)
        self.window.closing.connect(self._on_window_closing)
        request = LoadRequest(args.dataset, args.data, args.offline, args.cache_dir, args.user)
        self._loader = EngineLoader(request)
        self._loader.progressed.connect(self._on_progress)
        self._loader.notice.connect(self.window.show_notice)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._loader.cancelled.connect(self._on_cancelled)
        self._dialog = QProgressDialog("Loading the engine…", "Cancel", 0, 100, self.window)
        self._dialog.setWindowTitle(APP_NAME)
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(400)
        self._dialog.setAutoReset(False)
        self._dialog.setAutoClose(False)
        self._dialog.setMinimumWidth(460)
        self._dialog.canceled.connect(self._on_cancel_clicked)

    def start(self) -> None:
        self.window.show()
        self._loader.start()

    def shutdown(self) -> None:
        """Stop the loader thread before Qt objects go away."""
        self._loader.cancel()
        self._loader.wait()

    def dispose(self) -> None:
        self._loader.deleteLater()
        self.window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    # ----- loader signals -----

    def _on_progress(self, percent: int, message: str) -> None:
        if self._finished:
            return
        self._dialog.setLabelText(message or "Loading the engine…")
        self._dialog.setValue(min(percent, 99))  # 100 only when the recommendations are on screen
        self.window.statusBar().showMessage(f"{message} ({percent} %)")

    def _on_loaded(self, result: LoadResult) -> None:
        self._close_dialog()
        self._engine = result.engine
        self.window.statusBar().clearMessage()
        self.window.show_info(result.engine.info)
        self.window.show_recommendations(result.profile, result.recommendations)
        if self._screenshot is not None:
            QTimer.singleShot(300, self._save_screenshot)

    def _on_failed(self, message: str) -> None:
        self._close_dialog()
        if self._screenshot is None:
            QMessageBox.critical(self.window, APP_NAME, message)
        else:
            print(f"error: {message}", file=sys.stderr)
        self._quit(1)

    def _on_cancelled(self, message: str) -> None:
        self._close_dialog()
        print(message, file=sys.stderr)
        self._quit(0)

    # ----- user actions -----

    def _on_cancel_clicked(self) -> None:
        if not self._finished:
            self._loader.cancel()
            self.window.statusBar().showMessage("Cancelling…")

    def _on_window_closing(self) -> None:
        if self._finished:
            self._quit(0 if self.exit_code is None else self.exit_code)
        else:
            self._loader.cancel()  # _on_cancelled quits once the worker has stopped

    def _show_user(self, user_id: int) -> None:
        if self._engine is None:
            return
        try:
            profile = self._engine.user_profile(user_id)
            recommendations = self._engine.recommend(profile, 10, explain=True)
        except EngineError as error:
            QMessageBox.warning(self.window, APP_NAME, str(error))
            return
        self.window.show_recommendations(profile, recommendations)

    # ----- helpers -----

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
        self._dialog.hide()  # hide, not close: closing a QProgressDialog emits canceled

    def _quit(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self._app.exit(code)
