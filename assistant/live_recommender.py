"""The engine service behind the live window: recomputes recommendations and the selected movie's
explanation on ONE worker thread, never on the UI thread.

A request goes into a one-place slot: a newer request replaces an older one that has not started,
so a burst of edits costs one computation, not a queue of them. Every request carries a generation
number; the window applies a result only when it is the latest (`is_current`), so a slow stale
result can never overwrite a newer one on screen.

Debug check: with `LiveRecommender.check_threads` True (or CINEWHY_CHECK_THREADS=1 in the
environment) every engine call asserts that it is not running on the main thread.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from engine.api import Engine, Recommendation
from engine.errors import EngineError
from engine.explain.relevance import RelevanceExplanation
from engine.profile import Profile

DEFAULT_K = 20


@dataclass(frozen=True)
class LiveRequest:
    generation: int
    profile: Profile
    selected: int | None  # the movie whose explanation the view shows, if any
    k: int = DEFAULT_K


@dataclass(frozen=True)
class LiveResult:
    generation: int
    profile: Profile
    recommendations: list[Recommendation]
    selected: int | None
    # Set when the selected movie is not among the recommendations: its explanation, and its rank
    # among unwatched movies (None when the profile itself now holds the movie).
    selected_explanation: RelevanceExplanation | None = None
    selected_rank: int | None = None
    seconds: float = 0.0  # engine time for this request
    error: str | None = field(default=None)

    def recommendation_for(self, movie_id: int | None) -> Recommendation | None:
        return next((r for r in self.recommendations if r.movie.id == movie_id), None)


class LiveRecommender(QObject):
    """Owns the worker thread. `request()` from the UI thread; results arrive through `finished`
    (queued to the receiver's thread). Call `stop()` before the application quits."""

    finished = Signal(object)  # LiveResult
    check_threads = os.environ.get("CINEWHY_CHECK_THREADS", "") not in ("", "0")

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self._engine = engine
        self._condition = threading.Condition()
        self._pending: LiveRequest | None = None
        self._generation = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="cinewhy-live-recommender", daemon=True)
        self._thread.start()

    @property
    def generation(self) -> int:
        """The number of the latest request."""
        return self._generation

    def request(self, profile: Profile, selected: int | None, k: int = DEFAULT_K) -> int:
        """Ask for fresh recommendations and the selected movie's explanation; returns the request's
        generation. Replaces a request still waiting in the slot."""
        with self._condition:
            self._generation += 1
            self._pending = LiveRequest(self._generation, profile, selected, k)
            self._condition.notify()
            return self._generation

    def is_current(self, result: LiveResult) -> bool:
        return result.generation == self._generation

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
            result = self._compute(request)
            with self._condition:
                if self._stopping:
                    return
                stale = request.generation != self._generation
            if not stale:  # a newer request is waiting: do not send what it supersedes
                self.finished.emit(result)

    def _compute(self, request: LiveRequest) -> LiveResult:
        start = time.perf_counter()
        try:
            self._assert_worker_thread()
            recommendations = self._engine.recommend(request.profile, request.k, explain=True)
            explanation, rank = None, None
            selected = request.selected
            if selected is not None and not any(r.movie.id == selected for r in recommendations):
                explanation = self._engine.explain(request.profile, selected)
                rank = self._engine.rank_of(request.profile, selected)
        except EngineError as error:
            return LiveResult(request.generation, request.profile, [], request.selected, error=str(error))
        except Exception as error:  # a bug: keep the trace on the console, show one sentence
            traceback.print_exc()
            message = f"Unexpected error while recommending ({type(error).__name__}): {error}"
            return LiveResult(request.generation, request.profile, [], request.selected, error=message)
        return LiveResult(
            request.generation, request.profile, recommendations, selected, explanation, rank,
            time.perf_counter() - start,
        )

    def _assert_worker_thread(self) -> None:
        if self.check_threads:
            assert threading.current_thread() is not threading.main_thread(), "engine call on the UI thread"
