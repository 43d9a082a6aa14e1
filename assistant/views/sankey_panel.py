"""The Sankey view with its few controls: how many features to show, whether to show the evidence
against, and export to PNG or SVG."""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant.views.sankey_layout import MAX_TOP_N
from assistant.views.sankey_view import MIN_TOP_N, SankeyView, svg_supported

PNG_FILTER = "PNG image (*.png)"
SVG_FILTER = "SVG image (*.svg)"


def _file_stem(title: str) -> str:
    stem = re.sub(r"[^\w]+", "-", title.lower()).strip("-")
    return f"why-{stem}" if stem else "explanation"


class SankeyPanel(QWidget):
    movieClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = SankeyView(self)

        self.top_spin = QSpinBox(self)
        self.top_spin.setRange(MIN_TOP_N, MAX_TOP_N)
        self.top_spin.setValue(self.view.top_n)
        self.top_spin.setSuffix(" features")
        self.top_spin.setAccessibleName("Number of features shown")
        self.top_spin.setToolTip("How many features get a band of their own; the rest are grouped")
        top_label = QLabel("Show &top", self)
        top_label.setBuddy(self.top_spin)

        self.negative_check = QCheckBox("&Negative evidence", self)
        self.negative_check.setToolTip("Also show, in red, the features that speak against this movie")

        self.export_button = QPushButton("&Export…", self)
        self.export_button.setToolTip("Save this diagram as a PNG or SVG image")
        self.export_button.setEnabled(False)

        controls = QHBoxLayout()
        controls.setContentsMargins(8, 6, 8, 0)
        controls.addWidget(top_label)
        controls.addWidget(self.top_spin)
        controls.addSpacing(12)
        controls.addWidget(self.negative_check)
        controls.addStretch(1)
        controls.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)

        self.top_spin.valueChanged.connect(self.view.set_top_n)
        self.negative_check.toggled.connect(self.view.set_show_negative)
        self.export_button.clicked.connect(self.export_dialog)
        self.view.movieClicked.connect(self.movieClicked)
        self._last_dir = Path.home()

    def set_explanation(self, explanation) -> None:
        self.view.set_explanation(explanation)
        self.export_button.setEnabled(explanation is not None)

    def export_dialog(self) -> Path | None:
        """Ask for a file name and export; returns the path written, or None if cancelled or failed."""
        explanation = self.view.explanation
        stem = _file_stem(explanation.title) if explanation is not None else "explanation"
        filters = f"{PNG_FILTER};;{SVG_FILTER}" if svg_supported() else PNG_FILTER
        name, chosen = QFileDialog.getSaveFileName(self, "Export explanation", str(self._last_dir / f"{stem}.png"), filters)
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_name(path.name + (".svg" if chosen == SVG_FILTER else ".png"))
        try:
            self.view.export(path)
        except (OSError, ValueError, RuntimeError) as error:
            QMessageBox.warning(self, "Export failed", str(error))
            return None
        self._last_dir = path.parent
        return path
