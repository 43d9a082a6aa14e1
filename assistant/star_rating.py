"""Compact five-star ratings: the drawing shared by the profile's movie list and the add-a-movie
picker, a list delegate that draws (and takes clicks on) each movie's stars, and the picker itself.

A filled star is a rating, an outlined one is not; a movie without a rating shows five outlines.
Stars are drawn as paths rather than the ★/☆ glyphs, so that they look the same whatever fonts the
machine has (an offscreen or minimal system may have no glyph for them).
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QModelIndex, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QWidget,
)

from engine.api import DEFAULT_STARS, POSITIVE_STARS, STARS

MAX_STARS = len(STARS)
STAR_SIZE = 14  # px: one star's box
STAR_GAP = 2
STRIP_WIDTH = MAX_STARS * STAR_SIZE + (MAX_STARS - 1) * STAR_GAP

FILLED = QColor("#e0a526")  # amber, the colour people read as "stars"
PREVIEW = QColor("#f3d48a")  # what a click would set, under the mouse
OUTLINE = QColor("#aeb5c2")
SELECTED_OUTLINE = QColor(255, 255, 255, 190)


def stars_text(stars: int | None) -> str:
    """The rating as text (★★★★☆), for tool tips, status messages and accessibility."""
    return "not rated" if stars is None else "★" * stars + "☆" * (MAX_STARS - stars)


_STAR_SHAPES: dict[float, QPainterPath] = {}  # outer radius -> the star around (0, 1)


def _star_path(box: QRectF) -> QPainterPath:
    """A five-pointed star inscribed in `box`, point up. The shape is built once per size and moved
    into place: a profile list repaints dozens of stars at every edit."""
    centre = box.center()
    outer = min(box.width(), box.height()) / 2
    shape = _STAR_SHAPES.get(outer)
    if shape is None:
        inner = outer * 0.45
        shape = QPainterPath()
        for i in range(10):
            radius = outer if i % 2 == 0 else inner
            angle = -math.pi / 2 + i * math.pi / 5
            point = QPointF(radius * math.cos(angle), 1 + radius * math.sin(angle))
            if i == 0:
                shape.moveTo(point)
            else:
                shape.lineTo(point)
        shape.closeSubpath()
        _STAR_SHAPES[outer] = shape
    return shape.translated(centre.x(), centre.y())


def star_boxes(strip: QRectF) -> list[QRectF]:
    """The five stars' boxes in a strip of STRIP_WIDTH, centred vertically."""
    top = strip.top() + (strip.height() - STAR_SIZE) / 2
    return [QRectF(strip.left() + i * (STAR_SIZE + STAR_GAP), top, STAR_SIZE, STAR_SIZE) for i in range(MAX_STARS)]


def star_at(strip: QRectF, point: QPointF) -> int | None:
    """The number of stars a click at `point` means (1-5), or None when it is not on the strip.
    The gap after a star counts as that star, so the strip has no dead spots."""
    if not strip.adjusted(0, -2, 0, 2).contains(point):
        return None
    offset = point.x() - strip.left()
    return max(1, min(MAX_STARS, int(offset // (STAR_SIZE + STAR_GAP)) + 1))


# Rendered strips: (stars, preview, outline, height, vertical offset's fraction, pixel ratio) -> image.
# A profile list repaints its visible rows' stars at each edit; one image copy per row costs a tenth of
# drawing five antialiased paths.
_STRIP_IMAGES: dict[tuple, QImage] = {}
_STRIP_IMAGES_KEPT = 256


def paint_stars(painter: QPainter, strip: QRectF, stars: int | None, preview: int | None = None,
                outline: QColor = OUTLINE) -> None:
    """Draw a rating in `strip`; `preview` (the stars under the mouse) is drawn lighter over it;
    `outline` is the colour of an empty star (lighter on a selected row's dark highlight).

    Drawn from a cached image of the strip when `strip` sits on whole pixels under a plain translation
    (list rows do), else drawn directly."""
    transform = painter.worldTransform()
    left, top = strip.left() + transform.dx(), strip.top() + transform.dy()
    if not transform.isIdentity() and transform.type() != transform.TransformationType.TxTranslate \
            or left != int(left) or top != int(top) or strip.height() != int(strip.height()):
        _draw_stars(painter, strip, stars, preview, outline)
        return
    ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    height = int(strip.height())
    key = (stars, preview, outline.rgba(), height, ratio)
    image = _STRIP_IMAGES.get(key)
    if image is None:
        image = QImage(int(math.ceil(STRIP_WIDTH * ratio)), int(math.ceil(height * ratio)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        image_painter = QPainter(image)
        _draw_stars(image_painter, QRectF(0, 0, STRIP_WIDTH, height), stars, preview, outline)
        image_painter.end()
        if len(_STRIP_IMAGES) >= _STRIP_IMAGES_KEPT:
            _STRIP_IMAGES.clear()
        _STRIP_IMAGES[key] = image
    painter.drawImage(QPointF(strip.left(), strip.top()), image)


def _draw_stars(painter: QPainter, strip: QRectF, stars: int | None, preview: int | None, outline: QColor) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for number, box in enumerate(star_boxes(strip), start=1):
        path = _star_path(box.adjusted(0.5, 0.5, -0.5, -0.5))
        if preview is not None and number <= preview:
            fill = FILLED if stars is not None and number <= stars else PREVIEW
        else:
            fill = FILLED if stars is not None and number <= stars else None
        if fill is not None:
            painter.setPen(QPen(fill.darker(115), 1))
            painter.setBrush(fill)
        else:
            painter.setPen(QPen(outline, 1.1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    painter.restore()


class StarRatingDelegate(QStyledItemDelegate):
    """Draws a list item's text with its stars at the right (from `stars_role`) and reports a click
    on a star as `starClicked(index, stars)`. A movie rated below POSITIVE_STARS has its title drawn
    muted: the relevance lens does not count it as liked."""

    starClicked = Signal(QModelIndex, int)

    MARGIN = 6
    MIN_TITLE_CHARS = 6  # the narrowest title a row asks room for, in widths of 'M'

    def __init__(self, stars_role: int, parent=None):
        super().__init__(parent)
        self._stars_role = stars_role
        self._hover: tuple[int, int] | None = None  # (row, stars) under the mouse
        # (font, style) -> size: measuring a row under the style sheet is costly, and a list measures
        # its rows again after every change of its items.
        self._sizes: dict[tuple, QSize] = {}

    def strip_rect(self, item_rect: QRect) -> QRectF:
        return QRectF(item_rect.right() - self.MARGIN - STRIP_WIDTH, item_rect.top(), STRIP_WIDTH, item_rect.height())

    def clear_hover(self) -> bool:
        changed, self._hover = self._hover is not None, None
        return changed

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        """Every row has the same size, whatever its title: a list stretches its rows to the widest
        hint, so a long title's width would push the stars out of the viewport. The title is elided
        to fit instead (see `paint`), and the width asked for is only a minimum."""
        widget = option.widget
        key = (option.font.key(), id(widget.style()) if widget is not None else None,
               widget.styleSheet() if widget is not None else None)
        size = self._sizes.get(key)
        if size is None:
            sample = QStyleOptionViewItem(option)
            self.initStyleOption(sample, index)
            sample.text = "Xg"  # one line of text with an ascender and a descender: the row's height
            measured = sample.widget.style().sizeFromContents(
                QStyle.ContentsType.CT_ItemViewItem, sample, QSize(), sample.widget
            ) if sample.widget is not None else super().sizeHint(option, index)
            minimum_text = QFontMetrics(option.font).horizontalAdvance("M") * self.MIN_TITLE_CHARS
            size = QSize(minimum_text + STRIP_WIDTH + 3 * self.MARGIN, max(measured.height(), STAR_SIZE + 6))
            if len(self._sizes) >= 64:
                self._sizes.clear()
            self._sizes[key] = size
        return QSize(size)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is None:
            return super().paint(painter, option, index)
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)  # background, selection, focus

        stars = index.data(self._stars_role)
        strip = self.strip_rect(opt.rect)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        text_rect.setRight(int(strip.left()) - self.MARGIN)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal if opt.state & QStyle.StateFlag.State_Active else QPalette.ColorGroup.Inactive
        colour = opt.palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        if stars is not None and stars < POSITIVE_STARS and not selected:
            colour.setAlphaF(0.55)
        painter.save()
        painter.setPen(colour)
        painter.setFont(opt.font)
        elided = QFontMetrics(opt.font).elidedText(text, opt.textElideMode, max(0, text_rect.width()))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()
        hover = self._hover[1] if self._hover is not None and self._hover[0] == index.row() else None
        paint_stars(painter, strip, stars, hover, SELECTED_OUTLINE if selected else OUTLINE)

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index: QModelIndex) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            stars = star_at(self.strip_rect(option.rect), event.position())
            hover = (index.row(), stars) if stars is not None else None
            if hover != self._hover:
                self._hover = hover
                if option.widget is not None:
                    option.widget.update()  # the viewport: the old and the new row both repaint
            if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton and stars is not None:
                self.starClicked.emit(index, stars)
                return True
        return super().editorEvent(event, model, option, index)


class StarPicker(QWidget):
    """The stars a movie will be added with: click a star, or press 1-5 (Left/Right step) while it
    has the focus; Enter emits `activated` (add now). Always holds 1-5: an added movie is rated."""

    valueChanged = Signal(int)
    activated = Signal()

    PADDING = 4

    def __init__(self, value: int = DEFAULT_STARS, parent: QWidget | None = None):
        super().__init__(parent)
        self._value = DEFAULT_STARS
        self._hover: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Stars for the movie to add")
        self.set_value(value)

    def value(self) -> int:
        return self._value

    def set_value(self, value: int) -> None:
        if value not in STARS:
            raise ValueError(f"a rating is 1 to 5 stars, got {value!r}")
        changed = value != self._value
        self._value = value
        self.setAccessibleDescription(f"{value} of {MAX_STARS} stars")
        self.setToolTip(f"Add the movie with {value} of {MAX_STARS} stars: click a star, or press 1-5 here "
                        "(Ctrl+1…5 in the search box)")
        self.update()
        if changed:
            self.valueChanged.emit(value)

    def sizeHint(self) -> QSize:
        return QSize(STRIP_WIDTH + 2 * self.PADDING, STAR_SIZE + 2 * self.PADDING + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _strip(self) -> QRectF:
        return QRectF((self.width() - STRIP_WIDTH) / 2, 0, STRIP_WIDTH, self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        paint_stars(painter, self._strip(), self._value, self._hover)
        if self.hasFocus():
            option = QStyleOptionFocusRect()
            option.initFrom(self)
            option.rect = self.rect().adjusted(1, 1, -1, -1)
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, option, painter, self)
        painter.end()

    def mouseMoveEvent(self, event) -> None:
        hover = star_at(self._strip(), event.position())
        if hover != self._hover:
            self._hover = hover
            self.update()

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        stars = star_at(self._strip(), event.position())
        if event.button() == Qt.MouseButton.LeftButton and stars is not None:
            self.set_value(stars)
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_5:
            self.set_value(key - Qt.Key.Key_0)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Plus):
            self.set_value(min(MAX_STARS, self._value + 1))
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Down, Qt.Key.Key_Minus):
            self.set_value(max(1, self._value - 1))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)
