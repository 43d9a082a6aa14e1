"""Geometry of the Expert attribution tab: the selected recommendation's static expert shares (one
stacked bar) above the session expert timeline of a sitting (the paper's fig. 11, adapted).

Pure: no painting and no Qt. Text is measured through ``text_width(str) -> float`` callables, so the
widget, the PNG/SVG export and the tests share one function.

Picture, top to bottom: the recommendation's heading, its stacked share bar and legend; the sitting's
heading; a strip of the sitting's movies in rating order (the given half with the stars the model
saw, a divider, the guessed half with the predicted like-probability and whether it was right); a
thin row coloured by the expert that decided each guess, with a tick where it changes; then one row
per expert (aggregated, or the 8 detailed ones) holding its share of each guess, as a stacked bar
per movie (default) or a heat grid; the caption at the bottom. A guess no expert was confident about
is hatched and says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from assistant.views.expert_palette import aggregate_colour, expert_colour
from assistant.views.sankey_layout import Rect, elide, elide_name, wrap

if TYPE_CHECKING:
    from engine.api import ExpertShares, ExpertTimeline, TimelineStep

TextWidth = Callable[[str], float]

BARS, GRID = "bars", "grid"
MARGIN = 10.0
GAP = 8.0
SHARE_BAR_HEIGHT = 20.0
PROBABILITY_BAR = 18.0  # height of a guess's like-probability bar
DECIDER_ROW = 8.0
MIN_SHARES_HEIGHT = 48.0
MAX_LABEL_WIDTH = 190.0
HORIZONTAL_TITLE_WIDTH = 84.0  # columns at least this wide get titles across, on two lines
MAX_VERTICAL_TITLE = 150.0
SWATCH = 10.0
GRID_TEXT_SHARE = 0.10  # a grid cell prints its share from 10 %
UNDECIDED_TEXT = "no expert was confident"
CHECK, CROSS = "✓", "✗"


@dataclass(frozen=True)
class Text:
    """One line of text; `rect` is where it lies on screen (for vertical text, its rotated box)."""

    rect: Rect
    text: str
    full_text: str
    align: str = "left"  # "left", "right" or "center"
    vertical: bool = False  # read bottom to top
    role: str = "text"  # "title", "text", "muted", "on_fill", "right", "wrong"
    fill: str = ""  # the colour under an "on_fill" text


@dataclass(frozen=True)
class Segment:
    """A piece of a share bar or a grid cell: one expert's (or aggregate's) share of one prediction."""

    key: str
    row: str  # row key (aggregate key, or expert id)
    rect: Rect
    share: float
    colour: str
    tooltip: str
    movie_id: int | None = None
    label: Text | None = None
    hatched: bool = False  # part of a guess no expert was confident about


@dataclass(frozen=True)
class Column:
    """One movie of the sitting."""

    key: str
    index: int  # 0-based within the sitting
    step: "TimelineStep"
    rect: Rect  # the whole column, strip to shares
    movie_id: int
    tooltip: str
    texts: tuple[Text, ...] = ()
    probability_bar: Rect | None = None  # the frame; filled up to `probability`
    probability_fill: Rect | None = None
    decider: Rect | None = None
    decider_colour: str = ""
    undecided_box: Rect | None = None  # hatched area of a guess no expert was confident about
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class LegendItem:
    key: str
    swatch: Rect
    colour: str
    label: Text


@dataclass(frozen=True)
class TimelineLayout:
    width: float
    height: float
    mode: str = BARS
    detailed: bool = False
    headings: tuple[Text, ...] = ()
    share_segments: tuple[Segment, ...] = ()
    share_legend: tuple[LegendItem, ...] = ()
    columns: tuple[Column, ...] = ()
    divider_x: float | None = None
    strip_top: float = 0.0
    shares_top: float = 0.0
    shares_bottom: float = 0.0
    change_marks: tuple[Rect, ...] = ()  # small triangles' boxes, pointing down at the boundary
    change_positions: tuple[int, ...] = ()
    rows: tuple[LegendItem, ...] = ()  # row labels (grid) or the legend beside the bars (bars)
    caption: tuple[Text, ...] = ()
    message: tuple[Text, ...] = ()  # said in the timeline's place when there is no timeline
    texts_extra: tuple[Text, ...] = field(default=())  # side labels, strip row labels

    def all_texts(self) -> list[Text]:
        texts = [*self.headings, *self.caption, *self.message, *self.texts_extra]
        texts += [item.label for item in (*self.share_legend, *self.rows)]
        texts += [s.label for s in self.share_segments if s.label is not None]
        for column in self.columns:
            texts += list(column.texts)
            texts += [s.label for s in column.segments if s.label is not None]
        return [t for t in texts if t.text]

    def items(self) -> list:
        """What the pointer can hover, most specific first."""
        return [*(s for c in self.columns for s in c.segments), *self.columns, *self.share_segments]

    def item_at(self, x: float, y: float):
        for item in self.items():
            if item.rect.contains(x, y):
                return item
        return None

    def item(self, key: str):
        return next((i for i in self.items() if i.key == key), None)

    def column(self, index: int) -> Column | None:
        return next((c for c in self.columns if c.index == index), None)


# ---------------------------------------------------------------------------------------------
# Text helpers shared with the view and the conversation


def percent(share: float) -> str:
    """A share as the views write it: "62%", "<1%" for a sliver, never "0%" for something above zero."""
    value = round(100 * share)
    if share > 0 and value == 0:
        return "<1%"
    return f"{value}%"


def stars_text(rating: int | None, room: float, text_width: TextWidth) -> str:
    if rating is None:
        return "–"
    full = "★" * rating + "☆" * (5 - rating)
    return full if text_width(full) <= room else f"{rating}★"


def expert_rows(timeline: "ExpertTimeline", detailed: bool) -> list[tuple[str, str, str]]:
    """(row key, label, colour) of the timeline's rows: the 8 experts, or the aggregates."""
    if detailed:
        return [(e.id, f"{e.id} {e.label}", expert_colour(e.key)) for e in timeline.experts]
    return [(a.key, a.label, aggregate_colour(a, timeline.experts)) for a in timeline.aggregates]


def step_shares(step: "TimelineStep", detailed: bool) -> dict[str, float]:
    if detailed:
        return {v.id: v.share for v in step.votes}
    return dict(step.aggregate_shares)


def deciding_row(step: "TimelineStep", timeline: "ExpertTimeline", detailed: bool) -> str | None:
    """The row holding the expert that decided this guess."""
    decided = step.decided_by
    if decided is None or detailed:
        return decided
    return next((a.key for a in timeline.aggregates if decided in a.experts), None)


def sitting_heading(timeline: "ExpertTimeline") -> str:
    if timeline.user_id is None:
        where = "Your profile's sitting: its rated movies in the order you added them"
    else:
        where = f"User {timeline.user_id}, sitting {timeline.sitting} of {timeline.sittings}"
        if timeline.start:
            day, start = timeline.start[:10], timeline.start[11:16]
            end = timeline.end[11:16] if timeline.end[:10] == day else timeline.end[:16].replace("T", " ")
            where += f" · {day} {start}–{end} UTC"
    guessed = [s for s in timeline.predicted if s.correct is not None]
    right = sum(1 for s in guessed if s.correct)
    score = f" · {right} of {len(guessed)} guesses right" if guessed else ""
    return where + score


def share_heading(shares: "ExpertShares") -> str:
    return f"Selected: {shares.title} — {round(100 * shares.probability)}% likely to be picked"


def share_decider_text(shares: "ExpertShares") -> str:
    if shares.undecided:
        return "No expert was confident: the shares are spread evenly."
    vote = max(shares.votes, key=lambda v: v.share)
    return f"Decided mostly by {shares.info(vote.id).label}: {percent(vote.share)}"


def vote_tooltip(label: str, vote, inputs: Sequence[str]) -> str:
    return (f"{vote.id}: {label}\nshare {vote.share:.1%} · own prediction {vote.prediction:.3f}\n"
            f"confidence {vote.confidence:.3f} · α {vote.alpha:.3f}\nreads: {', '.join(inputs)}")


def column_tooltip(step: "TimelineStep", timeline: "ExpertTimeline") -> str:
    head = f"{step.position}. {step.title}"
    real = f"{step.rating}★" if step.rating is not None else "not rated"
    if step.side == "given":
        return f"{head}\nGiven to the model: you rated it {real}."
    verdict = {True: "right", False: "wrong", None: "not judged (no rating)"}[step.correct]
    lines = [head, f"Guessed like-probability {step.probability:.3f} ({'like' if step.predicted_liked else 'dislike'}); "
                   f"you rated it {real}: {verdict}."]
    if step.undecided:
        lines.append(f"{UNDECIDED_TEXT[0].upper()}{UNDECIDED_TEXT[1:]} (α total {step.alpha_total:.3f}).")
    elif step.decided_by is not None:
        info = next(e for e in timeline.experts if e.id == step.decided_by)
        share = next(v.share for v in step.votes if v.id == step.decided_by)
        lines.append(f"Decided by {info.id}, {info.label}: {percent(share)}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The layout


def compute_layout(
    timeline: "ExpertTimeline | None",
    shares: "ExpertShares | None",
    width: float,
    height: float,
    *,
    text_width: TextWidth,
    line_height: float,
    title_text_width: TextWidth | None = None,
    title_line_height: float | None = None,
    mode: str = BARS,
    detailed: bool = False,
    message: str = "",
) -> TimelineLayout:
    """Where everything goes for `shares` (the selected recommendation, may be None) and `timeline`
    (the sitting, may be None: then `message` says why in its place)."""
    title_width = title_text_width or text_width
    tlh = title_line_height or line_height
    lh = line_height
    inner = max(0.0, width - 2 * MARGIN)
    y = MARGIN
    headings: list[Text] = []
    share_segments: list[Segment] = []
    share_legend: list[LegendItem] = []

    if shares is not None:
        line = elide_name(share_heading(shares), inner, title_width)
        headings.append(Text(Rect(MARGIN, y, inner, tlh), line, share_heading(shares), role="title"))
        y += tlh
        decider = share_decider_text(shares)
        headings.append(Text(Rect(MARGIN, y, inner, lh), elide(decider, inner, text_width), decider, role="muted"))
        y += lh + 4
        share_segments = _share_bar(shares, MARGIN, y, inner, text_width, lh)
        y += SHARE_BAR_HEIGHT + 4
        share_legend, y = _flow_legend(
            [(v.id, f"{v.id} {shares.info(v.id).label}", expert_colour(shares.info(v.id).key)) for v in shares.votes],
            MARGIN, y, inner, text_width, lh)
        y += GAP

    if timeline is None or not timeline.steps:
        said = message or "No sitting to show."
        lines = wrap(said, inner, text_width, max(1, int((height - y - MARGIN) // lh)))
        boxes = tuple(Text(Rect(MARGIN, y + i * lh, inner, lh), t, said, role="muted") for i, t in enumerate(lines))
        return TimelineLayout(width, height, mode, detailed, tuple(headings), tuple(share_segments),
                              tuple(share_legend), message=boxes)

    heading = sitting_heading(timeline)
    headings.append(Text(Rect(MARGIN, y, inner, tlh), elide(heading, inner, title_width), heading, role="title"))
    y += tlh + 4

    rows = expert_rows(timeline, detailed)
    label_w = min(MAX_LABEL_WIDTH, max(0.25 * inner, 60.0),
                  max(text_width(label) for _, label, _ in rows) + SWATCH + 6)
    x0 = MARGIN + label_w + GAP
    area = max(0.0, width - MARGIN - x0)
    n = len(timeline.steps)
    col_w = area / n

    # The strip's bands, top to bottom.
    side_top = y
    title_top = side_top + lh
    horizontal = col_w >= HORIZONTAL_TITLE_WIDTH
    if horizontal:
        title_h = 2 * lh
    else:
        longest = max(text_width(s.title) for s in timeline.steps)
        title_h = min(MAX_VERTICAL_TITLE, longest + 4, max(lh, 0.35 * (height - MARGIN - title_top)))
    rating_top = title_top + title_h + 2
    bar_top = rating_top + lh
    verdict_top = bar_top + PROBABILITY_BAR + 2
    decider_top = verdict_top + lh + 2
    shares_top = decider_top + DECIDER_ROW + 4
    # The caption gets the lines the shares can spare (at most 3): the shares come first.
    caption_text = (f"{timeline.label}; a guess is right when its like-probability is on the right side of 50%."
                    + (" Times are rating times." if timeline.start else "")  # an ad-hoc profile has none
                    + (f" {timeline.note}" if timeline.note else ""))
    spare = int((height - MARGIN - shares_top - MIN_SHARES_HEIGHT - GAP) // lh)
    caption_lines = wrap(caption_text, inner, text_width, max(0, min(3, spare)))
    caption_top = height - MARGIN - len(caption_lines) * lh
    caption = tuple(Text(Rect(MARGIN, caption_top + i * lh, inner, lh), text, text, role="muted")
                    for i, text in enumerate(caption_lines))
    shares_bottom = max(shares_top + MIN_SHARES_HEIGHT, caption_top - GAP)
    shares_h = shares_bottom - shares_top

    extra: list[Text] = []
    strip_labels = (("Movie", title_top, title_h), ("Stars · guess", rating_top, lh), ("Like-probability", bar_top, PROBABILITY_BAR),
                    ("Right?", verdict_top, lh))
    for text, top, h in strip_labels:
        shown = elide(text, label_w, text_width)
        extra.append(Text(Rect(MARGIN, top + (h - lh) / 2, label_w, lh), shown, text, role="muted"))

    given = [s for s in timeline.steps if s.side == "given"]
    divider_x = x0 + len(given) * col_w if given and len(given) < n else None
    for text, left, right in (("Given: your ratings", x0, divider_x or x0),
                              ("Guessed by the model", divider_x if divider_x is not None else x0, x0 + area)):
        room = right - left - 4
        if room > 0 and (given or not text.startswith("Given")):
            extra.append(Text(Rect(left + 2, side_top, room, lh), elide(text, room, text_width), text, "center", role="muted"))

    columns: list[Column] = []
    for index, step in enumerate(timeline.steps):
        left = x0 + index * col_w
        columns.append(_column(timeline, step, index, left, col_w, rows, detailed, mode, text_width, lh,
                               horizontal, title_top, title_h, rating_top, bar_top, verdict_top, decider_top,
                               shares_top, shares_h))

    marks = []
    positions = set(timeline.changes)
    for column in columns:
        if column.step.position in positions:
            x = column.rect.x
            marks.append(Rect(x - 4, decider_top - 5, 8, 5))

    row_items = _row_labels(rows, mode, label_w, shares_top, shares_h, text_width, lh)
    return TimelineLayout(
        width, height, mode, detailed, tuple(headings), tuple(share_segments), tuple(share_legend), tuple(columns),
        divider_x, side_top, shares_top, shares_bottom, tuple(marks), tuple(sorted(positions)), tuple(row_items),
        caption, texts_extra=tuple(extra),
    )


def _share_bar(shares: "ExpertShares", x: float, y: float, w: float, text_width: TextWidth, lh: float) -> list[Segment]:
    segments = []
    cumulative = 0.0
    for vote in shares.votes:
        info = shares.info(vote.id)
        left = x + cumulative * w
        cumulative += vote.share
        right = x + w if vote is shares.votes[-1] else x + cumulative * w
        rect = Rect(left, y, max(0.0, right - left), SHARE_BAR_HEIGHT)
        colour = expert_colour(info.key)
        text = percent(vote.share)
        label = None
        if text_width(text) + 4 <= rect.w and lh <= SHARE_BAR_HEIGHT + 2:
            label = Text(Rect(rect.x, y + (SHARE_BAR_HEIGHT - lh) / 2, rect.w, lh), text, text, "center",
                         role="text" if shares.undecided else "on_fill", fill=colour)  # faded fill: plain ink
        segments.append(Segment(f"static:{vote.id}", vote.id, rect, vote.share, colour,
                                vote_tooltip(info.label, vote, info.groups), None, label, shares.undecided))
    return segments


def _flow_legend(entries, x: float, y: float, w: float, text_width: TextWidth, lh: float) -> tuple[list[LegendItem], float]:
    items = []
    cx = x
    for key, label, colour in entries:
        need = SWATCH + 4 + text_width(label)
        if cx > x and cx + need > x + w:
            cx, y = x, y + lh
        room = min(need, x + w - cx) - SWATCH - 4
        shown = elide(label, room, text_width)
        items.append(LegendItem(key, Rect(cx, y + (lh - SWATCH) / 2, SWATCH, SWATCH), colour,
                                Text(Rect(cx + SWATCH + 4, y, max(0.0, room), lh), shown, label, role="muted")))
        cx += need + 14
    return items, y + lh


def _row_labels(rows, mode: str, label_w: float, top: float, h: float, text_width: TextWidth, lh: float) -> list[LegendItem]:
    """Grid: each row's label beside its row. Bars: the legend, top to bottom in the bars' order."""
    items = []
    room = label_w - SWATCH - 4
    step = h / len(rows) if mode == GRID else lh
    for i, (key, label, colour) in enumerate(rows):
        row_top = top + i * step
        if row_top + lh > top + h + 0.5 and mode != GRID:
            break  # no room for more legend lines: the tooltips still name every expert
        y = row_top + (step - lh) / 2 if mode == GRID else row_top
        if mode == GRID and step < lh:
            continue
        shown = elide(label, room, text_width)
        items.append(LegendItem(key, Rect(MARGIN, y + (lh - SWATCH) / 2, SWATCH, SWATCH), colour,
                                Text(Rect(MARGIN + SWATCH + 4, y, room, lh), shown, label, role="muted")))
    return items


def _column(timeline, step, index, left, col_w, rows, detailed, mode, text_width, lh, horizontal, title_top, title_h,
            rating_top, bar_top, verdict_top, decider_top, shares_top, shares_h) -> Column:
    pad = min(3.0, col_w * 0.1)
    inner_w = max(0.0, col_w - 2 * pad)
    x = left + pad
    texts: list[Text] = []
    if horizontal:
        lines = wrap(step.title, inner_w, text_width, 2)
        for i, line in enumerate(lines):
            texts.append(Text(Rect(x, title_top + i * lh, inner_w, lh), line, step.title, "center"))
    elif col_w >= lh:
        shown = elide_name(step.title, title_h, text_width)
        cx = left + (col_w - lh) / 2
        texts.append(Text(Rect(cx, title_top, lh, title_h), shown, step.title, "left", vertical=True))
    predicted = step.side == "predicted"
    if predicted:
        rating_text = percent(step.probability)
        if text_width(rating_text) > inner_w:
            rating_text = ""
    else:
        rating_text = stars_text(step.rating, inner_w, text_width)
        if text_width(rating_text) > inner_w:
            rating_text = ""
    texts.append(Text(Rect(x, rating_top, inner_w, lh), rating_text, rating_text, "center"))

    bar = fill = decider = undecided = None
    colour = ""
    segments: list[Segment] = []
    if predicted:
        bw = min(inner_w, 14.0)
        bar = Rect(left + (col_w - bw) / 2, bar_top, bw, PROBABILITY_BAR)
        filled = PROBABILITY_BAR * max(0.0, min(1.0, step.probability))
        fill = Rect(bar.x, bar.bottom - filled, bw, filled)
        glyph = {True: CHECK, False: CROSS, None: "?"}[step.correct]
        real = f" {step.rating}★" if step.rating is not None else ""
        verdict = glyph + real if text_width(glyph + real) <= inner_w else glyph
        role = {True: "right", False: "wrong", None: "muted"}[step.correct]
        texts.append(Text(Rect(x, verdict_top, inner_w, lh), verdict, verdict, "center", role=role))
        decided = deciding_row(step, timeline, detailed)
        colour = next((c for key, _, c in rows if key == decided), "")
        if not step.undecided and colour:
            decider = Rect(x, decider_top, inner_w, DECIDER_ROW)
        segments = _shares(timeline, step, index, x, inner_w, rows, detailed, mode, text_width, lh, shares_top, shares_h)
        if step.undecided:
            undecided = Rect(x, shares_top, inner_w, shares_h)
            if inner_w >= lh and text_width(UNDECIDED_TEXT) + 8 <= shares_h:
                texts.append(Text(Rect(left + (col_w - lh) / 2, shares_top + 4, lh, shares_h - 8), UNDECIDED_TEXT,
                                  UNDECIDED_TEXT, "center", vertical=True, role="muted"))
    rect = Rect(left, title_top, col_w, shares_top + shares_h - title_top)
    return Column(f"column:{index}", index, step, rect, step.item_id, column_tooltip(step, timeline), tuple(texts),
                  bar, fill, decider, colour, undecided, tuple(segments))


def _shares(timeline, step, index, x, w, rows, detailed, mode, text_width, lh, top, h) -> list[Segment]:
    shares = step_shares(step, detailed)
    votes = {v.id: v for v in step.votes}
    infos = {e.id: e for e in timeline.experts}
    segments = []
    cumulative = 0.0
    for r, (key, label, colour) in enumerate(rows):
        share = shares.get(key, 0.0)
        if mode == GRID:
            row_h = h / len(rows)
            rect = Rect(x, top + r * row_h, w, row_h)
        else:
            y0 = top + cumulative * h
            cumulative += share
            y1 = top + h if r == len(rows) - 1 else top + cumulative * h
            rect = Rect(x, y0, w, max(0.0, y1 - y0))
        if detailed:
            tooltip = vote_tooltip(infos[key].label, votes[key], infos[key].groups)
        else:
            aggregate = next(a for a in timeline.aggregates if a.key == key)
            parts = [f"{i} {infos[i].label}: {percent(votes[i].share)} (own prediction {votes[i].prediction:.3f}, "
                     f"confidence {votes[i].confidence:.3f})" for i in aggregate.experts]
            tooltip = f"{label}: share {share:.1%}\n" + "\n".join(parts)
        tooltip = f"{step.position}. {step.title}\n" + tooltip
        text = percent(share)
        labelled = None
        fits = rect.h >= lh and text_width(text) + 2 <= w
        if fits and not step.undecided and (mode == BARS and share > 0 or mode == GRID and share >= GRID_TEXT_SHARE):
            on_fill = mode == BARS or share >= 0.5
            labelled = Text(Rect(rect.x, rect.y + (rect.h - lh) / 2, w, lh), text, text, "center",
                            role="on_fill" if on_fill else "text", fill=colour)
        segments.append(Segment(f"cell:{index}:{key}", key, rect, share, colour, tooltip, step.item_id, labelled,
                                step.undecided))
    return segments


def no_overlaps(texts: Sequence[Text]) -> list[tuple[Text, Text]]:
    """Pairs of text boxes that overlap (the layout promises none)."""
    found = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a.rect.overlaps(b.rect):
                found.append((a, b))
    return found


__all__ = ["BARS", "GRID", "CHECK", "CROSS", "Column", "LegendItem", "Segment", "Text", "TimelineLayout",
           "UNDECIDED_TEXT", "compute_layout", "deciding_row", "expert_rows", "no_overlaps", "percent",
           "share_decider_text", "share_heading", "sitting_heading", "step_shares"]
