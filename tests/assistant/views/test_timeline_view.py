"""The timeline widget with constructed explanations: hover gives the numbers, a click on a movie of
the sitting emits movieClicked, Left/Right step through the sitting and Shift+Right jumps to the
next change of deciding expert, the toggles relayout, and the panel exports PNG and SVG."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from assistant.views.expert_panel import ExpertPanel
from assistant.views.timeline_layout import BARS, GRID
from assistant.views.timeline_view import TimelineView
from tests.assistant.views.expert_examples import make_shares, make_timeline


def shown_view(qtbot, timeline=None, shares=None) -> TimelineView:
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(1000, 640)
    view.set_shares(shares)
    view.set_timeline(timeline)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_hover_gives_each_cells_numbers_and_click_selects_its_movie(qtbot):
    timeline = make_timeline(12)
    view = shown_view(qtbot, timeline, make_shares())
    layout = view.current_layout()
    column = next(c for c in layout.columns if c.step.side == "predicted")
    cell = max(column.segments, key=lambda s: s.rect.h)
    x, y = cell.rect.center
    tip = view.tooltip_at(QPointF(x, y))
    assert tip == cell.tooltip and f"share {cell.share:.1%}" in tip and column.step.title in tip
    with qtbot.waitSignal(view.movieClicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    assert clicked.args == [column.step.item_id]
    bar = layout.share_segments[0]
    assert "own prediction" in view.tooltip_at(QPointF(*bar.rect.center))


def test_arrow_keys_step_through_the_sitting_and_shift_jumps_to_a_change(qtbot):
    timeline = make_timeline(12)
    view = shown_view(qtbot, timeline)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.highlighted_item.index == 0
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.highlighted_item.index == 2
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.highlighted_item.index == 1
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    change = view.highlighted_item
    assert change.step.position == min(timeline.changes)
    with qtbot.waitSignal(view.movieClicked) as clicked:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert clicked.args == [change.step.item_id]


def test_toggles_change_the_rows_and_the_drawing(qtbot):
    timeline = make_timeline(10)
    view = shown_view(qtbot, timeline)
    assert view.mode == BARS and len(view.current_layout().columns[-1].segments) == len(timeline.aggregates)
    before = view.grab().toImage()
    view.set_detailed(True)
    view.set_mode(GRID)
    assert len(view.current_layout().columns[-1].segments) == len(timeline.experts)
    assert view.grab().toImage() != before


def test_panel_exports_png_and_svg_and_says_why_without_a_timeline(qtbot, tmp_path):
    panel = ExpertPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    panel.set_explanation(make_shares())
    panel.view.set_timeline(None, "ml-1m has no rating times, so it has no sittings to explain.")
    assert "no rating times" in " ".join(t.text for t in panel.view.current_layout().message)
    panel.view.set_timeline(make_timeline(8))
    for suffix in ("png", "svg"):
        path = panel.export(tmp_path / f"x.{suffix}")
        assert path.stat().st_size > 1000
    assert panel.export_stem() == "why-heat-1995-sitting-2"
