"""The bar above the window's content that says an edit was not saved, and why.

Not a dialog: a failing disk would otherwise raise one box per edit. The bar stays until the save
lands or the user discards the edits, and offers both: "Try again now" and "Discard changes".
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

# Its own colours, so that it reads as a warning with or without the app's style sheet.
_STYLE = """
QFrame#saveProblem { background: #fff4e5; border: 1px solid #f0c27a; border-radius: 6px; margin: 6px; }
QFrame#saveProblem QLabel { color: #5a3600; background: transparent; border: none; }
"""


class SaveProblemBar(QFrame):
    retryRequested = Signal()
    discardRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("saveProblem")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName("Edits not saved")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Try &again now", self)
        self.retry_button.setToolTip("Save the edits shown now, e.g. after freeing disk space or closing the other program")
        self.retry_button.clicked.connect(self.retryRequested.emit)
        self.discard_button = QPushButton("&Discard changes", self)
        self.discard_button.setToolTip("Go back to the profile as it was last saved (the same as Undo)")
        self.discard_button.clicked.connect(self.discardRequested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.discard_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_problem(self, text: str, can_retry: bool = True, can_discard: bool = True) -> None:
        self.label.setText(text)
        self.retry_button.setVisible(can_retry)
        self.discard_button.setVisible(can_discard)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def clear(self) -> None:
        self.label.clear()
        self.hide()
