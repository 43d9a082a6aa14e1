"""The Expert attribution drawing: the selected recommendation's static expert shares above the session
expert timeline of a sitting. The geometry comes from `timeline_layout.compute_layout` (pure, tested
on its own); this widget paints it. Hover shows the numbers (tooltips), a click on a movie of the
sitting emits `movieClicked`, Left/Right step through the sitting's movies (Shift+Right/Left jump
to the next/previous change of deciding expert), Enter selects the movie stepped to.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QPainter, QPaintDevice, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from assistant.views.diagram_view import DiagramView, with_alpha
from assistant.views.expert_palette import text_colour_on
from assistant.views.timeline_layout import BARS, GRID, Column, Segment, Text, TimelineLayout, compute_layout

RIGHT_COLOUR = QColor("#0072B2")  # Okabe-Ito blue and vermillion: apart for every common colour vision
WRONG_COLOUR = QColor("#D55E00")
_ALIGN = {"left": Qt.AlignmentFlag.AlignLeft, "right": Qt.AlignmentFlag.AlignRight,
          "center": Qt.AlignmentFlag.AlignHCenter}


class TimelineView(DiagramView):
    """Draws an `ExpertShares` (may be None) and an `ExpertTimeline` (may be None, with a message in its
    place). Items are the sitting's movies (columns) and their share cells; see `DiagramView` for
    the signals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Expert attribution", parent)
        self._timeline = None
        self._shares = None
        self._message = ""
        self._mode = BARS
        self._detailed = False
        self.timeline_profile = None  # the profile whose sitting is drawn (the panel keeps it)
        self._update_accessible_description()

    # ----------------------------------------------------------------------------- public API

    @property
    def timeline(self):
        return self._timeline

    @property
    def shares(self):
        return self._shares

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def detailed(self) -> bool:
        return self._detailed

    def set_shares(self, shares) -> None:
        self._shares = shares
        self._explanation = shares if shares is not None else self._timeline
        self._changed()

    def set_timeline(self, timeline, message: str = "") -> None:
        """The sitting to draw, or None with `message` saying why there is none (loading, ml-1m, ...)."""
        self._timeline = timeline
        self._message = message
        if self._shares is None:
            self._explanation = timeline
        self._changed()

    def set_mode(self, mode: str) -> None:
        if mode not in (BARS, GRID):
            raise ValueError(f"Unknown timeline mode {mode!r}: use {BARS!r} or {GRID!r}.")
        if mode != self._mode:
            self._mode = mode
            self._changed()

    def set_detailed(self, detailed: bool) -> None:
        if bool(detailed) != self._detailed:
            self._detailed = bool(detailed)
            self._changed()

    def message(self) -> str:
        return self._message

    def sizeHint(self) -> QSize:
        return QSize(900, 620)

    def minimumSizeHint(self) -> QSize:
        return QSize(360, 300)

    def layout_for(self, width: float, height: float, device: QPaintDevice | None = None) -> TimelineLayout:
        return compute_layout(self._timeline, self._shares, float(width), float(height),
                              **self._metrics(device or self), mode=self._mode, detailed=self._detailed,
                              message=self._message)

    def render_into(self, painter: QPainter, width: int, height: int) -> None:
        """Paint the drawing at `width` x `height` (export): no hover, no focus frame."""
        layout = self.layout_for(width, height, painter.device())
        self._render(painter, layout, interactive=False)

    def select_column(self, index: int) -> None:
        column = self.current_layout().column(index)
        if column is not None:
            self._set_highlight(column)

    # ----------------------------------------------------------------------------- DiagramView

    def _changed(self) -> None:
        self._invalidate()
        self._update_accessible_description()

    def _metrics(self, device) -> dict:
        metrics = self._text_metrics(device)
        return dict(text_width=metrics["text_width"], line_height=metrics["line_height"],
                    title_text_width=metrics["title_text_width"], title_line_height=metrics["title_line_height"])

    def _compute_layout(self, width: int, height: int, device: QPaintDevice) -> TimelineLayout:
        return self.layout_for(width, height, device)

    def _items(self) -> list[Column]:
        return list(self.current_layout().columns)

    def _item_for_key(self, key: str):
        return self.current_layout().item(key)

    def _item_key(self, item) -> str:
        return item.key

    def item_at(self, point: QPointF):
        return self.current_layout().item_at(point.x(), point.y())

    def _description(self) -> str:
        parts = []
        x = self._shares
        if x is not None:
            ranked = sorted(x.votes, key=lambda v: -v.share)
            parts.append(f"{x.title}: probability {x.probability:.2f}; shares " +
                         ", ".join(f"{x.info(v.id).label} {v.share:.0%}" for v in ranked) + ".")
        t = self._timeline
        if t is not None:
            guessed = t.predicted
            parts.append(f"Sitting of {len(t.steps)} movies, {len(guessed)} guessed"
                         + (f", accuracy {t.accuracy:.0%}" if t.accuracy is not None else "") + ".")
        elif self._message:
            parts.append(self._message)
        return " ".join(parts) or "No expert explanation yet."

    # ----------------------------------------------------------------------------- keys

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            columns = self._items()
            if not columns:
                return
            self._focus_visible = True
            now = self.highlighted_item
            index = _column_index(now)
            forward = key == Qt.Key.Key_Right
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                index = self._next_change(index, forward)
            elif index is None:
                index = 0 if forward else len(columns) - 1
            else:
                index = max(0, min(len(columns) - 1, index + (1 if forward else -1)))
            if index is not None:
                column = columns[index]
                self._set_highlight(column)
                self.setAccessibleDescription(column.tooltip.replace("\n", "; "))
            return
        super().keyPressEvent(event)

    def _next_change(self, index: int | None, forward: bool) -> int | None:
        layout = self.current_layout()
        changes = [c.index for c in layout.columns if c.step.position in layout.change_positions]
        if not changes:
            return index
        if index is None:
            return changes[0] if forward else changes[-1]
        later = [c for c in changes if (c > index if forward else c < index)]
        return (later[0] if forward else later[-1]) if later else index

    # ----------------------------------------------------------------------------- painting

    def _render(self, painter: QPainter, layout: TimelineLayout, interactive: bool) -> None:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        ink = palette.color(QPalette.ColorRole.WindowText)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.fillRect(QRectF(0, 0, layout.width, layout.height), base)
        fonts = {"title": self._title_font(), "text": QFont(self.font())}
        highlighted = self._highlight if interactive else None

        for segment in layout.share_segments:
            self._paint_segment(painter, segment, base, ink, bars=True)
        if any(s.hatched for s in layout.share_segments):  # no expert was confident about this recommendation
            left, right = layout.share_segments[0].rect, layout.share_segments[-1].rect
            self._hatch(painter, QRectF(left.x, left.y, right.right - left.x, left.h), ink)
        for item in (*layout.share_legend, *layout.rows):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(item.colour))
            painter.drawRect(_qrect(item.swatch))

        if highlighted is not None:
            column = next((c for c in layout.columns if c.key == highlighted or highlighted.startswith(c.key.replace("column", "cell") + ":")), None)
            if column is not None:
                painter.fillRect(_qrect(column.rect), with_alpha(palette.color(QPalette.ColorRole.Highlight), 0.14))
        if layout.divider_x is not None:
            pen = QPen(with_alpha(ink, 0.45), 1, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(layout.divider_x, layout.strip_top), QPointF(layout.divider_x, layout.shares_bottom))

        for column in layout.columns:
            if column.probability_bar is not None:
                bar = column.probability_bar
                painter.setPen(QPen(with_alpha(ink, 0.5), 1))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(_qrect(bar))
                correct = column.step.correct
                fill = RIGHT_COLOUR if correct else WRONG_COLOUR if correct is False else with_alpha(ink, 0.5)
                painter.fillRect(_qrect(column.probability_fill), with_alpha(fill, 0.8))
                mid = bar.y + bar.h / 2  # the 50% line: above it the model guessed "liked"
                painter.setPen(QPen(with_alpha(ink, 0.7), 1))
                painter.drawLine(QPointF(bar.x - 2, mid), QPointF(bar.right + 2, mid))
            if column.decider is not None:
                painter.fillRect(_qrect(column.decider), QColor(column.decider_colour))
            for segment in column.segments:
                self._paint_segment(painter, segment, base, ink, bars=layout.mode == BARS,
                                    hovered=interactive and segment.key == highlighted)
            if column.undecided_box is not None:
                self._hatch(painter, _qrect(column.undecided_box), ink)

        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ink)
        for mark in layout.change_marks:  # a small triangle pointing at the boundary where the decider changes
            painter.drawPolygon(QPolygonF([QPointF(mark.x, mark.y), QPointF(mark.right, mark.y),
                                           QPointF(mark.x + mark.w / 2, mark.bottom)]))

        for text in layout.all_texts():
            self._paint_text(painter, text, fonts, ink)
        if interactive and self._show_focus() and highlighted is None:
            self._draw_focus_frame(painter, layout)

    def _hatch(self, painter: QPainter, rect: QRectF, ink: QColor) -> None:
        painter.setPen(QPen(with_alpha(ink, 0.6), 1))
        painter.setBrush(QBrush(with_alpha(ink, 0.55), Qt.BrushStyle.BDiagPattern))
        painter.drawRect(rect)

    def _paint_segment(self, painter: QPainter, segment: Segment, base: QColor, ink: QColor, bars: bool,
                       hovered: bool = False) -> None:
        r = _qrect(segment.rect)
        colour = QColor(segment.colour)
        if segment.hatched:  # no expert was confident: the even spread is shown faintly, under the hatching
            colour = with_alpha(colour, 0.3)
        elif not bars:  # heat grid: opacity follows the share
            colour = with_alpha(colour, max(0.04, segment.share))
        painter.setPen(QPen(base, 1) if bars else QPen(with_alpha(ink, 0.12), 1))
        painter.setBrush(colour)
        painter.drawRect(r)
        if hovered:
            painter.setPen(QPen(ink, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(r.adjusted(0.75, 0.75, -0.75, -0.75))

    def _paint_text(self, painter: QPainter, text: Text, fonts: dict, ink: QColor) -> None:
        painter.setFont(fonts["title"] if text.role == "title" else fonts["text"])
        colour = {"muted": with_alpha(ink, 0.68), "right": RIGHT_COLOUR, "wrong": WRONG_COLOUR}.get(text.role, ink)
        if text.role == "on_fill":
            colour = QColor(text_colour_on(text.fill))
        painter.setPen(colour)
        r = text.rect
        flags = _ALIGN[text.align] | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine | Qt.TextFlag.TextDontClip
        if not text.vertical:
            painter.drawText(QRectF(r.x, r.y, r.w, r.h), int(flags), text.text)
            return
        painter.save()
        painter.translate(r.x, r.bottom)
        painter.rotate(-90)
        painter.drawText(QRectF(0, 0, r.h, r.w), int(flags), text.text)
        painter.restore()


def _column_index(item) -> int | None:
    """The sitting position (0-based) of a column or of one of its share cells; None otherwise."""
    if isinstance(item, Column):
        return item.index
    if isinstance(item, Segment) and item.key.startswith("cell:"):
        return int(item.key.split(":")[1])
    return None


def _qrect(rect) -> QRectF:
    return QRectF(rect.x, rect.y, rect.w, rect.h)


__all__ = ["TimelineView"]
