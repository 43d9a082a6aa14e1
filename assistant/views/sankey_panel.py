"""The feature-relevance lens's view: the Sankey diagram with its few controls (how many features
to show, whether to show the evidence against, whether to group the profile's movies by genre).
States and export come from LensPanel."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QSpinBox, QWidget

from assistant.views.lens_panel import LensPanel
from assistant.views.sankey_layout import MAX_TOP_N
from assistant.views.sankey_view import MIN_TOP_N, SankeyView
from engine.api import Lens


GROUP_SHORTCUT = "Ctrl+G"
NO_GENRES_TIP = ("Grouping by genre is off: this dataset lists no genres for its movies "
                 "(the re-indexed ML-1M has neither titles nor genres).")


class SankeyPanel(LensPanel):
    lens = Lens.RELEVANCE
    groupedChanged = Signal(bool)  # the grouped view turned on or off (the conversation follows it)

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
        self.group_button = QPushButton("&Group by genre", self)
        self.group_button.setCheckable(True)
        self.group_button.setAccessibleName("Group the profile's movies by genre")
        self.group_button.setToolTip(
            "Draw your movies as one band per genre, each as thick as the exact sum of its movies' relevance "
            f"(each movie counted once, in its genre most common among your movies); click a group to see its "
            f"movies. Shortcut: {QKeySequence(GROUP_SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)}")
        self._group_tip = self.group_button.toolTip()
        self.group_action = QAction("Group movies by genre", self)
        self.group_action.setShortcut(QKeySequence(GROUP_SHORTCUT))
        self.group_action.triggered.connect(self.group_button.toggle)
        self.addAction(self.group_action)  # active while this tab is in front
        for control in (top_label, self.top_spin, self.negative_check, self.group_button):
            self.add_control(control)

        self.top_spin.valueChanged.connect(self.view.set_top_n)
        self.negative_check.toggled.connect(self.view.set_show_negative)
        self.group_button.toggled.connect(self.view.set_grouped)
        self.view.groupedChanged.connect(self._on_grouped)
        self.view.movieClicked.connect(self.movieClicked)

    @property
    def grouped(self) -> bool:
        return self.view.grouped

    def set_grouped(self, value: bool) -> None:
        self.group_button.setChecked(bool(value))

    def _on_grouped(self, value: bool) -> None:
        self.group_button.setChecked(value)
        self.groupedChanged.emit(value)

    def draw(self, explanation) -> None:
        # Every catalogue movie's genres, not just the profile's; an empty mapping says nothing.
        genres = getattr(explanation, "movie_genres", None)
        if genres:
            self.set_genres_available(any(genres.values()))
        self.view.set_explanation(explanation)

    @property
    def genres_available(self) -> bool:
        return self.group_button.isEnabled()

    def set_genres_available(self, available: bool) -> None:
        """A dataset without genres (the re-indexed ML-1M) has nothing to group by: the button and
        Ctrl+G are off there, and the tooltip says why."""
        if not available:
            self.set_grouped(False)
        self.group_button.setEnabled(available)
        self.group_action.setEnabled(available)
        self.group_button.setToolTip(self._group_tip if available else NO_GENRES_TIP)

    def write_image(self, path: Path) -> None:
        self.view.export(path)  # the view paints its own layout at twice the pixels

    def _show_message(self, state: str, text: str, detail: str = "") -> None:
        super()._show_message(state, text, detail)
        if hasattr(self, "view"):  # LensPanel's constructor shows the empty state before the view exists
            self.view.set_explanation(None)  # its accessible description must not describe a stale movie
