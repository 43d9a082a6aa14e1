"""The app's lens registry and the tab container built from it.

`LENS_VIEWS` maps each lens to the view that draws its explanations ("module:Class", imported when
its tab first comes to the front or something is routed to it, so the window's first paint loads
only the view in front and a lens that is not available never loads its view code). `LensTabs` builds
one tab per lens from the engine's availability, routes every explanation to the view registered for
`explanation.lens`, and gives the window one `movieClicked` signal for all of them. Adding a lens to
the app is one view class and one entry here; the window and the live worker never name a lens.
"""
from __future__ import annotations

import importlib

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from assistant.views.lens_panel import LensPanel
from engine.api import LENS_TITLES, Explanation, Lens

LENS_VIEWS: dict[Lens, str] = {
    Lens.RELEVANCE: "assistant.views.sankey_panel:SankeyPanel",
    Lens.INFLUENCE: "assistant.views.influence_panel:InfluenceGraphPanel",
    Lens.EXPERTS: "assistant.views.expert_panel:ExpertPanel",
    Lens.PIXELS: "assistant.views.pixel_panel:PixelPanel",
}

# What each lens's tab shows, said on its page while the lens cannot explain.
LENS_PLANS: dict[Lens, str] = {
    Lens.RELEVANCE: "This tab shows which parts of your profile (movies you liked, your gender, age and "
                    "occupation) pushed the selected movie up, as a Sankey diagram.",
    Lens.INFLUENCE: "This tab shows which past ratings — yours, and other people's ratings of the "
                    "recommended movie — moved its prediction most, as a graph of influential neighbours.",
    Lens.EXPERTS: "This tab shows which interpretable expert (which part of your profile: the movie's genres, "
                  "what other viewers thought, your own ratings) decided the selected recommendation, and, "
                  "movie by movie, who decided each guess of a rating sitting, as a timeline.",
    Lens.PIXELS: "This tab is a product catalogue demo, not about movies (MovieLens has no images): "
                 "heatmaps over pairs of Fashion-MNIST product images showing which pixels made two items "
                 "related for a shopper.",
}

# A tab's title where its view names it otherwise (its class's `tab_title`), so that the tab shows
# it before the view is built.
TAB_TITLES: dict[Lens, str] = {Lens.PIXELS: "Pixel relevance (catalogue demo)"}

NO_VIEW = "this version of the app has no view for it yet."


def view_class(lens: Lens) -> type[LensPanel] | None:
    """The view registered for `lens`, imported now; None when the app has none."""
    target = LENS_VIEWS.get(lens)
    if target is None:
        return None
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


class UnavailablePage(LensPanel):
    """The tab of a lens that cannot explain here: says why, and what the lens would show."""

    def __init__(self, lens: Lens, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lens = lens  # per page: one class serves every lens that has no view here
        self.export_button.hide()
        self.show_unavailable(reason, LENS_PLANS.get(lens, ""))

    def draw(self, explanation) -> None:  # never asked: the tabs route nothing to an unavailable page
        raise RuntimeError(f"The {LENS_TITLES[self.lens]} lens is not available here.")


class PendingPage(QWidget):
    """The page of a lens whose view is not built yet: empty until its tab first comes to the front,
    so that the window's first paint imports and builds only the view in front (the Sankey)."""

    def __init__(self, lens: Lens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lens = lens


class LensTabs(QTabWidget):
    """One tab per lens, in the engine's order. `lensChanged(Lens)` when the user switches tabs;
    `movieClicked(int)` from any view; `cancelRequested(Lens)` from a view's busy state;
    `statusMessage(str)` with a view's feedback (e.g. "Saved to …"); `panelBuilt(Lens, LensPanel)`
    when a lens's view is built (the view in front at once, any other when its tab is first shown or
    when something is routed to it)."""

    lensChanged = Signal(object)
    movieClicked = Signal(int)
    cancelRequested = Signal(object)
    statusMessage = Signal(str)
    panelBuilt = Signal(object, object)

    def __init__(self, lenses: dict[Lens, str | None], parent: QWidget | None = None, engine=None) -> None:
        """`lenses` is `Engine.lenses()`: each lens with None when it can explain, else why not.
        `engine` goes to the views that ask for it (`attach_engine`): a view that picks its own
        subjects (the pixel lens's catalogue demo) runs its engine work on a worker of its own."""
        super().__init__(parent)
        self.setDocumentMode(True)
        self._engine = engine
        self._profile = None
        self._prepared: set[Lens] = set()  # lenses the window found prepared (set_prepared)
        self._panels: dict[Lens, LensPanel] = {}  # the built pages (views and unavailable pages)
        self._pages: dict[Lens, QWidget] = {}  # what each tab holds now: its panel or a PendingPage
        self._drawing: set[Lens] = set()
        for lens, reason in lenses.items():
            if reason is None and lens in LENS_VIEWS:
                self._drawing.add(lens)
                page = PendingPage(lens, self)
                self.addTab(page, TAB_TITLES.get(lens) or LENS_TITLES[lens])
            else:
                page = UnavailablePage(lens, reason or NO_VIEW, self)
                self._connect(lens, page)
                self._panels[lens] = page
                self.addTab(page, LENS_TITLES[lens])
                self.setTabToolTip(self.count() - 1, page.message.text())
            self._pages[lens] = page
        current = self.currentWidget()
        if isinstance(current, PendingPage):
            self._build(current.lens)
        self.currentChanged.connect(self._on_current_changed)

    def _connect(self, lens: Lens, panel: LensPanel) -> None:
        panel.movieClicked.connect(self.movieClicked)
        panel.cancelRequested.connect(lambda lens=lens: self.cancelRequested.emit(lens))
        panel.statusMessage.connect(self.statusMessage)

    def _build(self, lens: Lens) -> LensPanel:
        """Build `lens`'s view now (importing its module) in place of its pending page."""
        pending = self._pages[lens]
        panel = view_class(lens)(self)
        self._connect(lens, panel)
        if self._engine is not None and hasattr(panel, "attach_engine"):
            panel.attach_engine(self._engine)
        if self._profile is not None and hasattr(panel, "set_profile"):
            panel.set_profile(self._profile)
        if lens in self._prepared and hasattr(panel, "set_prepared"):
            panel.set_prepared(True)
        self._panels[lens] = panel
        self._pages[lens] = panel
        index = self.indexOf(pending)
        current = self.currentIndex()
        blocked = self.blockSignals(True)  # the swap is no change of lens
        try:
            self.removeTab(index)
            self.insertTab(index, panel, getattr(panel, "tab_title", None) or LENS_TITLES[lens])
            self.setCurrentIndex(current)
        finally:
            self.blockSignals(blocked)
        pending.deleteLater()
        self.panelBuilt.emit(lens, panel)
        return panel

    def _on_current_changed(self, index: int) -> None:
        widget = self.widget(index)
        if isinstance(widget, PendingPage):
            self._build(widget.lens)
        self.lensChanged.emit(self.current_lens())

    def built(self, lens: Lens) -> LensPanel | None:
        """`lens`'s page when it is built, else None (builds nothing)."""
        return self._panels.get(Lens(lens))

    def for_each_panel(self, call) -> None:
        """`call(lens, panel)` for every page built now and for each built later."""
        for lens, panel in list(self._panels.items()):
            call(lens, panel)
        self.panelBuilt.connect(call)

    # ----- which lens -----

    def lenses(self) -> list[Lens]:
        return list(self._pages)

    def draws(self, lens: Lens) -> bool:
        """Whether `lens` has a working view here (available in the engine and registered)."""
        return lens in self._drawing

    def current_lens(self) -> Lens | None:
        return self._lens_of(self.currentWidget())

    def show_lens(self, lens: Lens) -> None:
        """Bring `lens`'s tab to the front (emits lensChanged when it was not)."""
        page = self._pages.get(Lens(lens))
        if page is not None:
            self.setCurrentWidget(page)

    def panel(self, lens: Lens) -> LensPanel:
        """`lens`'s page, its view built now if it was not yet."""
        lens = Lens(lens)
        panel = self._panels.get(lens)
        if panel is None:
            if lens not in self._pages:
                raise KeyError(lens)
            panel = self._build(lens)
        return panel

    def current_panel(self) -> LensPanel | None:
        widget = self.currentWidget()
        return widget if isinstance(widget, LensPanel) else None

    def set_prepared(self, lens: Lens) -> None:
        """`lens`'s model is prepared (the window learns it from the live worker): a view that asks
        the engine for its own subjects may start now, without asking the engine itself. A view
        built later is told when it is built."""
        lens = Lens(lens)
        self._prepared.add(lens)
        panel = self._panels.get(lens)
        if lens in self._drawing and hasattr(panel, "set_prepared"):
            panel.set_prepared(True)

    # ----- showing -----

    def show_explanation(self, explanation: Explanation | None, lens: Lens | None = None) -> bool:
        """Route `explanation` to the view registered for `explanation.lens` (None clears `lens`'s
        view). Returns whether a view took it."""
        target = explanation.lens if explanation is not None else lens
        if target is None or target not in self._drawing:
            return False
        self.panel(target).set_explanation(explanation)
        return True

    def take_answer(self, answer) -> bool:
        """Hand an answer to the view it is about when that view draws answers itself (`show_answer`:
        a view whose subjects are not the window's movies, e.g. catalogue pairs); brings its tab to
        the front. False when no such view takes it (the window then selects the answer's movie)."""
        if answer.lens is None:
            return False
        if Lens(answer.lens) not in self._drawing:
            return False
        panel = self.panel(answer.lens)
        if not hasattr(panel, "show_answer"):
            return False
        if not getattr(panel, "takes_answer", lambda _: True)(answer):
            return False  # e.g. an expert answer about a movie: the window selects it and draws its object
        self.setCurrentWidget(panel)
        panel.show_answer(answer)
        return True

    def set_profile(self, profile) -> None:
        """The profile on screen, for the views that explain the profile itself (`set_profile`: the
        expert timeline of its sittings), not only the selected movie. A view built later gets it then."""
        self._profile = profile
        for lens in self._drawing:
            panel = self._panels.get(lens)
            if panel is not None and hasattr(panel, "set_profile"):
                panel.set_profile(profile)

    def export_dialog(self):
        """Export the view in front (the menu's Export explanation…)."""
        panel = self.current_panel()
        if panel is None or panel.explanation is None:
            self.statusMessage.emit("There is nothing to export in this tab yet.")
            return None
        return panel.export_dialog()

    def _lens_of(self, widget) -> Lens | None:
        return next((lens for lens, page in self._pages.items() if page is widget), None)
