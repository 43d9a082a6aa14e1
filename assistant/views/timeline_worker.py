"""The Expert attribution tab's timeline work, on one thread of its own, never the UI thread: the
profile's sittings and the session expert timeline of one of them (the live worker explains one
movie; a sitting is about the profile, so this tab fetches it itself once the lens is prepared).

Requests take the latest-request slot of `LatestRequestWorker`, as the pixel tab's do.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject

from assistant.latest_request_worker import LatestRequestWorker

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


class TimelineWorker(LatestRequestWorker):
    """`request()` from the UI thread; results through `finished(TimelineShown)`. `engine` is the app's
    engine; its expert explainer is asked on the worker thread only."""

    def __init__(self, engine, parent: QObject | None = None) -> None:
        super().__init__("cinewhy-timeline-worker", parent)
        self._engine = engine

    def request(self, profile: Profile, sitting: int | None = None, window: int = 1) -> int:
        return self._submit(lambda generation: TimelineRequest(generation, profile, sitting, window))

    def _compute(self, request: TimelineRequest) -> TimelineShown:
        return compute(self._engine, request)


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

