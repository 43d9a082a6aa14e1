"""The Pixel relevance tab: the product catalogue demo (Fashion-MNIST with planted brand marks, not
movies). A shopper picker and a query picker choose what is explained; the strip shows the
shopper's related items for the query, and clicking one explains that pair in the drawing below,
with the view (net / shared), the overlay's opacity and the planted mark's outline as controls.

The movie profile does not drive this tab. Its model is prepared the way every lens's is (the
window's live worker trains or loads it, with progress and Cancel in this tab's busy state); once
it is prepared the tab asks its own worker (`PixelWorker`) for queries, related items and pairs,
so the UI thread never runs the model. The window's per-movie messages ("select a recommendation")
do not apply here and are ignored while the model serves.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIntValidator, QPalette
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QRadioButton, QSlider, QVBoxLayout, QWidget,
)

from assistant.conversation.intents import Intent
from assistant.views.lens_panel import EXPORT_SCALE, LensPanel
from assistant.views.picture_export import write_picture
from assistant.views.pixel_overlay import DEFAULT_OPACITY
from assistant.views.pixel_state import PixelViewState
from assistant.views.pixel_strip import PixelStrip
from assistant.views.pixel_view import PixelPairView
from assistant.views.pixel_worker import PairShown, PixelWorker
from engine.api import PIXEL_CATALOGUE_NOTE as CATALOGUE_NOTE, Lens, PixelExplanation

EMPTY_TEXT = ("Open this tab to prepare the product catalogue demo: heatmaps of which pixels make two catalogue "
              "images related for a shopper.")
SHOPPER_RULES = {
    "style": "style shopper (related = same kind of garment)",
    "brand": "brand shopper (related = same brand mark)",
}
HOVER_HINT = "Hover a pixel to read its relevance."
# The view an answer is about: "why not?" reads what differs, "why related?" what the two share.
ANSWER_VIEWS = {Intent.WHY_NOT: "net", Intent.WHY_UNRELATED: "net", Intent.WHY_RELATED: "shared"}


class PixelPanel(LensPanel):
    """Signals: `viewStateChanged(PixelViewState)` whenever the pair, view or strip on screen
    changes (the conversation answers from it)."""

    lens = Lens.PIXELS
    tab_title = "Pixel relevance (catalogue demo)"
    viewStateChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = EMPTY_TEXT
        self.show_empty(EMPTY_TEXT)
        self._engine = None
        self._worker: PixelWorker | None = None
        self._asked = False  # a request went to the worker since the model was prepared
        self._images: dict = {}  # catalogue id -> image, of every item shown so far
        self._related: dict = {}  # (shopper, query id) -> the strip's items
        self._pinned: tuple[PixelExplanation, str] | None = None  # an answer's object and view, awaiting its images
        self._pending_view: str | None = None  # the view the next draw shows (None: the decision's)
        self.state_now: PixelViewState | None = None

        self.shopper_box = QComboBox(self)
        self.shopper_box.setAccessibleName("Shopper")
        self.shopper_box.setToolTip("Whose notion of “related” explains the pair")
        self.shopper_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.query_box = QComboBox(self)
        self.query_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.query_box.setAccessibleName("Query item")
        self.query_box.setToolTip("A sample of query items from the catalogue's test images")
        self.id_box = QLineEdit(self)
        self.id_box.setPlaceholderText("item id")
        self.id_box.setValidator(QIntValidator(0, 10_000_000, self))
        self.id_box.setMaximumWidth(80)
        self.id_box.setAccessibleName("Query item id")
        self.id_box.setToolTip("Type a catalogue id (test split) and press Enter to use it as the query")
        picker = QWidget(self)
        row = QHBoxLayout(picker)
        row.setContentsMargins(0, 0, 0, 0)
        shopper_label = QLabel("&Shopper", picker)
        shopper_label.setBuddy(self.shopper_box)
        query_label = QLabel("&Query", picker)
        query_label.setBuddy(self.query_box)
        for widget in (shopper_label, self.shopper_box, query_label, self.query_box, self.id_box):
            row.addWidget(widget)
        self.add_control(picker)

        content = QWidget(self)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(8, 4, 8, 4)
        self.note = QLabel(CATALOGUE_NOTE, content, objectName="catalogueNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.strip_title = QLabel("Related items", content)
        self.strip = PixelStrip(content)
        self.view = PixelPairView(content)
        self.net_button = QRadioButton("What &differs (net)", content)
        self.shared_button = QRadioButton("Why &related (shared)", content)
        self.view_buttons = QButtonGroup(content)
        self.view_buttons.addButton(self.net_button)
        self.view_buttons.addButton(self.shared_button)
        self.opacity = QSlider(Qt.Orientation.Horizontal, content)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(100 * DEFAULT_OPACITY))
        self.opacity.setMaximumWidth(160)
        self.opacity.setAccessibleName("Overlay opacity")
        self.opacity.setToolTip("0%: the images only; 100%: the heatmaps only")
        self.opacity_label = QLabel(f"{self.opacity.value()} %", content)
        self.outline_box = QCheckBox("Outline the planted &mark", content)
        self.outline_box.setToolTip("The planted brand mark is this synthetic catalogue's known right answer")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("View:", content))
        controls.addWidget(self.shared_button)
        controls.addWidget(self.net_button)
        controls.addSpacing(12)
        opacity_label = QLabel("&Opacity", content)
        opacity_label.setBuddy(self.opacity)
        controls.addWidget(opacity_label)
        controls.addWidget(self.opacity)
        controls.addWidget(self.opacity_label)
        controls.addSpacing(12)
        controls.addWidget(self.outline_box)
        controls.addStretch(1)
        self.hover_line = QLabel(HOVER_HINT, content, objectName="caption")
        self.hover_line.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.note)
        layout.addWidget(self.strip_title)
        layout.addWidget(self.strip)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        layout.addWidget(self.hover_line)
        self.set_content(content)

        self.shopper_box.activated.connect(lambda _: self.choose(shopper=self.shopper_box.currentData()))
        self.query_box.activated.connect(lambda _: self.choose(query=self.query_box.currentData()))
        self.id_box.returnPressed.connect(self._typed_query)
        self.strip.itemClicked.connect(lambda item: self.choose(candidate=item))
        self.view_buttons.buttonClicked.connect(
            lambda button: self.set_view("net" if button is self.net_button else "shared"))
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.outline_box.toggled.connect(self.view.set_outline)
        self.view.hovered.connect(lambda text: self.hover_line.setText(text or HOVER_HINT))

    # ----- the engine -----

    def attach_engine(self, engine) -> None:
        """The engine whose pixel explainer this tab asks (on its own worker thread, once prepared)."""
        self._engine = engine
        self._worker = PixelWorker(lambda: engine.explainer(Lens.PIXELS))
        self._worker.finished.connect(self._on_shown)
        worker = self._worker
        self.destroyed.connect(lambda *_: worker.stop(0))

    def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def set_prepared(self, prepared: bool = True) -> None:
        """Whether the pixel model is prepared, as the window learned it from its live worker (this
        tab never asks the engine on the UI thread)."""
        self._prepared = bool(prepared)

    def serving(self) -> bool:
        """Whether the pixel model is prepared, so this tab shows its own pairs."""
        engine = getattr(self, "_engine", None)  # the base shows its empty state before __init__ sets it
        return engine is not None and getattr(self, "_prepared", False)

    # ----- choosing what is explained -----

    def choose(self, shopper: str | None = None, query: int | None = None, candidate: int | None = None) -> None:
        """Explain another pair: a new shopper re-explains the pair on screen, a new query explains it
        with the shopper's most related item, a candidate explains it with the query on screen."""
        if self._worker is None:
            return
        now = self.state_now
        if now is not None:
            if query is None:
                query = now.query.id
                if candidate is None and shopper is not None:
                    candidate = now.candidate.id  # the same pair, through the other shopper's eyes
            shopper = shopper or now.shopper
        self._asked = True
        self._worker.request(shopper, query, candidate)

    def _typed_query(self) -> None:
        text = self.id_box.text().strip()
        if text:
            self.choose(query=int(text))

    def set_view(self, view: str) -> None:
        """Show the net or the shared heatmaps of the pair on screen."""
        self.view.set_view(view)
        (self.net_button if view == "net" else self.shared_button).setChecked(True)
        self._publish()

    def _opacity_changed(self, value: int) -> None:
        self.opacity_label.setText(f"{value} %")
        self.view.set_opacity(value / 100)

    # ----- results -----

    def _on_shown(self, shown: PairShown) -> None:
        if self._worker is None or not self._worker.is_current(shown):
            return
        if shown.error:
            if self.state_now is not None and self.state == "drawing":
                self.hover_line.setText(shown.error)  # keep the pair on screen; say what went wrong
                self.statusMessage.emit(shown.error)
            else:
                LensPanel.show_empty(self, shown.error)
            return
        self._images.update(shown.images)
        x = shown.explanation
        self._related[(x.shopper, x.query.id)] = shown.related
        self._fill_pickers(shown)
        pinned, view = self._pinned or (None, None)
        if pinned is not None and (pinned.shopper, pinned.query.id, pinned.candidate.id) == \
                (x.shopper, x.query.id, x.candidate.id):
            x = pinned  # the object the answer was phrased from, not its recomputed twin
        else:
            view = None
        self._pinned = None
        self._draw_pair(x, view)

    def _fill_pickers(self, shown: PairShown) -> None:
        for box in (self.shopper_box, self.query_box):
            box.blockSignals(True)
        if self.shopper_box.count() != len(shown.shoppers):
            self.shopper_box.clear()
            for shopper in shown.shoppers:
                self.shopper_box.addItem(SHOPPER_RULES.get(shopper, f"{shopper} shopper"), shopper)
        queries = list(shown.queries)
        query = shown.explanation.query
        if all(item.id != query.id for item in queries):
            queries.insert(0, query)  # a query typed by id joins the picker
        self.query_box.clear()
        for item in queries:
            self.query_box.addItem(f"#{item.id} {item.garment} · {item.brand} mark", item.id)
        self.query_box.setCurrentIndex(self.query_box.findData(query.id))
        self.shopper_box.setCurrentIndex(self.shopper_box.findData(shown.explanation.shopper))
        for box in (self.shopper_box, self.query_box):
            box.blockSignals(False)

    def _select_pickers(self, explanation: PixelExplanation) -> None:
        for box, value in ((self.shopper_box, explanation.shopper), (self.query_box, explanation.query.id)):
            index = box.findData(value)
            if index >= 0:
                box.blockSignals(True)
                box.setCurrentIndex(index)
                box.blockSignals(False)

    def _draw_pair(self, explanation: PixelExplanation, view: str | None) -> None:
        self._pending_view = view or explanation.default_view
        self.set_explanation(explanation)

    def draw(self, explanation: PixelExplanation) -> None:
        view = self._pending_view or explanation.default_view
        self._pending_view = None
        ids = (explanation.query.id, explanation.candidate.id)
        if any(i not in self._images for i in ids):  # an answer's pair whose images are not here yet
            self._pinned = (explanation, view)
            self.choose(shopper=explanation.shopper, query=ids[0], candidate=ids[1])
            return
        self.view.set_pair(explanation, self._images[ids[0]], self._images[ids[1]], view)
        (self.net_button if view == "net" else self.shared_button).setChecked(True)
        self._select_pickers(explanation)
        related = self._related.get((explanation.shopper, explanation.query.id))
        if related is not None:
            self.strip.set_items(related, self._images, explanation.candidate.id)
        else:  # an answer's shopper or query whose strip is not here: the worker fetches it, this object stays
            self._pinned = (explanation, view)
            self.choose(shopper=explanation.shopper, query=ids[0], candidate=ids[1])
        self.strip_title.setText(f"Related items for the {explanation.shopper} shopper, best first "
                                 f"(query #{explanation.query.id} {explanation.query.garment}); click one to explain it:")
        hover = self.view.hover  # a still mouse over the new pair: its value, else the hint
        self.hover_line.setText(hover.text(self.view.view) if hover is not None else HOVER_HINT)
        self._publish()

    def _publish(self) -> None:
        x = self.view.explanation
        if x is None:
            return
        self.state_now = PixelViewState(x.shopper, x.query, x.candidate, self.view.view, x,
                                        self._related.get((x.shopper, x.query.id), ()))
        self.viewStateChanged.emit(self.state_now)

    # ----- answers from the conversation -----

    def show_answer(self, answer) -> None:
        """Draw what an answer about this tab is about: its explanation in the view it talks about
        ("why not?" the net view, "why related?" the shared one), or just this tab when it has none."""
        explanation = answer.explanation
        if isinstance(explanation, PixelExplanation):
            self._draw_pair(explanation, ANSWER_VIEWS.get(answer.question.intent))

    # ----- the window's states -----

    def show_empty(self, text: str) -> None:
        """The window's per-movie messages do not apply once the model serves: start (or keep) the
        catalogue's own pair instead."""
        if self.serving():
            if not self._asked:
                self.choose()
            return
        super().show_empty(text)

    def show_unavailable(self, reason: str, detail: str = "") -> None:
        if self.serving():  # e.g. "cannot explain a movie": this tab explains catalogue pairs
            if not self._asked:
                self.choose()
            return
        super().show_unavailable(reason, detail)

    def show_notice(self, text: str) -> None:
        """Notices about the movie list (a movie dropped in rank) are not about this catalogue."""

    # ----- export -----

    def export_widget(self) -> QWidget:
        return self.view

    def export_stem(self) -> str:
        x = self._explanation
        if x is None:
            return "pixel-relevance"
        return f"pixels-{x.shopper}-{x.query.id}-vs-{x.candidate.id}-{self.view.view}"

    def write_image(self, path: Path) -> None:
        """The drawing repainted at export resolution, without the hover mark."""
        size = self.view.size()
        if size.width() < 200 or size.height() < 200:  # never shown: its preferred size
            size = self.view.sizeHint().expandedTo(QSize(640, 470))
        write_picture(path, size, lambda painter, device: self.view.render_into(painter, size.width(), size.height()),
                      background=self.view.palette().color(QPalette.ColorRole.Base),
                      description=self.view.description(), scale=EXPORT_SCALE)
