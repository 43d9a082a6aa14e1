"""The base lens view: its states, its export and the feedback it gives."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from assistant.views.lens_panel import LensPanel, file_stem, svg_supported, unavailable_text
from engine.api import Lens


@dataclass(frozen=True)
class Drawn:
    subject: int
    title: str = "Fargo (1996)"
    lens = Lens.INFLUENCE


class Canvas(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.text = ""

    def sizeHint(self) -> QSize:
        return QSize(420, 300)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.drawText(20, 40, self.text)
        painter.end()


class TextPanel(LensPanel):
    lens = Lens.INFLUENCE

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = Canvas(self)
        self.set_content(self.canvas)
        self.drawn = []

    def draw(self, explanation) -> None:
        self.drawn.append(explanation)
        self.canvas.text = explanation.title
        self.canvas.update()


@pytest.fixture
def panel(qtbot):
    widget = TextPanel()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_states_switch_pages_and_export(panel):
    assert panel.state == "empty" and panel.explanation is None and not panel.export_button.isEnabled()
    explanation = Drawn(600)
    panel.set_explanation(explanation)
    assert panel.state == "drawing" and panel.explanation is explanation and panel.drawn == [explanation]
    assert panel.export_button.isEnabled() and panel.canvas.isVisible()
    panel.show_busy("Training the influence model… 40%", 40)
    assert panel.state == "busy" and panel.explanation is None and panel.progress.value() == 40
    assert panel.cancel_button.isVisible() and not panel.export_button.isEnabled()
    panel.show_unavailable("The dataset has no ratings.")
    assert panel.state == "unavailable" and not panel.cancel_button.isVisible()
    assert panel.message.text() == "This lens is not available because the dataset has no ratings."
    panel.set_explanation(None)
    assert panel.state == "empty" and panel.message.text() == panel.empty_text


def test_cancel_button_asks_to_cancel(qtbot, panel):
    panel.show_busy("Training…", None)
    assert panel.progress.maximum() == 0  # no percent: a bar that only says something happens
    with qtbot.waitSignal(panel.cancelRequested, timeout=2000):
        panel.cancel_button.click()


def test_export_writes_png_and_svg_and_says_where(qtbot, tmp_path, panel):
    with pytest.raises(ValueError, match="nothing to export"):
        panel.export(tmp_path / "x.png")
    panel.set_explanation(Drawn(600))
    with qtbot.waitSignal(panel.statusMessage, timeout=2000) as said:
        written = panel.export(tmp_path / "why.png")
    assert written.stat().st_size > 0 and said.args == [f"Saved to {written}."]
    if svg_supported():
        assert "<svg" in panel.export(tmp_path / "why.svg").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=".png or .svg"):
        panel.export(tmp_path / "why.jpg")


def test_controls_go_left_of_export(panel):
    extra = QWidget(panel)
    panel.add_control(extra)
    layout = panel._controls
    assert layout.indexOf(extra) < layout.indexOf(panel.export_button)


def test_texts():
    assert file_stem("Fargo (1996)") == "why-fargo-1996"
    assert file_stem(None) == "explanation"
    assert unavailable_text("The pixel lens is not available yet.") == "The pixel lens is not available yet."
