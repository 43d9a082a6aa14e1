"""The base of the painted lens diagrams (the Sankey, the influence graph): a widget that draws one
explanation from a geometry object it caches between paints, whose items each have a key, a tooltip
and an optional movie, and that can be hovered, clicked and stepped through with the keyboard.

A subclass computes its geometry (`_compute_layout`), paints it (`_render`), says which items it has
(`_items`, `_item_for_key`, `item_at`, `_item_key`) and describes itself (`_description`). Hover,
highlight, tooltips, clicks, keys, focus and relayout on resize or font change live here.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QKeyEvent, QMouseEvent, QPainter, QPaintDevice, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from assistant.views.sankey_layout import TextBox

# A calm palette shared by the diagrams: blue for movies (and for what raises a prediction), teal
# for the user's attributes, amber for genres, grey for grouped rest, red for evidence against.
ROLE_COLOURS = {
    "movie": QColor("#4f7fc9"),
    "user": QColor("#2f9e95"),
    "genre": QColor("#d99a2b"),
    "other": QColor("#9aa3b2"),
    "negative": QColor("#cf5c5c"),
}
TARGET_COLOUR = QColor("#3e4a5c")

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "right": Qt.AlignmentFlag.AlignRight,
    "center": Qt.AlignmentFlag.AlignHCenter,
}
_STEP_KEYS = (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Home, Qt.Key.Key_End)
_ACTIVATE_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)


def with_alpha(colour: QColor, alpha: float) -> QColor:
    c = QColor(colour)
    c.setAlphaF(max(0.0, min(1.0, alpha)))
    return c


def draw_text(painter: QPainter, box: TextBox) -> None:
    """One line of text in its box, aligned as the layout says; never clipped, never wrapped."""
    if not box.text:
        return
    r = box.rect
    flags = _ALIGN[box.align] | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine | Qt.TextFlag.TextDontClip
    painter.drawText(QRectF(r.x, r.y, r.w, r.h), int(flags), box.text)


def draw_lines(painter: QPainter, boxes, font: QFont, colour: QColor) -> None:
    """Text boxes in one font and colour (the painter keeps both for what follows)."""
    painter.setFont(font)
    painter.setPen(colour)
    for box in boxes:
        draw_text(painter, box)


class DiagramView(QWidget):
    """Signals: `movieClicked(int)` when an item with a movie is clicked (or activated with
    Enter/Space), `highlightChanged(object)` with the highlighted item or None, and `painted()` at
    the end of every paint (for latency measurements)."""

    movieClicked = Signal(int)
    highlightChanged = Signal(object)
    painted = Signal()

    min_top_n = 1  # how many items the top-N control may ask for; set by each subclass
    max_top_n = 1
    default_top_n = 1

    def __init__(self, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanation = None
        self._top_n = self.default_top_n
        self._layout = None
        self._highlight = None  # the highlighted item's key: survives relayouts
        self._pressed = None
        self._focus_visible = False  # focus frame only after keyboard navigation, as :focus-visible
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(accessible_name)

    # ----------------------------------------------------------------------------- for subclasses

    def _compute_layout(self, width: int, height: int, device: QPaintDevice):
        raise NotImplementedError

    def _render(self, painter: QPainter, layout, interactive: bool) -> None:
        raise NotImplementedError

    def _items(self) -> list:
        """The items the arrow keys step through, in order."""
        raise NotImplementedError

    def _item_for_key(self, key):
        """The item of the current layout with this key, or None."""
        raise NotImplementedError

    def _item_key(self, item):
        raise NotImplementedError

    def item_at(self, point: QPointF):
        raise NotImplementedError

    def _description(self) -> str:
        """The accessible description of the whole drawing."""
        raise NotImplementedError

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def _text_metrics(self, device: QPaintDevice) -> dict:
        """The text measures a layout function takes, for this widget's fonts on `device`."""
        metrics = QFontMetricsF(self.font(), device)
        title_metrics = QFontMetricsF(self._title_font(), device)
        return dict(text_width=metrics.horizontalAdvance, line_height=math.ceil(metrics.height()),
                    title_text_width=title_metrics.horizontalAdvance,
                    title_line_height=math.ceil(title_metrics.height()))

    # ----------------------------------------------------------------------------- public API

    @property
    def explanation(self):
        return self._explanation

    def set_explanation(self, explanation) -> None:
        """Show `explanation`, or the empty state for None."""
        self._explanation = explanation
        self._invalidate()
        self._update_accessible_description()

    @property
    def top_n(self) -> int:
        return self._top_n

    @top_n.setter
    def top_n(self, value: int) -> None:
        self.set_top_n(value)

    def set_top_n(self, value: int) -> None:
        value = max(self.min_top_n, min(self.max_top_n, int(value)))
        if value != self._top_n:
            self._top_n = value
            self._invalidate()
            self._update_accessible_description()

    def current_layout(self):
        """The geometry for the current size, computed once and kept until something changes."""
        if self._layout is None or (self._layout.width, self._layout.height) != (self.width(), self.height()):
            self._layout = self._compute_layout(self.width(), self.height(), self)
        return self._layout

    @property
    def highlighted_item(self):
        return None if self._highlight is None else self._item_for_key(self._highlight)

    def tooltip_at(self, point: QPointF) -> str:
        item = self.item_at(point)
        return "" if item is None else item.tooltip

    # ----------------------------------------------------------------------------- state

    def _invalidate(self) -> None:
        self._layout = None
        self.update()

    def _set_highlight(self, item) -> None:
        key = None if item is None else self._item_key(item)
        if key != self._highlight:
            self._highlight = key
            clickable = item is not None and item.movie_id is not None
            self.setCursor(Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor)
            self.update()
            self.highlightChanged.emit(item)

    def _update_accessible_description(self) -> None:
        self.setAccessibleDescription(self._description())

    def _activate(self, item) -> None:
        if item.movie_id is not None:
            self.movieClicked.emit(item.movie_id)

    # ----------------------------------------------------------------------------- painting

    def paintEvent(self, event) -> None:
        layout = self.current_layout()
        painter = QPainter(self)
        self._render(painter, layout, interactive=True)
        painter.end()
        self.painted.emit()

    def _show_focus(self) -> bool:
        return self._focus_visible and self.hasFocus()

    def _draw_focus_frame(self, painter: QPainter, layout) -> None:
        painter.setPen(QPen(with_alpha(self.palette().color(QPalette.ColorRole.Highlight), 0.6), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(0.5, 0.5, layout.width - 1, layout.height - 1))

    # ----------------------------------------------------------------------------- interaction

    def focusInEvent(self, event) -> None:
        self._focus_visible = event.reason() in (
            Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason
        )
        super().focusInEvent(event)

    def resizeEvent(self, event) -> None:
        self._layout = None  # recomputed lazily at the next paint
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._invalidate()
        super().changeEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._set_highlight(self.item_at(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._set_highlight(None)
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.item_at(event.position())
            self._pressed = None if item is None else self._item_key(item)
            if item is not None:
                self._set_highlight(item)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.item_at(event.position())
            if item is not None and self._item_key(item) == self._pressed:
                self._activate(item)
            self._pressed = None
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Up/Down (and Home/End) step through the items, Enter/Space activates one, Esc clears."""
        key = event.key()
        if not self._focus_visible:
            self._focus_visible = True
            self.update()
        items = self._items() if key in _STEP_KEYS else []
        if items:
            keys = [self._item_key(item) for item in items]
            index = keys.index(self._highlight) if self._highlight in keys else None
            if key == Qt.Key.Key_Home:
                index = 0
            elif key == Qt.Key.Key_End:
                index = len(items) - 1
            elif index is None:
                index = 0 if key == Qt.Key.Key_Down else len(items) - 1
            else:
                index = (index + (1 if key == Qt.Key.Key_Down else -1)) % len(items)
            item = items[index]
            self._set_highlight(item)
            self.setAccessibleDescription(item.tooltip.replace("\n", "; "))
            return
        if key in _ACTIVATE_KEYS:
            item = self.highlighted_item
            if item is not None:
                self._activate(item)
                return
        if key == Qt.Key.Key_Escape and self._highlight is not None:
            self._set_highlight(None)
            self._update_accessible_description()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(event.position() if hasattr(event, "position") else QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
