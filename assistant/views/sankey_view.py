"""The Sankey view of a feature-relevance explanation: profile features flow into the recommended
movie, each band as thick as the feature's share of the score (the paper's figure 5).

The geometry comes from `sankey_layout.compute_layout` (pure, tested on its own); this widget paints
it with QPainter and exports it at any scale; hover, tooltips, clicks and keys come from `DiagramView`.
"""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPainterPath, QPaintDevice, QPalette, QPen
from PySide6.QtWidgets import QWidget

from assistant.views.diagram_view import ROLE_COLOURS, TARGET_COLOUR, DiagramView, draw_lines, draw_text, with_alpha
from assistant.views.picture_export import QSvgGenerator, check_export_path, svg_supported, write_picture
from assistant.views.sankey_layout import (
    DEFAULT_TOP_N,
    MAX_TOP_N,
    Band,
    SankeyLayout,
    compute_layout,
    format_relevance,
    score_text,
)
from engine.api import GROUP_KIND, RelevanceExplanation, group_by_genre

__all__ = ["MIN_TOP_N", "ROLE_COLOURS", "TARGET_COLOUR", "SankeyView", "svg_supported"]

MIN_TOP_N = 6
BAND_ALPHA = 0.50
HIGHLIGHT_ALPHA = 0.85
FADED_ALPHA = 0.14


def _band_path(band: Band) -> QPainterPath:
    p = [QPointF(x, y) for x, y in band.curve_points()]
    path = QPainterPath(p[0])
    path.cubicTo(p[1], p[2], p[3])
    path.lineTo(p[4])
    path.cubicTo(p[5], p[6], p[7])
    path.closeSubpath()
    return path


class SankeyView(DiagramView):
    """Draws one `RelevanceExplanation` as a Sankey diagram; its items are the bands, and a band of
    a profile movie emits `movieClicked` (see `DiagramView` for the signals)."""

    min_top_n, max_top_n, default_top_n = MIN_TOP_N, MAX_TOP_N, DEFAULT_TOP_N
    groupedChanged = Signal(bool)
    _drawn = None  # set before DiagramView's constructor describes the view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Explanation flows", parent)
        self._show_negative = False
        self._grouped = False  # the profile's movies drawn as genre groups (engine.explain.relevance_groups)
        self._expanded: frozenset[str] = frozenset()  # the groups drawn as their movies
        self._drawn = None  # what is drawn: the explanation, or its grouped form
        # Every band at its true share: a narrower "other features" band made the named bands read as
        # the reason when they carried a tenth of it (issue 13). The coverage line says how much they carry.
        self._compress_groups = False
        self._paths: list[QPainterPath] = []  # the bands' outlines for the cached layout
        self._update_accessible_description()

    # ----------------------------------------------------------------------------- public API

    def sizeHint(self) -> QSize:
        return QSize(900, 500)

    def minimumSizeHint(self) -> QSize:
        return QSize(360, 220)

    @property
    def show_negative(self) -> bool:
        return self._show_negative

    @show_negative.setter
    def show_negative(self, value: bool) -> None:
        self.set_show_negative(value)

    def set_show_negative(self, value: bool) -> None:
        value = bool(value)
        if value != self._show_negative:
            self._show_negative = value
            self._invalidate()
            self._update_accessible_description()

    @property
    def compress_groups(self) -> bool:
        """Draw an "other features" band that outweighs the named ones narrower, with a break mark."""
        return self._compress_groups

    @compress_groups.setter
    def compress_groups(self, value: bool) -> None:
        self.set_compress_groups(value)

    def set_compress_groups(self, value: bool) -> None:
        if bool(value) != self._compress_groups:
            self._compress_groups = bool(value)
            self._invalidate()

    def set_explanation(self, explanation) -> None:
        self._drawn = self._grouping(explanation)
        super().set_explanation(explanation)

    @property
    def grouped(self) -> bool:
        """Whether the profile's movies are drawn as genre groups, each with its exact summed relevance."""
        return self._grouped

    def set_grouped(self, value: bool) -> None:
        value = bool(value)
        if value != self._grouped:
            self._grouped = value
            self._expanded = frozenset()
            self._regroup()
            self.groupedChanged.emit(value)

    @property
    def expanded(self) -> frozenset[str]:
        return self._expanded

    def toggle_group(self, genre: str) -> None:
        """Draw a group as its movies, or fold them back into one band."""
        self._expanded = self._expanded ^ {genre}
        self._regroup()

    @property
    def drawn_explanation(self):
        """What the view draws: the explanation, or its grouped form when the grouped view is on."""
        return self._drawn

    def _grouping(self, explanation):
        if self._grouped and isinstance(explanation, RelevanceExplanation):
            return group_by_genre(explanation, expanded=self._expanded)
        return explanation

    def _regroup(self) -> None:
        self._drawn = self._grouping(self._explanation)
        self._invalidate()
        self._update_accessible_description()

    def _activate(self, band: Band) -> None:
        if band.kind == GROUP_KIND:
            self.toggle_group(band.key)
        else:
            super()._activate(band)

    def tooltip_at(self, point: QPointF) -> str:
        layout = self.sankey_layout()
        if self.item_at(point) is None and layout.target_at(point.x(), point.y()):
            return layout.target_tooltip
        return super().tooltip_at(point)

    def export(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write the current view to `path`: PNG (at `scale` times the pixels) or SVG, by extension."""
        path = Path(path)
        check_export_path(path, svg_available=QSvgGenerator is not None)
        size = self.size()
        if size.width() < 50 or size.height() < 50:  # never shown: use the preferred size
            size = self.sizeHint()
        write_picture(
            path, size,
            lambda painter, device: self._render(
                painter, self._compute_layout(size.width(), size.height(), device), interactive=False),
            background=self.palette().color(QPalette.ColorRole.Base), description=self.accessibleDescription(),
            scale=scale, resolution=max(1, round(self.logicalDpiX())),
        )
        return path

    # ----------------------------------------------------------------------------- items and layout

    def _items(self) -> list[Band]:
        return self.sankey_layout().bands

    def _item_for_key(self, key) -> Band | None:
        return next((band for band in self.sankey_layout().bands if self._item_key(band) == key), None)

    def _item_key(self, band: Band) -> tuple[str, str, str]:
        return (band.kind, band.key, band.name)

    def item_at(self, point: QPointF) -> Band | None:
        return self.sankey_layout().band_at(point.x(), point.y())

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15 if font.pointSizeF() > 0 else 11)
        return font

    def _compute_layout(self, width: int, height: int, device: QPaintDevice) -> SankeyLayout:
        return compute_layout(
            self._drawn, float(width), float(height), **self._text_metrics(device),
            top_n=self._drawn_top_n(), show_negative=self._show_negative, compress_groups=self._compress_groups,
        )

    def _drawn_top_n(self) -> int:
        """Bands of their own: an expanded group's movies come on top of the chosen number, so that opening
        a group does not push the other groups into "other features" (the layout caps it at MAX_TOP_N)."""
        drawn = self._drawn
        if drawn is None or not getattr(drawn, "expanded", None):
            return self._top_n
        return self._top_n + sum(1 for kind in drawn.kinds if kind == "movie")

    def current_layout(self) -> SankeyLayout:
        layout = self._layout  # a new geometry gets its band outlines once, not at every paint
        current = super().current_layout()
        if current is not layout:
            self._paths = [_band_path(band) for band in current.bands]
        return current

    # The Sankey's own names for the items and the geometry.
    sankey_layout = current_layout
    highlighted_band = DiagramView.highlighted_item
    band_at = item_at

    def _description(self) -> str:
        x = self._drawn
        if x is None:
            return "No recommendation selected."
        if not x.features:
            return f"{x.title}. {x.note}".strip()
        parts = [f"{x.title}, {score_text(x)}."]
        positive = x.positive
        if positive:
            shown = ", ".join(f"{f.name} {format_relevance(f.relevance)}" for f in positive[: self._top_n])
            parts.append(f"Evidence for: {shown}.")
            if len(positive) > self._top_n:
                rest = math.fsum(f.relevance for f in positive[self._top_n:])
                parts.append(f"{len(positive) - self._top_n} other features together {format_relevance(rest)}.")
        if self._show_negative and x.negative:
            shown = ", ".join(f"{f.name} {format_relevance(f.relevance)}" for f in x.negative[: self._top_n])
            parts.append(f"Evidence against: {shown}.")
        return " ".join(parts)

    # ----------------------------------------------------------------------------- painting

    def _render(self, painter: QPainter, layout: SankeyLayout, interactive: bool) -> None:
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        muted = with_alpha(text_colour, 0.62)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.fillRect(QRectF(0, 0, layout.width, layout.height), palette.color(QPalette.ColorRole.Base))
        font = QFont(self.font())
        title_font = self._title_font()

        if layout.message_lines or not layout.bands:
            draw_lines(painter, layout.title_lines, title_font, text_colour)
            draw_lines(painter, layout.message_lines, font, muted)
            if interactive and self._show_focus():
                self._draw_focus_frame(painter, layout)
            return

        keys = [self._item_key(band) for band in layout.bands]
        highlighted = keys.index(self._highlight) if interactive and self._highlight in keys else None
        paths = self._paths if layout is self._layout else [_band_path(b) for b in layout.bands]
        seam = QPen(palette.color(QPalette.ColorRole.Base), 1.0)  # keeps touching bands apart
        for i, (band, path) in enumerate(zip(layout.bands, paths)):
            colour = ROLE_COLOURS.get(band.role, ROLE_COLOURS["other"])
            alpha = BAND_ALPHA if highlighted is None else (HIGHLIGHT_ALPHA if i == highlighted else FADED_ALPHA)
            painter.setPen(seam if band.thickness >= 6 else Qt.PenStyle.NoPen)
            painter.setBrush(with_alpha(colour, alpha))
            painter.drawPath(path)
            if band.compressed:
                self._draw_break(painter, band)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(with_alpha(colour, 1.0 if highlighted in (None, i) else 0.35))
            painter.drawRect(QRectF(band.source.x, band.source.y, band.source.w, band.source.h))

        # The movie's node: positive part on top, evidence against below in red.
        target = layout.target
        if target is not None:
            painter.setBrush(TARGET_COLOUR)
            split = layout.target_split
            top_h = (split - target.y) if split is not None else target.h
            painter.drawRoundedRect(QRectF(target.x, target.y, target.w, max(0.0, top_h - (4 if split else 0))), 2, 2)
            if split is not None:
                painter.setBrush(ROLE_COLOURS["negative"])
                painter.drawRoundedRect(QRectF(target.x, split, target.w, target.bottom - split), 2, 2)

        painter.setFont(font)
        for i, band in enumerate(layout.bands):
            faded = highlighted is not None and i != highlighted
            painter.setPen(with_alpha(text_colour, 0.4) if faded else text_colour)
            draw_text(painter, band.label)
            painter.setPen(with_alpha(muted, 0.3) if faded else muted)
            draw_text(painter, band.value)
            if interactive and i == highlighted and self._show_focus():
                pen = QPen(palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                r = band.label.rect if band.label.text else band.source
                right = band.value.rect.right if band.value.text else r.right
                painter.drawRect(QRectF(r.x - 2, r.y, right - r.x + 4, r.h))

        draw_lines(painter, layout.title_lines, title_font, text_colour)
        painter.setFont(font)
        painter.setPen(muted)
        if layout.probability is not None:
            draw_text(painter, layout.probability)
        painter.setPen(text_colour)
        for line in layout.coverage_lines:
            draw_text(painter, line)
        painter.setPen(muted)

        for item in layout.legend:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ROLE_COLOURS.get(item.role, ROLE_COLOURS["other"]))
            s = item.swatch
            painter.drawRoundedRect(QRectF(s.x, s.y, s.w, s.h), 2, 2)
            if item.role == "compressed":  # the break mark, as drawn on the bands
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 2.0))
                painter.drawLine(QPointF(s.x + s.w * 0.3, s.bottom), QPointF(s.x + s.w * 0.7, s.y))
            painter.setPen(muted)
            draw_text(painter, item.label)
        if layout.caption is not None:
            painter.setPen(muted)
            draw_text(painter, layout.caption)
        if interactive and self._show_focus() and highlighted is None:
            self._draw_focus_frame(painter, layout)

    def _draw_break(self, painter: QPainter, band: Band) -> None:
        """Two slanted strokes across a compressed band, like a broken axis."""
        x0, x1 = band.source.right, band.target_x
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Base), 2.5, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.FlatCap))
        for x in (x0 + (x1 - x0) * 0.12, x0 + (x1 - x0) * 0.12 + 7):
            edges = band.edges_at(x)
            if edges is not None:
                top, bottom = edges
                painter.drawLine(QPointF(x - 3, bottom + 1), QPointF(x + 3, top - 1))
