"""The Pixel relevance tab on the fake explainer: what it shows equals the explainer's explanation
(probability, decomposition, the heatmap cell under the mouse), the strip, pickers and controls
explain the pairs they should, the work runs off the UI thread, and the states and export work."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from assistant.conversation.intents import Answer, Intent, Question
from assistant.views.pixel_panel import HOVER_HINT, PixelPanel
from assistant.views.pixel_state import PixelViewState, decomposition
from assistant.views.pixel_view import fixed, signed
from engine.explain.pixel_explanation import CATALOGUE_NOTE
from pixel_fakes import FakePixelEngine


@pytest.fixture
def engine():
    return FakePixelEngine()


@pytest.fixture
def panel(qtbot, engine):
    made = PixelPanel()
    qtbot.addWidget(made)
    made.attach_engine(engine)
    made.set_prepared(engine.prepared)  # the window tells the tab what its live worker found
    made.resize(900, 780)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.stop_worker()


def drawn(qtbot, panel, **expected):
    """Wait until the tab draws a pair matching `expected` (shopper=..., query=..., candidate=...)."""
    def matches():
        x = panel.explanation
        assert panel.state == "drawing" and x is not None and panel.view.explanation is x
        for name, value in expected.items():
            got = getattr(x, name)
            assert (got.id if hasattr(got, "id") else got) == value
    qtbot.waitUntil(matches, timeout=10_000)
    return panel.explanation


def centre_of(panel, image, row, col) -> QPoint:
    box = panel.view.current_layout().pixel_box(image, row, col)
    return QPoint(int(box.x + box.w / 2), int(box.y + box.h / 2))


def test_the_tab_says_it_is_the_catalogue_demo(panel):
    assert panel.note.text() == CATALOGUE_NOTE
    assert "catalogue demo" in PixelPanel.tab_title


def test_numbers_on_screen_equal_the_explainers_explanation(qtbot, panel, engine):
    panel.show_empty("Select a recommendation")  # what the window says once the model serves: the tab starts
    x = drawn(qtbot, panel)
    fresh = engine.pixel_explainer.explain_pair(x.shopper, x.query.id, x.candidate.id)
    assert fresh == x
    view = panel.view
    assert view.heading_text().endswith(f"P(related) = {fresh.probability:.2f}")
    lead, *terms = view.term_texts()
    assert lead == f"logit {fixed(fresh.logit)} ="
    assert terms == [f"{label} {fixed(value)}" for label, value in decomposition(fresh)]
    assert sum(v for _, v in decomposition(fresh)) == pytest.approx(fresh.logit, abs=1e-9)
    assert view.view == fresh.default_view
    # Hover: the cell under the mouse is the explanation's cell, in the view on screen.
    for image, row, col in (("query", 14, 14), ("candidate", 3, 24), ("query", 2, 3)):
        qtbot.mouseMove(view, centre_of(panel, image, row, col))
        qtbot.waitUntil(lambda: view.hover is not None and (view.hover.row, view.hover.col) == (row, col)
                        and view.hover.image == image)
        expected = getattr(fresh.heatmaps(view.view), image)[row][col]
        assert view.hover.value == expected
        assert signed(expected) in panel.hover_line.text()
    panel.set_view("net" if view.view == "shared" else "shared")
    qtbot.mouseMove(view, centre_of(panel, "candidate", 20, 10))
    qtbot.waitUntil(lambda: view.hover is not None and (view.hover.row, view.hover.col) == (20, 10))
    assert view.hover.value == fresh.heatmaps(view.view).candidate[20][10]
    qtbot.mouseMove(panel.strip, QPoint(2, 2))
    qtbot.waitUntil(lambda: panel.hover_line.text() == HOVER_HINT)


def test_strip_shows_related_items_and_a_click_explains_that_pair(qtbot, panel, engine):
    panel.show_empty("")
    x = drawn(qtbot, panel)
    related = engine.pixel_explainer.related(x.shopper, x.query.id, k=8)
    assert [(i.id, p) for i, p in panel.strip.items] == [(i.id, p) for i, p in related]
    assert x.candidate.id == related[0][0].id  # the query's most related item is explained first
    third = panel.strip.items[2][0].id
    qtbot.mouseClick(panel.strip, Qt.MouseButton.LeftButton, pos=panel.strip.item_rect(2).center().toPoint())
    y = drawn(qtbot, panel, candidate=third, query=x.query.id, shopper=x.shopper)
    assert y.probability == pytest.approx(related[2][1])


def test_the_strip_works_from_the_keyboard(qtbot, panel, engine):
    panel.show_empty("")
    x = drawn(qtbot, panel)
    items = panel.strip.items
    assert panel.strip.cursor_index == 0  # on the pair explained
    panel.strip.setFocus()
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left):
        qtbot.keyClick(panel.strip, key)
    assert panel.strip.cursor_index == 2
    qtbot.keyClick(panel.strip, Qt.Key.Key_Return)
    y = drawn(qtbot, panel, candidate=items[2][0].id, query=x.query.id)
    assert panel.strip.cursor_index == 2  # the new strip keeps the cursor on the pair shown
    qtbot.keyClick(panel.strip, Qt.Key.Key_End)
    qtbot.keyClick(panel.strip, Qt.Key.Key_Right)  # past the end stays on the last
    assert panel.strip.cursor_index == len(panel.strip.items) - 1
    qtbot.keyClick(panel.strip, Qt.Key.Key_Space)
    drawn(qtbot, panel, candidate=panel.strip.items[-1][0].id, query=y.query.id)


def test_shopper_switch_reexplains_the_same_pair_and_the_query_picker_a_new_query(qtbot, panel):
    panel.show_empty("")
    x = drawn(qtbot, panel, shopper="style")
    panel.shopper_box.setCurrentIndex(panel.shopper_box.findData("brand"))
    panel.shopper_box.activated.emit(panel.shopper_box.currentIndex())
    y = drawn(qtbot, panel, shopper="brand", query=x.query.id, candidate=x.candidate.id)
    assert y.heatmaps("net") != x.heatmaps("net")  # another shopper, another map
    other = panel.query_box.itemData(3)
    panel.query_box.setCurrentIndex(3)
    panel.query_box.activated.emit(3)
    z = drawn(qtbot, panel, shopper="brand", query=other)
    assert z.candidate.id == panel.strip.items[0][0].id
    panel.id_box.setText("7")
    qtbot.keyClick(panel.id_box, Qt.Key.Key_Return)
    drawn(qtbot, panel, query=7)
    assert panel.query_box.currentData() == 7


def test_a_bad_id_says_so_in_one_sentence_and_keeps_the_pair(qtbot, panel):
    panel.show_empty("")
    x = drawn(qtbot, panel)
    panel.id_box.setText("999")
    qtbot.keyClick(panel.id_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "999" in panel.hover_line.text())
    assert panel.hover_line.text().startswith("There is no item #999") and "Traceback" not in panel.hover_line.text()
    assert panel.explanation is x and panel.state == "drawing"


def test_engine_work_runs_off_the_ui_thread(qtbot, panel, engine):
    panel.show_empty("")
    drawn(qtbot, panel)
    assert engine.pixel_explainer.calls
    assert all(name != threading.main_thread().name for _, name in engine.pixel_explainer.calls)


def test_controls_change_the_picture(qtbot, panel):
    panel.show_empty("")
    x = drawn(qtbot, panel)
    box = panel.view.current_layout().pixel_box("query", 15, 14)
    point = QPoint(int(box.x + box.w / 2), int(box.y + box.h / 2))

    def colour():
        return panel.view.grab().toImage().pixelColor(point).rgb()

    panel.opacity.setValue(0)
    image_only = colour()
    grey = int(np.asarray(panel._images[x.query.id])[15, 14])
    assert image_only == 0xFF000000 | grey << 16 | grey << 8 | grey  # 0 %: the product image alone
    panel.opacity.setValue(100)
    assert colour() != image_only and panel.opacity_label.text() == "100 %"
    mark_row, mark_col, _, _ = x.query.mark_box
    corner = panel.view.current_layout().pixel_box("query", mark_row, mark_col)
    at = QPoint(int(corner.x), int(corner.y) + int(corner.h / 2))
    before = panel.view.grab().toImage().pixelColor(at).rgb()
    panel.outline_box.setChecked(True)
    assert panel.view.outline and panel.view.grab().toImage().pixelColor(at).rgb() != before
    panel.net_button.click()
    assert panel.view.view == "net" and panel.state_now.view == "net"


def test_view_state_follows_the_screen(qtbot, panel):
    states = []
    panel.viewStateChanged.connect(states.append)
    panel.show_empty("")
    x = drawn(qtbot, panel)
    qtbot.waitUntil(lambda: bool(states))
    state = states[-1]
    assert isinstance(state, PixelViewState) and state.explanation is x
    assert (state.shopper, state.query, state.candidate, state.view) == (x.shopper, x.query, x.candidate, panel.view.view)
    assert [i.id for i, _ in state.related] == [i.id for i, _ in panel.strip.items]


def test_an_answer_draws_its_own_object_in_the_view_it_talks_about(qtbot, panel, engine):
    panel.show_empty("")
    drawn(qtbot, panel)
    asked = engine.pixel_explainer.explain_pair("brand", 5, 9)  # images the tab has not shown yet
    panel.show_answer(Answer(Question("why not?", Intent.WHY_NOT, reference=True), "", "", explanation=asked))
    qtbot.waitUntil(lambda: panel.view.explanation is asked)
    assert panel.view.view == "net" and panel.explanation is asked
    assert panel.shopper_box.currentData() == "brand" and panel.query_box.currentData() == 5
    again = engine.pixel_explainer.explain_pair("brand", 5, 9)
    panel.show_answer(Answer(Question("why are these related", Intent.WHY_RELATED), "", "", explanation=again))
    assert panel.view.explanation is again and panel.view.view == "shared"


def test_busy_until_prepared_then_serves_and_ignores_movie_messages(qtbot):
    engine = FakePixelEngine(prepared=False)
    panel = PixelPanel()
    qtbot.addWidget(panel)
    panel.attach_engine(engine)
    panel.show()
    try:
        panel.show_busy("Preparing the pixel relevance model: epoch 1 of 4… 25%", 25)
        assert panel.state == "busy" and panel.progress.value() == 25 and panel.cancel_button.isVisible()
        with qtbot.waitSignal(panel.cancelRequested):
            panel.cancel_button.click()
        panel.show_empty("Preparing the pixel relevance model was cancelled.")
        assert panel.state == "empty" and "cancelled" in panel.message.text()
        assert not panel.serving()
        engine.prepared = True
        panel.set_prepared(True)  # the window, once the model is prepared
        panel.set_explanation(None)
        drawn(qtbot, panel)
        panel.show_empty("Select a recommendation to see why it is recommended.")
        panel.show_unavailable("This lens explains product pairs, not movies.")
        panel.show_notice("Fargo dropped to rank 30")
        assert panel.state == "drawing" and not panel.notice.isVisible()
    finally:
        panel.stop_worker()


def test_export_writes_png_and_svg_of_the_drawing(qtbot, panel, tmp_path):
    panel.show_empty("")
    x = drawn(qtbot, panel)
    assert panel.export_stem() == f"pixels-{x.shopper}-{x.query.id}-vs-{x.candidate.id}-{panel.view.view}"
    png = panel.export(tmp_path / "pair.png")
    svg = panel.export(tmp_path / "pair.svg")
    from PySide6.QtGui import QImage

    picture = QImage(str(png))
    assert picture.width() == 2 * panel.view.width() and picture.height() == 2 * panel.view.height()
    text = svg.read_text("utf-8")
    assert "<svg" in text and "<image" in text
    assert "catalogue demo" in text and "not movies" in text  # an exported picture says what it shows


def test_a_still_mouse_reads_the_new_view_and_the_new_pair(qtbot, panel, engine):
    panel.show_empty("")
    x = drawn(qtbot, panel)
    view = panel.view
    qtbot.mouseMove(view, centre_of(panel, "candidate", 9, 12))
    qtbot.waitUntil(lambda: view.hover is not None and (view.hover.row, view.hover.col) == (9, 12))
    other = "net" if view.view == "shared" else "shared"
    panel.set_view(other)  # the mouse has not moved: the line says the value in the view now shown
    assert view.hover.value == getattr(x.heatmaps(other), "candidate")[9][12]
    assert signed(view.hover.value) in panel.hover_line.text() and f"in the {other} view" in panel.hover_line.text()
    switched = "brand" if x.shopper == "style" else "style"
    panel.choose(shopper=switched)
    y = drawn(qtbot, panel, shopper=switched, query=x.query.id, candidate=x.candidate.id)
    assert view.hover.value == getattr(y.heatmaps(view.view), "candidate")[9][12]
    assert panel.hover_line.text() == view.hover.text(view.view)
