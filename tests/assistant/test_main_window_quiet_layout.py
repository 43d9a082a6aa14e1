"""Texts that change with every result do not lay the window out again: the status bar's timing of
the last update has a fixed size (a label free to resize sent a layout request to the status bar, and
from there to the window, at every edit)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from assistant.main_window import MainWindow
from assistant.storage import ProfileStore


class LayoutRequests(QObject):
    def __init__(self):
        super().__init__()
        self.receivers = []

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.LayoutRequest:
            self.receivers.append(obj)
        return False


def test_a_new_timing_lays_out_neither_the_status_bar_nor_the_window(qtbot, app_engine, store_path, settings):
    store = ProfileStore(store_path)
    window = MainWindow(app_engine, store, settings, start=("user", 1))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=10_000)
    qtbot.wait(500)  # the window's own first updates settle (the check under the Sankey, ...)
    requests = LayoutRequests()
    QApplication.instance().installEventFilter(requests)
    try:
        for text in ("explanation: 3 ms", "explanation: 12 ms", "explanation: 1234 ms"):
            window.timing_label.setText(text)
            QApplication.processEvents()
    finally:
        QApplication.instance().removeEventFilter(requests)
    assert window.statusBar() not in requests.receivers and window not in requests.receivers
    assert window.timing_label.width() >= window.timing_label.fontMetrics().horizontalAdvance("explanation: 1234 ms")
    window.live.stop()
    store.close()
