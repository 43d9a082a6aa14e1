"""Progress reporting and cancellation for long work, shared by the command line and the app."""
from __future__ import annotations

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
