"""The Sankey's grouped view (issue 13.2): a button and Ctrl+G group the profile's movies by genre,
each band the exact sum of its movies, a click on a group shows its movies."""
from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, Qt

from assistant.views.sankey_panel import SankeyPanel
from engine.explain.relevance import RelevanceExplanation

GENRES = {str(i): ("Drama",) for i in range(20)} | {str(100 + i): ("Comedy", "Drama") for i in range(3)} | {
    str(200 + i): ("Comedy",) for i in range(12)}


def many_movies() -> RelevanceExplanation:
    features = ([("movie", str(i), f"Drama {i} (1990)", 0.05 - 0.001 * i) for i in range(20)]
                + [("movie", str(100 + i), f"Both {i} (1991)", 0.04) for i in range(3)]
                + [("movie", str(200 + i), f"Comedy {i} (1992)", 0.02 - 0.001 * i) for i in range(12)]
                + [("age", "25-34", "aged 25-34", 0.06)])
    features.sort(key=lambda f: -f[3])
    return RelevanceExplanation(
        item_id=1, title="Fargo (1996)", probability=0.007, logit=3.0, bias_share=0.2, absorbed=0.0,
        kinds=tuple(f[0] for f in features), keys=tuple(f[1] for f in features),
        names=tuple(f[2] for f in features), relevances=tuple(f[3] for f in features),
        rank=1, relative_score=1.0, movie_genres=GENRES,
    )


@pytest.fixture
def panel(qtbot):
    widget = SankeyPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 540)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_explanation(many_movies())
    return widget


def band_sums(layout):
    return math.fsum(b.relevance for b in layout.bands)


def test_the_button_groups_movies_by_genre_with_exact_sums(qtbot, panel):
    plain = panel.view.sankey_layout()
    assert not panel.grouped and plain.bands[-1].name == "other features (30)"
    with qtbot.waitSignal(panel.groupedChanged) as changed:
        qtbot.mouseClick(panel.group_button, Qt.MouseButton.LeftButton)
    assert changed.args == [True] and panel.grouped

    layout = panel.view.sankey_layout()
    names = [b.name for b in layout.bands]
    assert names == ["Drama (23 movies)", "Comedy (12 movies)", "aged 25-34"]  # "Both" movies join Drama, once
    assert band_sums(layout) == pytest.approx(band_sums(plain), abs=1e-12)
    assert "grouped by genre" in layout.coverage.full_text
    drama = layout.bands[0]
    assert "each movie counted once" in drama.tooltip and "Drama 0 (1990)" in drama.tooltip
    assert "Drama (23 movies)" in panel.view.accessibleDescription()


def test_ctrl_g_toggles_the_grouped_view(qtbot, panel):
    panel.activateWindow()
    panel.group_action.trigger()  # what Ctrl+G fires while the tab is in front
    assert panel.grouped and panel.group_button.isChecked()
    assert panel.group_action.shortcut().toString() == "Ctrl+G"
    panel.group_action.trigger()
    assert not panel.grouped


def test_clicking_a_group_shows_its_movies_and_the_rest_folds_them_back(qtbot, panel):
    panel.set_grouped(True)
    view = panel.view
    total = band_sums(view.sankey_layout())
    drama = view.sankey_layout().bands[0]
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(drama.center[0]), round(drama.center[1])))

    layout = view.sankey_layout()
    names = [b.name for b in layout.bands]
    assert view.expanded == {"Drama"}
    assert names[:5] == ["Drama 0 (1990)", "Drama 1 (1990)", "Drama 2 (1990)", "Drama 3 (1990)", "Drama 4 (1990)"]
    assert "other Drama movies (18)" in names
    assert "Comedy (12 movies)" in names  # the other groups keep their bands while one is open
    assert band_sums(layout) == pytest.approx(total, abs=1e-12)

    rest = next(b for b in layout.bands if b.name == "other Drama movies (18)")
    view._activate(rest)
    assert view.expanded == frozenset()
    assert view.sankey_layout().bands[0].name == "Drama (23 movies)"


def test_grouping_follows_new_explanations_and_turns_off(qtbot, panel):
    panel.set_grouped(True)
    panel.set_explanation(many_movies())
    assert panel.view.sankey_layout().bands[0].name == "Drama (23 movies)"
    panel.set_grouped(False)
    assert [b.name for b in panel.view.sankey_layout().bands[:2]] == ["aged 25-34", "Drama 0 (1990)"]
