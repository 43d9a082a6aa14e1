"""The Sankey view's geometry: values equal the explanation's, flows add up, widths are proportional,
and text never overlaps or leaves the widget — checked on hand-made and random explanations."""
from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.views.sankey_layout import (
    CAPTION,
    GROUP_RATIO,
    MAX_TOP_N,
    MIN_THICKNESS,
    Rect,
    compute_layout,
    elide,
    elide_name,
    exact_relevance,
    wrap,
)
from engine.explain.relevance import RelevanceExplanation

LINE = 16.0


def width7(text: str) -> float:
    """A stand-in font: 7 px a character."""
    return 7.0 * len(text)


def explanation(features, title="Men in Black (1997)", item_id=1580, note=""):
    """A RelevanceExplanation from (kind, key, name, relevance) tuples, sorted as the engine sorts them."""
    features = sorted(features, key=lambda f: -f[3])
    return RelevanceExplanation(
        item_id=item_id, title=title, probability=0.083, logit=4.1, bias_share=0.6, absorbed=0.0,
        kinds=tuple(f[0] for f in features), keys=tuple(f[1] for f in features),
        names=tuple(f[2] for f in features), relevances=tuple(f[3] for f in features), note=note,
    )


REALISTIC = explanation([
    ("movie", "50", "Star Wars (1977)", 0.62), ("movie", "1", "Alien (1979)", 0.48),
    ("movie", "96", "Terminator 2: Judgment Day (1991)", 0.41), ("age", "25-34", "aged 25-34", 0.33),
    ("gender", "F", "female", 0.21), ("genre", "Sci-Fi", "Sci-Fi movies", 0.18),
    ("occupation", "writer", "works as writer", 0.09), ("movie", "2", "Toy Story (1995)", 0.04),
    ("genre", "Action", "Action movies", 0.02), ("movie", "3", "Fargo (1996)", -0.05),
    ("movie", "4", "Heat (1995)", -0.12),
])

LONG = "An Extraordinarily Long Movie Title That Goes On and On Without Any Mercy for the Layout"
CROWDED = explanation(
    [("movie", str(i), f"{LONG} {i} ({1950 + i})", 1.0 / (i + 1)) for i in range(16)]
    + [("age", "25-34", "aged 25-34", 3e-5)]
    + [("movie", str(100 + i), f"Against {LONG} {i} (1980)", -0.05 * (i + 1)) for i in range(15)],
    title="Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)",
)


def layout_of(x, width=900, height=500, **options):
    return compute_layout(x, width, height, text_width=width7, line_height=LINE, **options)


def assert_text_fits(layout):
    boxes = layout.text_boxes()
    for box in boxes:
        assert box.rect.inside(layout.width, layout.height), (box.text, box.rect)
        assert width7(box.text) <= box.rect.w + 1e-6 or box.align == "center", box
    for a, b in itertools.combinations(boxes, 2):
        assert not a.rect.overlaps(b.rect), (a.text, a.rect, b.text, b.rect)


# ------------------------------------------------------------------------------------------ values


def test_top_n_bands_carry_the_exact_relevances_and_other_the_sum_of_the_rest():
    layout = layout_of(REALISTIC)
    positive = REALISTIC.positive
    bands = layout.positive_bands
    assert [b.name for b in bands[:6]] == [f.name for f in positive[:6]]
    assert [b.relevance for b in bands[:6]] == [f.relevance for f in positive[:6]]
    assert [b.kind for b in bands[:6]] == [f.kind for f in positive[:6]]
    assert [b.key for b in bands[:6]] == [f.key for f in positive[:6]]
    other = bands[6]
    assert other.name == "other features (3)" and other.is_group and other.role == "other"
    assert other.relevance == pytest.approx(sum(f.relevance for f in positive[6:]), abs=1e-12)
    assert [name for name, _ in other.members] == [f.name for f in positive[6:]]
    assert layout.shown_positive == 6
    assert not layout.negative_bands  # negative evidence is off by default


def test_roles_follow_the_kinds():
    roles = {b.name: b.role for b in layout_of(REALISTIC, show_negative=True).bands}
    assert roles["Star Wars (1977)"] == "movie"
    assert roles["aged 25-34"] == roles["female"] == "user"
    assert roles["Sci-Fi movies"] == "genre"
    assert roles["Heat (1995)"] == roles["Fargo (1996)"] == "negative"


def test_movie_bands_know_their_movie_id_and_groups_have_none():
    bands = layout_of(REALISTIC).bands
    assert bands[0].movie_id == 50
    assert bands[3].movie_id is None  # aged 25-34
    assert bands[-1].movie_id is None  # the group


def test_top_n_is_clamped_to_twelve():
    layout = layout_of(CROWDED, width=1400, height=1000, top_n=40)
    assert layout.shown_positive == MAX_TOP_N
    assert len(layout.positive_bands) == MAX_TOP_N + 1


def test_no_group_band_when_everything_fits():
    x = explanation([("movie", "1", "Alien (1979)", 0.5), ("gender", "F", "female", 0.2)])
    layout = layout_of(x)
    assert [b.name for b in layout.bands] == ["Alien (1979)", "female"]
    assert not any(b.is_group for b in layout.bands)


def test_negative_evidence_is_a_separate_group_below_flowing_into_the_lower_part():
    layout = layout_of(REALISTIC, show_negative=True)
    pos, neg = layout.positive_bands, layout.negative_bands
    assert [b.name for b in neg] == ["Heat (1995)", "Fargo (1996)"]  # most negative first
    assert [b.relevance for b in neg] == [-0.12, -0.05]
    assert min(b.source.top for b in neg) > max(b.source.bottom for b in pos)
    assert layout.target_split is not None
    assert all(b.target_bottom <= layout.target_split for b in pos)
    assert all(b.target_top >= layout.target_split for b in neg)
    assert layout.target.bottom == pytest.approx(neg[-1].target_bottom)


def test_negatives_beyond_top_n_are_grouped_too():
    layout = layout_of(CROWDED, width=1400, height=1200, top_n=6, show_negative=True)
    neg = layout.negative_bands
    assert len(neg) == 7 and neg[-1].name == "other negative (9)"
    assert sum(b.relevance for b in neg) == pytest.approx(sum(f.relevance for f in CROWDED.negative))


def test_bands_meet_the_movie_node_stacked_in_order_without_gaps():
    layout = layout_of(REALISTIC)
    bands = layout.bands
    assert bands[0].target_top == pytest.approx(layout.target.top)
    for a, b in zip(bands, bands[1:]):
        assert b.target_top == pytest.approx(a.target_bottom)
        assert b.source.top > a.source.bottom  # a gap between nodes on the left
    for band in bands:
        assert band.target_bottom - band.target_top == pytest.approx(band.thickness)


def test_tiny_relevance_keeps_a_visible_band_and_its_exact_value_in_the_tooltip():
    x = explanation([("movie", "1", "Alien (1979)", 2.0), ("age", "25-34", "aged 25-34", 1.234567e-7)])
    tiny = layout_of(x).bands[1]
    assert tiny.thickness == pytest.approx(MIN_THICKNESS)
    assert tiny.value.text == "+1.2e-07"
    assert exact_relevance(1.234567e-7) in tiny.tooltip
    assert "aged 25-34" in tiny.tooltip


def test_group_tooltip_lists_its_members():
    other = layout_of(REALISTIC).bands[6]
    assert "works as writer: +0.09" in other.tooltip
    assert "Action movies: +0.02" in other.tooltip


def test_a_dominant_group_band_can_be_drawn_compressed_keeping_its_value():
    x = explanation([("movie", str(i), f"Movie {i} (1990)", 0.05 - i * 0.001) for i in range(40)])
    plain = layout_of(x)
    assert not any(b.compressed for b in plain.bands)
    assert plain.bands[-1].thickness > 15 * plain.bands[0].thickness  # honest: the rest outweighs the top 6
    layout = layout_of(x, compress_groups=True)
    group = layout.bands[-1]
    assert group.compressed and group.is_group
    assert group.relevance == pytest.approx(sum(f.relevance for f in x.positive[6:]))
    assert group.thickness == pytest.approx(GROUP_RATIO * layout.bands[0].thickness)
    assert layout.bands[0].thickness > 3 * plain.bands[0].thickness  # the named bands get the room
    assert "narrower" in group.tooltip
    assert "compressed" in [item.role for item in layout.legend]
    small = explanation([("movie", "1", "A (1990)", 0.5), ("movie", "2", "B (1991)", 0.1)] * 4)
    assert not any(b.compressed for b in layout_of(small, compress_groups=True).bands)


def test_crowded_small_area_groups_more_but_still_adds_up():
    layout = layout_of(CROWDED, width=500, height=300, top_n=12, show_negative=True)
    assert layout.labels_shown
    assert layout.shown_positive + layout.shown_negative < 24
    assert sum(b.relevance for b in layout.positive_bands) == pytest.approx(sum(f.relevance for f in CROWDED.positive))
    assert_text_fits(layout)


# ------------------------------------------------------------------------------------------ empty states


def test_empty_profile_shows_its_note_instead_of_flows():
    note = "Your profile is empty, so this is one of the most popular movies: 583 people liked it."
    x = RelevanceExplanation(50, "Star Wars (1977)", 0.05, 3.0, 3.0, 0.0, note=note)
    layout = layout_of(x)
    assert not layout.bands and layout.target is None
    assert " ".join(box.text for box in layout.message_lines) == note
    assert [box.text for box in layout.title_lines] == ["Star Wars (1977)"]
    assert_text_fits(layout)


def test_no_explanation_asks_to_pick_one():
    layout = layout_of(None, width=520, height=320)
    assert not layout.bands
    assert "pick one" in " ".join(box.text for box in layout.message_lines)


def test_only_negative_features_says_so_unless_negative_evidence_is_shown():
    x = explanation([("movie", "3", "Fargo (1996)", -0.3)])
    assert "negative evidence" in " ".join(b.text for b in layout_of(x).message_lines)
    assert [b.name for b in layout_of(x, show_negative=True).bands] == ["Fargo (1996)"]


def test_zero_size_is_empty():
    assert layout_of(REALISTIC, width=0, height=0).bands == ()


# ------------------------------------------------------------------------------------------ geometry


def test_legend_and_caption_are_drawn_when_there_is_room():
    layout = layout_of(REALISTIC, show_negative=True)
    assert layout.caption is not None and layout.caption.text == CAPTION
    assert [item.role for item in layout.legend] == ["movie", "user", "genre", "negative"]
    diagram_bottom = max(b.source.bottom for b in layout.bands)
    assert layout.caption.rect.top >= diagram_bottom


@pytest.mark.parametrize("size", [(500, 300), (520, 320), (900, 500), (1400, 900), (360, 220)])
@pytest.mark.parametrize("top_n", [6, 12])
def test_twelve_long_titles_fit_at_several_sizes(size, top_n):
    layout = layout_of(CROWDED, width=size[0], height=size[1], top_n=top_n, show_negative=True)
    assert_text_fits(layout)
    assert all(b.source.inside(*size) for b in layout.bands)
    assert layout.target.inside(*size)
    assert any("…" in b.label.text for b in layout.bands)  # long names are elided, not cut


def test_layout_with_real_font_metrics_fits(qapp):
    from PySide6.QtGui import QFont, QFontMetricsF

    metrics = QFontMetricsF(QFont())
    bold = QFont()
    bold.setBold(True)
    title_metrics = QFontMetricsF(bold)
    for width, height in [(500, 300), (900, 500)]:
        layout = compute_layout(
            CROWDED, width, height, text_width=metrics.horizontalAdvance, line_height=math.ceil(metrics.height()),
            title_text_width=title_metrics.horizontalAdvance, title_line_height=math.ceil(title_metrics.height()),
            top_n=12, show_negative=True,
        )
        boxes = layout.text_boxes()
        for box in boxes:
            assert box.rect.inside(width, height)
        for a, b in itertools.combinations(boxes, 2):
            assert not a.rect.overlaps(b.rect)


def test_band_at_finds_the_band_under_its_centre_node_and_label():
    layout = layout_of(REALISTIC, show_negative=True)
    for band in layout.bands:
        assert layout.band_at(*band.center) is band
        assert layout.band_at(*band.source.center) is band
        assert layout.band_at(*band.label.rect.center) is band
    assert layout.band_at(1, 1) is None
    assert layout.target_at(*layout.target.center)


def test_band_edges_blend_from_source_to_target():
    band = layout_of(REALISTIC).bands[0]
    assert band.edges_at(band.source.right) == pytest.approx((band.source.top, band.source.bottom))
    assert band.edges_at(band.target_x) == pytest.approx((band.target_top, band.target_bottom), abs=1e-6)
    assert band.edges_at(band.source.left - 1) is None


# ------------------------------------------------------------------------------------------ text helpers


def test_elide_and_wrap():
    assert elide("Alien (1979)", 200, width7) == "Alien (1979)"
    short = elide("Terminator 2: Judgment Day (1991)", 70, width7)
    assert short.endswith("…") and width7(short) <= 70
    assert elide("Alien", 3, width7) == ""
    kept = elide_name("Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)", 180, width7)
    assert kept.endswith("… (1963)") and width7(kept) <= 180
    lines = wrap("Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)", 140, width7, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(width7(line) <= 140 for line in lines)


def test_rect_overlap_ignores_touching_edges():
    assert not Rect(0, 0, 10, 10).overlaps(Rect(10, 0, 10, 10))
    assert Rect(0, 0, 10, 10).overlaps(Rect(9, 9, 10, 10))


# ------------------------------------------------------------------------------------------ properties

KINDS = ["movie", "gender", "age", "occupation", "genre"]
names = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "Zs")), min_size=1, max_size=120)
magnitudes = st.one_of(st.floats(1e-9, 1e-3), st.floats(1e-3, 50.0))


@st.composite
def explanations(draw):
    n_pos = draw(st.integers(0, 25))
    n_neg = draw(st.integers(0, 25))
    features = [
        (draw(st.sampled_from(KINDS)), str(i), draw(names), sign * draw(magnitudes))
        for i, sign in enumerate([1.0] * n_pos + [-1.0] * n_neg)
    ]
    return explanation(features, title=draw(names), note=draw(st.sampled_from(["", "A note about the profile."])))


sizes = st.tuples(st.integers(320, 1600), st.integers(200, 1000))
options = st.fixed_dictionaries(
    {"top_n": st.integers(1, 14), "show_negative": st.booleans(), "compress_groups": st.booleans()})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(explanations(), sizes, options)
def test_random_explanations_add_up_and_text_never_overlaps(x, size, opts):
    layout = layout_of(x, width=size[0], height=size[1], **opts)
    assert_text_fits(layout)
    if layout.bands:
        # The flows add up to the total positive relevance (and negative, when shown).
        assert math.fsum(b.relevance for b in layout.positive_bands) == pytest.approx(
            math.fsum(f.relevance for f in x.positive), rel=1e-9, abs=1e-12)
        if opts["show_negative"] and layout.labels_shown and x.negative:
            assert math.fsum(b.relevance for b in layout.negative_bands) == pytest.approx(
                math.fsum(f.relevance for f in x.negative), rel=1e-9, abs=1e-12)
        # Bands named after a feature carry exactly its relevance, in the explanation's order.
        named = [b for b in layout.positive_bands if not b.is_group]
        assert [(b.name, b.relevance) for b in named] == [(f.name, f.relevance) for f in x.positive[: len(named)]]
        assert len(named) == layout.shown_positive or len(named) == len(x.positive)
        # Thickness is proportional to relevance above the floor, never below it.
        for band in layout.bands:
            assert band.thickness >= MIN_THICKNESS - 1e-9
            expected = abs(band.relevance) * layout.scale
            if band.compressed:
                assert opts["compress_groups"] and band.is_group
                largest = max(abs(b.relevance) for b in layout.bands if not b.is_group and b.negative == band.negative)
                expected = GROUP_RATIO * largest * layout.scale
            if expected > MIN_THICKNESS:
                assert band.thickness == pytest.approx(expected, rel=1e-9)
        # Nodes on the left never overlap, and all geometry stays in the widget.
        for a, b in zip(layout.bands, layout.bands[1:]):
            assert b.source.top >= a.source.bottom - 1e-9
        assert all(b.source.inside(*size, eps=1e-6) for b in layout.bands)
    else:
        assert layout.message_lines or not size[1]


# ----- issue 13: coverage, score, left-out movies

def test_coverage_line_says_what_the_named_bands_and_the_rest_carry():
    many = explanation([("movie", str(i), f"Movie {i} (1990)", 0.01) for i in range(6)]
                       + [("movie", str(100 + i), f"Small {i} (1990)", 0.54 / 152) for i in range(152)])
    layout = layout_of(many)
    assert layout.coverage is not None
    assert layout.coverage.full_text == ("These 6 carry 10% of the evidence for this movie; "
                                         "the 152 other features together carry 90%.")
    assert layout.coverage.rect.bottom <= min(b.source.top for b in layout.bands)
    assert not any(layout.coverage.rect.overlaps(box.rect) for box in layout.text_boxes() if box not in layout.coverage_lines)


def test_coverage_line_when_every_feature_has_its_band():
    few = explanation([("movie", "1", "Alien (1979)", 0.3), ("age", "25-34", "aged 25-34", 0.1)])
    assert layout_of(few).coverage.full_text == "These 2 carry all the evidence for this movie."


def test_score_is_rank_and_relative_score_with_the_probability_in_the_tooltip():
    ranked = dataclasses.replace(REALISTIC, rank=3, relative_score=0.644)
    layout = layout_of(ranked)
    assert layout.probability.full_text == "rank 3 · score 64"
    assert "probability 8.30%" in layout.target_tooltip and "score 64" in layout.target_tooltip
    assert layout_of(REALISTIC).probability.full_text == "probability 8.3%"  # no rank: as before


def test_a_left_out_movie_says_so():
    left = dataclasses.replace(REALISTIC, rank=40, relative_score=0.05, left_out=True)
    layout = layout_of(left)
    assert layout.probability.full_text == "would rank 40 · score 5"
    assert "not in your profile: it would rank 40" in layout.target_tooltip
    assert layout.coverage.full_text.startswith("Explained as if it were not in your profile.")
    assert "not in your profile" in layout.target_tooltip


def test_a_long_coverage_sentence_wraps_to_two_lines_above_the_bands():
    many = explanation([("movie", str(i), f"Movie {i} (1990)", 0.01) for i in range(6)]
                       + [("movie", str(100 + i), f"Small {i} (1990)", 0.54 / 152) for i in range(152)])
    left = dataclasses.replace(many, left_out=True, rank=3, relative_score=0.5)
    layout = layout_of(left, width=560, height=500)
    assert len(layout.coverage_lines) == 2
    assert " ".join(line.text for line in layout.coverage_lines) == layout.coverage.full_text  # nothing cut
    assert layout.coverage.rect.bottom <= min(b.source.top for b in layout.bands)
    assert_text_fits(layout)
