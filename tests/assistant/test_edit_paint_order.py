"""What an edit's result paints first: the drawing of the lens in front, then the recommendation
list. One update paints every widget marked since the last one in tree order, the lists on the left
before the drawing on the right; at ML-1M size the list's rows cost the UI thread more than the
Sankey itself, and the Sankey waited for them (issue 12: edit to repainted Sankey)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from test_main_window import open_window, sankey, shown_ids, wait_fresh  # noqa: F401 (fixture)


class Paints(QObject):
    """The widgets that receive a paint event, in order."""

    def __init__(self, watched):
        super().__init__()
        self.watched = watched
        self.order = []

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj in self.watched:
            self.order.append(self.watched[obj])
        return False


def test_an_edit_paints_the_sankey_before_the_recommendation_list(qtbot, open_window):
    window = open_window(("user", 1))
    view, rows = sankey(window).view, window.recommendations.viewport()
    before = shown_ids(window)
    paints = Paints({view: "sankey", rows: "list"})
    QApplication.instance().installEventFilter(paints)
    try:
        window.add_movie(before[0])  # the top recommendation: the list changes, so do its rows
        qtbot.waitUntil(lambda: "sankey" in paints.order and "list" in paints.order, timeout=10_000)
    finally:
        QApplication.instance().removeEventFilter(paints)
    assert shown_ids(window) != before
    assert paints.order.index("sankey") < paints.order.index("list")
    wait_fresh(qtbot, window)
    window.live.stop()
