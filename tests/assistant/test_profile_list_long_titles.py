"""A movie with a long title keeps its stars on screen: the row is as wide as the list's viewport,
the title is elided before the stars, and a click on those stars rates the movie."""
from __future__ import annotations

from PySide6.QtCore import QRect

from assistant.profile_panel import ID_ROLE
from engine.api import Profile
from test_profile_panel import panel  # noqa: F401  (the shown panel fixture)


def longest_titles(app_engine, n: int) -> list[int]:
    movies = sorted(app_engine.catalogue.movies, key=lambda m: len(m.label), reverse=True)
    return [m.id for m in movies[:n]]


def test_long_titles_keep_their_stars_inside_the_viewport(panel, app_engine):
    ids = longest_titles(app_engine, 5) + [1, 2]
    panel.show_profile("Long titles", Profile(movies=tuple(ids), ratings=(5, 4, 3, 2, 1, 4, None)))
    listing = panel.movie_list
    viewport = listing.viewport().rect()
    assert listing.horizontalScrollBar().maximum() == 0
    for row in range(listing.count()):
        item = listing.item(row)
        listing.scrollToItem(item)
        rect = listing.visualItemRect(item)
        strip = panel.star_delegate.strip_rect(rect).toAlignedRect()
        assert viewport.contains(QRect(strip.left(), rect.top(), strip.width(), 1)), (item.text(), rect, viewport)
        assert rect.width() <= viewport.width()


def test_a_click_on_a_long_titled_movies_stars_rates_it(qtbot, panel, app_engine):
    from PySide6.QtCore import Qt
    from assistant.star_rating import star_boxes

    longest = longest_titles(app_engine, 1)[0]
    panel.show_profile("Long title", Profile(movies=(longest, 1), ratings=(2, 4)))
    listing = panel.movie_list
    item = next(listing.item(r) for r in range(listing.count()) if listing.item(r).data(ID_ROLE) == longest)
    strip = panel.star_delegate.strip_rect(listing.visualItemRect(item))
    with qtbot.waitSignal(panel.ratingChanged) as caught:
        qtbot.mouseClick(listing.viewport(), Qt.MouseButton.LeftButton, pos=star_boxes(strip)[4].center().toPoint())
    assert caught.args == [longest, 5]
