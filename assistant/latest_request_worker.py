"""Engine work on one thread of its own, never the UI thread: the live recommender's, and a tab's own
work that the live worker does not do (the pixel tab's pairs, the expert tab's sittings).

A request goes into a one-place slot (a newer one replaces one not started) and carries a generation
number, so a burst of clicks or edits costs one computation and a stale result is never shown.
Subclasses build their request in `request(...)` through `_submit` and compute it in `_compute`.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal


class LatestRequestWorker(QObject):
    """`finished(result)` carries `_compute`'s result for the newest request only; results have a
    `generation` attribute that `is_current` compares."""

    finished = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._condition = threading.Condition()
        self._pending = None
        self._generation = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _submit(self, make: Callable[[int], object]) -> int:
        """Replace any request not started by `make(generation)`; returns its generation."""
        with self._condition:
            self._generation += 1
            self._pending = make(self._generation)
            self._condition.notify()
            return self._generation

    def is_current(self, shown) -> bool:
        return shown.generation == self._generation

    def stop(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._stopping = True
            self._pending = None
            self._stopping_locked()
            self._condition.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _compute(self, request):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _stopping_locked(self) -> None:
        """What a subclass stops along with the thread, under the same lock (e.g. cancel flags)."""

    # ----- worker thread -----

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    return
                request, self._pending = self._pending, None
            shown = self._compute(request)
            with self._condition:
                if self._stopping:
                    return
                stale = request.generation != self._generation
            if not stale:  # a newer request is waiting: do not send what it supersedes
                self.finished.emit(shown)
