"""The Expert attribution tab's timeline work, on one thread of its own, never the UI thread: the
profile's sittings and the session expert timeline of one of them (the live worker explains one
movie; a sitting is about the profile, so this tab fetches it itself once the lens is prepared).

As in the pixel tab's worker, a request goes into a one-place slot (a newer one replaces one not
started) with a generation number, so a burst of edits costs one computation and a stale result is
never shown.
"""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from engine.api import EngineError, ExpertTimeline, Lens, Profile

TOO_FEW = ("This profile has fewer than two rated movies, so there is no sitting to explain: rate at least two "
           "movies (the order you rate them in is your sitting).")
NO_SITTINGS = "This user has no sitting with two or more ratings, so there is nothing to guess."


@dataclass(frozen=True)
class TimelineRequest:
    generation: int
    profile: Profile
    sitting: int | None  # None: the latest sitting with a timeline
    window: int


@dataclass(frozen=True)
class TimelineShown:
    generation: int
    profile: Profile
    sittings: tuple = ()  # the engine's SittingInfo rows
    timeline: ExpertTimeline | None = None
    window: int = 1
    message: str = ""  # why there is no timeline (no rating times, too few ratings, an error)


class TimelineWorker(QObject):
    """`request()` from the UI thread; results through `finished(TimelineShown)`. `engine` is the app's
    engine; its expert explainer is asked on the worker thread only."""

    finished = Signal(object)

    def __init__(self, engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._condition = threading.Condition()
        self._pending: TimelineRequest | None = None
        self._generation = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="cinewhy-timeline-worker", daemon=True)
        self._thread.start()

    def request(self, profile: Profile, sitting: int | None = None, window: int = 1) -> int:
        with self._condition:
            self._generation += 1
            self._pending = TimelineRequest(self._generation, profile, sitting, window)
            self._condition.notify()
            return self._generation

    def is_current(self, shown: TimelineShown) -> bool:
        return shown.generation == self._generation

    def stop(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._stopping = True
            self._pending = None
            self._condition.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # ----- worker thread -----

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    return
                request, self._pending = self._pending, None
            shown = compute(self._engine, request)
            with self._condition:
                if self._stopping:
                    return
                stale = request.generation != self._generation
            if not stale:
                self.finished.emit(shown)


def compute(engine, request: TimelineRequest) -> TimelineShown:
    """The sittings and the asked sitting's timeline (or why there is none), for one request."""
    def said(message: str, sittings=()) -> TimelineShown:
        return TimelineShown(request.generation, request.profile, tuple(sittings), None, request.window, message)

    try:
        explainer = engine.explainer(Lens.EXPERTS)
        reason = explainer.timeline_reason(engine.dataset)
        if reason is not None:
            return said(reason)
        sittings = explainer.sittings(request.profile)
        if not sittings:
            return said(TOO_FEW if len(request.profile.rated) < 2 else NO_SITTINGS)
        timeline = explainer.timeline(request.profile, request.sitting, request.window)
    except EngineError as error:
        return said(str(error))
    except Exception as error:  # a bug: keep the trace on the console, show one sentence
        traceback.print_exc()
        return said(f"Unexpected error while explaining the sitting ({type(error).__name__}): {error}")
    return TimelineShown(request.generation, request.profile, tuple(sittings), timeline, request.window)

