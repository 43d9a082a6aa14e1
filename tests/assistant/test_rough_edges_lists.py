"""Issue 13's rough edges in the lists, the chat and the exports, in the window on MovieLens 100k:
an empty profile's bars in rank order, duplicate titles told apart, "saved to ..." feedback, the
chat history shown again after a restart with a divider per profile, and the chat pane's height."""
from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from assistant.recommendation_list import liked_counts
from test_main_window import open_window, sankey, wait_fresh  # noqa: F401 (a fixture)


def bar_shares(window) -> list[float]:
    model = window.recommendations.recommendation_model
    return [model.share(r) for r in model.recommendations()]


def test_an_empty_profiles_bars_shrink_down_the_list(qtbot, open_window, app_engine):
    window = open_window(("user", 1))
    shares = bar_shares(window)
    assert shares == sorted(shares, reverse=True)  # ranked by the model: probability bars
    window.new_profile("Nobody yet")
    wait_fresh(qtbot, window)
    model = window.recommendations.recommendation_model
    shown = model.recommendations()
    assert len(shown) == 20 and model.by_popularity
    shares = bar_shares(window)
    assert shares == sorted(shares, reverse=True) and shares[0] == 1.0
    liked = liked_counts(app_engine.catalogue)
    top = liked[shown[0].movie.id]
    assert shares == pytest.approx([liked[r.movie.id] / top for r in shown])
    tip = model.data(model.index(3), Qt.ItemDataRole.ToolTipRole)
    assert f"Liked by {liked[shown[3].movie.id]} people" in tip and "most popular" in tip


def test_liked_counts_are_the_catalogues(app_engine):
    liked = liked_counts(app_engine.catalogue)
    assert len(liked) == len(app_engine.catalogue.movies)
    assert sum(liked.values()) == app_engine.catalogue.liked.nnz
    star_wars = 50
    assert liked[star_wars] == max(liked.values())  # the most liked movie of MovieLens 100k
