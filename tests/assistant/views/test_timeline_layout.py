"""The expert tab's pure layout: stacked shares fill their column exactly, no two text boxes overlap,
the layout is deterministic, and the pieces say what the explanation says (no display needed)."""
from __future__ import annotations

import pytest

from assistant.views.expert_palette import EXPERT_COLOURS, aggregate_colour, expert_colour
from assistant.views.timeline_layout import BARS, GRID, CHECK, CROSS, compute_layout, no_overlaps
from tests.assistant.views.expert_examples import make_shares, make_timeline


def text_width(text: str) -> float:
    return 7.0 * len(text)


def layout(timeline=None, shares=None, width=900.0, height=620.0, **options):
    return compute_layout(timeline, shares, width, height, text_width=text_width, line_height=16, **options)


SIZES = [(900, 620), (420, 380), (1400, 900), (320, 240), (2000, 420)]


@pytest.mark.parametrize("mode", [BARS, GRID])
@pytest.mark.parametrize("detailed", [False, True])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("length", [2, 7, 20])
def test_no_text_boxes_overlap(mode, detailed, size, length):
    drawn = layout(make_timeline(length, seed=length, undecided_at=length - 1), make_shares(), *size, mode=mode,
                   detailed=detailed)
    assert no_overlaps(drawn.all_texts()) == []


@pytest.mark.parametrize("detailed", [False, True])
def test_stacked_segments_sum_to_the_column_height(detailed):
    timeline = make_timeline(14, undecided_at=10)
    drawn = layout(timeline, None, mode=BARS, detailed=detailed)
    height = drawn.shares_bottom - drawn.shares_top
    guessed = [c for c in drawn.columns if c.step.side == "predicted"]
    assert len(guessed) == len(timeline.predicted) and guessed
    for column in guessed:
        segments = column.segments
        assert sum(s.rect.h for s in segments) == pytest.approx(height, abs=1e-9)
        assert segments[0].rect.y == pytest.approx(drawn.shares_top)
        assert segments[-1].rect.bottom == pytest.approx(drawn.shares_bottom)
        for upper, lower in zip(segments, segments[1:]):  # stacked without gaps or overlaps
            assert lower.rect.y == pytest.approx(upper.rect.bottom)
        for segment in segments:  # each piece is its share of the column
            assert segment.rect.h == pytest.approx(segment.share * height, abs=1e-9)
    assert all(not c.segments for c in drawn.columns if c.step.side == "given")


def test_segments_carry_the_steps_shares_and_the_rows_colours():
    timeline = make_timeline(10)
    aggregated = layout(timeline, mode=GRID)
    for column in aggregated.columns:
        if column.step.side == "predicted":
            assert {s.row: s.share for s in column.segments} == dict(column.step.aggregate_shares)
    detailed = layout(timeline, mode=GRID, detailed=True)
    colours = {e.id: expert_colour(e.key) for e in timeline.experts}
    for column in detailed.columns:
        for segment in column.segments:
            vote = next(v for v in column.step.votes if v.id == segment.row)
            assert segment.share == vote.share and segment.colour == colours[segment.row]
            assert f"share {vote.share:.1%}" in segment.tooltip and f"{vote.prediction:.3f}" in segment.tooltip


def test_strip_says_stars_probability_and_right_or_wrong():
    timeline = make_timeline(12)
    drawn = layout(timeline, width=1600)
    for column in drawn.columns:
        texts = [t.text for t in column.texts]
        step = column.step
        if step.side == "given":
            assert "★" * step.rating + "☆" * (5 - step.rating) in texts
        else:
            assert f"{round(100 * step.probability)}%" in texts
            glyph = CHECK if step.correct else CROSS
            assert any(t.startswith(glyph) for t in texts)
            filled = column.probability_fill.h / column.probability_bar.h
            assert filled == pytest.approx(step.probability)
    given = sum(1 for s in timeline.steps if s.side == "given")
    sides = {t.full_text for t in drawn.texts_extra}
    assert {"Given: your ratings", "Guessed by the model"} <= sides
    assert drawn.divider_x == pytest.approx(drawn.columns[given].rect.x)


def test_change_marks_sit_where_the_deciding_expert_changes():
    timeline = make_timeline(12)
    assert timeline.changes  # the example hands the decision from persistence to the film
    drawn = layout(timeline)
    assert drawn.change_positions == tuple(sorted(timeline.changes))
    starts = {c.step.position: c.rect.x for c in drawn.columns}
    assert sorted(m.x + m.w / 2 for m in drawn.change_marks) == pytest.approx(sorted(starts[p] for p in timeline.changes))


def test_undecided_guess_is_hatched_and_says_so():
    timeline = make_timeline(10, undecided_at=8)
    drawn = layout(timeline, height=700)
    column = next(c for c in drawn.columns if c.step.position == 9)
    assert column.undecided_box is not None and all(s.hatched for s in column.segments)
    assert "no expert was confident" in [t.text for t in column.texts]
    assert column.decider is None
    assert all(c.undecided_box is None for c in drawn.columns if c.step.position != 9)


def test_static_share_bar_is_split_by_share_and_coloured_like_the_timeline():
    shares = make_shares()
    drawn = layout(make_timeline(6), shares)
    bar = drawn.share_segments
    assert [s.row for s in bar] == [v.id for v in shares.votes]
    total = sum(s.rect.w for s in bar)
    for segment, vote in zip(bar, shares.votes):
        assert segment.rect.w == pytest.approx(vote.share * total, abs=1e-9)
        assert segment.colour == expert_colour(shares.info(vote.id).key)
    # one colour per kind of evidence in both models: "everything" and "your profile" agree
    assert expert_colour("all") == EXPERT_COLOURS["all"]
    profile = next(a for a in make_timeline(6).aggregates if a.key == "profile")
    assert aggregate_colour(profile, make_timeline(6).experts) == expert_colour("content+user")
    assert any(t.text.startswith("Decided mostly by ...plus the movies you rated") for t in drawn.headings)


def test_without_a_timeline_the_message_takes_its_place_and_the_shares_stay():
    reason = "ml-1m has no rating times, so it has no sittings to explain."
    drawn = layout(None, make_shares(), message=reason)
    assert drawn.share_segments and not drawn.columns
    assert " ".join(t.text for t in drawn.message) == reason


def test_layout_is_deterministic_and_hit_tests_its_items():
    timeline, shares = make_timeline(9), make_shares()
    first, second = layout(timeline, shares), layout(timeline, shares)
    assert first == second
    cell = next(s for c in first.columns for s in c.segments if s.rect.h > 4)
    x, y = cell.rect.center
    assert first.item_at(x, y) is cell and cell.movie_id == next(c for c in first.columns if cell in c.segments).movie_id
    column = first.columns[0]
    assert first.item_at(*column.rect.center) is column


def test_caption_speaks_of_rating_times_only_for_a_sitting_that_has_them():
    def caption(timeline):
        return " ".join(t.text for t in layout(timeline, width=1600, height=900).caption)

    assert "Times are rating times." in caption(make_timeline(8))
    adhoc = caption(make_timeline(8, user_id=None))
    assert "liked = 4-5 stars" in adhoc and "rating times" not in adhoc
