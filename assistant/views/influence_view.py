"""The influence-neighbour graph of one predicted rating: the profile's own ratings on the left, the
other users who rated the movie on the right, each joined to the prediction by an edge as wide as
the stars its rating moved the prediction, blue when it raised it and red when it lowered it.

The geometry comes from `influence_layout.compute_layout` (pure, tested on its own); this widget
paints it with QPainter; hover, tooltips, clicks and keys come from `DiagramView`.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintDevice, QPalette, QPen
from PySide6.QtWidgets import QWidget

from assistant.views.diagram_view import ROLE_COLOURS, TARGET_COLOUR, DiagramView, draw_lines, draw_text, with_alpha
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

# The Sankey's blue and red: blue against red stays apart for the common colour-vision
# deficiencies (they differ on the blue-yellow axis), and every value is also written with its sign.
SIGN_COLOURS = {1: ROLE_COLOURS["movie"], -1: ROLE_COLOURS["negative"], 0: ROLE_COLOURS["other"]}
GROUP_COLOUR = ROLE_COLOURS["other"]
EDGE_ALPHA = 0.72
GROUP_EDGE_ALPHA = 0.38
HIGHLIGHT_ALPHA = 0.95
FADED_ALPHA = 0.12


def _edge_path(edge: GraphEdge) -> QPainterPath:
    p = [QPointF(x, y) for x, y in edge.points]
    path = QPainterPath(p[0])
    path.cubicTo(p[1], p[2], p[3])
    return path


class InfluenceGraphView(DiagramView):
    """Draws one `InfluenceExplanation` as an influence-neighbour graph; its items are the nodes,
    and a node of the profile's own movies emits `movieClicked` (see `DiagramView` for the signals)."""

    min_top_n, max_top_n, default_top_n = MIN_TOP_N, MAX_TOP_N, DEFAULT_TOP_N

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Influence graph", parent)
        self._update_accessible_description()

    # ----------------------------------------------------------------------------- public API

    def sizeHint(self) -> QSize:
        return QSize(900, 560)

    def minimumSizeHint(self) -> QSize:
        return QSize(360, 240)

    # ----------------------------------------------------------------------------- items and layout

    def _items(self) -> list[GraphNode]:
        return [n for n in self.graph_layout().nodes if n.kind != CENTRE]

    def _item_for_key(self, key: str) -> GraphNode | None:
        return self.graph_layout().node(key)

    def _item_key(self, node: GraphNode) -> str:
        return node.key

    def item_at(self, point: QPointF) -> GraphNode | None:
        """The node under `point`, or the one whose edge runs under it."""
        return self.graph_layout().item_at(point.x(), point.y())

    # The graph's own names for the items and the geometry.
    graph_layout = DiagramView.current_layout
    highlighted_node = DiagramView.highlighted_item
    node_at = item_at

    def _compute_layout(self, width: int, height: int, device: QPaintDevice) -> InfluenceLayout:
        return compute_layout(self._explanation, float(width), float(height), **self._text_metrics(device),
                              top_n=self._top_n)

    def _description(self) -> str:
        x = self._explanation
        if x is None:
            return "No prediction selected."
        parts = [f"{x.title}: predicted rating {x.predicted_rating:.2f} stars ({x.model.upper()}"
                 + (", fold-in" if x.fold_in else "") + ")."]
        for label, ratings in (("Own ratings", x.own), ("Other users' ratings", x.others)):
            ranked = sorted(ratings, key=lambda r: -abs(r.influence))[: self._top_n]
            if ranked:
                parts.append(f"{label}: " + ", ".join(
                    f"{r.title if r.kind == OWN else f'user {r.user}'} {exact_stars(r.influence)}" for r in ranked) + ".")
        return " ".join(parts)

    # ----------------------------------------------------------------------------- painting

    def _render(self, painter: QPainter, layout: InfluenceLayout, interactive: bool) -> None:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        muted = with_alpha(text_colour, 0.62)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.fillRect(QRectF(0, 0, layout.width, layout.height), base)
        font = QFont(self.font())
        title_font = self._title_font()

        if layout.message_lines:
            for i, box in enumerate(layout.message_lines):
                painter.setFont(title_font if i == 0 else font)
                painter.setPen(text_colour if i == 0 else muted)
                draw_text(painter, box)
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
            pen = QPen(with_alpha(colour, alpha), edge.width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
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
            painter.setBrush(with_alpha(colour, 0.35 if faded else 1.0))
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
                draw_text(painter, line)
            painter.setFont(font)
            for i, line in enumerate(layout.centre_lines):
                painter.setPen(light if i == 0 else with_alpha(light, 0.78))
                draw_text(painter, line)
            if interactive and highlighted == CENTRE:
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(QRectF(box.x - 3, box.y - 3, box.w + 6, box.h + 6), 8, 8)

        painter.setFont(font)
        for node in layout.nodes:
            if node.kind == CENTRE:
                continue
            faded = highlighted not in (None, CENTRE, node.key)
            painter.setPen(with_alpha(text_colour, 0.4) if faded else text_colour)
            draw_text(painter, node.label)
            value_colour = SIGN_COLOURS[node.sign].darker(135) if node.kind != REST else muted
            painter.setPen(with_alpha(value_colour, 0.4) if faded else value_colour)
            draw_text(painter, node.value_label)

        draw_lines(painter, layout.headings, title_font, text_colour)
        draw_lines(painter, layout.caption, font, muted)
        for item in layout.legend:
            s = item.swatch
            colour = {"positive": SIGN_COLOURS[1], "negative": SIGN_COLOURS[-1]}.get(item.kind, text_colour)
            painter.setPen(QPen(with_alpha(colour, 0.85 if item.kind != "width" else 0.55), item.line_width,
                                Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
            y = s.y + s.h / 2
            painter.drawLine(QPointF(s.x, y), QPointF(s.right, y))
            painter.setPen(muted)
            draw_text(painter, item.label)
        if interactive and self._show_focus() and highlighted is None:
            self._draw_focus_frame(painter, layout)
