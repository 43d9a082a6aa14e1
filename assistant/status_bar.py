"""A status bar whose messages are never cut off mid-word without a sign: a message wider than the
room left of the permanent labels is shortened with "…", and its full text is the bar's tooltip."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar, QWidget

# QStatusBar draws its message from 6 px in and keeps a gap before the first permanent widget.
_MESSAGE_MARGINS = 18


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self._full = ""
        self._until: float | None = None  # when the message shown goes away (None: it stays)
        self.messageChanged.connect(self._on_message_changed)

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    @property
    def full_message(self) -> str:
        """The message as it was given, before any shortening."""
        return self._full if self.currentMessage() else ""

    def showMessage(self, text: str, timeout: int = 0) -> None:
        self._full = text
        self._until = time.monotonic() + timeout / 1000 if timeout > 0 else None
        self._show_fitted(timeout)

    def message_room(self) -> int:
        """Pixels the message may take: from the left edge to the first visible permanent label."""
        lefts = [w.geometry().left() for w in self._permanent if w.isVisible()]
        return max(0, min(lefts, default=self.width()) - _MESSAGE_MARGINS)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refit()

    def _refit(self) -> None:
        if not self.currentMessage() or not self._full:
            return
        if self._until is None:
            self._show_fitted(0)
        else:  # keep the message's own deadline: showMessage restarts the timer
            left = int(1000 * (self._until - time.monotonic()))
            if left > 0:
                self._show_fitted(left)

    def _show_fitted(self, timeout: int) -> None:
        text = self._full
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, self.message_room())
        self.setToolTip(text if shown != text else "")
        super().showMessage(shown, timeout)

    def _on_message_changed(self, text: str) -> None:
        if not text:
            self.setToolTip("")
        elif text != self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.message_room()):
            self._full = text  # a message Qt showed itself (a menu's status tip)
            self._until = None
