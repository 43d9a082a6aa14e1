"""The base every lens view shares: the drawing in one page, and a message page for the states a
lens can be in without a drawing (empty, not available, training its model), a note above both,
movie clicks, and PNG/SVG export.

A lens view subclasses `LensPanel`, sets its class attribute `lens`, builds its drawing widget and
hands it to `set_content` (plus any controls to `add_control`), and implements `draw`. Everything
else (which page shows, export, the busy state with its cancel button) lives here, so that the tab
container and the window treat every lens alike.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from html import escape

from PySide6.QtCore import QPoint, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.views.picture_export import check_export_path, svg_supported, write_picture
from engine.api import Lens

PNG_FILTER = "PNG image (*.png)"
SVG_FILTER = "SVG image (*.svg)"
EXPORT_SCALE = 2.0  # PNGs at twice the screen's pixels: sharp in documents and slides
DEFAULT_EMPTY_TEXT = "Select a recommendation to see why it is recommended."


def file_stem(title: str | None) -> str:
    """A file name for an exported explanation of the movie `title`."""
    stem = re.sub(r"[^\w]+", "-", (title or "").lower()).strip("-")
    return f"why-{stem}" if stem else "explanation"


def unavailable_text(reason: str) -> str:
    """The sentence shown on a lens page that cannot explain: the engine's reason, as one sentence
    that starts by saying the lens is not available."""
    reason = reason.strip() or "it is not built yet."
    if "not available" in reason.lower():
        return reason
    return "This lens is not available because " + reason[0].lower() + reason[1:]


class LensPanel(QWidget):
    """One lens's view. States: drawing (`set_explanation`), empty (`show_empty`), not available
    (`show_unavailable`), busy (`show_busy`, with progress and a cancel button).

    Signals: `movieClicked(int)` when the user clicks a movie in the drawing (subclasses emit it),
    `cancelRequested()` from the busy state's cancel button, `exported(str)` with the path written,
    and `statusMessage(str)` with feedback for the status bar ("Saved to …").
    """

    lens: ClassVar[Lens | None] = None  # set by each subclass; None for a page that draws nothing

    movieClicked = Signal(int)
    cancelRequested = Signal()
    exported = Signal(str)
    statusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanation = None
        self._content: QWidget | None = None
        self._last_dir = Path.home()
        self.empty_text = DEFAULT_EMPTY_TEXT

        self.notice = QLabel(self, objectName="notice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()

        self.export_button = QPushButton("&Export…", self)
        self.export_button.setToolTip("Save this view as a PNG or SVG image")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_dialog)
        # Where the last export went, beside the button that made it: a status-bar message alone
        # is gone in a few seconds, and easily missed at the other end of the window.
        self.saved_label = QLabel(self, objectName="savedTo")
        self.saved_label.setTextFormat(Qt.TextFormat.RichText)
        self.saved_label.setOpenExternalLinks(False)
        self.saved_label.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.saved_label.hide()
        self._controls = QHBoxLayout()
        self._controls.setContentsMargins(8, 6, 8, 0)
        self._controls.addStretch(1)
        self._controls.addWidget(self.saved_label)
        self._controls.addWidget(self.export_button)

        self.message = QLabel(self, objectName="lensMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel(self, objectName="lensDetail")  # what the lens shows, under a reason
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.hide()
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("&Cancel", self)
        self.cancel_button.setToolTip("Stop preparing this lens's model")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.hide()
        message_page = QWidget(self)
        message_layout = QVBoxLayout(message_page)
        message_layout.setContentsMargins(18, 18, 18, 18)
        message_layout.addWidget(self.message)
        message_layout.addWidget(self.detail)
        message_layout.addWidget(self.progress)
        message_layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignLeft)
        message_layout.addStretch(1)

        self._pages = QStackedWidget(self)
        self._placeholder = QWidget(self._pages)  # until a subclass sets its content
        self._pages.addWidget(self._placeholder)
        self._pages.addWidget(message_page)
        self._message_page = message_page

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(self._controls)
        notice_row = QHBoxLayout()
        notice_row.setContentsMargins(8, 0, 8, 0)
        notice_row.addWidget(self.notice)
        layout.addLayout(notice_row)
        layout.addWidget(self._pages, 1)
        self.show_empty(self.empty_text)

    # ----- for subclasses -----

    def set_content(self, widget: QWidget) -> None:
        """The widget that draws explanations (shown while there is one); also what is exported."""
        self._pages.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        self._placeholder = widget
        self._pages.insertWidget(0, widget)
        self._content = widget

    def add_control(self, widget: QWidget) -> None:
        """A control in the row above the drawing, left of the Export button."""
        self._controls.insertWidget(self._controls.indexOf(self.saved_label) - 1, widget)

    def draw(self, explanation) -> None:
        """Draw `explanation` (an Explanation of this panel's lens) in the content widget."""
        raise NotImplementedError(f"{type(self).__name__} must implement draw(explanation)")

    def export_widget(self) -> QWidget | None:
        """The widget `export` renders; the content widget unless a subclass knows better."""
        return self._content

    def write_image(self, path: Path) -> None:
        """Write the drawing to `path` (.png or .svg). The default renders `export_widget()`; a view
        that paints itself (e.g. at a higher resolution) overrides this."""
        widget = self.export_widget()
        if widget is None:
            raise ValueError("This view has nothing to export.")
        size = widget.size()
        if size.width() < 50 or size.height() < 50:  # never shown: use its preferred size
            size = widget.sizeHint().expandedTo(QSize(400, 300))
            widget.resize(size)
        write_picture(path, size, lambda painter, device: widget.render(painter, QPoint()),
                      background=widget.palette().color(QPalette.ColorRole.Base),
                      description=widget.accessibleDescription(), scale=EXPORT_SCALE)

    def export_stem(self) -> str:
        """The suggested file name (without extension) for an export."""
        return file_stem(getattr(self._explanation, "title", None))

    # ----- states -----

    @property
    def explanation(self):
        """The explanation drawn now, or None in the other states."""
        return self._explanation

    @property
    def state(self) -> str:
        """'drawing', 'empty', 'unavailable' or 'busy' (for tests and the window)."""
        return self._state

    def set_explanation(self, explanation) -> None:
        """Draw `explanation`, or show the empty state for None."""
        if explanation is None:
            self.show_empty(self.empty_text)
            return
        self._explanation = explanation
        self._state = "drawing"
        self.draw(explanation)
        self._pages.setCurrentIndex(0)
        self.export_button.setEnabled(True)

    def show_empty(self, text: str) -> None:
        self._show_message("empty", text)

    def show_unavailable(self, reason: str, detail: str = "") -> None:
        """Say why this lens cannot explain here; `detail` may say what it would show."""
        self._show_message("unavailable", unavailable_text(reason), detail)

    def show_busy(self, text: str, percent: int | None = None, cancellable: bool = True) -> None:
        """A long preparation (e.g. training the lens's model): its progress and a cancel button.
        `percent` None shows a bar that only says something is happening."""
        self._show_message("busy", text)
        if percent is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(max(0, min(100, int(percent))))
        self.progress.show()
        self.cancel_button.setVisible(cancellable)

    def show_notice(self, text: str) -> None:
        """A note above the view, e.g. that the explained movie dropped out of the list."""
        self.notice.setText(text)
        self.notice.show()

    def hide_notice(self) -> None:
        self.notice.hide()

    def _show_message(self, state: str, text: str, detail: str = "") -> None:
        self._explanation = None
        self._state = state
        self.message.setText(text)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.progress.hide()
        self.cancel_button.hide()
        self._pages.setCurrentWidget(self._message_page)
        self.export_button.setEnabled(False)

    # ----- export -----

    def export(self, path: str | Path) -> Path:
        """Write the drawing to `path`, PNG or SVG by its extension; says "Saved to …" through
        `statusMessage` and `exported`. Raises ValueError/OSError/RuntimeError with one sentence."""
        path = Path(path)
        check_export_path(path, svg_supported())
        if self._explanation is None:
            raise ValueError("There is nothing to export yet: select a recommendation first.")
        self.write_image(path)
        self.show_saved(path)
        self.exported.emit(str(path))
        self.statusMessage.emit(f"Saved to {path}.")
        return path

    def show_saved(self, path: Path) -> None:
        """Say beside the Export button where the picture went (the full path in the tooltip), with a
        link that opens its folder."""
        path = Path(path).absolute()
        folder = QUrl.fromLocalFile(str(path.parent)).toString()
        self.saved_label.setText(f"Saved to {escape(path.name)} · <a href=\"{escape(folder)}\">open folder</a>")
        self.saved_label.setToolTip(f"Saved to {path}")
        self.saved_label.show()

    def export_dialog(self) -> Path | None:
        """Ask for a file name and export; returns the path written, or None if cancelled or failed."""
        if self._explanation is None:
            self.statusMessage.emit("There is nothing to export yet: select a recommendation first.")
            return None
        filters = f"{PNG_FILTER};;{SVG_FILTER}" if svg_supported() else PNG_FILTER
        name, chosen = QFileDialog.getSaveFileName(
            self, "Export explanation", str(self._last_dir / f"{self.export_stem()}.png"), filters
        )
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_name(path.name + (".svg" if chosen == SVG_FILTER else ".png"))
        try:
            self.export(path)
        except (OSError, ValueError, RuntimeError) as error:
            QMessageBox.warning(self, "Export failed", str(error))
            return None
        self._last_dir = path.parent
        return path
