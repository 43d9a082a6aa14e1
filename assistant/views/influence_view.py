"""The influence-neighbour graph of one predicted rating: the profile's own ratings on the left, the
other users who rated the movie on the right, each joined to the prediction by an edge as wide as
the stars its rating moved the prediction, blue when it raised it and red when it lowered it.

The geometry comes from `influence_layout.compute_layout` (pure, tested on its own); this widget
paints it with QPainter, caches it between paints, and handles hover, tooltips, clicks and keys.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintDevice,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from assistant.views.influence_layout import (
    CENTRE,
    DEFAULT_TOP_N,
    MAX_TOP_N,
    MIN_TOP_N,
    OWN,
    REST,
    GraphEdge,
    GraphNode,
    InfluenceLayout,
    compute_layout,
    exact_stars,
)
from assistant.views.sankey_layout import TextBox
from assistant.views.sankey_view import ROLE_COLOURS, TARGET_COLOUR

# The Sankey's blue and red: blue against red stays apart for the common colour-vision
# deficiencies (they differ on the blue-yellow axis), and every value is also written with its sign.
SIGN_COLOURS = {1: ROLE_COLOURS["movie"], -1: ROLE_COLOURS["negative"], 0: ROLE_COLOURS["other"]}
GROUP_COLOUR = ROLE_COLOURS["other"]
EDGE_ALPHA = 0.72
GROUP_EDGE_ALPHA = 0.38
HIGHLIGHT_ALPHA = 0.95
FADED_ALPHA = 0.12

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "right": Qt.AlignmentFlag.AlignRight,
    "center": Qt.AlignmentFlag.AlignHCenter,
}


def _with_alpha(colour: QColor, alpha: float) -> QColor:
    c = QColor(colour)
    c.setAlphaF(max(0.0, min(1.0, alpha)))
    return c


def _edge_path(edge: GraphEdge) -> QPainterPath:
    p = [QPointF(x, y) for x, y in edge.points]
    path = QPainterPath(p[0])
    path.cubicTo(p[1], p[2], p[3])
    return path


class InfluenceGraphView(QWidget):
    """Draws one `InfluenceExplanation` as an influence-neighbour graph.

    Signals: `movieClicked(int)` when a node of the profile's own movies is clicked (or activated
    with Enter/Space), `highlightChanged(object)` with the highlighted `GraphNode` or None, and
    `painted()` at the end of every paint.
    """

    movieClicked = Signal(int)
    highlightChanged = Signal(object)
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanation = None
        self._top_n = DEFAULT_TOP_N
        self._layout: InfluenceLayout | None = None
        self._highlight: str | None = None  # a node key: survives relayouts
        self._pressed: str | None = None
        self._focus_visible = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Influence graph")
        self._update_accessible_description()

    # ----------------------------------------------------------------------------- public API

    def sizeHint(self) -> QSize:
        return QSize(900, 560)

    def minimumSizeHint(self) -> QSize:
        return QSize(360, 240)

    @property
    def explanation(self):
        return self._explanation

    def set_explanation(self, explanation) -> None:
        """Show `explanation` (an InfluenceExplanation), or the empty state for None."""
        self._explanation = explanation
        self._invalidate()
        self._update_accessible_description()

    @property
    def top_n(self) -> int:
        return self._top_n

    def set_top_n(self, value: int) -> None:
        value = max(MIN_TOP_N, min(MAX_TOP_N, int(value)))
        if value != self._top_n:
            self._top_n = value
            self._invalidate()
            self._update_accessible_description()

    def graph_layout(self) -> InfluenceLayout:
        """The geometry for the current size, computed once and kept until something changes."""
        if self._layout is None or (self._layout.width, self._layout.height) != (self.width(), self.height()):
            self._layout = self._compute_layout(self.width(), self.height(), self)
        return self._layout

    @property
    def highlighted_node(self) -> GraphNode | None:
        return None if self._highlight is None else self.graph_layout().node(self._highlight)

    def node_at(self, point: QPointF) -> GraphNode | None:
        """The node under `point`, or the one whose edge runs under it."""
        return self.graph_layout().item_at(point.x(), point.y())

    def tooltip_at(self, point: QPointF) -> str:
        node = self.node_at(point)
        return "" if node is None else node.tooltip

    # ----------------------------------------------------------------------------- layout

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def _compute_layout(self, width: int, height: int, device: QPaintDevice) -> InfluenceLayout:
        metrics = QFontMetricsF(self.font(), device)
        title_metrics = QFontMetricsF(self._title_font(), device)
        return compute_layout(
            self._explanation, float(width), float(height),
            text_width=metrics.horizontalAdvance, line_height=math.ceil(metrics.height()),
            title_text_width=title_metrics.horizontalAdvance, title_line_height=math.ceil(title_metrics.height()),
            top_n=self._top_n,
        )

    def _invalidate(self) -> None:
        self._layout = None
        self.update()

    def _set_highlight(self, node: GraphNode | None) -> None:
        key = None if node is None else node.key
        if key != self._highlight:
            self._highlight = key
            clickable = node is not None and node.movie_id is not None
            self.setCursor(Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor)
            self.update()
            self.highlightChanged.emit(node)

    def _update_accessible_description(self) -> None:
        x = self._explanation
        if x is None:
            self.setAccessibleDescription("No prediction selected.")
            return
        parts = [f"{x.title}: predicted rating {x.predicted_rating:.2f} stars ({x.model.upper()}"
                 + (", fold-in" if x.fold_in else "") + ")."]
        for label, ratings in (("Own ratings", x.own), ("Other users' ratings", x.others)):
            ranked = sorted(ratings, key=lambda r: -abs(r.influence))[: self._top_n]
            if ranked:
                parts.append(f"{label}: " + ", ".join(
                    f"{r.title if r.kind == OWN else f'user {r.user}'} {exact_stars(r.influence)}" for r in ranked) + ".")
        self.setAccessibleDescription(" ".join(parts))

    # ----------------------------------------------------------------------------- painting

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        self._render(painter, self.graph_layout(), interactive=True)
        painter.end()
        self.painted.emit()

    def _render(self, painter: QPainter, layout: InfluenceLayout, interactive: bool) -> None:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        muted = _with_alpha(text_colour, 0.62)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.fillRect(QRectF(0, 0, layout.width, layout.height), base)
        font = QFont(self.font())
        title_font = self._title_font()

        if layout.message_lines:
            for i, box in enumerate(layout.message_lines):
                painter.setFont(title_font if i == 0 else font)
                painter.setPen(text_colour if i == 0 else muted)
                self._draw_text(painter, box)
            return

        highlighted = self._highlight if interactive else None
        if highlighted is not None and layout.node(highlighted) is None:
            highlighted = None

        # Edges: the widest first, so a thin edge is never hidden under a thick one.
        for edge in sorted(layout.edges, key=lambda e: -e.width):
            group = edge.source.startswith(REST)
            alpha = (GROUP_EDGE_ALPHA if group else EDGE_ALPHA) if highlighted in (None, CENTRE) else (
                HIGHLIGHT_ALPHA if edge.source == highlighted else FADED_ALPHA)
            colour = SIGN_COLOURS[edge.sign]
            pen = QPen(_with_alpha(colour, alpha), edge.width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
            if group:  # many ratings, not one: dashed and lighter, so it does not read as a single rating
                pen.setDashPattern([3.0, 1.5])
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(_edge_path(edge))

        for node in layout.nodes:
            if node.kind == CENTRE:
                continue
            faded = highlighted not in (None, CENTRE, node.key)
            colour = GROUP_COLOUR if node.kind == REST else SIGN_COLOURS[node.sign]
            painter.setPen(QPen(base, 1.5))
            painter.setBrush(_with_alpha(colour, 0.35 if faded else 1.0))
            r = node.radius
            if node.kind == OWN:  # movies are squares, users are discs
                painter.drawRoundedRect(QRectF(node.x - r, node.y - r, 2 * r, 2 * r), 2, 2)
            else:
                painter.drawEllipse(QPointF(node.x, node.y), r, r)
            if interactive and node.key == highlighted:
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(QPointF(node.x, node.y), r + 3, r + 3)

        centre = layout.centre
        if centre is not None and centre.rect is not None:
            box = centre.rect
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(TARGET_COLOUR)
            painter.drawRoundedRect(QRectF(box.x, box.y, box.w, box.h), 6, 6)
            light = QColor("#ffffff")
            painter.setFont(title_font)
            painter.setPen(light)
            for line in layout.centre_title:
                self._draw_text(painter, line)
            painter.setFont(font)
            for i, line in enumerate(layout.centre_lines):
                painter.setPen(light if i == 0 else _with_alpha(light, 0.78))
                self._draw_text(painter, line)
            if interactive and highlighted == CENTRE:
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(QRectF(box.x - 3, box.y - 3, box.w + 6, box.h + 6), 8, 8)

        painter.setFont(font)
        for node in layout.nodes:
            if node.kind == CENTRE:
                continue
            faded = highlighted not in (None, CENTRE, node.key)
            painter.setPen(_with_alpha(text_colour, 0.4) if faded else text_colour)
            self._draw_text(painter, node.label)
            value_colour = SIGN_COLOURS[node.sign].darker(135) if node.kind != REST else muted
            painter.setPen(_with_alpha(value_colour, 0.4) if faded else value_colour)
            self._draw_text(painter, node.value_label)

        painter.setFont(title_font)
        painter.setPen(text_colour)
        for box in layout.headings:
            self._draw_text(painter, box)
        painter.setFont(font)
        painter.setPen(muted)
        for box in layout.caption:
            self._draw_text(painter, box)
        for item in layout.legend:
            s = item.swatch
            colour = {"positive": SIGN_COLOURS[1], "negative": SIGN_COLOURS[-1]}.get(item.kind, text_colour)
            painter.setPen(QPen(_with_alpha(colour, 0.85 if item.kind != "width" else 0.55), item.line_width,
                                Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
            y = s.y + s.h / 2
            painter.drawLine(QPointF(s.x, y), QPointF(s.right, y))
            painter.setPen(muted)
            self._draw_text(painter, item.label)
        if interactive and self._show_focus() and highlighted is None:
            painter.setPen(QPen(_with_alpha(palette.color(QPalette.ColorRole.Highlight), 0.6), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(0.5, 0.5, layout.width - 1, layout.height - 1))

    def _draw_text(self, painter: QPainter, box: TextBox) -> None:
        if not box.text:
            return
        r = box.rect
        flags = _ALIGN[box.align] | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine | Qt.TextFlag.TextDontClip
        painter.drawText(QRectF(r.x, r.y, r.w, r.h), int(flags), box.text)

    def _show_focus(self) -> bool:
        return self._focus_visible and self.hasFocus()

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
        self._set_highlight(self.node_at(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._set_highlight(None)
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            node = self.node_at(event.position())
            self._pressed = None if node is None else node.key
            if node is not None:
                self._set_highlight(node)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            node = self.node_at(event.position())
            if node is not None and node.key == self._pressed:
                self._activate(node)
            self._pressed = None
        super().mouseReleaseEvent(event)

    def _activate(self, node: GraphNode) -> None:
        if node.movie_id is not None:
            self.movieClicked.emit(node.movie_id)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Up/Down (and Home/End) step through the nodes, Enter selects a movie, Esc clears."""
        nodes = [n for n in self.graph_layout().nodes if n.kind != CENTRE]
        key = event.key()
        if not self._focus_visible:
            self._focus_visible = True
            self.update()
        if nodes and key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Home, Qt.Key.Key_End):
            keys = [n.key for n in nodes]
            index = keys.index(self._highlight) if self._highlight in keys else None
            if key == Qt.Key.Key_Home:
                index = 0
            elif key == Qt.Key.Key_End:
                index = len(nodes) - 1
            elif index is None:
                index = 0 if key == Qt.Key.Key_Down else len(nodes) - 1
            else:
                index = (index + (1 if key == Qt.Key.Key_Down else -1)) % len(nodes)
            node = nodes[index]
            self._set_highlight(node)
            self.setAccessibleDescription(node.tooltip.replace("\n", "; "))
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            node = self.highlighted_node
            if node is not None:
                self._activate(node)
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
