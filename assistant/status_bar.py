"""A status bar whose messages are never cut off without a sign: a message wider than the room left
of the permanent labels is shortened in the middle with "…" (its start says what happened, its end
often where or why), and its full text is the bar's tooltip. currentMessage() is the full text."""
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
        self._shown = ""  # what is drawn for `_full`
        self._until: float | None = None  # when the message shown goes away (None: it stays)
        self.messageChanged.connect(self._on_message_changed)

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def currentMessage(self) -> str:
        """The message as it was given, before any shortening."""
        shown = super().currentMessage()
        return self._full if shown and shown == self._shown else shown

    def shown_message(self) -> str:
        """The message as it is drawn."""
        return super().currentMessage()

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
        if not self._full or self.shown_message() != self._shown:
            return
        if self._until is None:
            self._show_fitted(0)
        else:  # keep the message's own deadline: showMessage restarts the timer
            left = int(1000 * (self._until - time.monotonic()))
            if left > 0:
                self._show_fitted(left)

    def _show_fitted(self, timeout: int) -> None:
        text = self._full
        self._shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, self.message_room())
        self.setToolTip(text if self._shown != text else "")
        super().showMessage(self._shown, timeout)

    def _on_message_changed(self, text: str) -> None:
        if text != self._shown:  # cleared, or a message Qt showed itself (a menu's status tip)
            self._full = self._shown = ""
            self.setToolTip("")
