"""The Sankey widget and its panel, offscreen: painting, hover, click, keys, tooltips and export."""
from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from assistant.views import sankey_view
from assistant.views.sankey_panel import SankeyPanel
from assistant.views.sankey_view import SankeyView, svg_supported
from engine.explain.relevance import RelevanceExplanation


def explanation(features, title="Men in Black (1997)", item_id=1580):
    features = sorted(features, key=lambda f: -f[3])
    return RelevanceExplanation(
        item_id=item_id, title=title, probability=0.083, logit=4.1, bias_share=0.6, absorbed=0.0,
        kinds=tuple(f[0] for f in features), keys=tuple(f[1] for f in features),
        names=tuple(f[2] for f in features), relevances=tuple(f[3] for f in features),
    )


REALISTIC = explanation([
    ("movie", "50", "Star Wars (1977)", 0.62), ("movie", "1", "Alien (1979)", 0.48),
    ("movie", "96", "Terminator 2: Judgment Day (1991)", 0.41), ("age", "25-34", "aged 25-34", 0.33),
    ("gender", "F", "female", 0.21), ("genre", "Sci-Fi", "Sci-Fi movies", 0.18),
    ("occupation", "writer", "works as writer", 0.09), ("movie", "2", "Toy Story (1995)", 0.04),
    ("movie", "3", "Fargo (1996)", -0.05), ("movie", "4", "Heat (1995)", -0.12),
])
NOTE = "Your profile is empty, so this is one of the most popular movies: 583 people liked it."
EMPTY_PROFILE = RelevanceExplanation(50, "Star Wars (1977)", 0.05, 3.0, 3.0, 0.0, note=NOTE)


@pytest.fixture
def view(qtbot):
    widget = SankeyView()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.set_explanation(REALISTIC)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def point(xy) -> QPoint:
    return QPoint(round(xy[0]), round(xy[1]))


def hover(qtbot, widget, xy):
    qtbot.mouseMove(widget, point(xy))
    if widget.highlighted_band is None or widget.highlighted_band.center != xy:
        # Some platforms only deliver moves with a button down: send the event itself.
        local = QPointF(*xy)
        event = QMouseEvent(QEvent.Type.MouseMove, local, widget.mapToGlobal(local),
                            Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)


def test_paints_and_reports_each_paint(qtbot, view):
    with qtbot.waitSignal(view.painted, timeout=2000):
        view.update()
    assert [b.name for b in view.sankey_layout().bands][:3] == ["Star Wars (1977)", "Alien (1979)",
                                                                 "Terminator 2: Judgment Day (1991)"]


def test_bands_show_the_explanation_values(view):
    bands = view.sankey_layout().positive_bands
    assert [b.relevance for b in bands[:6]] == list(REALISTIC.relevances[:6])
    assert bands[-1].relevance == pytest.approx(0.09 + 0.04)


def test_layout_is_cached_between_paints_and_recomputed_on_resize(qtbot, view):
    first = view.sankey_layout()
    view.repaint()
    assert view.sankey_layout() is first
    view.resize(600, 360)
    resized = view.sankey_layout()
    assert resized is not first and (resized.width, resized.height) == (600, 360)


def test_hover_highlights_one_band_and_leaving_clears_it(qtbot, view):
    band = view.sankey_layout().bands[2]
    with qtbot.waitSignal(view.highlightChanged, timeout=2000):
        hover(qtbot, view, band.center)
    assert view.highlighted_band == band
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))
    assert view.highlighted_band is None


def test_highlight_survives_a_resize(view, qtbot):
    band = view.sankey_layout().bands[1]
    hover(qtbot, view, band.center)
    view.resize(700, 420)
    assert view.highlighted_band.name == band.name


def test_tooltip_gives_full_name_and_exact_relevance(view):
    band = view.sankey_layout().bands[2]
    text = view.tooltip_at(QPointF(*band.center))
    assert "Terminator 2: Judgment Day (1991)" in text and "+0.41" in text
    target = view.sankey_layout().target
    assert "probability 8.30%" in view.tooltip_at(QPointF(*target.center))
    assert view.tooltip_at(QPointF(2, 2)) == ""


def test_clicking_a_movie_band_emits_its_id(qtbot, view):
    band = view.sankey_layout().bands[1]
    with qtbot.waitSignal(view.movieClicked, timeout=2000) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point(band.center))
    assert blocker.args == [1]


def test_clicking_an_attribute_band_emits_nothing(qtbot, view):
    band = next(b for b in view.sankey_layout().bands if b.kind == "age")
    with qtbot.assertNotEmitted(view.movieClicked):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point(band.center))


def test_keyboard_moves_the_highlight_and_enter_selects_a_movie(qtbot, view):
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.highlighted_band.name == "Star Wars (1977)"
    with qtbot.waitSignal(view.movieClicked, timeout=2000) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert blocker.args == [50]
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.highlighted_band.is_group  # wrapped around to the last band
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.highlighted_band is None


def test_focus_and_accessibility(view):
    assert view.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert view.accessibleName()
    description = view.accessibleDescription()
    assert "Men in Black (1997)" in description and "Star Wars (1977) +0.620" in description


def test_top_n_and_negative_evidence(view):
    view.top_n = 3
    assert view.top_n == 6
    view.top_n = 99
    assert view.top_n == 12
    assert not view.sankey_layout().negative_bands
    view.show_negative = True
    assert [b.name for b in view.sankey_layout().negative_bands] == ["Heat (1995)", "Fargo (1996)"]


def test_dominant_other_band_is_drawn_at_its_true_share_unless_compression_is_asked_for(view):
    # Issue 13: a narrower "other features" band made six bands carrying 10% read as the reason.
    many = explanation([("movie", str(i), f"Movie {i} (1990)", 0.05 - i * 0.001) for i in range(40)])
    view.set_explanation(many)
    layout = view.sankey_layout()
    rest = layout.bands[-1]
    assert not view.compress_groups and not rest.compressed
    assert rest.relevance == pytest.approx(sum(f.relevance for f in many.positive[6:]))
    assert rest.thickness / layout.bands[0].thickness == pytest.approx(rest.relevance / layout.bands[0].relevance)
    assert layout.coverage is not None and "the 34 other features together carry 77%" in layout.coverage.full_text
    view.compress_groups = True
    assert view.sankey_layout().bands[-1].compressed
    assert "except the band with a break mark" in view.sankey_layout().caption.full_text


def test_empty_profile_shows_the_note(qtbot, view):
    view.set_explanation(EMPTY_PROFILE)
    with qtbot.waitSignal(view.painted, timeout=2000):
        view.update()
    layout = view.sankey_layout()
    assert not layout.bands
    assert " ".join(b.text for b in layout.message_lines) == NOTE
    assert NOTE in view.accessibleDescription()
    image = view.grab().toImage()
    assert len({image.pixel(x, y) for x in range(0, 900, 7) for y in range(200, 300, 3)}) > 1  # text drawn


def test_no_explanation_shows_the_empty_state(view):
    view.set_explanation(None)
    assert "pick one" in " ".join(b.text for b in view.sankey_layout().message_lines)
    assert view.highlighted_band is None


def test_export_png(tmp_path, view):
    path = view.export(tmp_path / "why.png")
    assert path.stat().st_size > 1000
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1800, 1000)


@pytest.mark.skipif(not svg_supported(), reason="QtSvg is not part of this Qt installation")
def test_export_svg(tmp_path, view):
    path = view.export(tmp_path / "why.svg")
    text = path.read_text(encoding="utf-8")
    assert "<svg" in text and "Star Wars (1977)" in text


def test_export_refuses_other_formats(tmp_path, view):
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        view.export(tmp_path / "why.jpg")


def test_export_without_svg_support_says_so(tmp_path, view, monkeypatch):
    monkeypatch.setattr(sankey_view, "QSvgGenerator", None)
    with pytest.raises(RuntimeError, match="QtSvg"):
        view.export(tmp_path / "why.svg")


def test_many_paints_keep_none_referenced(view):
    # PySide6 6.12 on CPython 3.11 took a reference from None on every void call (about eighty a
    # paint) until the interpreter aborted; pyproject pins 6.11.3. This catches a relapse.
    view.repaint()
    before = sys.getrefcount(None)
    for _ in range(300):
        view.repaint()
    assert sys.getrefcount(None) >= before - 50


# ------------------------------------------------------------------------------------------ panel


@pytest.fixture
def panel(qtbot):
    widget = SankeyPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 540)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_panel_controls_drive_the_view(panel):
    assert not panel.export_button.isEnabled()
    panel.set_explanation(REALISTIC)
    assert panel.export_button.isEnabled()
    assert (panel.top_spin.minimum(), panel.top_spin.maximum(), panel.top_spin.value()) == (6, 12, 6)
    panel.top_spin.setValue(9)
    assert panel.view.top_n == 9
    panel.negative_check.setChecked(True)
    assert panel.view.show_negative and panel.view.sankey_layout().negative_bands


def test_panel_forwards_movie_clicks(qtbot, panel):
    panel.set_explanation(REALISTIC)
    band = panel.view.sankey_layout().bands[0]
    with qtbot.waitSignal(panel.movieClicked, timeout=2000) as blocker:
        qtbot.mouseClick(panel.view, Qt.MouseButton.LeftButton, pos=point(band.center))
    assert blocker.args == [50]


def test_panel_export_dialog_adds_the_chosen_extension(tmp_path, panel, monkeypatch):
    panel.set_explanation(REALISTIC)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(tmp_path / "why"), "PNG image (*.png)")))
    written = panel.export_dialog()
    assert written == tmp_path / "why.png" and written.stat().st_size > 0
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: ("", "")))
    assert panel.export_dialog() is None
