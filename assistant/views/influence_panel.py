"""The influence lens's tab: the influence-neighbour graph with its one control, how many ratings
per side get a node of their own (export and the empty, busy and unavailable states come from
`LensPanel`)."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget

from assistant.views.influence_layout import MAX_TOP_N, MIN_TOP_N
from assistant.views.influence_view import InfluenceGraphView
from assistant.views.lens_panel import LensPanel
from engine.api import Lens

EMPTY_TEXT = "Select a recommendation to see which past ratings moved its predicted rating."


class InfluenceGraphPanel(LensPanel):
    lens = Lens.INFLUENCE

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = EMPTY_TEXT
        self.show_empty(EMPTY_TEXT)
        self.view = InfluenceGraphView(self)
        self.set_content(self.view)

        self.top_spin = QSpinBox(self)
        self.top_spin.setRange(MIN_TOP_N, MAX_TOP_N)
        self.top_spin.setValue(self.view.top_n)
        self.top_spin.setSuffix(" per side")
        self.top_spin.setAccessibleName("Number of ratings shown per side")
        self.top_spin.setToolTip("How many ratings on each side get a node of their own; the rest are summed")
        top_label = QLabel("Show &top", self)
        top_label.setBuddy(self.top_spin)
        row = QWidget(self)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(top_label)
        row_layout.addWidget(self.top_spin)
        self.add_control(row)

        self.top_spin.valueChanged.connect(self.view.set_top_n)
        self.view.movieClicked.connect(self.movieClicked)

    def draw(self, explanation) -> None:
        self.view.set_explanation(explanation)

    def _show_message(self, state: str, text: str, detail: str = "") -> None:
        super()._show_message(state, text, detail)
        view = getattr(self, "view", None)  # the base shows its empty state before the view exists
        if view is not None:
            view.set_explanation(None)
