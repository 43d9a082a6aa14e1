"""The influence graph widget and its panel, offscreen: tooltips carry the explanation's numbers,
clicks select movies, export writes PNG and SVG, the empty state, live updates and the registry."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from assistant.views.influence_layout import CENTRE, OTHER, OWN, REST
from assistant.views.influence_panel import InfluenceGraphPanel
from assistant.views.influence_view import InfluenceGraphView
from assistant.views.lens_panel import svg_supported
from engine.api import Lens
from tests.assistant.views.influence_examples import adhoc_explanation, dataset_user_explanation

MOVED = re.compile(r"moved the predicted rating by ([+-][0-9.e+-]+) stars")


@pytest.fixture
def panel(qtbot):
    widget = InfluenceGraphPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_explanation(dataset_user_explanation())
    return widget


def point(node) -> QPoint:
    return QPoint(round(node.x), round(node.y))


def hover(qtbot, view, node):
    qtbot.mouseMove(view, point(node))
    if view.highlighted_node is None or view.highlighted_node.key != node.key:
        # Some platforms deliver moves only with a button down: send the event itself.
        local = QPointF(node.x, node.y)
        event = QMouseEvent(QEvent.Type.MouseMove, local, view.mapToGlobal(local),
                            Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view, event)


def drawn_values(view, explanation) -> list[tuple[float, float]]:
    """(number in the tooltip, the explanation's number) for every rating node drawn."""
    own = {r.item: r for r in explanation.own}
    others = {r.user: r for r in explanation.others}
    pairs = []
    for node in view.graph_layout().nodes:
        if node.kind not in (OWN, OTHER):
            continue
        rating = own[node.movie_id] if node.kind == OWN else others[node.user_id]
        text = view.tooltip_at(QPointF(node.x, node.y))
        pairs.append((float(MOVED.search(text).group(1)), rating.influence))
        assert node.value == rating.influence and node.rating == rating.rating
    return pairs


def test_hover_shows_the_explanations_exact_numbers(qtbot, panel):
    view = panel.view
    x = dataset_user_explanation()
    pairs = drawn_values(view, x)
    assert len(pairs) == 2 * view.top_n
    for shown, exact in pairs:
        assert shown == pytest.approx(exact, rel=1e-5, abs=1e-12)
    centre = view.graph_layout().centre
    text = view.tooltip_at(QPointF(*centre.rect.center))
    assert f"Predicted rating: {x.predicted_rating:.6g} stars (MF)" in text
    rest = next(n for n in view.graph_layout().nodes if n.kind == REST and n.side == "left")
    hidden = sorted(x.own, key=lambda r: -abs(r.influence))[view.top_n:]
    assert float(MOVED.search(view.tooltip_at(QPointF(rest.x, rest.y))).group(1)) == pytest.approx(
        sum(r.influence for r in hidden), abs=1e-9)


def test_hovering_highlights_a_node_and_its_edge(qtbot, panel):
    view = panel.view
    node = next(n for n in view.graph_layout().nodes if n.kind == OTHER)
    with qtbot.waitSignal(view.highlightChanged, timeout=2000) as signal:
        hover(qtbot, view, node)
    assert signal.args[0].key == node.key and view.highlighted_node.key == node.key
    edge = view.graph_layout().edge(node.key)
    mid = QPointF(*edge.midpoint)
    assert view.node_at(mid).key == node.key  # the edge hovers as its node


def test_clicking_a_movie_selects_it_and_a_user_does_not(qtbot, panel):
    view = panel.view
    movie = next(n for n in view.graph_layout().nodes if n.kind == OWN)
    with qtbot.waitSignal(panel.movieClicked, timeout=2000) as signal:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point(movie))
    assert signal.args == [movie.movie_id]
    user = next(n for n in view.graph_layout().nodes if n.kind == OTHER)
    centre = view.graph_layout().centre
    with qtbot.assertNotEmitted(panel.movieClicked):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point(user))
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(centre.x), round(centre.y)))


def test_keys_step_through_nodes_and_enter_selects_a_movie(qtbot, panel):
    view = panel.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Home)
    first = view.highlighted_node
    assert first.kind == OWN  # the top of the left column
    with qtbot.waitSignal(view.movieClicked, timeout=2000) as signal:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert signal.args == [first.movie_id]
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.highlighted_node.key != first.key
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.highlighted_node is None


def test_export_writes_png_and_svg(qtbot, panel, tmp_path):
    png = panel.export(tmp_path / "graph.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 1000
    # the picture has both edge colours in it
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert "#4f7fc9" in colours or any(c.startswith("#4f7") for c in colours)
    if svg_supported():
        svg = panel.export(tmp_path / "graph.svg").read_text()
        assert "<svg" in svg and "Return of the Jedi" in svg
    with pytest.raises(ValueError):
        panel.export(tmp_path / "graph.bmp")


def test_empty_state_and_back(qtbot, panel):
    panel.set_explanation(None)
    assert panel.state == "empty" and panel.explanation is None and panel.view.explanation is None
    assert "past ratings" in panel.message.text()
    assert not panel.export_button.isEnabled()
    view = InfluenceGraphView()
    qtbot.addWidget(view)
    view.resize(600, 500)
    assert "No prediction selected" in view.graph_layout().message_lines[0].text
    assert view.graph_layout().nodes == ()
    panel.set_explanation(adhoc_explanation())
    assert panel.state == "drawing" and panel.export_button.isEnabled()
    assert [t.text for t in panel.view.graph_layout().centre_lines][1] == "NCF · fold-in"


def test_top_n_spin_box_changes_the_nodes_per_side(qtbot, panel):
    panel.top_spin.setValue(3)
    layout = panel.view.graph_layout()
    assert len([n for n in layout.nodes if n.kind == OWN]) == 3
    assert len([n for n in layout.nodes if n.kind == OTHER]) == 3
    panel.top_spin.setValue(panel.top_spin.maximum())
    assert len([n for n in panel.view.graph_layout().nodes if n.kind == OWN]) == len(dataset_user_explanation().own)


def test_live_update_keeps_the_highlighted_node(qtbot, panel):
    view = panel.view
    node = next(n for n in view.graph_layout().nodes if n.kind == OWN)
    hover(qtbot, view, node)
    panel.set_explanation(dataset_user_explanation())  # e.g. after a rating elsewhere was edited
    assert view.highlighted_node is not None and view.highlighted_node.key == node.key


@pytest.mark.parametrize("size", [(600, 500), (1000, 700), (380, 260)])
def test_resizes_and_paints(qtbot, panel, size):
    panel.resize(*size)
    with qtbot.waitSignal(panel.view.painted, timeout=2000):
        panel.view.repaint()
    layout = panel.view.graph_layout()
    assert (layout.width, layout.height) == (panel.view.width(), panel.view.height())
    for box in layout.text_boxes():
        assert box.rect.inside(layout.width, layout.height)


def test_registered_for_the_influence_lens():
    from assistant.views.lens_views import view_class

    assert view_class(Lens.INFLUENCE) is InfluenceGraphPanel
    assert InfluenceGraphPanel.lens is Lens.INFLUENCE
    assert CENTRE == "centre"
