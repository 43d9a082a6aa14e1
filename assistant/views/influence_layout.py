"""Geometry of the influence-neighbour graph: which past ratings moved one predicted rating, drawn
as a bow-tie around the prediction.

Pure: no painting and no Qt. Text is measured through ``text_width(str) -> float`` callables (the
view passes ``QFontMetricsF.horizontalAdvance``), so the widget, its PNG/SVG export and the tests
share one function.

Picture, left to right: the profile's own rated movies | the predicted (user, movie) pair | the
other users who rated that movie. Each side shows its top N ratings by |influence|, most positive
at the top, and sums the rest into one "k more ratings" node, so nothing silently disappears and
the drawn values of a side always add up to the side's exact total. Each neighbour has one edge
into the centre, coloured by the sign of its influence, as wide as |influence| (one scale for the
whole picture, stated by the legend).

Layout: ``networkx.multipartite_layout`` with three layers (own ratings, the prediction, others'
ratings). It is chosen over a spring layout because it is deterministic without a seed, keeps the
two kinds of neighbour on their own sides (the meaning of a side is the point of the picture), puts
every node of a side on its own row (so labels never overlap and long movie titles have a column of
their own), and keeps the order we give it, which encodes the sign and size of each influence. The
layout gives the columns and the rows; the pixel distance between columns is then set by the
width of the labels and between rows by the line height.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from assistant.views.sankey_layout import Rect, TextBox, elide, elide_name, wrap

if TYPE_CHECKING:  # only the shape of the explanation is used
    import networkx as nx

    from engine.api import InfluenceExplanation, RatingInfluence

TextWidth = Callable[[str], float]

DEFAULT_TOP_N = 8
MIN_TOP_N = 1
MAX_TOP_N = 20

CENTRE = "centre"
OWN = "own"  # the kinds of node, as in engine.explain.influence, plus the centre and the groups
OTHER = "other"
REST = "rest"
LEFT, RIGHT = "left", "right"
_LAYER = {LEFT: 0, CENTRE: 1, RIGHT: 2}

WIDTH_MEANING = "line width = how many stars this rating moved the prediction"
STAR = "★"

# Sizes in logical pixels.
MARGIN = 12.0
NODE_RADIUS = 6.0
LABEL_PAD = 6.0  # between a node and its text
VALUE_GAP = 8.0  # between a name and its value on one line
CENTRE_PAD = 10.0  # inside the centre box
MIN_EDGE_SPAN = 36.0  # horizontal room kept for the edges on each side of the centre
MAX_EDGE_SPAN = 190.0  # and no more than this, so a wide view does not stretch them
MAX_EDGE_WIDTH = 12.0
MIN_DRAWN_WIDTH = 1.0  # a thinner line would not be seen: the only place widths are not proportional
ROW_GAP = 4.0
MAX_PITCH_LINES = 2.8  # rows never further apart than this many lines (a few nodes stay together)
MIN_NAME_WIDTH = 40.0  # below this a name is dropped and only the value is shown
LEGEND_GAP = 16.0
SWATCH_WIDTH = 26.0
_HIT_TOLERANCE = 3.0


# ---------------------------------------------------------------------------------------------
# Numbers as text


def _minus(text: str) -> str:
    return text.replace("-", "\u2212")  # a real minus sign reads better than a hyphen


def format_influence(value: float) -> str:
    """Short signed form for a label: +0.12, +0.034, -0.0042, 0."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 0.1:
        text = f"{value:+.2f}"
    elif magnitude >= 0.001:
        text = f"{value:+.3f}"
    else:
        text = f"{value:+.1e}"
    return _minus(text)


def exact_stars(value: float) -> str:
    """The value as tooltips give it: six significant digits, signed (ASCII, so it parses back)."""
    return f"{value:+.6g}"


def format_stars(rating: float) -> str:
    """A rating as stars: 5★, 3.5★."""
    return f"{rating:g}{STAR}"


def nice_sample(limit: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is at most `limit` (for the width legend)."""
    if limit <= 0 or not math.isfinite(limit):
        return 0.0
    power = 10.0 ** math.floor(math.log10(limit))
    for step in (5.0, 2.0, 1.0):
        if step * power <= limit * (1 + 1e-9):
            return step * power
    return power


# ---------------------------------------------------------------------------------------------
# The graph


@dataclass(frozen=True)
class SideSelection:
    """One side of the picture: the ratings drawn, top to bottom, and the ones summed into a group."""

    side: str  # LEFT (own ratings) or RIGHT (others' ratings)
    shown: tuple["RatingInfluence", ...]
    hidden: tuple["RatingInfluence", ...]
    total: int  # every related rating of this side

    @property
    def rest_value(self) -> float:
        return math.fsum(r.influence for r in self.hidden)


def select_side(ratings: Sequence["RatingInfluence"], side: str, top_n: int) -> SideSelection:
    """The `top_n` ratings by |influence| (ties: the explanation's order), drawn most positive first."""
    top_n = max(0, int(top_n))
    by_magnitude = sorted(range(len(ratings)), key=lambda i: (-abs(ratings[i].influence), i))
    keep = sorted(by_magnitude[:top_n], key=lambda i: (-ratings[i].influence, i))
    hidden = sorted(by_magnitude[top_n:])
    return SideSelection(side, tuple(ratings[i] for i in keep), tuple(ratings[i] for i in hidden), len(ratings))


def node_key(rating: "RatingInfluence") -> str:
    """A stable name for a rating's node: own ratings by movie, others' by user."""
    return f"{OWN}:{rating.item}" if rating.kind == OWN else f"{OTHER}:{rating.user}"


def rest_key(side: str) -> str:
    return f"{REST}:{side}"


def build_graph(explanation: "InfluenceExplanation", left: SideSelection, right: SideSelection) -> nx.DiGraph:
    """Neighbours -> the prediction. Nodes carry `layer`, `kind`, `side` and `value` (influence in
    stars; the predicted rating for the centre); edges carry `influence`. Within a side the nodes
    are inserted top to bottom, which is the order the layout keeps."""
    import networkx as nx  # here, not at import: the window starts without it (0.2 s)

    graph = nx.DiGraph()
    graph.add_node(CENTRE, layer=_LAYER[CENTRE], kind=CENTRE, side=CENTRE, value=explanation.predicted_rating)
    for selection in (left, right):
        for rating in selection.shown:
            key = node_key(rating)
            graph.add_node(key, layer=_LAYER[selection.side], kind=rating.kind, side=selection.side,
                           value=rating.influence, rating=rating)
            graph.add_edge(key, CENTRE, influence=rating.influence)
        if selection.hidden:
            key = rest_key(selection.side)
            value = selection.rest_value
            graph.add_node(key, layer=_LAYER[selection.side], kind=REST, side=selection.side, value=value,
                           members=selection.hidden)
            graph.add_edge(key, CENTRE, influence=value)
    return graph


def graph_positions(graph: nx.DiGraph) -> dict[str, tuple[float, int]]:
    """Column (-1 own, 0 centre, +1 others) and row offset from the middle of its column, in rows,
    for every node, from networkx's multipartite layout."""
    import networkx as nx

    layers: dict[int, list[str]] = {layer: [] for layer in _LAYER.values()}
    for key, data in graph.nodes(data=True):
        layers[data["layer"]].append(key)
    # A dict of layers keeps an empty side as a column of its own, so the centre stays central.
    raw = nx.multipartite_layout(graph, subset_key=layers, align="vertical")
    cx, cy = raw[CENTRE]
    # rescale_layout divides every coordinate by one factor: recover it to get back to rows.
    unit = max((abs(raw[k][0] - cx) for k in graph if k != CENTRE), default=1.0) or 1.0
    positions = {}
    for key in graph:
        x, y = raw[key]
        # networkx counts rows upwards from the first node inserted; the screen's y grows downwards,
        # so the first node (the most positive influence) ends up at the top.
        positions[key] = (round((x - cx) / unit), float((y - cy) / unit))
    return positions


# ---------------------------------------------------------------------------------------------
# The layout's value types


@dataclass(frozen=True)
class GraphNode:
    key: str
    kind: str  # CENTRE, OWN, OTHER or REST
    side: str  # LEFT, CENTRE or RIGHT
    x: float
    y: float
    radius: float
    value: float  # influence in stars (a group: the exact sum of its members); centre: the prediction
    label: TextBox  # name ("Alien (1979) 5★", "User 42 rated it 5★", "12 more ratings")
    value_label: TextBox  # the signed influence ("+0.12★"); empty for the centre
    tooltip: str
    movie_id: int | None = None  # own ratings: the movie, which a click selects in the profile
    user_id: int | None = None
    rating: float | None = None
    count: int = 1  # how many ratings the node stands for
    rect: Rect | None = None  # the centre's box

    @property
    def sign(self) -> int:
        return (self.value > 0) - (self.value < 0)

    @property
    def is_group(self) -> bool:
        return self.kind == REST

    def contains(self, x: float, y: float, tolerance: float = _HIT_TOLERANCE) -> bool:
        if self.rect is not None:
            return self.rect.contains(x, y)
        if math.hypot(x - self.x, y - self.y) <= self.radius + tolerance:
            return True
        return any(box.text and box.rect.contains(x, y) for box in (self.label, self.value_label))


@dataclass(frozen=True)
class GraphEdge:
    source: str  # the neighbour's node key; every edge ends at the centre
    value: float  # exact influence in stars
    width: float  # drawn width in pixels, proportional to |value|
    points: tuple[tuple[float, float], ...]  # cubic Bézier: start, control 1, control 2, end
    tooltip: str

    @property
    def sign(self) -> int:
        return (self.value > 0) - (self.value < 0)

    def point_at(self, t: float) -> tuple[float, float]:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.points
        u = 1 - t
        a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
        return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)

    def distance_to(self, x: float, y: float, samples: int = 32) -> float:
        points = [self.point_at(i / samples) for i in range(samples + 1)]
        return min(_segment_distance(x, y, p, q) for p, q in zip(points, points[1:]))

    @property
    def midpoint(self) -> tuple[float, float]:
        return self.point_at(0.5)


def _segment_distance(x: float, y: float, p: tuple[float, float], q: tuple[float, float]) -> float:
    dx, dy = q[0] - p[0], q[1] - p[1]
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((x - p[0]) * dx + (y - p[1]) * dy) / length))
    return math.hypot(x - (p[0] + t * dx), y - (p[1] + t * dy))


@dataclass(frozen=True)
class LegendItem:
    kind: str  # "positive", "negative" or "width"
    swatch: Rect  # where the sample line goes
    line_width: float  # the sample line's width
    label: TextBox


@dataclass(frozen=True)
class InfluenceLayout:
    width: float
    height: float
    nodes: tuple[GraphNode, ...] = ()  # the centre first, then the left side and the right side, top down
    edges: tuple[GraphEdge, ...] = ()
    centre_title: tuple[TextBox, ...] = ()  # the movie's title (bold), in the centre box
    centre_lines: tuple[TextBox, ...] = ()  # predicted rating; model, fold-in and rank
    headings: tuple[TextBox, ...] = ()
    legend: tuple[LegendItem, ...] = ()
    caption: tuple[TextBox, ...] = ()  # the explanation's note; a word when space hid ratings
    message_lines: tuple[TextBox, ...] = ()  # the empty state
    stacked: bool = False  # names above their values (narrow views) rather than beside them
    pixels_per_star: float = 0.0  # edge width per star of influence
    left: SideSelection | None = None
    right: SideSelection | None = None
    graph: nx.DiGraph | None = field(default=None, compare=False, repr=False)

    @property
    def centre(self) -> GraphNode | None:
        return self.nodes[0] if self.nodes and self.nodes[0].kind == CENTRE else None

    def node(self, key: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.key == key), None)

    def edge(self, source: str) -> GraphEdge | None:
        return next((e for e in self.edges if e.source == source), None)

    def side_nodes(self, side: str) -> tuple[GraphNode, ...]:
        return tuple(n for n in self.nodes if n.side == side)

    def text_boxes(self) -> list[TextBox]:
        """Every piece of text that will be drawn (non-empty only)."""
        boxes = [box for n in self.nodes for box in (n.label, n.value_label)]
        boxes += list(self.centre_title) + list(self.centre_lines) + list(self.headings)
        boxes += [item.label for item in self.legend] + list(self.caption) + list(self.message_lines)
        return [box for box in boxes if box.text]

    def node_at(self, x: float, y: float) -> GraphNode | None:
        for node in self.nodes:
            if node.contains(x, y):
                return node
        return None

    def item_at(self, x: float, y: float) -> GraphNode | None:
        """The node under a point, or the node whose edge passes within reach of it."""
        node = self.node_at(x, y)
        if node is not None:
            return node
        best, best_distance = None, None
        for edge in self.edges:
            distance = edge.distance_to(x, y)
            if distance <= edge.width / 2 + _HIT_TOLERANCE and (best_distance is None or distance < best_distance):
                best, best_distance = edge, distance
        return None if best is None else self.node(best.source)


# ---------------------------------------------------------------------------------------------
# Labels and tooltips


def _name(rating: "RatingInfluence", explanation: "InfluenceExplanation") -> str:
    if rating.kind == OWN:
        return rating.title
    return f"User {rating.user} rated it {format_stars(rating.rating)}"


def _name_suffix(rating: "RatingInfluence") -> str:
    return f" {format_stars(rating.rating)}" if rating.kind == OWN else ""


def _rest_name(count: int) -> str:
    return f"{count} more rating{'s' if count != 1 else ''}"


def _who(explanation: "InfluenceExplanation") -> str:
    return "You" if explanation.user_id is None else f"User {explanation.user_id}"


def _rating_tooltip(rating: "RatingInfluence", explanation: "InfluenceExplanation") -> str:
    if rating.kind == OWN:
        head = f"{rating.title}\n{_who(explanation)} rated it {format_stars(rating.rating)}."
    else:
        head = f"User {rating.user} rated {explanation.title} {format_stars(rating.rating)}."
    without = explanation.predicted_rating - rating.influence
    lines = [
        head,
        f"This rating moved the predicted rating by {exact_stars(rating.influence)} stars.",
        f"Without it the prediction would be about {without:.6g} stars (estimated, no retraining).",
    ]
    if rating.kind == OWN:
        lines.append("Click to select it in the profile.")
    return "\n".join(lines)


def _rest_tooltip(selection: SideSelection) -> str:
    up = [r.influence for r in selection.hidden if r.influence > 0]
    down = [r.influence for r in selection.hidden if r.influence < 0]
    what = "of the profile's ratings" if selection.side == LEFT else "ratings by other users"
    lines = [f"{_rest_name(len(selection.hidden))} {what}, not drawn one by one:",
             f"together they moved the predicted rating by {exact_stars(selection.rest_value)} stars"]
    if up:
        lines.append(f"{len(up)} raised it, by {exact_stars(math.fsum(up))} stars in all")
    if down:
        lines.append(f"{len(down)} lowered it, by {exact_stars(math.fsum(down))} stars in all")
    return "\n".join(lines)


def _centre_tooltip(explanation: "InfluenceExplanation") -> str:
    model = explanation.model.upper()
    lines = [explanation.title,
             f"Predicted rating: {explanation.predicted_rating:.6g} stars ({model})"]
    if explanation.fold_in:
        lines.append("An ad-hoc profile: its user factors were fitted to its ratings (fold-in), "
                     "with the movies' side of the model unchanged.")
    if explanation.rank is not None:
        lines.append(f"Rank {explanation.rank} by predicted rating among the movies the profile has not rated.")
    parts = math.fsum(explanation.parts)
    lines.append(f"The {len(explanation.ratings)} related ratings moved it by {exact_stars(parts)} stars "
                 f"in all (estimated by FIA); the other {exact_stars(explanation.remainder)} stars come "
                 "from the global mean, the biases and the rest of the model.")
    return "\n".join(lines)


def _centre_detail(explanation: "InfluenceExplanation") -> str:
    parts = [explanation.model.upper()]
    if explanation.fold_in:
        parts.append("fold-in")
    # The rank by predicted rating stays in the tooltip: beside the recommendation list's own
    # ranking it would read as a contradiction.
    return " · ".join(parts)


def _value_text(value: float, group: bool) -> str:
    return format_influence(value) + STAR + (" net" if group else "")


def _width_legend_text(sample: float) -> str:
    return f"{WIDTH_MEANING} (this one: {sample:g}{STAR})"


def _headings(explanation: "InfluenceExplanation", left: SideSelection, right: SideSelection) -> tuple[str, str]:
    own = "Your ratings" if explanation.user_id is None else f"User {explanation.user_id}'s ratings"
    return f"{own} ({left.total})", f"Others who rated it ({right.total})"


# ---------------------------------------------------------------------------------------------
# Layout


def _message_layout(width: float, height: float, title: str, message: str, text_width: TextWidth,
                    line_height: float) -> InfluenceLayout:
    room = max(0.0, width - 2 * MARGIN)
    lines = wrap(title, room, text_width, 2) + [""] + wrap(message, room, text_width, 4)
    top = max(MARGIN, (height - len(lines) * line_height) / 2)
    boxes = tuple(
        TextBox(Rect(MARGIN, top + i * line_height, room, line_height), line, line, "center")
        for i, line in enumerate(lines) if line
    )
    return InfluenceLayout(width, height, message_lines=boxes)


def _flow_legend(items: list[tuple[str, float, str]], width: float, bottom: float, text_width: TextWidth,
                 line_height: float) -> tuple[list[LegendItem], float]:
    """Legend items left to right, wrapping to a new row when one is full; returns them and the top
    of the legend (rows end at `bottom`)."""
    room = width - 2 * MARGIN
    rows: list[list[tuple[str, float, str, float]]] = [[]]
    used = 0.0
    for kind, line_width, text in items:
        text = elide(text, room - SWATCH_WIDTH - 6, text_width)
        size = SWATCH_WIDTH + 6 + text_width(text)
        if rows[-1] and used + LEGEND_GAP + size > room:
            rows.append([])
            used = 0.0
        used += (LEGEND_GAP if rows[-1] else 0.0) + size
        rows[-1].append((kind, line_width, text, size))
    top = bottom - len(rows) * line_height
    legend = []
    for r, row in enumerate(rows):
        x, y = MARGIN, top + r * line_height
        for kind, line_width, text, size in row:
            swatch = Rect(x, y + line_height / 2 - max(line_width, 2) / 2, SWATCH_WIDTH, max(line_width, 2))
            label = TextBox(Rect(x + SWATCH_WIDTH + 6, y, size - SWATCH_WIDTH - 6, line_height), text, text)
            legend.append(LegendItem(kind, swatch, line_width, label))
            x += size + LEGEND_GAP
    return legend, top


def _rows_that_fit(count: int, top_n: int, rows: int) -> int:
    """How many ratings of a side get a row of their own: all of them when they fit, else the top
    ones and one row for the group."""
    limit = min(top_n, rows)
    if count <= limit:
        return count
    return max(0, min(top_n, rows - 1))


def compute_layout(
    explanation: "InfluenceExplanation | None",
    width: float,
    height: float,
    *,
    text_width: TextWidth,
    line_height: float,
    title_text_width: TextWidth | None = None,
    title_line_height: float | None = None,
    top_n: int = DEFAULT_TOP_N,
) -> InfluenceLayout:
    """Where everything goes in a `width` x `height` picture of `explanation`. Pure and
    deterministic: the same explanation, size and fonts give the same layout."""
    title_text_width = title_text_width or text_width
    title_line_height = title_line_height or line_height
    top_n = max(MIN_TOP_N, min(MAX_TOP_N, int(top_n)))
    if explanation is None:
        return _message_layout(width, height, "No prediction selected",
                               "Select a recommendation to see which ratings moved its predicted rating.",
                               text_width, line_height)

    def too_small() -> InfluenceLayout:
        return _message_layout(width, height, "Too small to draw",
                               "Make this view larger to see which ratings moved the prediction.",
                               text_width, line_height)

    # ---- the centre box: the movie's title, the prediction, the model
    title_room = max(90.0, min(220.0, width * 0.24))
    title_lines = wrap(explanation.title, title_room, title_text_width, 2)
    prediction_text = f"predicted {explanation.predicted_rating:.2f}{STAR}"
    detail_text = _centre_detail(explanation)
    inner = max([title_text_width(t) for t in title_lines] + [text_width(prediction_text), text_width(detail_text)])
    box_w = inner + 2 * CENTRE_PAD
    box_h = len(title_lines) * title_line_height + 2 * line_height + 2 * CENTRE_PAD

    # ---- vertical bands: headings, graph, caption and legend
    bottom = height - MARGIN
    legend_items_text = [("positive", 4.0, "raised the prediction"), ("negative", 4.0, "lowered it")]
    # The width sample needs the scale, which needs the rows: learn the legend's height from a
    # sample at least as long as any real one (the final legend is never taller).
    _, legend_top = _flow_legend(legend_items_text + [("width", 4.0, _width_legend_text(0.0005))],
                                 width, bottom, text_width, line_height)
    caption_texts = [explanation.note] if explanation.note else []
    if not explanation.ratings:
        caption_texts.append("No ratings are related to this prediction.")
    caption_room = width - 2 * MARGIN
    graph_top = MARGIN + line_height + 8
    left_all = explanation.own
    right_all = explanation.others
    min_pitch = line_height + ROW_GAP

    def caption_height(texts: list[str]) -> float:
        lines = sum(len(wrap(t, caption_room, text_width, 2)) for t in texts)
        return lines * line_height + (6 if lines else 0)

    graph_height = legend_top - 10 - caption_height(caption_texts) - graph_top
    rows_wanted = max(min(top_n, len(left_all)), min(top_n, len(right_all)))
    shown_fewer = graph_height >= min_pitch and int(graph_height // min_pitch) < rows_wanted
    if shown_fewer:  # say so under the graph, which leaves it a little less room
        caption_texts.append(f"Showing fewer than the top {top_n} per side: make the view taller to see more.")
        graph_height = legend_top - 10 - caption_height(caption_texts) - graph_top
    if graph_height < max(min_pitch, box_h) or width < 240:
        return too_small()

    # ---- rows: one line per node, or two (name above value) when the labels need the width
    wide_rows = int(graph_height // min_pitch)
    stacked_pitch = 2 * line_height + ROW_GAP
    stacked_rows = int(graph_height // stacked_pitch)

    def choose(rows: int) -> tuple[SideSelection, SideSelection]:
        return (select_side(left_all, LEFT, _rows_that_fit(len(left_all), top_n, rows)),
                select_side(right_all, RIGHT, _rows_that_fit(len(right_all), top_n, rows)))

    # ---- columns: the label room left over, shared between the sides
    def natural(selection: SideSelection) -> tuple[float, float]:
        """(name width, value width) the side's labels would like."""
        names = [text_width(_name(r, explanation) + _name_suffix(r)) for r in selection.shown]
        if selection.hidden:
            names.append(text_width(_rest_name(len(selection.hidden))))
        values = [text_width(_value_text(r.influence, False)) for r in selection.shown]
        if selection.hidden:
            values.append(text_width(_value_text(selection.rest_value, True)))
        name = max(names, default=0.0)
        value = max(values, default=0.0)
        return name, value

    node_room = 2 * (LABEL_PAD + 2 * NODE_RADIUS)
    label_room = max(0.0, width - 2 * MARGIN - box_w - 2 * MIN_EDGE_SPAN - node_room)

    def label_widths(left: SideSelection, right: SideSelection, stacked: bool):
        (ln, lv), (rn, rv) = natural(left), natural(right)
        want_l = max(ln, lv) if stacked else (ln + VALUE_GAP + lv if ln else lv)
        want_r = max(rn, rv) if stacked else (rn + VALUE_GAP + rv if rn else rv)
        if not left.shown and not left.hidden:
            want_l = 0.0
        if not right.shown and not right.hidden:
            want_r = 0.0
        # every side keeps its values; what is left goes to the names, half each unless one needs less
        need_l = lv if want_l else 0.0
        need_r = rv if want_r else 0.0
        extra = label_room - need_l - need_r
        if extra < 0:
            return None
        more_l = min(want_l - need_l, max(extra / 2, extra - (want_r - need_r)))
        more_r = min(want_r - need_r, extra - more_l)
        return (need_l + more_l, lv, want_l), (need_r + more_r, rv, want_r)

    left, right = choose(wide_rows)
    widths = label_widths(left, right, False)
    if widths is None:
        return too_small()
    (wl, lv, want_l), (wr, rv, want_r) = widths
    stacked = False
    if (wl < want_l - 0.5 or wr < want_r - 0.5) and stacked_rows >= 2:
        # Names would be cut: put them above their values when the rows have the height for it.
        s_left, s_right = choose(stacked_rows)
        stacked_widths = label_widths(s_left, s_right, True)
        lost_rows = (len(left.shown) + len(right.shown)) - (len(s_left.shown) + len(s_right.shown))
        if lost_rows == 0 and stacked_widths is not None:
            (swl, slv, _), (swr, srv, _) = stacked_widths
            stacked = True
            left, right = s_left, s_right
            wl, lv, wr, rv = swl, slv, swr, srv

    graph = build_graph(explanation, left, right)
    positions = graph_positions(graph)
    rows_left = len(left.shown) + bool(left.hidden)
    rows_right = len(right.shown) + bool(right.hidden)
    max_rows = max(rows_left, rows_right, 1)
    least_pitch = stacked_pitch if stacked else min_pitch
    pitch = max(least_pitch, min(graph_height / max_rows, MAX_PITCH_LINES * line_height + (line_height if stacked else 0)))
    centre_y = graph_top + graph_height / 2

    left_x = MARGIN + wl + LABEL_PAD + NODE_RADIUS
    right_x = width - MARGIN - wr - LABEL_PAD - NODE_RADIUS
    if not (left.shown or left.hidden):
        left_x = MARGIN + NODE_RADIUS
    if not (right.shown or right.hidden):
        right_x = width - MARGIN - NODE_RADIUS
    spare = (right_x - left_x - box_w) - 2 * MAX_EDGE_SPAN
    if spare > 0:  # a wide view: keep the edges short and the picture together in the middle
        left_x += spare / 2
        right_x -= spare / 2
    centre_x = (left_x + right_x) / 2
    box = Rect(centre_x - box_w / 2, centre_y - box_h / 2, box_w, box_h)

    # ---- scale: one width per star for the whole picture
    shown_values = [abs(graph.edges[k, CENTRE]["influence"]) for k in graph if k != CENTRE]
    biggest = max(shown_values, default=0.0)
    max_width = min(MAX_EDGE_WIDTH, max(3.0, pitch * 0.6))
    pixels_per_star = max_width / biggest if biggest > 0 else 0.0

    # ---- nodes
    nodes: list[GraphNode] = []
    centre_tooltip = _centre_tooltip(explanation)
    nodes.append(GraphNode(
        CENTRE, CENTRE, CENTRE, centre_x, centre_y, 0.0, explanation.predicted_rating,
        TextBox(box, "", explanation.title), TextBox(box, "", ""), centre_tooltip,
        movie_id=None, user_id=explanation.user_id, count=len(explanation.ratings), rect=box,
    ))
    edges: list[GraphEdge] = []
    for selection, node_x, room, value_w in ((left, left_x, wl, lv), (right, right_x, wr, rv)):
        on_left = selection.side == LEFT
        keys = [node_key(r) for r in selection.shown] + ([rest_key(selection.side)] if selection.hidden else [])
        for key in keys:
            data = graph.nodes[key]
            column, row = positions[key]
            y = centre_y + row * pitch
            value = data["value"]
            if data["kind"] == REST:
                count = len(selection.hidden)
                name_text = _rest_name(count)
                name_full = name_text
                value_text = _value_text(value, True)
                tooltip = _rest_tooltip(selection)
                rating = None
            else:
                rating = data["rating"]
                count = 1
                name_full = _name(rating, explanation) + _name_suffix(rating)
                value_text = _value_text(value, False)
                tooltip = _rating_tooltip(rating, explanation)
            value_width = min(text_width(value_text), room)
            if stacked:
                name_room = room
                name_rect_y, value_rect_y = y - line_height, y
            else:
                name_room = room - value_w - VALUE_GAP
                name_rect_y = value_rect_y = y - line_height / 2
            if data["kind"] == REST or rating.kind == OTHER:
                name_text = elide(name_full, name_room, text_width)
            else:
                suffix = _name_suffix(rating)
                head = elide_name(rating.title, name_room - text_width(suffix), text_width)
                name_text = head + suffix if head else ""
            if name_room < MIN_NAME_WIDTH:
                name_text = ""
            text_x0 = node_x - NODE_RADIUS - LABEL_PAD if on_left else node_x + NODE_RADIUS + LABEL_PAD
            align = "right" if on_left else "left"
            if stacked:
                value_rect = Rect(text_x0 - value_width, value_rect_y, value_width, line_height) if on_left \
                    else Rect(text_x0, value_rect_y, value_width, line_height)
                name_width = text_width(name_text) if name_text else 0.0
                name_rect = Rect(text_x0 - name_width, name_rect_y, name_width, line_height) if on_left \
                    else Rect(text_x0, name_rect_y, name_width, line_height)
            else:
                # values in a column next to the nodes, names beyond them
                value_rect = Rect(text_x0 - value_w, value_rect_y, value_w, line_height) if on_left \
                    else Rect(text_x0, value_rect_y, value_w, line_height)
                name_width = text_width(name_text) if name_text else 0.0
                name_x = value_rect.x - VALUE_GAP - name_width if on_left else value_rect.right + VALUE_GAP
                name_rect = Rect(name_x, name_rect_y, name_width, line_height)
            nodes.append(GraphNode(
                key, data["kind"], selection.side, node_x, y, NODE_RADIUS, value,
                TextBox(name_rect, name_text, name_full, align),
                TextBox(value_rect, value_text, exact_stars(value), align),
                tooltip,
                movie_id=rating.item if rating is not None and rating.kind == OWN else None,
                user_id=rating.user if rating is not None else None,
                rating=rating.rating if rating is not None else None,
                count=count,
            ))

        # edges fan into the box's side, their ends spread in the order of the rows so none cross
        side_nodes = [n for n in nodes if n.side == selection.side]
        reach = max((abs(n.y - centre_y) for n in side_nodes), default=0.0) or 1.0
        end_x = box.x if on_left else box.right
        for node in side_nodes:
            end_y = centre_y + (node.y - centre_y) / reach * (box_h * 0.35)
            start_x = node.x + NODE_RADIUS if on_left else node.x - NODE_RADIUS
            bend = (end_x - start_x) * 0.5
            points = ((start_x, node.y), (start_x + bend, node.y), (end_x - bend, end_y), (end_x, end_y))
            edge_width = max(MIN_DRAWN_WIDTH, abs(node.value) * pixels_per_star) if pixels_per_star else MIN_DRAWN_WIDTH
            edges.append(GraphEdge(node.key, node.value, edge_width, points, node.tooltip))

    # ---- texts around the graph
    title_boxes = []
    text_top = box.y + CENTRE_PAD
    for i, line in enumerate(title_lines):
        title_boxes.append(TextBox(Rect(box.x, text_top + i * title_line_height, box_w, title_line_height),
                                   line, explanation.title, "center"))
    text_top += len(title_lines) * title_line_height
    centre_boxes = (
        TextBox(Rect(box.x, text_top, box_w, line_height), prediction_text, prediction_text, "center"),
        TextBox(Rect(box.x, text_top + line_height, box_w, line_height), detail_text, detail_text, "center"),
    )

    left_heading, right_heading = _headings(explanation, left, right)
    # just above the highest label of either side, so they read as the columns' titles
    highest = min((n.label.rect.y if n.label.text else n.value_label.rect.y
                   for n in nodes if n.kind != CENTRE), default=graph_top)
    heading_y = max(MARGIN, min(highest, box.y) - line_height - 6)
    headings = []
    # over each column of nodes, reaching outwards (where the labels are); moved inwards when the
    # outer side has too little room: up to the middle when they sit above the centre box
    above_box = heading_y + line_height <= box.y - 4
    inner_left = centre_x - 8 if above_box else box.x - 8
    inner_right = centre_x + 8 if above_box else box.right + 8
    if left.total or not right.total:
        end = left_x + NODE_RADIUS
        if end - title_text_width(left_heading) < MARGIN:
            end = max(end, min(inner_left, MARGIN + title_text_width(left_heading)))
        room = max(0.0, end - MARGIN)
        text = elide(left_heading, room, title_text_width)
        headings.append(TextBox(Rect(MARGIN, heading_y, room, line_height), text, left_heading, "right"))
    if right.total or not left.total:
        start = right_x - NODE_RADIUS
        if start + title_text_width(right_heading) > width - MARGIN:
            start = min(start, max(inner_right, width - MARGIN - title_text_width(right_heading)))
        room = max(0.0, width - MARGIN - start)
        text = elide(right_heading, room, title_text_width)
        headings.append(TextBox(Rect(start, heading_y, room, line_height), text, right_heading, "left"))

    # the legend, now with the scale's sample
    sample = nice_sample(biggest)
    legend_items = list(legend_items_text)
    if sample > 0:
        legend_items.append(("width", max(MIN_DRAWN_WIDTH, sample * pixels_per_star), _width_legend_text(sample)))
    legend, legend_top = _flow_legend(legend_items, width, bottom, text_width, line_height)

    caption = []
    texts = caption_texts
    lines = [line for t in texts for line in wrap(t, caption_room, text_width, 2)]
    y = legend_top - 6 - len(lines) * line_height
    for i, line in enumerate(lines):
        caption.append(TextBox(Rect(MARGIN, y + i * line_height, caption_room, line_height), line, line, "left"))

    return InfluenceLayout(
        width, height, tuple(nodes), tuple(edges), tuple(title_boxes), centre_boxes, tuple(headings),
        tuple(legend), tuple(caption), stacked=stacked, pixels_per_star=pixels_per_star,
        left=left, right=right, graph=graph,
    )
