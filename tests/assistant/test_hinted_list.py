"""An empty list says why it is empty: no saved profile yet, no movie in the profile, no user
matching the search; the hint goes as soon as a row shows."""
from __future__ import annotations

from PySide6.QtWidgets import QListWidgetItem

from assistant.hinted_list import HintedList
from assistant.profile_panel import MOVIES_HINT, SAVED_HINT, ProfilePanel
from assistant.storage import StoredProfile


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


def test_the_profile_panel_says_what_to_do_with_an_empty_list(qtbot, app_engine):
    catalogue = app_engine.catalogue
    panel = ProfilePanel(catalogue.movies, list(catalogue.occupations))
    qtbot.addWidget(panel)
    panel.resize(340, 720)
    panel.show()
    assert panel.saved_list.hint == SAVED_HINT and panel.saved_list.shows_nothing()
    panel.set_saved_profiles([StoredProfile(1, "Mine", "ml-100k", (), None, None, None, 0.0, 0.0)])
    assert not panel.saved_list.shows_nothing()

    assert panel.movie_list.hint == MOVIES_HINT and "Ctrl+F" in MOVIES_HINT
    panel.show_profile("User 1", catalogue.user_profile(1))
    assert not panel.movie_list.shows_nothing()

    panel.set_users([(1, "User 1 — male · 18-24 · technician"), (2, "User 2 — female · 50-55 · other")])
    panel.user_filter.setText("female")
    assert not panel.user_list.shows_nothing() and not draws_hint(panel.user_list)
    panel.user_filter.setText("nobody here")
    assert panel.user_list.shows_nothing() and "“nobody here”" in panel.user_list.hint and draws_hint(panel.user_list)
