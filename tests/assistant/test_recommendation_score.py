"""The recommendation list says a score out of 100 relative to the top recommendation, with the
probability in the tooltip, not "0.70 percent" (issue 13.2)."""
from __future__ import annotations

from PySide6.QtCore import Qt

from assistant.recommendation_list import RecommendationModel
from engine.api import Movie, Recommendation


def recommendations():
    movies = [Movie(1, "Trainspotting", 1996, ("Drama",)), Movie(2, "Fargo", 1996, ("Crime", "Drama")),
              Movie(3, "Heat", 1995, ("Action",))]
    return [Recommendation(rank=i + 1, movie=m, probability=p, logit=l)
            for i, (m, p, l) in enumerate(zip(movies, (0.007, 0.0045, 0.00001), (5.0, 4.5, -1.0)))]


def test_list_items_say_rank_and_score_with_the_probability_in_the_tooltip(qtbot):
    model = RecommendationModel()
    model.set_recommendations(recommendations())
    first, second, third = (model.index(row) for row in range(3))

    assert first.data(Qt.ItemDataRole.AccessibleTextRole) == "Rank 1: Trainspotting (1996), score 100 of 100"
    assert second.data(Qt.ItemDataRole.AccessibleTextRole) == "Rank 2: Fargo (1996), score 64 of 100"
    assert third.data(Qt.ItemDataRole.AccessibleTextRole).endswith("score 1 of 100")  # never 0 on the list
    tip = first.data(Qt.ItemDataRole.ToolTipRole)
    assert "Score 100 of 100: its probability relative to the top recommendation's" in tip
    assert "Probability 0.700 %" in tip
    assert "percent" not in first.data(Qt.ItemDataRole.AccessibleTextRole)
