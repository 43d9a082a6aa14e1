"""The Sankey view of a feature-relevance explanation: profile features flow into the recommended
movie, each band as thick as the feature's share of the score (the paper's figure 5).

The geometry comes from `sankey_layout.compute_layout` (pure, tested on its own); this widget paints
it with QPainter, caches it between paints, and handles hover, tooltips, clicks, keys and export.
"""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintDevice,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from assistant.views.sankey_layout import (
    DEFAULT_TOP_N,
    MAX_TOP_N,
    Band,
    SankeyLayout,
    TextBox,
    compute_layout,
    format_relevance,
)

try:  # PySide6-Essentials ships QtSvg; a trimmed build might not.
    from PySide6.QtSvg import QSvgGenerator
except ImportError:  # pragma: no cover - depends on the Qt installation
    QSvgGenerator = None

MIN_TOP_N = 6

# A calm palette: blue for movies, teal for the user's attributes, amber for genres, grey for the
# grouped rest, red for evidence against.
ROLE_COLOURS = {
    "movie": QColor("#4f7fc9"),
    "user": QColor("#2f9e95"),
    "genre": QColor("#d99a2b"),
    "other": QColor("#9aa3b2"),
    "negative": QColor("#cf5c5c"),
}
TARGET_COLOUR = QColor("#3e4a5c")
BAND_ALPHA = 0.50
HIGHLIGHT_ALPHA = 0.85
FADED_ALPHA = 0.14

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "right": Qt.AlignmentFlag.AlignRight,
    "center": Qt.AlignmentFlag.AlignHCenter,
}


def svg_supported() -> bool:
    return QSvgGenerator is not None


def _with_alpha(colour: QColor, alpha: float) -> QColor:
    c = QColor(colour)
    c.setAlphaF(max(0.0, min(1.0, alpha)))
    return c


def _band_path(band: Band) -> QPainterPath:
    p = [QPointF(x, y) for x, y in band.curve_points()]
    path = QPainterPath(p[0])
    path.cubicTo(p[1], p[2], p[3])
    path.lineTo(p[4])
    path.cubicTo(p[5], p[6], p[7])
    path.closeSubpath()
    return path


class SankeyView(QWidget):
    """Draws one `RelevanceExplanation` as a Sankey diagram.

    Signals: `movieClicked(int)` when a band of a profile movie is clicked (or activated with
    Enter/Space), `highlightChanged(object)` with the highlighted `Band` or None, and `painted()` at the
    end of every paint (for latency measurements).
    """

    movieClicked = Signal(int)
    highlightChanged = Signal(object)
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanation = None
        self._top_n = DEFAULT_TOP_N
        self._show_negative = False
        self._compress_groups = True
        self._layout: SankeyLayout | None = None
        self._paths: list[QPainterPath] = []
        self._highlight: tuple[str, str, str] | None = None  # (kind, key, name) survives relayouts
        self._pressed: tuple[str, str, str] | None = None
        self._focus_visible = False  # focus frame only after keyboard navigation, as :focus-visible
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Explanation flows")
        self._update_accessible_description()

    # ----------------------------------------------------------------------------- public API

    def sizeHint(self) -> QSize:
        return QSize(900, 500)

    def minimumSizeHint(self) -> QSize:
        return QSize(360, 220)

    @property
    def explanation(self):
        return self._explanation

    def set_explanation(self, explanation) -> None:
        """Show `explanation` (a RelevanceExplanation), or the empty state for None."""
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
        value = max(MIN_TOP_N, min(MAX_TOP_N, int(value)))
        if value != self._top_n:
            self._top_n = value
            self._invalidate()
            self._update_accessible_description()

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

    def sankey_layout(self) -> SankeyLayout:
        """The geometry for the current size, computed once and kept until something changes."""
        if self._layout is None or (self._layout.width, self._layout.height) != (self.width(), self.height()):
            self._layout = self._compute_layout(self.width(), self.height(), self)
            self._paths = [_band_path(band) for band in self._layout.bands]
        return self._layout

    @property
    def highlighted_band(self) -> Band | None:
        index = self._highlight_index(self.sankey_layout())
        return None if index is None else self.sankey_layout().bands[index]

    def band_at(self, point: QPointF) -> Band | None:
        return self.sankey_layout().band_at(point.x(), point.y())

    def tooltip_at(self, point: QPointF) -> str:
        layout = self.sankey_layout()
        band = layout.band_at(point.x(), point.y())
        if band is not None:
            return band.tooltip
        if layout.target_at(point.x(), point.y()):
            return layout.target_tooltip
        return ""

    def export(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write the current view to `path`: PNG (at `scale` times the pixels) or SVG, by extension."""
        path = Path(path)
        suffix = path.suffix.lower()
        width, height = self.width(), self.height()
        if width < 50 or height < 50:  # never shown: use the preferred size
            width, height = self.sizeHint().width(), self.sizeHint().height()
        if suffix == ".png":
            image = QImage(QSize(math.ceil(width * scale), math.ceil(height * scale)),
                           QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(scale)
            image.fill(self.palette().color(QPalette.ColorRole.Base))
            painter = QPainter(image)
            self._render(painter, self._compute_layout(width, height, image), interactive=False)
            painter.end()
            if not image.save(str(path), "PNG"):
                raise OSError(f"Could not write the PNG file {path}.")
        elif suffix == ".svg":
            if QSvgGenerator is None:
                raise RuntimeError(
                    "SVG export needs the QtSvg module, which this PySide6 installation lacks; "
                    "export as PNG instead (or install PySide6-Essentials, which includes QtSvg)."
                )
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(width, height))
            generator.setViewBox(QRectF(0, 0, width, height))
            generator.setResolution(max(1, round(self.logicalDpiX())))
            generator.setTitle("CineWhy explanation")
            generator.setDescription(self.accessibleDescription())
            painter = QPainter()
            if not painter.begin(generator):
                raise OSError(f"Could not write the SVG file {path}.")
            self._render(painter, self._compute_layout(width, height, generator), interactive=False)
            painter.end()
            if not path.is_file() or path.stat().st_size == 0:
                raise OSError(f"Could not write the SVG file {path}.")
        else:
            raise ValueError(f"Cannot export to {path.name!r}: use a file name ending in .png or .svg.")
        return path

    # ----------------------------------------------------------------------------- layout

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15 if font.pointSizeF() > 0 else 11)
        return font

    def _compute_layout(self, width: int, height: int, device: QPaintDevice) -> SankeyLayout:
        metrics = QFontMetricsF(self.font(), device)
        title_metrics = QFontMetricsF(self._title_font(), device)
        return compute_layout(
            self._explanation, float(width), float(height),
            text_width=metrics.horizontalAdvance, line_height=math.ceil(metrics.height()),
            title_text_width=title_metrics.horizontalAdvance, title_line_height=math.ceil(title_metrics.height()),
            top_n=self._top_n, show_negative=self._show_negative, compress_groups=self._compress_groups,
        )

    def _invalidate(self) -> None:
        self._layout = None
        self._paths = []
        self.update()

    def _highlight_index(self, layout: SankeyLayout) -> int | None:
        if self._highlight is None:
            return None
        for i, band in enumerate(layout.bands):
            if (band.kind, band.key, band.name) == self._highlight:
                return i
        return None

    def _set_highlight(self, band: Band | None) -> None:
        key = None if band is None else (band.kind, band.key, band.name)
        if key != self._highlight:
            self._highlight = key
            self.setCursor(Qt.CursorShape.PointingHandCursor if band is not None and band.movie_id is not None
                           else Qt.CursorShape.ArrowCursor)
            self.update()
            self.highlightChanged.emit(band)

    def _update_accessible_description(self) -> None:
        x = self._explanation
        if x is None:
            text = "No recommendation selected."
        elif not x.features:
            text = f"{x.title}. {x.note}".strip()
        else:
            parts = [f"{x.title}, probability {x.probability:.1%}."]
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
            text = " ".join(parts)
        self.setAccessibleDescription(text)

    # ----------------------------------------------------------------------------- painting

    def paintEvent(self, event) -> None:
        layout = self.sankey_layout()
        painter = QPainter(self)
        self._render(painter, layout, interactive=True, paths=self._paths)
        painter.end()
        self.painted.emit()

    def _render(self, painter: QPainter, layout: SankeyLayout, interactive: bool,
                paths: list[QPainterPath] | None = None) -> None:
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        muted = _with_alpha(text_colour, 0.62)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.fillRect(QRectF(0, 0, layout.width, layout.height), palette.color(QPalette.ColorRole.Base))
        font = QFont(self.font())
        title_font = self._title_font()

        if layout.message_lines or not layout.bands:
            painter.setFont(title_font)
            painter.setPen(text_colour)
            for box in layout.title_lines:
                self._draw_text(painter, box)
            painter.setFont(font)
            painter.setPen(muted)
            for box in layout.message_lines:
                self._draw_text(painter, box)
            if interactive and self._show_focus():
                self._draw_focus_frame(painter, layout)
            return

        highlighted = self._highlight_index(layout) if interactive else None
        paths = paths if paths is not None and len(paths) == len(layout.bands) else [_band_path(b) for b in layout.bands]
        seam = QPen(palette.color(QPalette.ColorRole.Base), 1.0)  # keeps touching bands apart
        for i, (band, path) in enumerate(zip(layout.bands, paths)):
            colour = ROLE_COLOURS.get(band.role, ROLE_COLOURS["other"])
            alpha = BAND_ALPHA if highlighted is None else (HIGHLIGHT_ALPHA if i == highlighted else FADED_ALPHA)
            painter.setPen(seam if band.thickness >= 6 else Qt.PenStyle.NoPen)
            painter.setBrush(_with_alpha(colour, alpha))
            painter.drawPath(path)
            if band.compressed:
                self._draw_break(painter, band)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_with_alpha(colour, 1.0 if highlighted in (None, i) else 0.35))
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
            painter.setPen(_with_alpha(text_colour, 0.4) if faded else text_colour)
            self._draw_text(painter, band.label)
            painter.setPen(_with_alpha(muted, 0.3) if faded else muted)
            self._draw_text(painter, band.value)
            if interactive and i == highlighted and self._show_focus():
                pen = QPen(palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                r = band.label.rect if band.label.text else band.source
                right = band.value.rect.right if band.value.text else r.right
                painter.drawRect(QRectF(r.x - 2, r.y, right - r.x + 4, r.h))

        painter.setFont(title_font)
        painter.setPen(text_colour)
        for box in layout.title_lines:
            self._draw_text(painter, box)
        painter.setFont(font)
        painter.setPen(muted)
        if layout.probability is not None:
            self._draw_text(painter, layout.probability)

        for item in layout.legend:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ROLE_COLOURS.get(item.role, ROLE_COLOURS["other"]))
            s = item.swatch
            painter.drawRoundedRect(QRectF(s.x, s.y, s.w, s.h), 2, 2)
            if item.role == "compressed":  # the break mark, as drawn on the bands
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 2.0))
                painter.drawLine(QPointF(s.x + s.w * 0.3, s.bottom), QPointF(s.x + s.w * 0.7, s.y))
            painter.setPen(muted)
            self._draw_text(painter, item.label)
        if layout.caption is not None:
            painter.setPen(muted)
            self._draw_text(painter, layout.caption)
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

    def _draw_text(self, painter: QPainter, box: TextBox) -> None:
        if not box.text:
            return
        r = box.rect
        flags = _ALIGN[box.align] | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine | Qt.TextFlag.TextDontClip
        painter.drawText(QRectF(r.x, r.y, r.w, r.h), int(flags), box.text)

    def _show_focus(self) -> bool:
        return self._focus_visible and self.hasFocus()

    def focusInEvent(self, event) -> None:
        self._focus_visible = event.reason() in (
            Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason
        )
        super().focusInEvent(event)

    def _draw_focus_frame(self, painter: QPainter, layout: SankeyLayout) -> None:
        painter.setPen(QPen(_with_alpha(self.palette().color(QPalette.ColorRole.Highlight), 0.6), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(0.5, 0.5, layout.width - 1, layout.height - 1))

    # ----------------------------------------------------------------------------- interaction

    def resizeEvent(self, event) -> None:
        self._layout = None  # recomputed lazily at the next paint
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._invalidate()
        super().changeEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._set_highlight(self.band_at(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._set_highlight(None)
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            band = self.band_at(event.position())
            self._pressed = None if band is None else (band.kind, band.key, band.name)
            if band is not None:
                self._set_highlight(band)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            band = self.band_at(event.position())
            if band is not None and self._pressed == (band.kind, band.key, band.name):
                self._activate(band)
            self._pressed = None
        super().mouseReleaseEvent(event)

    def _activate(self, band: Band) -> None:
        if band.movie_id is not None:
            self.movieClicked.emit(band.movie_id)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        bands = self.sankey_layout().bands
        key = event.key()
        if not self._focus_visible:
            self._focus_visible = True
            self.update()
        if bands and key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Home, Qt.Key.Key_End):
            index = self._highlight_index(self.sankey_layout())
            if key == Qt.Key.Key_Home:
                index = 0
            elif key == Qt.Key.Key_End:
                index = len(bands) - 1
            elif index is None:
                index = 0 if key == Qt.Key.Key_Down else len(bands) - 1
            else:
                index = (index + (1 if key == Qt.Key.Key_Down else -1)) % len(bands)
            band = bands[index]
            self._set_highlight(band)
            self.setAccessibleDescription(band.tooltip.replace("\n", "; "))
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            band = self.highlighted_band
            if band is not None:
                self._activate(band)
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
