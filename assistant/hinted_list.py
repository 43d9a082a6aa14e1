"""A list that says what to do when it shows no row: no profile saved yet, no user matching a search.
An empty white box reads as broken; a line of grey text says why it is empty."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QListWidget, QWidget


class HintedList(QListWidget):
    def __init__(self, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hint = hint

    @property
    def hint(self) -> str:
        return self._hint

    def set_hint(self, text: str) -> None:
        self._hint = text
        self.viewport().update()

    def shows_nothing(self) -> bool:
        """No row, or every row hidden by a filter."""
        return all(self.item(row).isHidden() for row in range(self.count()))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._hint or not self.shows_nothing():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        flags = int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
        painter.drawText(self.viewport().rect().adjusted(6, 6, -6, -6), flags, self._hint)
        painter.end()
