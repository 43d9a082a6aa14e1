"""The profile's movie list follows each edit with the fewest row changes: adding or removing one
movie keeps the other rows (their items, the selection), and after any sequence of edits the list
reads exactly as a list built afresh from the profile."""
from __future__ import annotations

import random

import pytest

from assistant.profile_panel import ID_ROLE, STARS_ROLE, ProfilePanel
from PySide6.QtCore import Qt


def _panel(qtbot, catalogue) -> ProfilePanel:
    widget = ProfilePanel(catalogue.movies, list(catalogue.occupations))
    qtbot.addWidget(widget)
    widget.resize(340, 720)
    return widget


def _rows(panel) -> list[tuple]:
    items = [panel.movie_list.item(r) for r in range(panel.movie_list.count())]
    return [(i.text(), i.data(ID_ROLE), i.data(STARS_ROLE), i.toolTip(), i.data(Qt.ItemDataRole.AccessibleTextRole))
            for i in items]


@pytest.fixture
def panel(qtbot, app_engine):
    return _panel(qtbot, app_engine.catalogue)


def test_adding_and_removing_one_movie_keeps_the_other_rows_and_the_selection(panel, app_engine):
    profile = app_engine.catalogue.user_profile(1)
    panel.show_profile("User 1", profile)
    kept = [panel.movie_list.item(r) for r in range(panel.movie_list.count())]
    panel.select_movie(profile.movies[3])
    new = next(m.id for m in app_engine.catalogue.movies if m.id not in profile.movies)
    added = profile.with_movie(new, 2)
    panel.show_profile("User 1", added)
    assert [panel.movie_list.item(r) for r in range(len(kept))] == kept
    assert panel.selected_movies() == [profile.movies[3]]
    removed = added.without_movie(profile.movies[1])
    panel.show_profile("User 1", removed)
    assert panel.movie_list.item(1) is kept[2]
    assert panel.selected_movies() == [profile.movies[3]]
    assert [r[1] for r in _rows(panel)] == list(removed.movies)


def test_after_random_edits_the_list_reads_as_one_built_afresh(qtbot, panel, app_engine):
    catalogue = app_engine.catalogue
    rng = random.Random(3)
    profile = catalogue.user_profile(2)
    panel.show_profile("User 2", profile)
    others = [m.id for m in catalogue.movies if m.id not in profile.movies]
    for _ in range(60):
        kind = rng.choice(("add", "remove", "rate", "attribute", "other user"))
        if kind == "add":
            profile = profile.with_movie(rng.choice(others), rng.choice((None, 1, 2, 3, 4, 5)))
        elif kind == "remove" and profile.movies:
            profile = profile.without_movie(rng.choice(profile.movies))
        elif kind == "rate" and profile.movies:
            profile = profile.with_rating(rng.choice(profile.movies), rng.choice((None, 1, 2, 3, 4, 5)))
        elif kind == "other user":
            profile = catalogue.user_profile(rng.choice((1, 2, 3)))
        else:
            profile = profile.__class__(profile.movies, gender=rng.choice(("F", "M")), ratings=profile.ratings)
        panel.show_profile("Profile", profile)
        fresh = _panel(qtbot, catalogue)
        fresh.show_profile("Profile", profile)
        assert _rows(panel) == _rows(fresh)


def test_the_title_index_is_built_at_the_first_search_and_finds_as_before(panel, app_engine):
    from assistant.title_search import TitleIndex

    panel.show_profile("User 1", app_engine.catalogue.user_profile(1))
    assert panel._index is None  # not part of the start
    panel.search_edit.setText("star wars")
    expected = [m.movie.id for m in TitleIndex(app_engine.catalogue.movies).search("star wars", 50)]
    shown = [panel.results.item(r).data(ID_ROLE) for r in range(panel.results.count())]
    assert shown and shown == expected[: len(shown)]
