"""The influence graph's geometry, without Qt: sides, top N with an exact rest node, widths,
signs, determinism, text that stays inside and apart, hit testing."""
from __future__ import annotations

import math
import re

import pytest

from assistant.views.influence_layout import (
    CENTRE,
    LEFT,
    OTHER,
    OWN,
    REST,
    RIGHT,
    WIDTH_MEANING,
    build_graph,
    compute_layout,
    format_influence,
    graph_positions,
    nice_sample,
    select_side,
)
from engine.api import InfluenceExplanation
from tests.assistant.views.influence_examples import adhoc_explanation, dataset_user_explanation


def text_width(text: str) -> float:  # a plain monospace stand-in for the font
    return 7.0 * len(text)


def layout_of(explanation, width=1000.0, height=700.0, top_n=5):
    return compute_layout(explanation, width, height, text_width=text_width, line_height=16.0, top_n=top_n)


def side(layout, name):
    return [n for n in layout.nodes if n.side == name]


def test_same_input_gives_the_same_layout():
    x = dataset_user_explanation()
    assert layout_of(x) == layout_of(x)
    assert layout_of(x).nodes == layout_of(dataset_user_explanation()).nodes


def test_own_ratings_left_others_right_prediction_in_the_middle():
    layout = layout_of(dataset_user_explanation())
    centre = layout.centre
    assert centre.kind == CENTRE and centre.value == pytest.approx(4.0375)
    left, right = side(layout, LEFT), side(layout, RIGHT)
    assert {n.kind for n in left} == {OWN, REST} and {n.kind for n in right} == {OTHER, REST}
    assert max(n.x for n in left) < centre.rect.x and centre.rect.right < min(n.x for n in right)
    assert len({n.x for n in left}) == 1 and len({n.x for n in right}) == 1  # one column per side


def test_multipartite_columns_and_rows():
    x = dataset_user_explanation()
    left, right = select_side(x.own, LEFT, 3), select_side(x.others, RIGHT, 2)
    positions = graph_positions(build_graph(x, left, right))
    assert positions[CENTRE] == (0, 0.0)
    assert [positions[f"own:{r.item}"][0] for r in left.shown] == [-1, -1, -1]
    assert positions["rest:left"][0] == -1 and positions["rest:right"][0] == 1
    rows = [positions[f"own:{r.item}"][1] for r in left.shown] + [positions["rest:left"][1]]
    assert rows == [-1.5, -0.5, 0.5, 1.5]  # four rows, centred on the prediction, top down


def test_top_n_by_magnitude_drawn_most_positive_first():
    x = dataset_user_explanation()
    layout = layout_of(x, top_n=5)
    own_nodes = [n for n in side(layout, LEFT) if n.kind == OWN]
    expected = sorted(x.own, key=lambda r: -abs(r.influence))[:5]
    assert {n.movie_id for n in own_nodes} == {r.item for r in expected}
    values = [n.value for n in own_nodes]
    assert values == sorted(values, reverse=True)
    ys = [n.y for n in side(layout, LEFT)]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert side(layout, LEFT)[-1].kind == REST  # the group at the bottom


@pytest.mark.parametrize("top_n", [1, 3, 5, 8])
def test_rest_nodes_sum_the_hidden_ratings_exactly(top_n):
    x = dataset_user_explanation()
    layout = layout_of(x, top_n=top_n)
    for name, ratings in ((LEFT, x.own), (RIGHT, x.others)):
        nodes = side(layout, name)
        shown = [n for n in nodes if n.kind != REST]
        rest = [n for n in nodes if n.kind == REST]
        assert len(shown) == min(top_n, len(ratings)) and len(rest) == 1
        hidden = sorted(ratings, key=lambda r: -abs(r.influence))[top_n:]
        assert rest[0].value == math.fsum(r.influence for r in hidden)
        assert rest[0].count == len(hidden) == len(ratings) - len(shown)
        assert math.fsum(n.value for n in nodes) == pytest.approx(math.fsum(r.influence for r in ratings), abs=1e-15)
        assert rest[0].label.text == f"{len(hidden)} more ratings"
        assert rest[0].value_label.text.endswith("★ net")


def test_no_rest_node_when_everything_fits():
    layout = layout_of(adhoc_explanation(), top_n=8)
    assert all(n.kind != REST for n in layout.nodes)
    assert len(layout.nodes) == 1 + 6 and len(layout.edges) == 6


def test_edge_widths_are_proportional_to_influence_and_signed():
    x = dataset_user_explanation()
    layout = layout_of(x, top_n=20)
    edges = layout.edges
    assert len(edges) == len(layout.nodes) - 1
    assert max(e.width for e in edges) == pytest.approx(max(abs(e.value) for e in edges) * layout.pixels_per_star)
    for a in edges:
        node = layout.node(a.source)
        assert a.value == node.value
        assert a.sign == (a.value > 0) - (a.value < 0)
        if abs(a.value) * layout.pixels_per_star >= 1.0:
            assert a.width == pytest.approx(abs(a.value) * layout.pixels_per_star)
        for b in edges:
            if abs(a.value) < abs(b.value):
                assert a.width <= b.width
    zero = next(e for e in edges if e.value == 0.0)
    assert zero.sign == 0 and zero.width == 1.0  # drawn, as thin as a line can be
    assert {e.sign for e in edges} == {-1, 0, 1}


def test_edges_run_from_each_node_into_the_centre_box():
    layout = layout_of(dataset_user_explanation())
    box = layout.centre.rect
    for edge in layout.edges:
        node = layout.node(edge.source)
        (x0, y0), *_, (x3, y3) = edge.points
        assert y0 == node.y and abs(x0 - node.x) == node.radius
        assert x3 in (box.x, box.right) and box.y <= y3 <= box.bottom


def test_labels_say_title_and_stars_or_who_rated_it():
    x = dataset_user_explanation()
    layout = layout_of(x, top_n=3)
    by_item = {r.item: r for r in x.own}
    for node in layout.nodes:
        if node.kind == OWN:
            rating = by_item[node.movie_id]
            assert node.label.full_text == f"{rating.title} {rating.rating:g}★"
            assert node.value_label.text == format_influence(rating.influence) + "★"
        elif node.kind == OTHER:
            assert node.label.text == f"User {node.user_id} rated it {node.rating:g}★"
            assert node.movie_id is None  # a user is not a movie: a click selects nothing
    headings = [h.text for h in layout.headings]
    assert headings == ["User 42's ratings (12)", "Others who rated it (14)"]
    assert [t.text for t in layout.centre_lines] == ["predicted 4.04★", "MF"]


def test_adhoc_profile_says_fold_in():
    layout = layout_of(adhoc_explanation())
    assert [t.text for t in layout.centre_lines] == ["predicted 3.71★", "NCF · fold-in"]
    assert layout.headings[0].text == "Your ratings (3)"
    assert "fold-in" in layout.centre.tooltip
    assert "Rank 12 by predicted rating" in layout.centre.tooltip
    assert any("folded in" in line.text for line in layout.caption)


def test_legend_says_what_a_width_means_with_a_sample_to_scale():
    layout = layout_of(dataset_user_explanation(), top_n=8)
    kinds = [item.kind for item in layout.legend]
    assert kinds == ["positive", "negative", "width"]
    width_item = layout.legend[-1]
    assert width_item.label.text.startswith(WIDTH_MEANING)
    sample = float(re.search(r"this one: ([0-9.e-]+)★", width_item.label.text).group(1))
    assert sample == nice_sample(max(abs(e.value) for e in layout.edges))
    assert width_item.line_width == pytest.approx(sample * layout.pixels_per_star)


@pytest.mark.parametrize("size", [(600, 500), (1000, 700), (420, 300), (1400, 900)])
@pytest.mark.parametrize("make", [dataset_user_explanation, adhoc_explanation])
def test_text_stays_inside_and_apart(size, make):
    width, height = size
    layout = layout_of(make(), width, height, top_n=20)
    boxes = layout.text_boxes()
    assert boxes
    for box in boxes:
        assert box.rect.inside(width, height), box
        assert text_width(box.text) <= box.rect.w + 1e-6 or box.align == "center", box
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a in layout.centre_title + layout.centre_lines and b in layout.centre_title + layout.centre_lines:
                continue
            assert not a.rect.overlaps(b.rect), (a, b)


def test_a_short_view_shows_fewer_rows_and_still_sums_the_rest():
    x = dataset_user_explanation()
    layout = layout_of(x, 600, 330, top_n=20)
    left = side(layout, LEFT)
    assert 1 < len(left) < len(x.own)
    rest = left[-1]
    shown_items = {n.movie_id for n in left if n.kind == OWN}
    assert rest.value == math.fsum(r.influence for r in sorted(x.own, key=lambda r: -abs(r.influence))
                                   if r.item not in shown_items)
    assert any("make the view taller" in line.text for line in layout.caption)


def test_hit_testing_finds_nodes_and_edges():
    layout = layout_of(dataset_user_explanation())
    for node in layout.nodes:
        assert layout.item_at(node.x, node.y) is node
    for edge in layout.edges:
        assert layout.item_at(*edge.midpoint).key == edge.source
    assert layout.item_at(1.0, 1.0) is None


def test_empty_and_unrelated_states():
    empty = layout_of(None)
    assert not empty.nodes and "No prediction selected" in empty.message_lines[0].text
    lonely = layout_of(InfluenceExplanation(7, "Lonely Movie (1999)", "mf", 3.5, (), user_id=None, fold_in=True))
    assert [n.kind for n in lonely.nodes] == [CENTRE] and not lonely.edges
    assert any("No ratings are related" in line.text for line in lonely.caption)
    tiny = layout_of(dataset_user_explanation(), 200, 120)
    assert not tiny.nodes and "Too small" in tiny.message_lines[0].text


def test_one_sided_explanation_keeps_the_prediction_beside_its_neighbours():
    x = adhoc_explanation()
    only_own = InfluenceExplanation(x.item_id, x.title, x.model, x.predicted_rating, x.own, fold_in=True)
    layout = layout_of(only_own)
    assert all(n.side in (LEFT, CENTRE) for n in layout.nodes)
    assert max(n.x for n in side(layout, LEFT)) < layout.centre.rect.x
    assert [h.text for h in layout.headings] == ["Your ratings (3)"]


def test_number_formats():
    assert format_influence(0.1234) == "+0.12"
    assert format_influence(-0.0456) == "\u22120.046"
    assert format_influence(0.0) == "0"
    assert nice_sample(0.131) == 0.1 and nice_sample(0.061) == 0.05 and nice_sample(0.0042) == 0.002
    assert nice_sample(0.0) == 0.0
