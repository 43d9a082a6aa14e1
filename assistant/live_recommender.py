"""The engine service behind the live window: recomputes recommendations and the selected movie's
explanation, through the lens the user is looking at, on ONE worker thread, never on the UI thread.

A request goes into a one-place slot: a newer request replaces an older one that has not started,
so a burst of edits costs one computation, not a queue of them. Every request carries a generation
number; the window applies a result only when it is the latest (`is_current`), so a slow stale
result can never overwrite a newer one on screen.

A lens whose model is not trained or loaded yet is prepared on a thread of its own (progress through
`preparing`, cancel with `cancel_preparing`), so that the list keeps following edits meanwhile; the
result says `preparing` and the window asks again when `prepared` arrives. The worker never names a
lens: every one goes through `Engine.prepare` and `Engine.explain`.

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

from assistant.latest_request_worker import LatestRequestWorker
from engine.api import (
    Cancelled, Engine, EngineError, Explanation, Lens, LensUnavailableError, Profile, Recommendation, RemovalCheck,
)
from engine.api import TaskState, lens_subjects

DEFAULT_K = 20


@dataclass(frozen=True)
class LiveRequest:
    generation: int
    profile: Profile
    selected: int | None  # the movie whose explanation the view shows; None: the top recommendation
    lens: Lens | None = None  # the lens the user is looking at; None: only the list's own explanations
    k: int = DEFAULT_K
    retry: bool = False  # prepare the lens's model even if the user cancelled its preparation before


@dataclass(frozen=True)
class LiveResult:
    generation: int
    profile: Profile
    recommendations: list[Recommendation]
    selected: int | None  # the movie explained (the request's, or the top recommendation)
    lens: Lens | None = None
    explanation: Explanation | None = None  # the selected movie through `lens`
    # The selected movie's rank among unwatched movies when it is not among the recommendations
    # (None then means that the profile itself now holds the movie).
    selected_rank: int | None = None
    preparing: bool = False  # `lens`'s model is being trained or loaded; `prepared` will follow
    # `lens`'s model is prepared (asked here, on the worker thread, so that the window and the views
    # that fetch their own subjects know it without calling the engine on the UI thread)
    prepared: bool = False
    declined: bool = False  # the user cancelled preparing `lens`; a request with retry=True starts again
    unavailable: str | None = None  # why `lens` cannot explain here
    explanation_error: str | None = None  # why this movie has no explanation through `lens`
    seconds: float = 0.0  # engine time for this request
    error: str | None = field(default=None)
    # With the relevance lens: the selected movie re-scored without its top reasons (the line under the
    # Sankey), and its explanation for the profile without them (what the line's what-if draws).
    removal: RemovalCheck | None = None
    removal_explanation: Explanation | None = None

    def recommendation_for(self, movie_id: int | None) -> Recommendation | None:
        return next((r for r in self.recommendations if r.movie.id == movie_id), None)

    def explanation_of(self, movie_id: int | None, lens: Lens | None) -> Explanation | None:
        """The explanation of `movie_id` through `lens` that this result holds, from the selected
        movie's or from the list's own, or None."""
        if lens is None or movie_id is None:
            return None
        if self.selected == movie_id and self.lens == lens and self.explanation is not None:
            return self.explanation
        recommendation = self.recommendation_for(movie_id)
        explanation = recommendation.explanation if recommendation is not None else None
        return explanation if explanation is not None and explanation.lens == lens else None


class LiveRecommender(LatestRequestWorker):
    """Owns the worker thread. `request()` from the UI thread; results arrive through `finished`
    (queued to the receiver's thread). Call `stop()` before the application quits.

    Signals for a lens's preparation: `preparing(Lens, percent, message)`, then `prepared(Lens,
    note)` or `preparationStopped(Lens, message, why)`, why being "cancelled", "unavailable" or "failed"."""

    preparing = Signal(object, int, str)
    prepared = Signal(object, str)
    preparationStopped = Signal(object, str, str)
    check_threads = os.environ.get("CINEWHY_CHECK_THREADS", "") not in ("", "0")

    def __init__(self, engine: Engine, parent: QObject | None = None):
        self._engine = engine
        self._preparations: dict[Lens, threading.Event] = {}  # lens -> its cancel flag, while running
        self._declined: set[Lens] = set()
        super().__init__("cinewhy-live-recommender", parent)  # finished(LiveResult)

    @property
    def generation(self) -> int:
        """The number of the latest request."""
        return self._generation

    def request(self, profile: Profile, selected: int | None, lens: Lens | None = None, k: int = DEFAULT_K,
                retry: bool = False) -> int:
        """Ask for fresh recommendations and the selected movie's explanation through `lens`;
        returns the request's generation. Replaces a request still waiting in the slot."""
        return self._submit(lambda generation: LiveRequest(generation, profile, selected, lens, k, retry))

    def is_preparing(self, lens: Lens) -> bool:
        with self._condition:
            return lens in self._preparations

    def cancel_preparing(self, lens: Lens) -> None:
        """Stop preparing `lens`'s model at its next progress check; later requests do not start it
        again unless they ask with retry=True."""
        with self._condition:
            flag = self._preparations.get(lens)
            if flag is not None:
                flag.set()
                self._declined.add(lens)

    def _stopping_locked(self) -> None:
        for flag in self._preparations.values():
            flag.set()

    # ----- worker thread -----

    def _compute(self, request: LiveRequest) -> LiveResult:
        start = time.perf_counter()
        try:
            self._assert_worker_thread()
            recommendations = self._engine.recommend(request.profile, request.k, explain=True)
            selected = request.selected
            if selected is None and recommendations:
                selected = recommendations[0].movie.id
            rank = None
            if selected is not None and not any(r.movie.id == selected for r in recommendations):
                rank = self._engine.rank_of(request.profile, selected)
            partial = LiveResult(request.generation, request.profile, recommendations, selected, request.lens,
                                 selected_rank=rank)
            lens_part = self._explain(request, partial)
            lens_part.update(self._removal_check(request.profile, lens_part.get("explanation")))
        except EngineError as error:
            return LiveResult(request.generation, request.profile, [], request.selected, request.lens, error=str(error))
        except Exception as error:  # a bug: keep the trace on the console, show one sentence
            traceback.print_exc()
            message = f"Unexpected error while recommending ({type(error).__name__}): {error}"
            return LiveResult(request.generation, request.profile, [], request.selected, request.lens, error=message)
        return LiveResult(
            request.generation, request.profile, recommendations, selected, request.lens,
            selected_rank=rank, seconds=time.perf_counter() - start, **lens_part,
        )

    def _explain(self, request: LiveRequest, partial: LiveResult) -> dict:
        """The lens's part of the result: the explanation, or why there is none yet."""
        lens, selected = request.lens, partial.selected
        if lens is None or selected is None:
            return {}
        from_list = partial.explanation_of(selected, lens)  # the list already explains through this lens
        if from_list is not None:
            return {"explanation": from_list, "prepared": True}
        try:
            if not self._engine.is_prepared(lens):
                reason = self._engine.lenses().get(lens)
                if reason is not None:  # say why at once rather than start what cannot work
                    return {"unavailable": reason}
                return self._start_preparing(lens, request.retry)
            if lens_subjects(lens) != "movies":  # its view explains the lens's own catalogue, not the movie
                return {"prepared": True}
            return {"explanation": self._engine.explain(request.profile, selected, lens), "prepared": True}
        except LensUnavailableError as error:
            return {"unavailable": str(error)}
        except EngineError as error:  # e.g. a movie this lens's model has no data for
            return {"explanation_error": str(error), "prepared": True}

    def _removal_check(self, profile: Profile, explanation: Explanation | None) -> dict:
        """The check under the Sankey, for the relevance explanation just made (a few ms)."""
        if explanation is None or explanation.lens is not Lens.RELEVANCE:
            return {}
        try:
            check = self._engine.removal_check(profile, explanation.subject)
            return {"removal": check,
                    "removal_explanation": self._engine.explain(check.profile_after, check.movie_id, Lens.RELEVANCE)}
        except EngineError:  # the explanation stands without its check
            return {}

    def _start_preparing(self, lens: Lens, retry: bool) -> dict:
        with self._condition:
            if lens in self._preparations:
                return {"preparing": True}
            if lens in self._declined and not retry:
                return {"declined": True}
            self._declined.discard(lens)
            flag = threading.Event()
            self._preparations[lens] = flag
        threading.Thread(
            target=self._prepare, args=(lens, flag), name=f"cinewhy-prepare-{lens.value}", daemon=True
        ).start()
        return {"preparing": True}

    def _prepare(self, lens: Lens, cancel: threading.Event) -> None:
        """Train or load `lens`'s model on this thread; the live worker keeps serving meanwhile."""
        last: list[tuple[int, str]] = []

        def report(fraction: float, message: str) -> None:
            update = (int(round(fraction * 100)), message)
            if not last or update != last[-1]:  # training reports often: send only what changes
                last[:] = [update]
                self.preparing.emit(lens, *update)

        try:
            self._assert_worker_thread()
            note = self._engine.prepare(lens, TaskState(report, cancel.is_set))
        except Cancelled as error:
            self._finish_preparing(lens, self.preparationStopped, str(error), "cancelled")
        except LensUnavailableError as error:
            self._finish_preparing(lens, self.preparationStopped, str(error), "unavailable")
        except EngineError as error:
            self._finish_preparing(lens, self.preparationStopped, str(error), "failed")
        except Exception as error:  # a bug: keep the trace on the console, show one sentence
            traceback.print_exc()
            message = f"Unexpected error while preparing the {lens.value} lens ({type(error).__name__}): {error}"
            self._finish_preparing(lens, self.preparationStopped, message, "failed")
        else:
            self._finish_preparing(lens, self.prepared, note or "")

    def _finish_preparing(self, lens: Lens, signal, *args) -> None:
        with self._condition:
            self._preparations.pop(lens, None)
            stopping = self._stopping
        if not stopping:
            signal.emit(lens, *args)

    def _assert_worker_thread(self) -> None:
        if self.check_threads:
            assert threading.current_thread() is not threading.main_thread(), "engine call on the UI thread"
