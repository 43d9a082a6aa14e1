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
