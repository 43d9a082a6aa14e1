"""Long engine work off the UI thread: a plain function doing the work, wrapped by a Qt thread that
turns its progress, result, errors and cancellation into signals."""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from engine.api import Cancelled, Engine, EngineError, Profile, Recommendation, TaskState


@dataclass(frozen=True)
class LoadRequest:
    dataset: str = "ml-100k"
    data_path: Path | None = None
    offline: bool = False
    cache_dir: Path | None = None
    user_id: int = 1
    k: int = 10


@dataclass(frozen=True)
class LoadResult:
    engine: Engine
    profile: Profile
    recommendations: list[Recommendation]


def load_recommendations(request: LoadRequest, state: TaskState, on_notice=None) -> LoadResult:
    """Load the dataset and its model (training it on first use), then recommend for the user."""
    engine = Engine.load(
        request.dataset,
        request.data_path,
        offline=request.offline,
        cache_dir=request.cache_dir,
        state=state,
        on_first_use=on_notice,
    )
    state.check_cancelled()
    profile = engine.user_profile(request.user_id)
    return LoadResult(engine, profile, engine.recommend(profile, request.k, explain=True))


class EngineLoader(QThread):
    """Runs load_recommendations in its own thread. Connect to the signals, then start()."""

    progressed = Signal(int, str)  # percent, message
    notice = Signal(str)  # the MovieLens terms, the first time they apply
    loaded = Signal(object)  # LoadResult
    failed = Signal(str)  # a message for the user, never a traceback
    cancelled = Signal(str)

    def __init__(self, request: LoadRequest, parent=None):
        super().__init__(parent)
        self._request = request
        self._cancel = threading.Event()
        self._last: tuple[int, str] | None = None
        self.error: EngineError | None = None  # what `failed` reported, for callers that act on its kind

    def cancel(self) -> None:
        """Ask the work to stop; it raises Cancelled at its next progress check."""
        self._cancel.set()

    def run(self) -> None:
        state = TaskState(self._report, self._cancel.is_set)
        try:
            result = load_recommendations(self._request, state, self.notice.emit)
        except Cancelled as error:
            self.cancelled.emit(str(error))
        except EngineError as error:
            self.error = error
            self.failed.emit(str(error))
        except Exception as error:  # a bug: keep the trace on the console, show one sentence
            traceback.print_exc()
            self.failed.emit(f"Unexpected error while loading the engine ({type(error).__name__}): {error}")
        else:
            self.loaded.emit(result)

    def _report(self, fraction: float, message: str) -> None:
        update = (int(round(fraction * 100)), message)
        if update != self._last:  # training reports often: send only what changes
            self._last = update
            self.progressed.emit(*update)
