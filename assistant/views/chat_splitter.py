"""The right-hand column: the lens views above, the conversation below, with a handle between them
the user can drag. The chat keeps its share of the column's height when the window is resized, and
the share the user chose is remembered across restarts (QSettings), so that a window opened at
another size still gives the chat the same part of it."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QSplitter, QWidget

DEFAULT_CHAT_SHARE = 0.38  # enough for a few exchanges at a laptop's height; the drawing keeps the most
MIN_CHAT_SHARE = 0.15
MAX_CHAT_SHARE = 0.8
SETTINGS_KEY = "window/chat_share"


def _clamped(share: float) -> float:
    return min(MAX_CHAT_SHARE, max(MIN_CHAT_SHARE, share))


class ChatSplitter(QSplitter):
    def __init__(self, views: QWidget, chat: QWidget, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setObjectName("explanationSplitter")
        self._settings = settings
        self.addWidget(views)
        self.addWidget(chat)
        self.setChildrenCollapsible(False)
        chat.setMinimumHeight(140)  # the question line, the controls and two lines of transcript
        self._share = self._remembered_share()
        self.splitterMoved.connect(self._on_moved)

    @property
    def chat_share(self) -> float:
        """The chat's part of the column's height, 0-1 (the handle's position)."""
        return self._share

    def _remembered_share(self) -> float:
        try:
            value = float(self._settings.value(SETTINGS_KEY, DEFAULT_CHAT_SHARE))
        except (TypeError, ValueError):  # a settings file edited by hand: the default
            return DEFAULT_CHAT_SHARE
        return _clamped(value) if value == value else DEFAULT_CHAT_SHARE  # NaN: the default

    def _apply_share(self) -> None:
        total = sum(self.sizes())
        if total > 0:
            chat = round(total * self._share)
            self.setSizes([total - chat, chat])

    def _on_moved(self, _position: int, _index: int) -> None:
        views, chat = self.sizes()
        if views + chat > 0:
            self._share = _clamped(chat / (views + chat))
            self._settings.setValue(SETTINGS_KEY, round(self._share, 4))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_share()  # the chat keeps its share, whatever size the window opens at
