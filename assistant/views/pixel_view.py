"""The Pixel relevance drawing: the query and candidate images side by side, each pixel an
upscaled square (nearest neighbour, no smoothing), overlaid with the explanation's signed heatmap
on one scale for both images, a colour bar with that scale, the logit's exact decomposition as a
bar, and optionally the planted mark's outline. Hovering a pixel says its relevance.

It draws a `PixelExplanation` as it is: every number it shows is read from that object.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from assistant.views.pixel_layout import Box, PairLayout, decomposition_bar, pair_layout
from assistant.views.pixel_overlay import DEFAULT_OPACITY, diverging_colours, overlay, rgb32, shared_scale
from assistant.views.pixel_state import IMAGES, decomposition
from engine.api import PixelExplanation

TERM_COLOURS = {  # not red or blue: those mean evidence in the heatmap
    "offset": QColor("#7b8496"),
    "query pixels": QColor("#2f9e95"),
    "candidate pixels": QColor("#d99a2b"),
    "kept back": QColor("#c3c8d2"),
}
VIEW_CAPTIONS = {
    "net": "What differs (net view): red pushes towards “related”, blue towards “not related”; "
           "each pixel holds its share of the logit.",
    "shared": "Why related (shared view): red is what the two images have in common, blue what "
              "works against it; each pixel holds its share of the similarity.",
}
IMAGE_NAMES = {"query": "Query", "candidate": "Candidate"}
EXPORT_LABEL = " · product catalogue demo (Fashion-MNIST), not movies"


def signed(value: float, digits: int = 4) -> str:
    """A signed number with a true minus sign: "+0.0123", "−1.25"."""
    text = f"{value:+.{digits}g}"
    return text.replace("-", "−")


def fixed(value: float) -> str:
    """A signed number with three decimals and a true minus sign, as the decomposition writes its terms."""
    return f"{value:+.3f}".replace("-", "−")


@dataclass(frozen=True)
class PixelHover:
    """The pixel under the mouse and its relevance in the view on screen."""

    image: str
    row: int
    col: int
    value: float
    share: float  # value / sum of |relevance| over both images in this view

    def text(self, view: str) -> str:
        return (f"{IMAGE_NAMES[self.image]} pixel (row {self.row}, column {self.col}): relevance "
                f"{signed(self.value)} in the {view} view, {100 * self.share:+.1f}% of the pair's total |relevance|"
                ).replace("-", "−")


class PixelPairView(QWidget):
    """Signals: `hovered(str)`, the hovered pixel's line ("" when the mouse leaves the images)."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanation: PixelExplanation | None = None
        self._images: dict[str, np.ndarray] = {}
        self._view = "shared"
        self._opacity = DEFAULT_OPACITY
        self._outline = False
        self._pictures: dict[str, QImage] = {}  # the blended images at the layout's cell size
        self._picture_key = None
        self.hover: PixelHover | None = None
        self._mouse: tuple[float, float] | None = None  # where the mouse is over the drawing, if it is
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 280)
        self.setAccessibleName("Pixel relevance heatmaps of the query and the candidate")

    # ----- what is drawn -----

    @property
    def explanation(self) -> PixelExplanation | None:
        return self._explanation

    @property
    def view(self) -> str:
        return self._view

    @property
    def opacity(self) -> float:
        return self._opacity

    @property
    def outline(self) -> bool:
        return self._outline

    def set_pair(self, explanation: PixelExplanation | None, query_image: np.ndarray | None = None,
                 candidate_image: np.ndarray | None = None, view: str | None = None) -> None:
        """Draw `explanation` over the two images (uint8 rows x cols); `view` defaults to the one
        the decision calls for."""
        self._explanation = explanation
        self._images = {} if explanation is None else {"query": np.asarray(query_image),
                                                       "candidate": np.asarray(candidate_image)}
        if explanation is not None:
            self._view = view or explanation.default_view
        self._invalidate()

    def set_view(self, view: str) -> None:
        if view not in VIEW_CAPTIONS:
            raise ValueError(f"Unknown view {view!r}: net or shared.")
        self._view = view
        self._invalidate()

    def set_opacity(self, opacity: float) -> None:
        self._opacity = float(min(1.0, max(0.0, opacity)))
        self._invalidate()

    def set_outline(self, shown: bool) -> None:
        self._outline = bool(shown)
        self.update()

    def scale(self) -> float:
        """The one colour scale of the view on screen: max |relevance| over both images."""
        if self._explanation is None:
            return 0.0
        maps = self._explanation.heatmaps(self._view)
        return shared_scale(maps.query, maps.candidate)

    def layout_for(self, width: float, height: float) -> PairLayout:
        line = QFontMetricsF(self.font()).height()
        size = len(self._explanation.net.query) if self._explanation is not None else 28
        return pair_layout(width, height, line, size or 28)

    def current_layout(self) -> PairLayout:
        return self.layout_for(self.width(), self.height())

    def sizeHint(self) -> QSize:
        return QSize(640, 470)

    def description(self) -> str:
        x = self._explanation
        if x is None:
            return "No pair explained."
        terms = ", ".join(f"{name} {signed(value, 3)}" for name, value in decomposition(x))
        return (f"{'Related' if x.related else 'Not related'} for the {x.shopper} shopper: P(related) "
                f"{x.probability:.2f}, logit {signed(x.logit, 3)} = {terms}. Query #{x.query.id} "
                f"{x.query.garment}, candidate #{x.candidate.id} {x.candidate.garment}; {self._view} view.")

    def heading_text(self) -> str:
        x = self._explanation
        if x is None:
            return ""
        verdict = "Related" if x.related else "Not related"
        return f"{verdict} for the {x.shopper} shopper: P(related) = {x.probability:.2f}"

    def term_texts(self) -> list[str]:
        """The decomposition's numbers as the bar's legend writes them: the logit first, then its terms."""
        x = self._explanation
        if x is None:
            return []
        return [f"logit {fixed(x.logit)} ="] + [f"{label} {fixed(value)}" for label, value in decomposition(x)]

    def _invalidate(self) -> None:
        self._picture_key = None
        self.setAccessibleDescription(self.description())
        if self._mouse is not None:  # another pair or view under a still mouse: say its value now
            self._hover_to(self.hover_at(*self._mouse))
        self.update()

    def _hover_to(self, hover: PixelHover | None, global_pos=None) -> None:
        if hover == self.hover:
            return
        self.hover = hover
        text = "" if hover is None else hover.text(self._view)
        self.hovered.emit(text)
        if text and global_pos is not None:
            QToolTip.showText(global_pos, text, self)
        elif not text:
            QToolTip.hideText()

    # ----- hover -----

    def hover_at(self, x: float, y: float) -> PixelHover | None:
        """The pixel under (x, y) in widget coordinates with its relevance, or None."""
        if self._explanation is None:
            return None
        found = self.current_layout().pixel_at(x, y)
        if found is None:
            return None
        image, row, col = found
        maps = self._explanation.heatmaps(self._view)
        grid = getattr(maps, image)
        value = float(grid[row][col])
        total = float(sum(abs(v) for g in (maps.query, maps.candidate) for r in g for v in r))
        return PixelHover(image, row, col, value, value / total if total > 0 else 0.0)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._mouse = (event.position().x(), event.position().y())
        before = self.hover
        self._hover_to(self.hover_at(*self._mouse), event.globalPosition().toPoint())
        if self.hover != before:
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._mouse = None
        if self.hover is not None:
            self._hover_to(None)
            self.update()
        super().leaveEvent(event)

    # ----- painting -----

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        self.render_into(painter, self.width(), self.height(), interactive=True)
        painter.end()

    def render_into(self, painter: QPainter, width: float, height: float, interactive: bool = False) -> None:
        """Paint the drawing into a `width` x `height` area (the widget, or an export)."""
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        muted = QColor(text_colour)
        muted.setAlphaF(0.65)
        painter.fillRect(QRectF(0, 0, width, height), palette.color(QPalette.ColorRole.Base))
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        x = self._explanation
        font = QFont(self.font())
        if x is None:
            painter.setPen(muted)
            painter.setFont(font)
            painter.drawText(QRectF(12, 12, width - 24, height - 24), int(Qt.AlignmentFlag.AlignTop), "No pair explained yet.")
            return
        layout = self.layout_for(width, height)
        heading_font = QFont(font)
        heading_font.setBold(True)
        heading_font.setPointSizeF(font.pointSizeF() * 1.15 if font.pointSizeF() > 0 else 11)
        painter.setFont(heading_font)
        painter.setPen(text_colour)
        # An exported picture leaves the tab that says what it is: its heading says it instead.
        _text(painter, layout.heading, self.heading_text() + ("" if interactive else EXPORT_LABEL))
        painter.setFont(font)
        line = QFontMetricsF(font).height()
        for image in IMAGES:
            item = getattr(x, image)
            box = layout.labels[image]
            painter.setPen(text_colour)
            _text(painter, Box(box.x, box.y, box.w, line), f"{IMAGE_NAMES[image]} #{item.id}")
            painter.setPen(muted)
            _text(painter, Box(box.x, box.y + line, box.w, line), f"{item.garment} · {item.brand} mark")
        self._paint_images(painter, layout)
        if self._outline:
            self._paint_marks(painter, layout)
        if interactive and self.hover is not None:
            cell = layout.pixel_box(self.hover.image, self.hover.row, self.hover.col)
            painter.setPen(QPen(QColor("#111111"), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(cell.x, cell.y, cell.w, cell.h))
        self._paint_colour_bar(painter, layout, muted)
        painter.setPen(muted)
        caption = layout.view_caption
        painter.drawText(QRectF(caption.x, caption.y, caption.w, caption.h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
                         VIEW_CAPTIONS[self._view])
        self._paint_decomposition(painter, layout, text_colour, muted)

    def _blended(self, layout: PairLayout) -> dict[str, QImage]:
        """The two overlays as images of whole upscaled pixels (so no renderer can smooth them)."""
        key = (id(self._explanation), self._view, self._opacity, layout.cell)
        if key != self._picture_key:
            maps = self._explanation.heatmaps(self._view)
            scale = self.scale()
            factor = int(layout.cell)
            self._pictures = {}
            for image in IMAGES:
                rgb = overlay(self._images[image], getattr(maps, image), scale, self._opacity)
                big = np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
                self._pictures[image] = _qimage(big)
            self._picture_key = key
        return self._pictures

    def _paint_images(self, painter: QPainter, layout: PairLayout) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for image, picture in self._blended(layout).items():
            box = layout.images[image]
            painter.drawImage(QRectF(box.x, box.y, box.w, box.h), picture)
            painter.setPen(QPen(QColor("#9aa3b2"), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(box.x, box.y, box.w, box.h))

    def _paint_marks(self, painter: QPainter, layout: PairLayout) -> None:
        """The planted mark's box in each image: white under black dashes, visible on any colour."""
        for image in IMAGES:
            row, col, h, w = getattr(self._explanation, image).mark_box
            first = layout.pixel_box(image, row, col)
            rect = QRectF(first.x, first.y, w * layout.cell, h * layout.cell)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("#ffffff"), 3))
            painter.drawRect(rect)
            dashes = QPen(QColor("#111111"), 1.5)
            dashes.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(dashes)
            painter.drawRect(rect)

    def _paint_colour_bar(self, painter: QPainter, layout: PairLayout, muted: QColor) -> None:
        box = layout.colour_bar
        steps = max(2, int(box.h))
        values = np.linspace(1.0, -1.0, steps)[:, None]  # top: +scale (red), bottom: -scale (blue)
        column = _qimage(diverging_colours(values, 1.0))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(box.x, box.y, box.w, box.h), column)
        painter.setPen(QPen(QColor("#9aa3b2"), 1))
        painter.drawRect(QRectF(box.x, box.y, box.w, box.h))
        scale = self.scale()
        painter.setPen(muted)
        line = QFontMetricsF(painter.font()).height()
        for text, y in ((signed(scale, 3), box.y), ("0", box.y + box.h / 2 - line / 2), (signed(-scale, 3), box.bottom - line)):
            painter.drawText(QRectF(box.right + 4, y, 80, line), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    def _paint_decomposition(self, painter: QPainter, layout: PairLayout, text_colour: QColor, muted: QColor) -> None:
        x = self._explanation
        terms = decomposition(x)
        bar = decomposition_bar(terms, layout.bar)
        box = layout.bar
        painter.setPen(Qt.PenStyle.NoPen)
        for segment in bar.segments:
            left, right = sorted((segment.x0, segment.x1))
            painter.setBrush(TERM_COLOURS[segment.label])
            painter.drawRect(QRectF(left, box.y + 2, max(0.0, right - left), box.h - 4))
        painter.setPen(QPen(muted, 1))
        painter.drawLine(QPointF(bar.zero_x, box.y - 2), QPointF(bar.zero_x, box.bottom + 2))
        painter.setPen(QPen(text_colour, 2.5))
        painter.drawLine(QPointF(bar.total_x, box.y - 4), QPointF(bar.total_x, box.bottom + 4))
        # The numbers, each after a swatch of its segment's colour.
        metrics = QFontMetricsF(painter.font())
        line = metrics.height()
        cursor, y = layout.bar_labels.x, layout.bar_labels.y
        painter.setPen(text_colour)
        lead, *pieces = self.term_texts()
        painter.drawText(QPointF(cursor, y + metrics.ascent()), lead)
        cursor += metrics.horizontalAdvance(lead) + 6
        for (label, _), piece in zip(terms, pieces):
            width = 12 + metrics.horizontalAdvance(piece) + 8
            if cursor + width > layout.bar_labels.right and cursor > layout.bar_labels.x + 40:
                cursor, y = layout.bar_labels.x + 12, y + line
            painter.fillRect(QRectF(cursor, y + line / 2 - 4, 8, 8), TERM_COLOURS[label])
            painter.setPen(text_colour)
            painter.drawText(QPointF(cursor + 12, y + metrics.ascent()), piece)
            cursor += width
        painter.setPen(muted)
        painter.drawText(QRectF(layout.bar_labels.x, y + line + 2, layout.bar_labels.w, 2 * line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
                         "The tick marks the logit; P(related) = sigmoid(logit).")


def _text(painter: QPainter, box: Box, text: str) -> None:
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine
    elided = QFontMetricsF(painter.font()).elidedText(text, Qt.TextElideMode.ElideRight, max(10.0, box.w))
    painter.drawText(QRectF(box.x, box.y, box.w, box.h), int(flags), elided)


def _qimage(rgb: np.ndarray) -> QImage:
    """An RGB uint8 array as a QImage that owns its pixels."""
    packed = rgb32(rgb)
    rows, cols = packed.shape
    return QImage(packed.data, cols, rows, 4 * cols, QImage.Format.Format_RGB32).copy()
