"""The Pixel relevance tab on the real pixel explainer (the CI-sized model trained on Fashion-MNIST in
the tests, tests/engine/pixel_model_fixture.py; skips without Fashion-MNIST): for both shoppers the
tab's probability, decomposition bar and hovered heatmap cells equal the explainer's explanation of
the pair on screen, and its strip is the explainer's ranking."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint

from assistant.views.pixel_panel import PixelPanel
from assistant.views.pixel_state import decomposition
from assistant.views.pixel_view import fixed
from engine.api import Lens
from tests.engine.pixel_model_fixture import ci_explainer


class ExplainerEngine:
    """The two things the tab asks of the engine, over one prepared explainer."""

    def __init__(self, explainer):
        self.pixel_explainer = explainer

    def is_prepared(self, lens) -> bool:
        return Lens(lens) is Lens.PIXELS and self.pixel_explainer.prepared

    def explainer(self, lens):
        return self.pixel_explainer


@pytest.fixture(scope="module")
def explainer():
    return ci_explainer()


@pytest.fixture
def panel(qtbot, explainer):
    made = PixelPanel()
    qtbot.addWidget(made)
    made.attach_engine(ExplainerEngine(explainer))
    made.set_prepared(True)  # the window tells the tab what its live worker found
    made.resize(960, 820)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.stop_worker()


@pytest.mark.parametrize("shopper", ["brand", "style"])
def test_tab_numbers_equal_the_engines_explanation(qtbot, panel, explainer, shopper):
    panel.show_empty("Select a recommendation")  # the window's word once the model serves: the tab starts
    qtbot.waitUntil(lambda: panel.state == "drawing", timeout=60_000)
    if panel.explanation.shopper != shopper:
        panel.choose(shopper=shopper)
        qtbot.waitUntil(lambda: panel.view.explanation is not None and panel.view.explanation.shopper == shopper,
                        timeout=60_000)
    x = panel.view.explanation
    fresh = explainer.explain_pair(shopper, x.query.id, x.candidate.id)
    assert x.probability == pytest.approx(fresh.probability, abs=1e-6)
    assert panel.view.heading_text().endswith(f"P(related) = {fresh.probability:.2f}")
    lead, *terms = panel.view.term_texts()
    assert lead == f"logit {fixed(fresh.logit)} ="
    assert terms == [f"{label} {fixed(value)}" for label, value in decomposition(fresh)]
    assert sum(v for _, v in decomposition(fresh)) == pytest.approx(fresh.logit, abs=1e-3)
    view = panel.view
    for image, row, col in (("query", 14, 14), ("candidate", 2, 2), ("candidate", 25, 24)):
        box = view.current_layout().pixel_box(image, row, col)
        qtbot.mouseMove(view, QPoint(int(box.x + box.w / 2), int(box.y + box.h / 2)))
        qtbot.waitUntil(lambda: view.hover is not None and (view.hover.image, view.hover.row, view.hover.col)
                        == (image, row, col))
        expected = getattr(fresh.heatmaps(view.view), image)[row][col]
        assert view.hover.value == pytest.approx(expected, abs=1e-7)
    ranking = explainer.related(shopper, x.query.id, k=8)
    assert [i.id for i, _ in panel.strip.items] == [i.id for i, _ in ranking]
    assert [p for _, p in panel.strip.items] == pytest.approx([p for _, p in ranking])
