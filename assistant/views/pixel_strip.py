"""The shopper's related items for the query, as a strip of thumbnails (best first), each with its
probability of being related; clicking one explains that pair. From the keyboard: Tab to the strip,
Left/Right (Home/End) to move, Enter or Space to explain the pair."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetricsF, QImage, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from assistant.views.pixel_overlay import rgb32
from engine.api import PixelItem

THUMB_SCALE = 2  # screen pixels per image pixel: 56 x 56 thumbnails
GAP = 8.0
PAD = 4.0


class PixelStrip(QWidget):
    """Signals: `itemClicked(int)` with the catalogue id of the thumbnail clicked."""

    itemClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: tuple[tuple[PixelItem, float], ...] = ()
        self._thumbs: list[QImage] = []
        self._current: int | None = None
        self._hover: int | None = None
        self._cursor = 0  # the keyboard's thumbnail
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Related items")

    @property
    def items(self) -> tuple[tuple[PixelItem, float], ...]:
        return self._items

    def set_items(self, items, images: dict[int, np.ndarray], current: int | None = None) -> None:
        """`items`: (PixelItem, probability) best first; `images` by id (uint8 rows x cols)."""
        self._items = tuple(items)
        self._thumbs = [_thumbnail(images[item.id]) for item, _ in self._items]
        self._current = current
        self._hover = None
        ids = [item.id for item, _ in self._items]
        self._cursor = ids.index(current) if current in ids else 0
        self.setAccessibleDescription("; ".join(f"#{i.id} {i.garment}, P {p:.3f}" for i, p in self._items))
        self.updateGeometry()
        self.update()

    def set_current(self, item_id: int | None) -> None:
        self._current = item_id
        self.update()

    def _side(self) -> float:
        return 28.0 * THUMB_SCALE

    def _line(self) -> float:
        return QFontMetricsF(self.font()).height()

    def item_rect(self, index: int) -> QRectF:
        """The thumbnail's cell (image and its caption)."""
        side = self._side()
        return QRectF(PAD + index * (side + GAP), PAD, side, side + self._line() * 2)

    def index_at(self, x: float, y: float) -> int | None:
        for index in range(len(self._items)):
            if self.item_rect(index).contains(x, y):
                return index
        return None

    def sizeHint(self) -> QSize:
        count = max(1, len(self._items))
        return QSize(int(PAD * 2 + count * (self._side() + GAP)), int(PAD * 2 + self._side() + self._line() * 2))

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self.sizeHint().height())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position().x(), event.position().y())
        if index != self._hover:
            self._hover = index
            if index is not None:
                item, p = self._items[index]
                self.setToolTip(f"#{item.id} {item.garment}, {item.brand} mark: P(related) = {p:.3f}. "
                                "Click to explain this pair.")
            else:
                self.setToolTip("")
            self.update()

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.index_at(event.position().x(), event.position().y())
            if index is not None:
                self.itemClicked.emit(self._items[index][0].id)
        super().mouseReleaseEvent(event)

    @property
    def cursor_index(self) -> int:
        return self._cursor

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._items:
            super().keyPressEvent(event)
            return
        key, last = event.key(), len(self._items) - 1
        moves = {Qt.Key.Key_Left: self._cursor - 1, Qt.Key.Key_Right: self._cursor + 1,
                 Qt.Key.Key_Home: 0, Qt.Key.Key_End: last}
        if key in moves:
            self._cursor = min(max(moves[key], 0), last)
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.itemClicked.emit(self._items[self._cursor][0].id)
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        line = self._line()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if not self._items:
            painter.setPen(text)
            painter.drawText(QRectF(PAD, PAD, self.width() - 2 * PAD, line), "No related items yet.")
        for index, ((item, p), thumb) in enumerate(zip(self._items, self._thumbs)):
            cell = self.item_rect(index)
            side = self._side()
            painter.drawImage(QRectF(cell.x(), cell.y(), side, side), thumb)
            chosen = item.id == self._current
            if chosen or index == self._hover:
                painter.setPen(QPen(highlight, 3 if chosen else 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRectF(cell.x() - 1.5, cell.y() - 1.5, side + 3, side + 3))
            if index == self._cursor and self.hasFocus():
                painter.setPen(QPen(text, 1, Qt.PenStyle.DotLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(cell.adjusted(-GAP / 2 + 1, -3.5, GAP / 2 - 1, 1))  # image and captions
            painter.setPen(text)
            # three decimals: the close matches all sit near the model's ceiling sigmoid(q) (about 0.89)
            flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter)
            painter.drawText(QRectF(cell.x() - GAP / 2, cell.y() + side, side + GAP, line), flags, f"P {p:.3f}")
            painter.drawText(QRectF(cell.x() - GAP / 2, cell.y() + side + line, side + GAP, line), flags, f"#{item.id}")
        painter.end()


def _thumbnail(image: np.ndarray) -> QImage:
    grey = np.repeat(np.asarray(image, dtype=np.uint8)[..., None], 3, axis=-1)
    big = np.repeat(np.repeat(grey, THUMB_SCALE, axis=0), THUMB_SCALE, axis=1)
    packed = rgb32(big)
    rows, cols = packed.shape
    return QImage(packed.data, cols, rows, 4 * cols, QImage.Format.Format_RGB32).copy()
