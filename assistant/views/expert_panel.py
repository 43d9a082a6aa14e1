"""The Expert attribution tab: which interpretable expert (which part of the profile) decided a
prediction. Above, the selected recommendation's static expert shares (`ExpertShares`, from the
window's live worker like every lens's explanation); below, the session expert timeline of one
sitting of the current profile (`ExpertTimeline`), fetched by this tab's own worker once the lens's
models are prepared, and again whenever the profile changes. Controls: the sitting picker with
previous/next, a heat-grid toggle (stacked bars by default) and a detailed-experts toggle (8 rows
instead of the aggregates). On a dataset without rating times (ml-1m) the timeline's place says
why, and the static shares still draw.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from assistant.views.lens_panel import EXPORT_SCALE, LensPanel
from assistant.views.picture_export import write_picture
from assistant.views.timeline_layout import BARS, GRID
from assistant.views.timeline_view import TimelineView
from assistant.views.timeline_worker import TimelineShown, TimelineWorker
from engine.api import ExpertShares, ExpertTimeline, Lens, Profile

EMPTY_TEXT = "Select a recommendation to see which expert (which part of your profile) decided it."
LOADING = "Explaining this profile's sitting…"
WAITING = "The sitting's timeline appears once the expert lens's models are ready."


def sitting_label(info, window: int, adhoc: bool) -> str:
    """A picker entry: the sitting's date, length, for a long one which part, and how many of the
    model's guesses in it were right (so that a sitting can be picked for a hit or a miss)."""
    right = ""
    if len(info.right) >= window:
        hits, guesses = info.right[window - 1]
        right = f" · {hits} of {guesses} right"
    if adhoc:
        return f"Your ratings in the order added ({info.length}){right}"
    when = f" · {info.start[:10]} {info.start[11:16]}" if info.start else ""
    part = f" · part {window} of {info.windows}" if info.windows > 1 else ""
    return f"Sitting {info.index}{when} · {info.length} ratings{part}{right}"


class ExpertPanel(LensPanel):
    """Signals: `viewStateChanged(ExpertTimeline | None)` when the sitting on screen changes (the
    conversation answers "why did you think I'd dislike Heat?" from it)."""

    lens = Lens.EXPERTS
    viewStateChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = EMPTY_TEXT
        self.show_empty(EMPTY_TEXT)
        self._engine = None
        self._prepared = False  # the lens's model, as the window learned it from its worker
        self._worker: TimelineWorker | None = None
        self._profile: Profile | None = None
        self._fetched_for: Profile | None = None  # the profile of the timeline asked last
        self._entries: list[tuple[int, int]] = []  # (sitting, window) of each picker entry

        self.view = TimelineView(self)
        self.set_content(self.view)
        self.view.movieClicked.connect(self.movieClicked)
        self.view.set_timeline(None, WAITING)

        self.previous_button = QToolButton(self, text="◀")
        self.previous_button.setToolTip("The previous sitting")
        self.previous_button.setAccessibleName("Previous sitting")
        self.next_button = QToolButton(self, text="▶")
        self.next_button.setToolTip("The next sitting")
        self.next_button.setAccessibleName("Next sitting")
        self.sitting_box = QComboBox(self)
        self.sitting_box.setAccessibleName("Sitting")
        self.sitting_box.setToolTip("A sitting is a run of ratings with no gap over an hour (for your own profile: "
                                    "the order you rated its movies)")
        self.sitting_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.grid_box = QCheckBox("Heat &grid", self)
        self.grid_box.setToolTip("A grid whose cells are as opaque as the expert's share, instead of stacked bars")
        self.detail_box = QCheckBox("&Detailed experts", self)
        self.detail_box.setToolTip("All 8 experts instead of the 5 groups they form")
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("&Sitting", row)
        label.setBuddy(self.sitting_box)
        for widget in (label, self.previous_button, self.sitting_box, self.next_button, self.grid_box, self.detail_box):
            layout.addWidget(widget)
        self.add_control(row)
        self._set_picker_enabled(False)

        self.previous_button.clicked.connect(lambda: self.step_sitting(-1))
        self.next_button.clicked.connect(lambda: self.step_sitting(1))
        self.sitting_box.activated.connect(self._picked)
        self.grid_box.toggled.connect(lambda on: self.view.set_mode(GRID if on else BARS))
        self.detail_box.toggled.connect(self.view.set_detailed)

    # ----- the engine and the profile -----

    def attach_engine(self, engine) -> None:
        """The engine whose expert explainer gives the timeline (asked on this tab's worker thread)."""
        self._engine = engine
        self._worker = TimelineWorker(engine)
        self._worker.finished.connect(self._on_timeline)
        worker = self._worker
        self.destroyed.connect(lambda *_: worker.stop(0))

    def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def set_profile(self, profile: Profile) -> None:
        """The profile on screen: its sittings are explained (now if this tab is in front and the
        lens is prepared, else when it comes to the front)."""
        if profile == self._profile:
            return
        self._profile = profile
        self.viewStateChanged.emit(None)  # the sitting on screen is another profile's until the new one comes
        self.refresh()

    @property
    def profile(self) -> Profile | None:
        return self._profile

    def set_prepared(self, prepared: bool = True) -> None:
        """Whether the expert lens's model is prepared, as the window learned it from its worker (this
        tab never asks the engine on the UI thread); once prepared the sitting is fetched."""
        was, self._prepared = self._prepared, bool(prepared)
        if self._prepared and not was:
            self.refresh()

    def serving(self) -> bool:
        return self._engine is not None and self._prepared

    def refresh(self, sitting: int | None = None, window: int = 1, force: bool = False) -> bool:
        """Ask for the timeline of `sitting` (None: the latest) when it is not on screen already.
        Returns whether a request went out."""
        if self._worker is None or self._profile is None or not self.serving():
            return False
        if not force and sitting is None and self._fetched_for == self._profile:
            return False
        if not force and sitting is None and not self.isVisible():
            return False  # fetched when the tab comes to the front
        self._fetched_for = self._profile
        if self.view.timeline_profile != self._profile:  # never another profile's sitting while loading
            self.view.set_timeline(None, LOADING)
        self._worker.request(self._profile, sitting, window)
        return True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    # ----- the sitting picker -----

    def step_sitting(self, step: int) -> None:
        index = self.sitting_box.currentIndex() + step
        if 0 <= index < len(self._entries):
            self.sitting_box.setCurrentIndex(index)
            self._picked(index)

    def _picked(self, index: int) -> None:
        if 0 <= index < len(self._entries):
            sitting, window = self._entries[index]
            self.refresh(sitting, window, force=True)
        self._update_buttons()

    def _fill_picker(self, shown: TimelineShown) -> None:
        adhoc = shown.timeline is not None and shown.timeline.user_id is None
        self._entries = [(info.index, w) for info in shown.sittings for w in range(1, info.windows + 1)]
        labels = [sitting_label(info, w, adhoc) for info in shown.sittings for w in range(1, info.windows + 1)]
        self.sitting_box.blockSignals(True)
        self.sitting_box.clear()
        self.sitting_box.addItems(labels)
        if shown.timeline is not None:
            current = (shown.timeline.sitting, shown.window)
            if current in self._entries:
                self.sitting_box.setCurrentIndex(self._entries.index(current))
        self.sitting_box.blockSignals(False)
        self._set_picker_enabled(bool(self._entries))

    def _set_picker_enabled(self, enabled: bool) -> None:
        self.sitting_box.setEnabled(enabled and len(self._entries) > 1)
        self._update_buttons(enabled)

    def _update_buttons(self, enabled: bool = True) -> None:
        index = self.sitting_box.currentIndex()
        self.previous_button.setEnabled(enabled and index > 0)
        self.next_button.setEnabled(enabled and 0 <= index < len(self._entries) - 1)

    # ----- results -----

    def _on_timeline(self, shown: TimelineShown) -> None:
        if self._worker is None or not self._worker.is_current(shown) or shown.profile != self._profile:
            return
        self._fill_picker(shown)
        self.view.set_timeline(shown.timeline, shown.message)
        self.view.timeline_profile = self._profile
        self.viewStateChanged.emit(shown.timeline)

    def show_timeline(self, timeline: ExpertTimeline) -> None:
        """Draw this very timeline (an answer's object), keeping the shares on screen."""
        self.view.set_timeline(timeline)
        self.view.timeline_profile = self._profile
        if (timeline.sitting, 1) in self._entries:
            self.sitting_box.setCurrentIndex(self._entries.index((timeline.sitting, 1)))
        self.viewStateChanged.emit(timeline)

    def takes_answer(self, answer) -> bool:
        """Whether this tab draws `answer` itself: a sitting's timeline. An answer about one movie (its
        static shares) goes through the window, which selects the movie and draws that object here."""
        return isinstance(answer.explanation, ExpertTimeline) or answer.explanation is None

    def show_answer(self, answer) -> None:
        """An answer from the conversation: its timeline is drawn here (its shares go through the
        window like every lens's explanation)."""
        explanation = answer.explanation
        if isinstance(explanation, ExpertTimeline):
            self.show_timeline(explanation)
            if answer.movie_id is not None:
                column = next((s.position - 1 for s in explanation.steps if s.item_id == answer.movie_id), None)
                if column is not None:
                    self.view.select_column(column)
        elif isinstance(explanation, ExpertShares):
            self.set_explanation(explanation)

    # ----- drawing -----

    def draw(self, explanation: ExpertShares) -> None:
        self.view.set_shares(explanation)
        self._prepared = True  # only a prepared lens explains
        self.refresh()  # the lens is prepared now: the sitting follows if it is not here yet

    def _show_message(self, state: str, text: str, detail: str = "") -> None:
        super()._show_message(state, text, detail)
        view = getattr(self, "view", None)  # the base shows its empty state before the view exists
        if view is not None:
            view.set_shares(None)

    # ----- export -----

    def export_widget(self) -> QWidget:
        return self.view

    def export_stem(self) -> str:
        x = self.view.shares
        t = self.view.timeline
        stem = super().export_stem() if x is not None else "experts"
        return stem + (f"-sitting-{t.sitting}" if t is not None else "")

    def write_image(self, path: Path) -> None:
        """The drawing repainted at export resolution, without the hover mark."""
        size = self.view.size()
        if size.width() < 300 or size.height() < 250:  # never shown: its preferred size
            size = self.view.sizeHint()
        write_picture(path, size, lambda painter, device: self.view.render_into(painter, size.width(), size.height()),
                      background=self.view.palette().color(QPalette.ColorRole.Base),
                      description=self.view.accessibleDescription(), scale=EXPORT_SCALE)


__all__ = ["ExpertPanel", "sitting_label"]
