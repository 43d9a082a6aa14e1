"""Geometry of the Sankey explanation view (the paper's figure 5): which profile features get a band,
how thick each band is, and where every piece of text goes.

Pure: no painting and no Qt. Text is measured through a ``text_width(str) -> float`` callable (the
view passes ``QFontMetricsF.horizontalAdvance``), so the widget, the PNG/SVG export and the tests all
use the same function.

Picture, left to right: feature labels (name, then the relevance) | one node per feature | bands |
the movie's node | the movie's title and probability. Positive features come first, most relevant at
the top; the ones beyond ``top_n`` are grouped into one "other features (k)" band so that the bands
always add up to the total positive relevance. Negative evidence, when asked for, is a second group
below, flowing into the lower part of the movie's node. A legend row at the bottom says what the
colours and widths mean.

Every band is a cubic Bézier ribbon whose control points sit halfway across, so at a given x every
edge is the same blend (``smoothstep``) of its start and end height: bands stacked in the same
order on both sides never cross, and hit testing needs no painter path.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from engine.api import GROUP_KIND, GROUP_RULE, group_members

if TYPE_CHECKING:  # only the shape of the explanation is used
    from engine.api import RelevanceExplanation

TextWidth = Callable[[str], float]

DEFAULT_TOP_N = 6
MAX_TOP_N = 12
CAPTION = "width = share of the score (LRP relevance)"
CAPTION_COMPRESSED = "width = share of the score (LRP relevance), except the band with a break mark"
ELLIPSIS = "…"

# Colour roles: the view maps each to a colour.
ROLES = ("movie", "user", "genre", "other", "negative")
ROLE_LABELS = {
    "movie": "movies",
    "user": "about you",
    "genre": "genres",
    "other": "other features",
    "negative": "against",
    "compressed": "drawn narrower",
}
_ROLE_OF_KIND = {"movie": "movie", GROUP_KIND: "movie", "gender": "user", "age": "user", "occupation": "user",
                 "genre": "genre"}
_KIND_LABELS = {
    "movie": "movie in the profile",
    "gender": "gender",
    "age": "age group",
    "occupation": "occupation",
    "genre": "genre of the profile's movies",
}

# Sizes in pixels (logical).
MARGIN = 12.0
NODE_WIDTH = 8.0
TARGET_WIDTH = 12.0
PAD = 6.0  # between a label column and its node, and between the movie node and its title
NAME_VALUE_SPACING = 12.0
MIN_THICKNESS = 2.0
MIN_GAP = 2.0
GROUP_RATIO = 1.5  # compress_groups: a group band at most this many times the largest named band
MIN_FLOW_WIDTH = 60.0
LEGEND_SPACING = 14.0
MAX_TITLE_LINES = 3
_TOLERANCE = 3.0  # how far outside a thin band a pointer still hits it


# ---------------------------------------------------------------------------------------------
# Small value types


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def left(self) -> float:
        return self.x

    @property
    def top(self) -> float:
        return self.y

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.right and self.y <= y <= self.bottom

    def overlaps(self, other: "Rect", eps: float = 1e-6) -> bool:
        """Whether the two share some area (touching edges do not count)."""
        return (
            min(self.right, other.right) - max(self.x, other.x) > eps
            and min(self.bottom, other.bottom) - max(self.y, other.y) > eps
        )

    def inside(self, width: float, height: float, eps: float = 1e-6) -> bool:
        return self.x >= -eps and self.y >= -eps and self.right <= width + eps and self.bottom <= height + eps


@dataclass(frozen=True)
class TextBox:
    """One line of text: what to draw (possibly elided), where, and the text it stands for."""

    rect: Rect
    text: str
    full_text: str
    align: str = "left"  # "left", "right" or "center" within rect


@dataclass(frozen=True)
class Band:
    name: str  # the feature's full name, or "other features (k)"
    kind: str  # the feature's kind ("movie", "age", ...), or "other" for a group
    key: str  # the feature's key (movie id as text for movies); "" for a group
    relevance: float  # exact: the feature's relevance, or the exact sum over a group
    role: str  # colour role, one of ROLES
    source: Rect  # the node on the left; its height is the band's thickness
    target_top: float  # the band's span on the movie's node
    target_bottom: float
    target_x: float  # x where the band meets the movie's node
    label: TextBox  # elided name ("" when there is no room)
    value: TextBox  # formatted relevance ("" when there is no room)
    tooltip: str
    members: tuple[tuple[str, float], ...] = ()  # (name, relevance) of the features in a group
    index: int = 0
    compressed: bool = False  # a group band drawn thinner than its relevance (see compress_groups)

    @property
    def thickness(self) -> float:
        return self.source.h

    @property
    def negative(self) -> bool:
        return self.relevance < 0

    @property
    def is_group(self) -> bool:
        return bool(self.members)

    @property
    def movie_id(self) -> int | None:
        if self.kind == "movie" and not self.members:
            try:
                return int(self.key)
            except ValueError:
                return None
        return None

    def curve_points(self) -> tuple[tuple[float, float], ...]:
        """The ribbon's outline for a painter: top edge (start, c1, c2, end), bottom edge reversed."""
        x0, x1 = self.source.right, self.target_x
        xm = (x0 + x1) / 2
        return (
            (x0, self.source.top), (xm, self.source.top), (xm, self.target_top), (x1, self.target_top),
            (x1, self.target_bottom), (xm, self.target_bottom), (xm, self.source.bottom), (x0, self.source.bottom),
        )

    def edges_at(self, x: float) -> tuple[float, float] | None:
        """(top, bottom) of the ribbon at x, or None outside its horizontal extent."""
        x0, x1 = self.source.right, self.target_x
        if not (x0 <= x <= x1) or x1 <= x0:
            return None
        # x(t) = x0 + (x1 - x0) * (1.5 t (1 - t) + t^3) is increasing: invert by bisection.
        goal = (x - x0) / (x1 - x0)
        lo, hi = 0.0, 1.0
        for _ in range(30):
            mid = (lo + hi) / 2
            if 1.5 * mid * (1 - mid) + mid**3 < goal:
                lo = mid
            else:
                hi = mid
        t = (lo + hi) / 2
        s = t * t * (3 - 2 * t)  # y control points sit at the ends: y(t) blends with smoothstep
        top = self.source.top + (self.target_top - self.source.top) * s
        bottom = self.source.bottom + (self.target_bottom - self.source.bottom) * s
        return top, bottom

    @property
    def center(self) -> tuple[float, float]:
        """The ribbon's midpoint (t = 0.5), a safe point to hover or click."""
        x = (self.source.right + self.target_x) / 2
        y = (self.source.top + self.source.bottom + self.target_top + self.target_bottom) / 4
        return (x, y)


@dataclass(frozen=True)
class LegendItem:
    role: str
    swatch: Rect
    label: TextBox


@dataclass(frozen=True)
class SankeyLayout:
    width: float
    height: float
    bands: tuple[Band, ...] = ()
    target: Rect | None = None  # the movie's node (positive part on top, negative part below)
    target_split: float | None = None  # y where the negative part starts, when there is one
    target_tooltip: str = ""
    title_lines: tuple[TextBox, ...] = ()
    probability: TextBox | None = None
    legend: tuple[LegendItem, ...] = ()
    caption: TextBox | None = None
    message_lines: tuple[TextBox, ...] = ()  # the empty state: a note instead of flows
    shown_positive: int = 0  # how many positive features got a band of their own
    shown_negative: int = 0
    scale: float = 0.0  # pixels of thickness per unit of relevance
    labels_shown: bool = True
    item_id: int | None = None
    # Over the bands: how much of the evidence the named bands carry, and what the grouped rest carries
    # (one or two lines).
    coverage_lines: tuple[TextBox, ...] = ()

    @property
    def coverage(self) -> TextBox | None:
        """The coverage sentence as one box around its lines (None when there was no room for it)."""
        if not self.coverage_lines:
            return None
        first, last = self.coverage_lines[0], self.coverage_lines[-1]
        right = max(line.rect.right for line in self.coverage_lines)
        return TextBox(Rect(first.rect.x, first.rect.y, right - first.rect.x, last.rect.bottom - first.rect.y),
                       " ".join(line.text for line in self.coverage_lines), first.full_text)

    @property
    def positive_bands(self) -> tuple[Band, ...]:
        return tuple(b for b in self.bands if b.relevance > 0)

    @property
    def negative_bands(self) -> tuple[Band, ...]:
        return tuple(b for b in self.bands if b.relevance < 0)

    def text_boxes(self) -> list[TextBox]:
        """Every piece of text that will be drawn (non-empty only)."""
        boxes = [box for band in self.bands for box in (band.label, band.value)]
        boxes += list(self.title_lines) + list(self.message_lines)
        boxes += [item.label for item in self.legend]
        boxes += list(self.coverage_lines)
        boxes += [box for box in (self.probability, self.caption) if box is not None]
        return [box for box in boxes if box.text]

    def band_at(self, x: float, y: float, tolerance: float = _TOLERANCE) -> Band | None:
        """The band under a point: its ribbon (or within `tolerance` of a thin one), node or label."""
        best, best_distance = None, tolerance
        for band in self.bands:
            if band.source.contains(x, y) or band.label.rect.contains(x, y) or band.value.rect.contains(x, y):
                if band.label.text or band.value.text or band.source.contains(x, y):
                    return band
            edges = band.edges_at(x)
            if edges is None:
                continue
            top, bottom = edges
            distance = 0.0 if top <= y <= bottom else min(abs(y - top), abs(y - bottom))
            if distance == 0.0:
                return band
            if distance <= best_distance:
                best, best_distance = band, distance
        return best

    def target_at(self, x: float, y: float) -> bool:
        if self.target is not None and self.target.contains(x, y):
            return True
        return any(line.rect.contains(x, y) for line in self.title_lines) or (
            self.probability is not None and self.probability.rect.contains(x, y)
        )


# ---------------------------------------------------------------------------------------------
# Text helpers


def format_relevance(value: float) -> str:
    """Short form for a label: +0.412, or +3.2e-05 for values that would round to zero."""
    if value == 0:
        return "0"
    if abs(value) >= 0.001:
        return f"{value:+.3f}"
    return f"{value:+.1e}"


def exact_relevance(value: float) -> str:
    """The value as tooltips give it: six significant digits."""
    return f"{value:+.6g}"


def elide(text: str, width: float, text_width: TextWidth) -> str:
    """`text` if it fits in `width`, else its longest prefix that fits with an ellipsis, else ""."""
    if width <= 0:
        return ""
    if text_width(text) <= width:
        return text
    if text_width(ELLIPSIS) > width:
        return ""
    lo, hi = 0, len(text)  # text[:lo] + … fits; text[:hi] + … does not (hi = len fits never: checked)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if text_width(text[:mid].rstrip() + ELLIPSIS) <= width:
            lo = mid
        else:
            hi = mid
    return text[:lo].rstrip() + ELLIPSIS


_YEAR = re.compile(r"^(.*\S)(\s+\(\d{4}\))$")


def elide_name(text: str, width: float, text_width: TextWidth) -> str:
    """Like `elide`, but a movie title keeps its year: "Dr. Strangelove or: How I… (1963)"."""
    if width <= 0 or text_width(text) <= width:
        return text if width > 0 else ""
    match = _YEAR.match(text)
    if match:
        head, year = match.groups()
        room = width - text_width(year)
        if room >= 0.5 * width:
            shortened = elide(head, room, text_width)
            if len(shortened) > 4:
                return shortened + year
    return elide(text, width, text_width)


def wrap(text: str, width: float, text_width: TextWidth, max_lines: int) -> list[str]:
    """Greedy word wrap into at most `max_lines` lines of `width`; the last one elided if need be."""
    if max_lines <= 0 or width <= 0:
        return []
    words = text.split()
    lines: list[str] = []
    i = 0
    while i < len(words):
        if len(lines) == max_lines - 1:
            lines.append(elide(" ".join(words[i:]), width, text_width))
            break
        line = words[i]
        i += 1
        while i < len(words) and text_width(line + " " + words[i]) <= width:
            line += " " + words[i]
            i += 1
        lines.append(elide(line, width, text_width))
    return [line for line in lines if line]


# ---------------------------------------------------------------------------------------------
# The layout


@dataclass(frozen=True)
class _Node:
    name: str
    kind: str
    key: str
    relevance: float
    role: str
    members: tuple[tuple[str, float], ...] = ()


def _group(features: Sequence, shown: int, negative: bool, explanation=None) -> list[_Node]:
    nodes = [
        _Node(f.name, f.kind, f.key, f.relevance, "negative" if negative else _ROLE_OF_KIND.get(f.kind, "other"),
              tuple((m.name, m.relevance) for m in group_members(explanation, f)))  # a genre group's movies
        for f in features[:shown]
    ]
    rest = features[shown:]
    if rest:
        count = len(rest)
        if shown == 0:
            name = f"{'negative' if negative else 'positive'} features ({count})"
        else:
            name = f"other negative ({count})" if negative else f"other features ({count})"
        nodes.append(
            _Node(
                name, "other", "", math.fsum(f.relevance for f in rest),
                "negative" if negative else "other", tuple((f.name, f.relevance) for f in rest),
            )
        )
    return nodes


def _tooltip(node: _Node, total: float, compressed: bool = False) -> str:
    side = "against" if node.relevance < 0 else "for"
    share = f"{node.relevance / total:.1%} of the evidence {side} this movie" if total else ""
    if node.members:
        lines = [node.name, f"together: relevance {exact_relevance(node.relevance)}"]
        lines += [f"  {name}: {exact_relevance(value)}" for name, value in node.members[:8]]
        if len(node.members) > 8:
            lines.append(f"  … and {len(node.members) - 8} more")
        if node.kind == GROUP_KIND:
            lines += [f"({GROUP_RULE})", "Click to show its movies" if not node.name.startswith("other ")
                      else "Click to fold them back into one band"]
    else:
        kind = _KIND_LABELS.get(node.kind, node.kind)
        lines = [node.name, f"{kind}: relevance {exact_relevance(node.relevance)}"]
    if share:
        lines.append(share)
    if compressed:
        lines.append("(drawn narrower than its share, to leave room for the features above)")
    return "\n".join(lines)


def _legend(roles: list[str], width: float, height: float, margin: float, line_height: float,
            text_width: TextWidth, rows: int | None = None,
            caption_full: str = CAPTION) -> tuple[tuple[LegendItem, ...], TextBox | None, int]:
    """Legend items and caption along the bottom, and how many rows they take (0, 1 or 2).

    One row when items and caption fit side by side, else items above the caption; rows are given up
    when the diagram would keep less than three lines of room. Passing `rows` reuses that decision."""
    inner = width - 2 * margin
    swatch = max(4.0, min(10.0, line_height * 0.6))
    item_widths = [swatch + 4 + text_width(ROLE_LABELS[r]) for r in roles]
    caption_width = text_width(caption_full)
    items_width = sum(item_widths) + LEGEND_SPACING * max(0, len(roles) - 1)
    if rows is None:
        rows = 1 if items_width + 2 * LEGEND_SPACING + caption_width <= inner else 2
        while rows and height - 2 * margin - rows * line_height - PAD < 3 * line_height:
            rows -= 1
    if rows == 0 or inner <= 0:
        return (), None, 0
    caption_y = height - margin - line_height
    caption_text = elide(caption_full, inner, text_width)
    caption_w = text_width(caption_text) if caption_text else 0.0
    caption = None
    if caption_text:  # right-aligned beside the items, left-aligned under them
        caption_x = width - margin - caption_w if rows == 1 else margin
        caption = TextBox(Rect(caption_x, caption_y, caption_w, line_height), caption_text, caption_full)
    items: list[LegendItem] = []
    y = caption_y if rows == 1 else caption_y - line_height
    limit = (width - margin - caption_w - 2 * LEGEND_SPACING) if rows == 1 else width - margin
    x = margin
    for role, w in zip(roles, item_widths):
        if x + w > limit + 1e-9:
            break
        text_box = TextBox(Rect(x + swatch + 4, y, w - swatch - 4, line_height), ROLE_LABELS[role], ROLE_LABELS[role])
        items.append(LegendItem(role, Rect(x, y + (line_height - swatch) / 2, swatch, swatch), text_box))
        x += w + LEGEND_SPACING
    return tuple(items), caption, rows


def _message_layout(width: float, height: float, title: str, message: str, margin: float,
                    line_height: float, text_width: TextWidth, title_width: TextWidth,
                    title_line_height: float, item_id: int | None) -> SankeyLayout:
    box_w = min(width - 2 * margin, 560.0)
    title_lines = wrap(title, box_w, title_width, min(2, int((height - 2 * margin) // title_line_height))) if title else []
    room = height - 2 * margin - len(title_lines) * title_line_height - (line_height / 2 if title_lines else 0)
    message_lines = wrap(message, box_w, text_width, max(0, int(room // line_height)))
    block = len(title_lines) * title_line_height + len(message_lines) * line_height
    if title_lines and message_lines:
        block += line_height / 2
    y = max(margin, (height - block) / 2)
    titles, lines = [], []
    for text in title_lines:
        w = title_width(text)
        titles.append(TextBox(Rect((width - w) / 2, y, w, title_line_height), text, title, "center"))
        y += title_line_height
    if title_lines:
        y += line_height / 2
    for text in message_lines:
        w = text_width(text)
        lines.append(TextBox(Rect((width - w) / 2, y, w, line_height), text, message, "center"))
        y += line_height
    return SankeyLayout(width, height, title_lines=tuple(titles), message_lines=tuple(lines), item_id=item_id)


def _remembered(measure: TextWidth) -> TextWidth:
    widths: dict[str, float] = {}

    def width(text: str) -> float:
        value = widths.get(text)
        if value is None:
            value = widths[text] = measure(text)
        return value

    return width


def compute_layout(
    explanation: "RelevanceExplanation | None",
    width: float,
    height: float,
    *,
    text_width: TextWidth,
    line_height: float,
    top_n: int = DEFAULT_TOP_N,
    show_negative: bool = False,
    title_text_width: TextWidth | None = None,
    title_line_height: float | None = None,
    min_thickness: float = MIN_THICKNESS,
    compress_groups: bool = False,
    group_ratio: float = GROUP_RATIO,
) -> SankeyLayout:
    """The Sankey diagram of `explanation` in a `width` x `height` area (see the module's docstring).

    `text_width` measures the label font, `title_text_width` the (bold) title font. When the area is
    too small for `top_n` labels per group, fewer features get a band of their own (the rest join the
    group band; `shown_positive`/`shown_negative` say how many) and, as a last resort, labels are left
    out; text never overlaps and never leaves the area.

    Every band is exactly as thick as its relevance (above the `min_thickness` floor). On real
    profiles the many small features beyond the top N often outweigh them together (MovieLens user 1:
    152 features carry 88% of the positive relevance), which leaves the named bands thin; with
    `compress_groups` a group band more than `group_ratio` times the group's largest named band is
    drawn at that ratio instead, marked `compressed` (the view draws a break mark on it), and keeps
    its exact value in its label and tooltip.
    """
    # Each text is measured once per layout: the legend, the caption and the labels ask again and again.
    title_width = _remembered(title_text_width or text_width)
    text_width = _remembered(text_width)
    title_lh = title_line_height or line_height
    top_n = max(1, min(MAX_TOP_N, int(top_n)))
    if width <= 0 or height <= 0:
        return SankeyLayout(max(0.0, width), max(0.0, height))
    margin = min(MARGIN, width * 0.025, height * 0.04)

    if explanation is None:
        return _message_layout(width, height, "", "No recommendation selected: pick one to see why it was chosen.",
                               margin, line_height, text_width, title_width, title_lh, None)
    positive = list(explanation.positive)
    negative = list(explanation.negative) if show_negative else []
    if not positive and not negative:
        if explanation.features:
            message = ("No feature of this profile speaks for this movie; "
                       "turn on negative evidence to see what speaks against it.")
        else:
            message = explanation.note or "This profile has no features to explain the recommendation with."
        return _message_layout(width, height, explanation.title, message, margin, line_height, text_width,
                               title_width, title_lh, explanation.item_id)

    # Legend first: it takes the bottom rows (sized for every colour that may show), the diagram the rest.
    possible = {_ROLE_OF_KIND.get(f.kind, "other") for f in positive[:top_n]} | ({"negative"} if negative else set())
    possible_roles = [r for r in ROLES if r in possible] + (["compressed"] if compress_groups else [])
    _, _, legend_rows = _legend(possible_roles, width, height, margin, line_height, text_width,
                                caption_full=CAPTION_COMPRESSED if compress_groups else CAPTION)
    legend_h = legend_rows * line_height + (PAD if legend_rows else 0.0)
    # The coverage sentence takes the top row (two when it is long for the width) when the diagram keeps
    # room for six more; its numbers are not known yet, but they hardly change its length.
    shown_guess = min(top_n, len(positive))
    guess = _coverage_sentence(explanation, shown_guess, len(positive) - shown_guess, 0.5)
    coverage_rows = 1 if text_width(guess) <= width - 2 * margin else 2
    while coverage_rows and height - 2 * margin - legend_h < (6 + coverage_rows) * line_height + PAD:
        coverage_rows -= 1
    coverage_h = coverage_rows * line_height + PAD if coverage_rows else 0.0
    top = margin + coverage_h
    bottom = height - margin - legend_h
    avail = max(0.0, bottom - top)

    # How many features get a band of their own: top_n per group, fewer if the labels would not fit
    # even with the narrowest gaps (the group gap between "for" and "against" counts as two gaps).
    def slot_counts(np_: int, nn: int) -> tuple[int, int]:
        return np_ + (len(positive) > np_), nn + (len(negative) > nn)

    def gap_count(cp: int, cn: int) -> int:
        return max(0, cp - 1) + max(0, cn - 1) + (2 if cp and cn else 0)

    def minimum_height(np_: int, nn: int, slot: float, gap: float) -> float:
        cp, cn = slot_counts(np_, nn)
        return (cp + cn) * max(slot, min_thickness) + gap * gap_count(cp, cn)

    n_pos, n_neg = min(top_n, len(positive)), min(top_n, len(negative))
    while minimum_height(n_pos, n_neg, line_height, MIN_GAP) > avail and (n_pos or n_neg):
        if n_neg > 0:
            n_neg -= 1
        else:
            n_pos -= 1
    labels_shown = minimum_height(n_pos, n_neg, line_height, MIN_GAP) <= avail
    slot_min = line_height if labels_shown else min_thickness
    if not labels_shown:
        negative, n_neg = [], 0  # no room to tell the groups apart: keep the evidence for
    nodes = _group(positive, n_pos, False, explanation) + _group(negative, n_neg, True, explanation)
    count_pos, count_neg = slot_counts(n_pos, n_neg)
    n_gaps = gap_count(count_pos, count_neg)
    # Gaps take at most a third of the room the labels leave; the rest goes to the bands.
    leftover = avail * 0.94 - minimum_height(n_pos, n_neg, slot_min, 0.0)
    max_gap = max(MIN_GAP, min(10.0, avail * 0.025))
    gap = min(max_gap, MIN_GAP + max(0.0, leftover - MIN_GAP * n_gaps) / 3 / n_gaps) if n_gaps else 0.0
    if minimum_height(n_pos, n_neg, slot_min, gap) > avail:  # only when even the labels do not fit
        gap = max(0.0, (avail - minimum_height(n_pos, n_neg, slot_min, 0.0)) / n_gaps) if n_gaps else 0.0
    group_gap = 2 * gap
    gaps_total = gap * n_gaps
    split_gap = gap if count_pos and count_neg else 0.0

    # Scale: the largest that keeps slots within the area and the movie's node under ~3/4 of it.
    magnitudes = [abs(n.relevance) for n in nodes]
    compressed = [False] * len(nodes)
    if compress_groups:
        for i, node in enumerate(nodes):
            named = [abs(m.relevance) for m in nodes if not m.members and (m.relevance < 0) == (node.relevance < 0)]
            if node.members and named and magnitudes[i] > group_ratio * max(named):
                magnitudes[i] = group_ratio * max(named)
                compressed[i] = True
    largest = max(magnitudes)

    def fits(scale: float) -> bool:  # called ~50 times per layout: one plain loop, same sums as before
        thick_total, slot_total = 0, 0
        for r in magnitudes:
            thick = scale * r
            if thick < min_thickness:
                thick = min_thickness
            thick_total += thick
            slot_total += thick if thick >= slot_min else slot_min
        return slot_total + gaps_total <= avail * 0.94 and thick_total + split_gap <= avail * 0.75

    scale = 0.0
    if largest > 0 and math.isfinite(largest) and avail > 0:
        hi = avail / largest
        if fits(hi):
            scale = hi
        elif fits(0.0):
            lo = 0.0
            for _ in range(50):
                mid = (lo + hi) / 2
                if fits(mid):
                    lo = mid
                else:
                    hi = mid
            scale = lo
    thicknesses = [max(scale * r, min_thickness) for r in magnitudes]
    slots = [max(t, slot_min) for t in thicknesses]
    block = sum(slots) + gaps_total

    # Horizontal: label column | nodes | flows | movie node | title column.
    inner = width - 2 * margin
    values = [format_relevance(n.relevance) for n in nodes]
    value_w = max(text_width(v) for v in values) if labels_shown else 0.0
    name_w = max(text_width(n.name) for n in nodes) if labels_shown else 0.0
    probability_text = score_text(explanation)
    left_nat = name_w + NAME_VALUE_SPACING + value_w if labels_shown else 0.0
    right_nat = max(title_width(explanation.title), text_width(probability_text))
    left_area = min(left_nat, 0.42 * inner)
    right_area = min(right_nat, 0.25 * inner)
    fixed = NODE_WIDTH + TARGET_WIDTH + 3 * PAD
    flow_w = inner - left_area - right_area - fixed
    wanted_flow = min(MIN_FLOW_WIDTH, max(0.0, inner - fixed) * 0.5)
    if flow_w < wanted_flow and left_area + right_area > 0:
        shrink = max(0.0, (inner - fixed - wanted_flow) / (left_area + right_area))
        left_area *= shrink
        right_area *= shrink
    node_x = margin + left_area + PAD
    target_x = width - margin - right_area - PAD - TARGET_WIDTH
    if target_x < node_x + NODE_WIDTH:  # absurdly narrow: no labels, just the flows
        left_area = right_area = 0.0
        node_x = margin
        target_x = max(node_x + NODE_WIDTH, width - margin - TARGET_WIDTH)

    # Labels: value right-aligned against the nodes, name in the rest of the column.
    value_col = value_w if value_w <= left_area else 0.0
    name_room = left_area - value_col - (NAME_VALUE_SPACING if value_col else 0.0)

    total_pos = math.fsum(n.relevance for n in nodes if n.relevance > 0)
    total_neg = math.fsum(n.relevance for n in nodes if n.relevance < 0)
    y = top + (avail - block) / 2
    target_total = sum(thicknesses) + split_gap
    target_top = top + (avail - target_total) / 2
    ty = target_top
    bands: list[Band] = []
    target_split = None
    for i, (node, thick, slot, value) in enumerate(zip(nodes, thicknesses, slots, values)):
        if i == count_pos and count_pos:
            y += group_gap - gap
            ty += split_gap
            target_split = ty
        source = Rect(node_x, y + (slot - thick) / 2, NODE_WIDTH, thick)
        label_y = y + slot / 2 - line_height / 2
        if labels_shown and value_col:
            vw = text_width(value)
            value_box = TextBox(Rect(margin + left_area - vw, label_y, vw, line_height), value, value, "right")
        else:
            value_box = TextBox(Rect(margin + left_area, label_y, 0.0, line_height), "", value, "right")
        shown = elide_name(node.name, name_room, text_width) if labels_shown else ""
        label_box = TextBox(Rect(margin, label_y, text_width(shown) if shown else 0.0, line_height), shown, node.name)
        bands.append(
            Band(
                node.name, node.kind, node.key, node.relevance, node.role, source, ty, ty + thick, target_x,
                label_box, value_box,
                _tooltip(node, total_pos if node.relevance > 0 else total_neg, compressed[i]),
                node.members, i, compressed[i],
            )
        )
        y += slot + gap
        ty += thick
    target = Rect(target_x, target_top, TARGET_WIDTH, target_total)
    shown_roles = {b.role for b in bands if not b.is_group or b.kind == GROUP_KIND}
    legend_roles = [r for r in ROLES if r in shown_roles or (r == "negative" and count_neg)]
    if any(compressed):
        legend_roles.append("compressed")
    legend, caption, _ = _legend(legend_roles, width, height, margin, line_height, text_width, legend_rows,
                                 caption_full=CAPTION_COMPRESSED if any(compressed) else CAPTION)
    coverage_full = coverage_text(explanation, nodes)
    coverage_lines = []
    for row, text in enumerate(wrap(coverage_full, inner, text_width, coverage_rows) if coverage_full else []):
        coverage_lines.append(TextBox(Rect(margin, margin + row * line_height, text_width(text), line_height),
                                      text, coverage_full))

    # The movie's title and probability, centred on its node and kept inside the diagram's area.
    title_lines: list[TextBox] = []
    probability_box = None
    title_x = target.right + PAD
    if right_area >= min(40.0, right_nat):
        max_lines = MAX_TITLE_LINES
        while max_lines >= 0:
            lines = wrap(explanation.title, right_area, title_width, max_lines)
            prob = elide(probability_text, right_area, text_width)
            block_h = len(lines) * title_lh + (line_height if prob else 0.0)
            if block_h <= avail:
                break
            max_lines -= 1
        if max_lines >= 0:
            centre = target.y + target.h / 2
            by = min(max(top, centre - block_h / 2), bottom - block_h)
            for text in lines:
                title_lines.append(TextBox(Rect(title_x, by, title_width(text), title_lh), text, explanation.title))
                by += title_lh
            if prob:
                probability_box = TextBox(Rect(title_x, by, text_width(prob), line_height), prob, probability_text)
    features_total = explanation.total_relevance
    target_tooltip = "\n".join(
        [
            explanation.title,
            f"probability {explanation.probability:.2%}",
            *([f"score {_score(explanation)}: its probability as a share of your top recommendation's (100)"]
              if getattr(explanation, "relative_score", None) is not None else []),
            *([f"explained as if it were not in your profile: it would rank {explanation.rank}"]
              if getattr(explanation, "left_out", False) else
              [f"rank {explanation.rank} among the movies you have not watched"]
              if getattr(explanation, "rank", None) is not None else []),
            f"score (logit) {explanation.logit:.4g} = features {features_total:+.4g}"
            f" + bias {explanation.bias_share:+.4g}"
            + (f" + stabiliser {explanation.absorbed:+.4g}" if explanation.absorbed else ""),
            f"evidence for: {exact_relevance(total_pos)}" + (f", against: {exact_relevance(total_neg)}" if total_neg else ""),
        ]
    )
    return SankeyLayout(
        width, height, tuple(bands), target, target_split, target_tooltip, tuple(title_lines), probability_box,
        legend, caption, (), n_pos, n_neg, scale, labels_shown, explanation.item_id, tuple(coverage_lines),
    )


def _score(explanation) -> int:
    """The relative score out of 100, never 0 for a movie the model gives any chance."""
    return max(1, round(100 * explanation.relative_score))


def score_text(explanation) -> str:
    """The score beside the movie's title: its rank and a score relative to the top recommendation
    ("rank 3 · score 64"), friendlier than a softmax probability of 0.7%; the probability when the
    explanation carries no rank (an empty profile's popularity ranking)."""
    rank = getattr(explanation, "rank", None)
    relative = getattr(explanation, "relative_score", None)
    if rank is None or relative is None:
        return f"probability {explanation.probability:.1%}"
    prefix = "would rank" if getattr(explanation, "left_out", False) else "rank"  # the coverage line says why
    return f"{prefix} {rank} · score {_score(explanation)}"


def share_text(share: float) -> str:
    """A share as a percentage that never reads 0% or 100% when it is not."""
    if 0 < share < 0.01:
        return "under 1%"
    if 0.99 < share < 1:
        return "over 99%"
    return f"{share:.0%}"


def coverage_text(explanation, nodes: Sequence[_Node]) -> str:
    """How much of the evidence for the movie the named bands carry, and what the grouped rest carries:
    "These 6 carry 11% of the evidence for this movie; the 152 other features together carry 89%."."""
    positive = [n for n in nodes if n.relevance > 0]
    total = math.fsum(n.relevance for n in positive)
    if total <= 0:
        return ""
    named = sum(1 for n in positive if n.kind != "other")
    rest = [n for n in positive if n.kind == "other"]
    if not rest:
        return _coverage_sentence(explanation, named, 0, 0.0)
    return _coverage_sentence(explanation, named, len(rest[0].members), rest[0].relevance / total)


def _coverage_sentence(explanation, named: int, others: int, rest_share: float) -> str:
    lead = "Explained as if it were not in your profile. " if getattr(explanation, "left_out", False) else ""
    if getattr(explanation, "groups", None):
        lead += "Your movies grouped by genre. "
    if not others:
        return f"{lead}These {named} carry all the evidence for this movie."
    if not named:
        return f"{lead}All {others} features are drawn as one band."
    return (f"{lead}These {named} carry {share_text(1 - rest_share)} of the evidence for this movie; "
            f"the {others} other features together carry {share_text(rest_share)}.")
