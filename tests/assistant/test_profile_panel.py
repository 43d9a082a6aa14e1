"""The profile panel's stars, offscreen: each movie shows its rating, a click on a star or the keys
1-5 / 0 rate the selected movies, a rating changes in place, and a movie is added with the stars
shown in the picker next to the search box (4 unless changed); an empty list says what to do."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from assistant.profile_panel import ID_ROLE, MOVIES_HINT, SAVED_HINT, ProfilePanel
from assistant.star_rating import FILLED, PREVIEW, STAR_SIZE, STRIP_WIDTH, StarPicker, star_boxes, stars_text
from assistant.storage import StoredProfile
from engine.api import DEFAULT_STARS, Profile
from test_hinted_list import draws_hint


@pytest.fixture
def panel(qtbot, app_engine):
    catalogue = app_engine.catalogue
    widget = ProfilePanel(catalogue.movies, list(catalogue.occupations))
    qtbot.addWidget(widget)
    widget.resize(340, 720)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def user1(app_engine) -> Profile:
    return app_engine.catalogue.user_profile(1)


def row_of(panel, movie_id: int) -> int:
    return next(r for r in range(panel.movie_list.count()) if panel.movie_list.item(r).data(ID_ROLE) == movie_id)


def star_centre(panel, movie_id: int, stars: int) -> QPoint:
    """Where on the list's viewport the `stars`-th star of a movie's row is drawn."""
    item = panel.movie_list.item(row_of(panel, movie_id))
    panel.movie_list.scrollToItem(item)
    strip = panel.star_delegate.strip_rect(panel.movie_list.visualItemRect(item))
    return star_boxes(strip)[stars - 1].center().toPoint()


def is_amber(colour: QColor) -> bool:
    return abs(colour.hue() - FILLED.hue()) <= 12 and colour.saturation() > 80


def test_each_movie_shows_its_real_stars(panel, user1):
    assert len(set(user1.ratings)) == 5  # user 1 used every number of stars
    panel.show_profile("User 1", user1)
    assert panel.movie_list.count() == len(user1.movies)
    assert [panel.shown_rating(m) for m in user1.movies] == list(user1.ratings)
    low = next(m for m, r in user1.rated if r == 1)
    item = panel.movie_list.item(row_of(panel, low))
    assert stars_text(1) in item.toolTip() and "does not count it as liked" in item.toolTip()
    assert item.data(Qt.ItemDataRole.AccessibleTextRole).endswith("rated 1 of 5 stars")
    assert panel.movies_label.text() == f"Movies ({len(user1.movies)})"
    assert f"{len(user1.positives)} of {len(user1.movies)} count as liked" in panel.movies_label.toolTip()


def test_the_stars_are_drawn_filled_up_to_the_rating(panel, user1):
    panel.show_profile("User 1", user1)
    five = next(m for m, r in user1.rated if r == 5)
    two = next(m for m, r in user1.rated if r == 2)
    for movie_id, stars in ((five, 5), (two, 2)):
        centres = [star_centre(panel, movie_id, n) for n in range(1, 6)]
        image = panel.movie_list.viewport().grab().toImage()
        filled = [is_amber(image.pixelColor(point)) for point in centres]
        assert filled == [n <= stars for n in range(1, 6)], (movie_id, stars, filled)


def test_unrated_movies_show_empty_stars(panel):
    panel.show_profile("Old profile", Profile(movies=(50, 181)))
    assert [panel.shown_rating(m) for m in (50, 181)] == [None, None]
    image = panel.movie_list.viewport().grab().toImage()
    assert not any(is_amber(image.pixelColor(star_centre(panel, 50, n))) for n in range(1, 6))
    assert panel.movie_list.item(0).data(Qt.ItemDataRole.AccessibleTextRole).endswith("not rated")


def test_keys_1_to_5_rate_the_selected_movies_and_0_clears(qtbot, panel, user1):
    panel.show_profile("User 1", user1)
    first, second = user1.movies[3], user1.movies[4]
    panel.select_movie(first)
    panel.movie_list.setFocus()
    with qtbot.waitSignal(panel.ratingChanged) as caught:
        qtbot.keyClick(panel.movie_list, Qt.Key.Key_2)
    assert caught.args == [first, 2]
    assert panel.movie_list.currentItem().data(ID_ROLE) == first  # the digit is not a type-ahead search
    with qtbot.waitSignal(panel.ratingChanged) as caught:
        qtbot.keyClick(panel.movie_list, Qt.Key.Key_0)
    assert caught.args == [first, None]

    panel.movie_list.item(row_of(panel, second)).setSelected(True)
    emitted = []
    panel.ratingChanged.connect(lambda movie, stars: emitted.append((movie, stars)))
    qtbot.keyClick(panel.movie_list, Qt.Key.Key_5, Qt.KeyboardModifier.KeypadModifier)
    assert sorted(emitted) == sorted([(first, 5), (second, 5)])
    emitted.clear()
    qtbot.keyClick(panel.movie_list, Qt.Key.Key_6)
    qtbot.keyClick(panel.movie_list, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert emitted == []  # only 0-5 without a modifier rate


def test_clicking_a_star_rates_the_movie_and_clicking_its_rating_clears_it(qtbot, panel, user1):
    panel.show_profile("User 1", user1)
    movie_id = next(m for m, r in user1.rated if r == 4)
    viewport = panel.movie_list.viewport()
    with qtbot.waitSignal(panel.ratingChanged) as caught:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=star_centre(panel, movie_id, 2))
    assert caught.args == [movie_id, 2]
    with qtbot.waitSignal(panel.ratingChanged) as caught:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=star_centre(panel, movie_id, 4))
    assert caught.args == [movie_id, None]
    emitted = []
    panel.ratingChanged.connect(lambda *args: emitted.append(args))
    item_rect = panel.movie_list.visualItemRect(panel.movie_list.item(row_of(panel, movie_id)))
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(item_rect.left() + 20, item_rect.center().y()))
    assert emitted == [] and panel.selected_movies() == [movie_id]  # a click on the title selects, never rates


def test_a_new_rating_is_shown_in_place_keeping_selection_and_scroll(panel, user1):
    panel.show_profile("User 1", user1)
    movie_id = user1.movies[120]
    panel.select_movie(movie_id)
    scroll = panel.movie_list.verticalScrollBar().value()
    assert scroll > 0
    first_item = panel.movie_list.item(0)
    changed = 1 if user1.rating(movie_id) != 1 else 5
    panel.show_profile("User 1 (edited)", user1.with_rating(movie_id, changed))
    assert panel.shown_rating(movie_id) == changed
    assert panel.movie_list.item(0) is first_item  # updated, not rebuilt
    assert panel.selected_movies() == [movie_id]
    assert panel.movie_list.verticalScrollBar().value() == scroll
    panel.show_profile("Other", Profile(movies=(1, 2), ratings=(3, None)))  # other movies: rebuilt
    assert panel.movie_list.count() == 2 and panel.selected_movies() == []


def test_a_movie_is_added_with_the_stars_of_the_picker(qtbot, panel, app_engine):
    panel.show_profile("Mine", Profile())
    assert panel.add_stars.value() == DEFAULT_STARS == 4
    fargo = next(m for m in app_engine.catalogue.movies if m.title == "Fargo")
    panel.focus_search()
    qtbot.keyClicks(panel.search_edit, "fargo")
    with qtbot.waitSignal(panel.movieAdded) as caught:
        qtbot.keyClick(panel.search_edit, Qt.Key.Key_Return)
    assert caught.args == [fargo.id, 4]  # Enter adds with the stars shown

    qtbot.keyClicks(panel.search_edit, "casablanca")
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert panel.add_stars.value() == 2 and panel.search_edit.text() == "casablanca"
    with qtbot.waitSignal(panel.movieAdded) as caught:
        qtbot.keyClick(panel.search_edit, Qt.Key.Key_Return)
    assert caught.args[1] == 2
    assert panel.add_stars.value() == DEFAULT_STARS  # the next movie is asked for afresh

    qtbot.keyClicks(panel.search_edit, "alien")
    picker = panel.add_stars
    qtbot.mouseClick(picker, Qt.MouseButton.LeftButton, pos=star_boxes(picker._strip())[4].center().toPoint())
    assert picker.value() == 5
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Left)
    assert picker.value() == 4
    qtbot.keyClick(picker, Qt.Key.Key_1)
    with qtbot.waitSignal(panel.movieAdded) as caught:
        qtbot.keyClick(picker, Qt.Key.Key_Return)
    assert caught.args[1] == 1 and "Alien" in panel._movies[caught.args[0]].title


def test_the_picker_is_compact_and_keeps_to_whole_stars(qtbot):
    picker = StarPicker()
    qtbot.addWidget(picker)
    assert picker.value() == DEFAULT_STARS
    assert picker.sizeHint().width() < STRIP_WIDTH + 20 and picker.sizeHint().height() < 3 * STAR_SIZE
    with pytest.raises(ValueError):
        picker.set_value(0)
    picker.set_value(5)
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Right)
    assert picker.value() == 5 and picker.accessibleDescription() == "5 of 5 stars"


def test_the_star_under_the_mouse_is_previewed(qtbot, panel, user1):
    panel.show_profile("User 1", user1)
    movie_id = next(m for m, r in user1.rated if r == 1)
    third = star_centre(panel, movie_id, 3)
    viewport = panel.movie_list.viewport()

    def colour(point):
        return viewport.grab().toImage().pixelColor(point)

    assert not is_amber(colour(third))
    qtbot.mouseMove(viewport, third)
    qtbot.waitUntil(lambda: colour(third).name() == PREVIEW.name(), timeout=2_000)
    qtbot.mouseMove(viewport, QPoint(10, third.y()))  # onto the title: no preview
    qtbot.waitUntil(lambda: not is_amber(colour(third)), timeout=2_000)


def test_rating_keys_win_over_a_window_shortcut_on_the_same_keys(qtbot, panel, user1):
    from PySide6.QtGui import QAction, QKeySequence

    fired = []
    for keys in ("3", "Ctrl+2"):
        action = QAction(keys, panel)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _=False, keys=keys: fired.append(keys))
        panel.addAction(action)
    panel.show_profile("User 1", user1)
    panel.select_movie(user1.movies[0])
    panel.movie_list.setFocus()
    with qtbot.waitSignal(panel.ratingChanged) as caught:
        qtbot.keyClick(panel.movie_list, Qt.Key.Key_3)
    assert caught.args == [user1.movies[0], 3]
    panel.focus_search()
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert panel.add_stars.value() == 2 and fired == []


def test_the_movie_count_changes_without_relaying_out_the_panel(qtbot, panel, user1, app_engine):
    """"Movies (N)" changes on every add and remove: its label keeps one size, so the new count
    repaints the label only and never invalidates the layouts around it (the whole window's)."""
    import dataclasses

    from PySide6.QtCore import QEvent, QObject

    class LayoutRequests(QObject):
        def __init__(self):
            super().__init__()
            self.seen = 0

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.LayoutRequest:
                self.seen += 1
            return False

    panel.show_profile("User 1", user1)
    qtbot.wait(50)
    ancestors, widget = [], panel.movies_label.parentWidget()
    while widget is not None:
        ancestors.append(widget)
        widget = widget.parentWidget()
    requests = LayoutRequests()
    for widget in ancestors:
        widget.installEventFilter(requests)
    try:
        sizes = []
        for count in (len(user1.movies) - 1, len(user1.movies) - 100, 9):  # 2- and 1-digit counts too
            panel.show_profile("User 1", dataclasses.replace(user1, movies=user1.movies[:count],
                                                             ratings=user1.ratings[:count]))
            qtbot.wait(20)
            assert panel.movies_label.text() == f"Movies ({count})"
            sizes.append(panel.movies_label.size())
        assert requests.seen == 0
        assert len(set((s.width(), s.height()) for s in sizes)) == 1
    finally:
        for widget in ancestors:
            widget.removeEventFilter(requests)


def test_an_empty_list_says_what_to_do(panel, app_engine):
    catalogue = app_engine.catalogue
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
