"""The feature-relevance lens's view: the Sankey diagram with its few controls (how many features
to show, whether to show the evidence against). States and export come from LensPanel."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QLabel, QSpinBox, QWidget

from assistant.views.lens_panel import LensPanel
from assistant.views.sankey_layout import MAX_TOP_N
from assistant.views.sankey_view import MIN_TOP_N, SankeyView
from engine.api import Lens


class SankeyPanel(LensPanel):
    lens = Lens.RELEVANCE

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = SankeyView(self)
        self.set_content(self.view)

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
        for control in (top_label, self.top_spin, self.negative_check):
            self.add_control(control)

        self.top_spin.valueChanged.connect(self.view.set_top_n)
        self.negative_check.toggled.connect(self.view.set_show_negative)
        self.view.movieClicked.connect(self.movieClicked)

    def draw(self, explanation) -> None:
        self.view.set_explanation(explanation)

    def write_image(self, path: Path) -> None:
        self.view.export(path)  # the view paints its own layout at twice the pixels

    def _show_message(self, state: str, text: str, detail: str = "") -> None:
        super()._show_message(state, text, detail)
        if hasattr(self, "view"):  # LensPanel's constructor shows the empty state before the view exists
            self.view.set_explanation(None)  # its accessible description must not describe a stale movie
