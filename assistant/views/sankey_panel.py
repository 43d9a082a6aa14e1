"""The feature-relevance lens's view: the Sankey diagram with its few controls (how many features
to show, whether to show the evidence against, whether to group the profile's movies by genre), and
under it one line that checks the explanation (the movie's rank without its top reasons, computed by
the live worker: Engine.removal_check) with a link that shows that what-if. States and export come
from LensPanel."""
from __future__ import annotations

from pathlib import Path

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

CHECK_LINES = 2  # the room kept under the Sankey for the check line, in lines of text

from assistant.conversation.phrasing import listing
from assistant.conversation.phrasings.relevance import removal_line

from assistant.views.lens_panel import LensPanel
from assistant.views.sankey_layout import MAX_TOP_N
from assistant.views.sankey_view import MIN_TOP_N, SankeyView
from engine.api import Lens, RemovalCheck

SHOW_LINK, BACK_LINK = "show-what-if", "back"


GROUP_SHORTCUT = "Ctrl+G"
NO_GENRES_TIP = ("Grouping by genre is off: this dataset lists no genres for its movies "
                 "(the re-indexed ML-1M has neither titles nor genres).")


class SankeyPanel(LensPanel):
    lens = Lens.RELEVANCE
    groupedChanged = Signal(bool)  # the grouped view turned on or off (the conversation follows it)
    # The removal check: the what-if to draw (RemovalCheck, the explanation for its profile), the way
    # back, and a drawn movie whose check the window should ask the worker for (movie id).
    removalWhatIf = Signal(object, object)
    removalBack = Signal()
    checkWanted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = SankeyView(self)
        self._check_strip = _CheckStrip(self)
        self.check_line = self._check_strip.label
        self.check_line.linkActivated.connect(self._on_check_link)
        self._check: RemovalCheck | None = None
        self._check_explanation = None  # the explanation of the check's profile (the what-if drawn)
        self._what_if_shown = False
        self._asked_for: int | None = None
        content = QWidget(self)  # the page with the drawing: the Sankey, and the check line under it
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.view, 1)
        column.addWidget(self._check_strip)
        self.set_content(content)

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
        self._what_if_shown = explanation is self._check_explanation and explanation is not None
        self.view.set_explanation(explanation)
        self._show_check()

    # ----- the removal check -----

    @property
    def removal_check(self) -> RemovalCheck | None:
        """The check the line shows now (None when it is hidden)."""
        return self._check if not self.check_line.isHidden() else None

    def set_removal(self, check: RemovalCheck | None, after=None, update: bool = True) -> None:
        """The worker's check for the selected movie, with the explanation of the profile it leaves.
        `update=False` when the explanation it checks is drawn next (the drawing shows the line):
        shown against the explanation still drawn, the line would be hidden and shown again."""
        self._check, self._check_explanation = check, after
        if update:
            self.refresh_check()

    def refresh_check(self) -> None:
        """Bring the line under the Sankey up to date with the check and the drawing."""
        if self.explanation is not None:
            self._show_check()

    def _check_fits(self) -> bool:
        """Whether the check is about the explanation drawn: the same movie with the same score (a
        what-if of the conversation draws another profile's explanation: no line under it)."""
        drawn, check = self.explanation, self._check
        if drawn is None or check is None or getattr(drawn, "subject", None) != check.movie_id:
            return False
        return self._what_if_shown or abs(float(drawn.logit) - check.logit_before) <= 1e-6 * max(1.0, abs(drawn.logit))

    def _show_check(self) -> None:
        check = self._check
        if not self._check_fits():
            self._check_strip.show_text(None)
            drawn = self.explanation
            movie = getattr(drawn, "subject", None)
            if movie is not None and getattr(drawn, "lens", None) is Lens.RELEVANCE and movie != self._asked_for:
                self._asked_for = movie  # once per movie: a check that cannot be made is not asked for forever
                self.checkWanted.emit(int(movie))
            return
        if not check.removed:
            self._check_strip.show_text(None)
            return
        title = getattr(self.explanation, "title", None) or check.title
        sentence = escape(removal_line(check, title)) + "."
        if self._what_if_shown:
            link = f' Shown above: a copy of your profile without them. <a href="{BACK_LINK}">Back&nbsp;to&nbsp;your&nbsp;profile</a>'
        else:
            link = f' <a href="{SHOW_LINK}">See&nbsp;this&nbsp;what-if</a>'
        names = listing(list(check.names))
        self._check_strip.show_text(sentence + link, (
            f"Taking {names} out of a copy of your profile and scoring {title} again with the same model "
            f"(no retraining): rank #{check.rank_before} → #{check.rank_after} among the movies you haven't "
            f"watched, score (logit) {check.logit_before:.3f} → {check.logit_after:.3f}. Genres are not taken "
            "out on their own: they leave with the movies that carry them. Your saved profile is not changed."))

    def _on_check_link(self, link: str) -> None:
        if link == SHOW_LINK and self._check is not None and self._check_explanation is not None:
            self.removalWhatIf.emit(self._check, self._check_explanation)
        elif link == BACK_LINK:
            self.removalBack.emit()

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
        if hasattr(self, "check_line"):
            self._what_if_shown = False
            self.check_line.hide()
        if hasattr(self, "view"):  # LensPanel's constructor shows the empty state before the view exists
            self.view.set_explanation(None)  # its accessible description must not describe a stale movie


class _CheckStrip(QWidget):
    """The room under the Sankey for the check line: CHECK_LINES lines high, growing for a longer
    text. No layout inside, so that a new text (every edit's) or the line shown and hidden does not
    lay the window out again: a label in a layout sends a layout request up to the window at each
    change (~1.5 ms of the UI thread per edit, and the tab bar and banner repainted)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.label = QLabel(self, objectName="removalCheck")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAccessibleName("Check of this explanation")
        self.label.hide()
        self.setFixedHeight(self._room())

    def _room(self) -> int:
        return CHECK_LINES * self.label.fontMetrics().lineSpacing() + 2

    def show_text(self, text: str | None, tooltip: str = "") -> None:
        """Show `text` (rich text) with its tooltip, or hide the line for None; changes only what differs."""
        label = self.label
        if text is None:
            if not label.isHidden():
                label.hide()
                label.clear()
            return
        if label.text() != text:
            label.setText(text)
        if label.toolTip() != tooltip:
            label.setToolTip(tooltip)
        if label.isHidden():
            label.show()
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.width()
        needed = self.label.heightForWidth(width) if self.label.text() else 0
        room = max(self._room(), needed)
        if room != self.height():
            self.setFixedHeight(room)  # only a text longer than the room, or back from one, lays out again
        self.label.setGeometry(0, 0, width, max(needed, 0) or room)
