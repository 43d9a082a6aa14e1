"""The app's lens registry and the tab container built from it.

`LENS_VIEWS` maps each lens to the view that draws its explanations ("module:Class", imported when
the tabs are built, so a lens that is not available never loads its view code). `LensTabs` builds
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


class LensTabs(QTabWidget):
    """One tab per lens, in the engine's order. `lensChanged(Lens)` when the user switches tabs;
    `movieClicked(int)` from any view; `cancelRequested(Lens)` from a view's busy state;
    `statusMessage(str)` with a view's feedback (e.g. "Saved to …")."""

    lensChanged = Signal(object)
    movieClicked = Signal(int)
    cancelRequested = Signal(object)
    statusMessage = Signal(str)

    def __init__(self, lenses: dict[Lens, str | None], parent: QWidget | None = None, engine=None) -> None:
        """`lenses` is `Engine.lenses()`: each lens with None when it can explain, else why not.
        `engine` goes to the views that ask for it (`attach_engine`): a view that picks its own
        subjects (the pixel lens's catalogue demo) runs its engine work on a worker of its own."""
        super().__init__(parent)
        self.setDocumentMode(True)
        self._panels: dict[Lens, LensPanel] = {}
        self._drawing: set[Lens] = set()
        for lens, reason in lenses.items():
            cls = view_class(lens) if reason is None else None
            if cls is not None:
                panel = cls(self)
                self._drawing.add(lens)
                if engine is not None and hasattr(panel, "attach_engine"):
                    panel.attach_engine(engine)
            else:
                panel = UnavailablePage(lens, reason or NO_VIEW, self)
            panel.movieClicked.connect(self.movieClicked)
            panel.cancelRequested.connect(lambda lens=lens: self.cancelRequested.emit(lens))
            panel.statusMessage.connect(self.statusMessage)
            self._panels[lens] = panel
            self.addTab(panel, getattr(panel, "tab_title", None) or LENS_TITLES[lens])
            if reason is not None or cls is None:
                self.setTabToolTip(self.count() - 1, panel.message.text())
        self.currentChanged.connect(lambda index: self.lensChanged.emit(self.current_lens()))

    # ----- which lens -----

    def lenses(self) -> list[Lens]:
        return list(self._panels)

    def draws(self, lens: Lens) -> bool:
        """Whether `lens` has a working view here (available in the engine and registered)."""
        return lens in self._drawing

    def current_lens(self) -> Lens | None:
        return self._lens_of(self.currentWidget())

    def show_lens(self, lens: Lens) -> None:
        """Bring `lens`'s tab to the front (emits lensChanged when it was not)."""
        panel = self._panels.get(Lens(lens))
        if panel is not None:
            self.setCurrentWidget(panel)

    def panel(self, lens: Lens) -> LensPanel:
        return self._panels[Lens(lens)]

    def current_panel(self) -> LensPanel | None:
        widget = self.currentWidget()
        return widget if isinstance(widget, LensPanel) else None

    # ----- showing -----

    def show_explanation(self, explanation: Explanation | None, lens: Lens | None = None) -> bool:
        """Route `explanation` to the view registered for `explanation.lens` (None clears `lens`'s
        view). Returns whether a view took it."""
        target = explanation.lens if explanation is not None else lens
        if target is None or target not in self._drawing:
            return False
        self._panels[target].set_explanation(explanation)
        return True

    def take_answer(self, answer) -> bool:
        """Hand an answer to the view it is about when that view draws answers itself (`show_answer`:
        a view whose subjects are not the window's movies, e.g. catalogue pairs); brings its tab to
        the front. False when no such view takes it (the window then selects the answer's movie)."""
        if answer.lens is None:
            return False
        panel = self._panels.get(Lens(answer.lens))
        if Lens(answer.lens) not in self._drawing or not hasattr(panel, "show_answer"):
            return False
        if not getattr(panel, "takes_answer", lambda _: True)(answer):
            return False  # e.g. an expert answer about a movie: the window selects it and draws its object
        self.setCurrentWidget(panel)
        panel.show_answer(answer)
        return True

    def set_profile(self, profile) -> None:
        """The profile on screen, for the views that explain the profile itself (`set_profile`: the
        expert timeline of its sittings), not only the selected movie."""
        for lens in self._drawing:
            panel = self._panels[lens]
            if hasattr(panel, "set_profile"):
                panel.set_profile(profile)

    def export_dialog(self):
        """Export the view in front (the menu's Export explanation…)."""
        panel = self.current_panel()
        if panel is None or panel.explanation is None:
            self.statusMessage.emit("There is nothing to export in this tab yet.")
            return None
        return panel.export_dialog()

    def _lens_of(self, widget) -> Lens | None:
        return next((lens for lens, panel in self._panels.items() if panel is widget), None)
