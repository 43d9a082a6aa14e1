"""An empty list says why it is empty; the hint goes as soon as a row shows (the profile panel's
lists: tests/assistant/test_profile_panel.py)."""
from __future__ import annotations

from PySide6.QtWidgets import QListWidgetItem

from assistant.hinted_list import HintedList


def draws_hint(widget: HintedList) -> bool:
    """Whether the viewport looks different with its hint than without it."""
    hint = widget.hint
    with_hint = widget.viewport().grab().toImage()
    widget.set_hint("")
    without = widget.viewport().grab().toImage()
    widget.set_hint(hint)
    return with_hint != without


def test_the_hint_is_drawn_only_while_no_row_shows(qtbot):
    widget = HintedList("Nothing here yet: click New.")
    qtbot.addWidget(widget)
    widget.resize(240, 120)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.shows_nothing() and draws_hint(widget)
    widget.addItem(QListWidgetItem("one row"))
    assert not widget.shows_nothing() and not draws_hint(widget)
    widget.item(0).setHidden(True)  # filtered out: nothing shows again
    assert widget.shows_nothing() and draws_hint(widget)
    widget.set_hint("")
    assert not draws_hint(widget)
