"""Writing a drawing to a PNG or SVG file: the checks on the file name and the two paint devices,
shared by the lens panels (which render a widget) and the diagrams (which repaint their geometry)."""
from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QPaintDevice

try:  # PySide6-Essentials ships QtSvg; a trimmed build might not.
    from PySide6.QtSvg import QSvgGenerator
except ImportError:  # pragma: no cover - depends on the Qt installation
    QSvgGenerator = None

SVG_TITLE = "CineWhy explanation"


def svg_supported() -> bool:
    return QSvgGenerator is not None


def check_export_path(path: Path, svg_available: bool) -> None:
    """Raise ValueError for a file name that is neither .png nor .svg, and RuntimeError for .svg
    without QtSvg, each with one sentence for the user."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"Cannot export to {path.name!r}: use a file name ending in .png or .svg.")
    if suffix == ".svg" and not svg_available:
        raise RuntimeError(
            "SVG export needs the QtSvg module, which this PySide6 installation lacks; "
            "export as PNG instead (or install PySide6-Essentials, which includes QtSvg)."
        )


def write_picture(path: Path, size: QSize, paint: Callable[[QPainter, QPaintDevice], None], *,
                  background: QColor, description: str, scale: float, resolution: int | None = None) -> None:
    """Paint a `size` drawing into `path` (checked by `check_export_path`): a PNG at `scale` times
    the pixels on `background`, or an SVG described by `description`. `paint(painter, device)`
    draws; `resolution` (dots per inch) is given to the SVG when set."""
    width, height = size.width(), size.height()
    if path.suffix.lower() == ".png":
        image = QImage(QSize(math.ceil(width * scale), math.ceil(height * scale)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(scale)
        image.fill(background)
        painter = QPainter(image)
        paint(painter, image)
        painter.end()
        if not image.save(str(path), "PNG"):
            raise OSError(f"Could not write the PNG file {path}.")
        return
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, width, height))
    if resolution is not None:
        generator.setResolution(resolution)
    generator.setTitle(SVG_TITLE)
    generator.setDescription(description)
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"Could not write the SVG file {path}.")
    paint(painter, generator)
    painter.end()
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"Could not write the SVG file {path}.")
