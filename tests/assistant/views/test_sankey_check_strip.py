"""The check line's room under the Sankey: a new check (every edit brings one) changes the line without
laying the panel and the window out again, the line is not hidden and shown again when a result
brings the check and its explanation together, and a text longer than the room gets more room."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from assistant.views.sankey_panel import SankeyPanel


class Events(QObject):
    """Counts events of some types by receiver while installed on the application."""

    def __init__(self, *types):
        super().__init__()
        self.types, self.seen = types, []

    def eventFilter(self, obj, event):
        if event.type() in self.types:
            self.seen.append((event.type(), obj))
        return False


@pytest.fixture
def panel(qtbot):
    panel = SankeyPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def two_checks(app_engine):
    """Checks and explanations of two profiles (the same user before and after an edit)."""
    profile = app_engine.user_profile(1)
    movie = app_engine.recommend(profile, 1)[0].movie.id
    edited = profile.without_movie(int(app_engine.removal_check(profile, movie).removed[0].key))  # a top reason
    pairs = []
    for p in (profile, edited):
        check = app_engine.removal_check(p, movie)
        pairs.append((check, app_engine.explain(check.profile_after, movie), app_engine.explain(p, movie)))
    return pairs


def test_a_new_check_lays_nothing_out_again(panel, two_checks):
    (check, after, explanation), (check2, after2, explanation2) = two_checks
    panel.set_removal(check, after, update=False)
    panel.set_explanation(explanation)
    QApplication.processEvents()
    assert not panel.check_line.isHidden()
    before = panel.check_line.text()
    events = Events(QEvent.Type.LayoutRequest, QEvent.Type.Hide)
    QApplication.instance().installEventFilter(events)
    try:
        panel.set_removal(check2, after2, update=False)
        panel.set_explanation(explanation2)
        panel.refresh_check()
        QApplication.processEvents()
    finally:
        QApplication.instance().removeEventFilter(events)
    assert panel.check_line.text() != before and not panel.check_line.isHidden()
    assert panel.removal_check is check2
    hidden = [obj for kind, obj in events.seen if kind == QEvent.Type.Hide]
    assert panel.check_line not in hidden  # not hidden and shown again
    laid_out = {obj for kind, obj in events.seen if kind == QEvent.Type.LayoutRequest}
    assert panel not in laid_out and panel.view.parentWidget() not in laid_out


def test_the_old_order_hides_and_shows_the_line(panel, two_checks):
    """What the window did before: the check first, against the explanation still drawn (this is
    what the test above would see without `update=False`)."""
    (check, after, explanation), (check2, after2, explanation2) = two_checks
    panel.set_removal(check, after)
    panel.set_explanation(explanation)
    events = Events(QEvent.Type.Hide)
    QApplication.instance().installEventFilter(events)
    try:
        panel.set_removal(check2, after2)
        panel.set_explanation(explanation2)
    finally:
        QApplication.instance().removeEventFilter(events)
    assert panel.check_line in [obj for _, obj in events.seen]


def test_a_long_check_gets_the_room_it_needs_and_gives_it_back(qtbot):
    from PySide6.QtWidgets import QWidget

    from assistant.views.sankey_panel import CHECK_LINES, _CheckStrip

    holder = QWidget()
    qtbot.addWidget(holder)
    strip = _CheckStrip(holder)
    strip.resize(300, strip.height())
    holder.show()
    room = strip.height()
    assert room >= CHECK_LINES * strip.label.fontMetrics().lineSpacing()
    strip.show_text("A short check.", "tip")
    assert strip.height() == room and not strip.label.isHidden() and strip.label.toolTip() == "tip"
    strip.show_text(" ".join(["a long check that wraps"] * 12))
    needed = strip.label.heightForWidth(300)
    assert needed > room and strip.height() == needed and strip.label.height() == needed
    strip.show_text("Short again.")
    assert strip.height() == room
    strip.show_text(None)
    assert strip.label.isHidden() and strip.height() == room  # the room stays: hiding lays nothing out
