"""Progress reporting and cancellation for long work, shared by the command line and the app."""
from __future__ import annotations

import time
from typing import Callable

from engine.errors import Cancelled


class TaskState:
    """Passed into long-running functions: they report progress and check for cancellation.

    The app wraps this in a Qt worker; the command line prints progress; tests pass a silent one.
    """

    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ):
        self._on_progress = on_progress
        self._should_cancel = should_cancel

    def progress(self, fraction: float, message: str = "") -> None:
        self.check_cancelled()
        if self._on_progress is not None:
            self._on_progress(min(max(fraction, 0.0), 1.0), message)

    def check_cancelled(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            raise Cancelled("Cancelled by the user; nothing was saved.")

    def sub(self, start: float, end: float) -> "TaskState":
        """A state whose 0..1 maps onto start..end of this one, for a step of a longer task."""
        parent = self

        def forward(fraction: float, message: str) -> None:
            parent.progress(start + (end - start) * fraction, message)

        return TaskState(forward, self._should_cancel)


SILENT = TaskState()


def time_left_text(seconds: float) -> str:
    """"about 40 s left", "about 3 min left": rounded, since the estimate is rough."""
    if seconds < 60:
        return f"about {max(5, 5 * round(seconds / 5))} s left"
    if seconds < 120:
        return f"about {10 * round(seconds / 10)} s left"
    return f"about {round(seconds / 60)} min left"


class StepProgress:
    """A loop of `total` steps (batches): cancel is checked at every step, so a Cancel lands within
    one step; progress goes out at most every `interval` seconds, with an estimate of the time left.
    The pace is measured from `warmup` seconds in: the first steps (threads starting, caches filling)
    are much slower, and counting them overstated the time left many times over. `up_to`: the loop
    may end early (early stopping), so the time left is an upper bound and is said so."""

    def __init__(self, state: TaskState, total: int, interval: float = 0.5, warmup: float = 2.0,
                 up_to: bool = False, clock: Callable[[], float] = time.monotonic):
        self._state = state
        self._total = max(total, 1)
        self._interval = interval
        self._warmup = warmup
        self._up_to = up_to
        self._clock = clock
        self._started = clock()
        self._last: float | None = None
        self._base: tuple[float, int] | None = None  # (time, steps done) where the pace is measured from

    def step(self, done: int, message: str) -> None:
        """`done` steps of `total` are finished; `message` says where the loop is ("epoch 2 of 6")."""
        self._state.check_cancelled()
        now = self._clock()
        if self._base is None and now - self._started >= self._warmup:
            self._base = (now, done)
        if self._last is not None and now - self._last < self._interval:
            return
        self._last = now
        left = self.seconds_left(done, now)
        if left is not None:
            message += ", " + ("up to " if self._up_to else "") + time_left_text(left)
        self._state.progress(done / self._total, message)

    def seconds_left(self, done: int, now: float | None = None) -> float | None:
        """From the pace since the warm-up; None until it has been measured for `interval` seconds."""
        if self._base is None:
            return None
        since, done_then = self._base
        elapsed = (self._clock() if now is None else now) - since
        if done <= done_then or elapsed < self._interval:
            return None
        return elapsed * (self._total - done) / (done - done_then)
