"""The influence graph draws exactly what the engine's influence lens says, on the real MovieLens
100k: a dataset user, an ad-hoc profile with ratings (fold-in), and the same after a rating changes."""
from __future__ import annotations

import math
import re

import pytest
from PySide6.QtCore import QPointF

from assistant.views.influence_layout import CENTRE, OTHER, OWN, REST
from assistant.views.influence_panel import InfluenceGraphPanel
from engine.api import Lens

MOVED = re.compile(r"moved the predicted rating by ([+-][0-9.e+-]+) stars")
PREDICTED = re.compile(r"Predicted rating: ([0-9.]+) stars")


@pytest.fixture(scope="module")
def influence_engine(app_engine):
    if app_engine.lenses().get(Lens.INFLUENCE) is not None:
        pytest.skip(app_engine.lenses()[Lens.INFLUENCE])
    app_engine.prepare(Lens.INFLUENCE)
    return app_engine


@pytest.fixture
def panel(qtbot):
    widget = InfluenceGraphPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def assert_draws(panel, explanation):
    """Every number drawn, and every number in a tooltip, is the explanation's own."""
    panel.set_explanation(explanation)
    layout = panel.view.graph_layout()
    own = {r.item: r for r in explanation.own}
    others = {r.user: r for r in explanation.others}
    centre = layout.centre
    assert centre.value == explanation.predicted_rating
    tip = panel.view.tooltip_at(QPointF(*centre.rect.center))
    assert float(PREDICTED.search(tip).group(1)) == pytest.approx(explanation.predicted_rating, rel=1e-6)
    assert layout.centre_lines[0].text == f"predicted {explanation.predicted_rating:.2f}★"
    for side, ratings, kind, index in (("left", explanation.own, OWN, own), ("right", explanation.others, OTHER, others)):
        nodes = [n for n in layout.nodes if n.side == side]
        drawn = [n for n in nodes if n.kind == kind]
        assert len(drawn) == min(panel.view.top_n, len(ratings))
        for node in drawn:
            rating = index[node.movie_id if kind == OWN else node.user_id]
            assert node.value == rating.influence and node.rating == rating.rating
            tooltip = panel.view.tooltip_at(QPointF(node.x, node.y))
            assert float(MOVED.search(tooltip).group(1)) == pytest.approx(rating.influence, rel=1e-5, abs=1e-12)
            assert layout.edge(node.key).value == rating.influence
        strongest = sorted(ratings, key=lambda r: -abs(r.influence))
        assert {n.key for n in drawn} == {f"{kind}:{r.item if kind == OWN else r.user}"
                                          for r in strongest[: len(drawn)]}
        rest = [n for n in nodes if n.kind == REST]
        hidden = strongest[len(drawn):]
        assert len(rest) == (1 if hidden else 0)
        if hidden:
            assert rest[0].value == math.fsum(r.influence for r in hidden) and rest[0].count == len(hidden)
    return layout


def test_dataset_user_graph_equals_the_engines_explanation(qtbot, panel, influence_engine):
    profile = influence_engine.user_profile(42)
    movie = influence_engine.recommend(profile, k=1)[0].movie.id
    explanation = influence_engine.explain(profile, movie, Lens.INFLUENCE)
    assert explanation.user_id == 42 and not explanation.fold_in and explanation.own and explanation.others
    layout = assert_draws(panel, explanation)
    assert "fold-in" not in layout.centre_lines[1].text
    assert layout.headings[0].text.startswith("User 42's ratings")


def test_adhoc_profile_graph_equals_the_engines_fold_in(qtbot, panel, influence_engine):
    movies, stars = [50, 56, 100, 127, 174], [5, 4, 2, 5, 3]
    profile = influence_engine.make_profile(movies, ratings=stars)
    movie = influence_engine.recommend(profile, k=1)[0].movie.id
    explanation = influence_engine.explain(profile, movie, Lens.INFLUENCE)
    assert explanation.fold_in and explanation.user_id is None
    layout = assert_draws(panel, explanation)
    assert "fold-in" in layout.centre_lines[1].text
    drawn = {n.movie_id: n.rating for n in layout.nodes if n.kind == OWN}
    assert drawn == {m: float(s) for m, s in zip(movies, stars)}  # all five, with the profile's stars

    # Editing a rating: the panel draws the new explanation, and its numbers follow.
    edited = profile.with_rating(100, 5)
    again = influence_engine.explain(edited, movie, Lens.INFLUENCE)
    layout = assert_draws(panel, again)
    assert next(n for n in layout.nodes if n.movie_id == 100).rating == 5.0
    assert again.predicted_rating != explanation.predicted_rating
    assert layout.centre.value == again.predicted_rating and layout.nodes[0].kind == CENTRE
