"""A recommendation list updated in place (each edit gives a list of the same length) shows exactly
what a list reset to the same recommendations shows: the same pixels, selection and scroll."""
from __future__ import annotations

import pytest

from PySide6.QtWidgets import QApplication

from assistant.recommendation_list import RecommendationList, liked_counts


def _list(qtbot, catalogue) -> RecommendationList:
    view = RecommendationList()
    view.set_popularity(liked_counts(catalogue))
    qtbot.addWidget(view)
    view.resize(380, 420)
    view.show()
    qtbot.waitExposed(view)
    return view


def _state(view):
    QApplication.processEvents()  # the delayed layout: scroll bar and geometry
    QApplication.processEvents()
    # The rows as drawn (the scroll bar's own frame follows which window was shown last).
    return (view.viewport().grab().toImage(), view.verticalScrollBar().value(), view.selected_movie(),
            [i.row() for i in view.selectedIndexes()])


@pytest.mark.parametrize("scroll", [0, 10_000])
def test_an_in_place_update_looks_as_a_reset_one(qtbot, app_engine, scroll):
    catalogue = app_engine.catalogue
    lists = [app_engine.recommend(catalogue.user_profile(u), 20, explain=True) for u in (1, 2, 3, 4)]
    lists.append(app_engine.recommend(app_engine.make_profile(), 20, explain=True))  # ranked by popularity
    updated = _list(qtbot, catalogue)
    updated.set_recommendations(lists[0], None)
    for step, recommendations in enumerate(lists[1:]):
        updated.verticalScrollBar().setValue(scroll)
        selected = recommendations[step * 4].movie.id if step % 2 else None
        updated.set_recommendations(recommendations, selected)
        fresh = _list(qtbot, catalogue)
        fresh.set_recommendations(lists[step], None)  # the state `updated` was in, then the same update
        fresh.verticalScrollBar().setValue(scroll)
        fresh.recommendation_model.beginResetModel()  # the old way: a reset
        fresh.recommendation_model.endResetModel()
        fresh.set_recommendations(recommendations, selected)
        assert _state(updated) == _state(fresh)
        assert updated.recommendation_model.by_popularity == fresh.recommendation_model.by_popularity


def test_an_in_place_update_repaints_only_the_rows_drawn_differently(qtbot, app_engine):
    from dataclasses import replace

    catalogue = app_engine.catalogue
    first = app_engine.recommend(catalogue.user_profile(1), 20, explain=True)
    view = _list(qtbot, catalogue)
    view.set_recommendations(first, None)
    changed = []
    view.recommendation_model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    view.set_recommendations(list(first), None)  # the same list again: nothing to repaint
    assert changed == []
    other = next(m for m in catalogue.movies if m.id not in {r.movie.id for r in first})
    edited = list(first)
    edited[5] = replace(first[5], movie=other)
    edited[6] = replace(first[6], movie=other)
    edited[9] = replace(first[9], probability=first[9].probability * 0.5)  # a shorter bar
    view.set_recommendations(edited, None)
    assert changed == [(5, 6), (9, 9)]
    assert [r.movie.id for r in view.recommendation_model.recommendations()] == [r.movie.id for r in edited]


def test_re_ranked_movies_draw_no_text_but_their_ranks_again(qtbot, app_engine, monkeypatch):
    """A row's title, year and genres are drawn once per movie into a pixmap (an edit repaints every
    visible row, mostly with the same movies)."""
    from dataclasses import replace

    from PySide6.QtGui import QPainter

    catalogue = app_engine.catalogue
    shown = app_engine.recommend(catalogue.user_profile(1), 20, explain=True)
    cached = _list(qtbot, catalogue)
    cached.set_recommendations(shown, shown[1].movie.id)
    drawn = _state(cached)[0]
    delegate = cached.itemDelegate()
    assert delegate._text_pixmaps  # the visible rows' texts
    made = len(delegate._text_pixmaps)
    texts = []
    real_draw_text = QPainter.drawText
    monkeypatch.setattr(QPainter, "drawText", lambda painter, *args: texts.append(args[-1]) or real_draw_text(painter, *args))
    swapped = [*shown[3::-1], *shown[4:]]  # the top four in reverse: the same movies in view
    reranked = [replace(r, rank=i + 1) for i, r in enumerate(swapped)]
    cached.set_recommendations(reranked, shown[1].movie.id)
    _state(cached)
    assert len(delegate._text_pixmaps) == made and texts and all(t.endswith(".") and t[:-1].isdigit() for t in texts)
    assert _state(cached)[0] != drawn  # the new ranks are on screen
