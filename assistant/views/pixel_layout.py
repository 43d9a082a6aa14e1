"""Where the Pixel relevance drawing puts things (no Qt, so it is tested without a screen): the two
images side by side as squares of whole pixels (nearest-neighbour upscaling with no blurred
edges), the colour bar beside them, and the logit's decomposition bar under them; and which image
pixel a point falls on, for hover.

The decomposition bar is a diverging stacked bar: each term of the logit extends from zero, the
positive ones to the right and the negative ones to the left, and a tick marks their sum (the
logit) on the same axis.
"""
from __future__ import annotations

from dataclasses import dataclass

from assistant.views.pixel_state import IMAGES

MARGIN = 12.0
GAP = 18.0  # between the two images
COLOUR_BAR_WIDTH = 16.0
COLOUR_BAR_LABELS = 64.0  # room for "+0.0123" right of the colour bar
BAR_HEIGHT = 16.0
MIN_PIXEL = 2  # screen pixels per image pixel, at the least


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.right and self.y <= py < self.bottom


@dataclass(frozen=True)
class PairLayout:
    width: float
    height: float
    heading: Box  # "Related for the brand shopper: P = 0.93"
    labels: dict[str, Box]  # per image: "Query #17 · Sneaker · plus mark"
    images: dict[str, Box]  # per image: the square the upscaled image fills
    cell: float  # screen pixels per image pixel
    colour_bar: Box
    view_caption: Box  # what the colours mean in this view
    bar: Box  # the decomposition bar's axis area
    bar_labels: Box  # the decomposition's numbers under the bar
    grid_size: int

    def pixel_at(self, x: float, y: float) -> tuple[str, int, int] | None:
        """(image, row, col) of the image pixel under (x, y), or None."""
        for image, box in self.images.items():
            if box.contains(x, y):
                row = min(self.grid_size - 1, int((y - box.y) // self.cell))
                col = min(self.grid_size - 1, int((x - box.x) // self.cell))
                return image, row, col
        return None

    def pixel_box(self, image: str, row: int, col: int) -> Box:
        box = self.images[image]
        return Box(box.x + col * self.cell, box.y + row * self.cell, self.cell, self.cell)


SIDE_PANEL = 250.0  # width of the caption and decomposition beside the images, in a wide drawing


def pair_layout(width: float, height: float, line: float, grid_size: int = 28) -> PairLayout:
    """The layout for a `width` x `height` drawing whose text lines are `line` high. The caption and
    the decomposition go under the images, or beside them when that leaves the images larger (a
    wide, low drawing, e.g. the tab above the conversation)."""
    top = MARGIN
    heading = Box(MARGIN, top, max(0.0, width - 2 * MARGIN), line * 1.3)
    top = heading.bottom + 6
    label_top = top
    top += 2 * line + 4  # each image's label: its id, then its garment and mark
    below = 2 * line + 8 + BAR_HEIGHT + 6 + 3 * line + MARGIN  # caption, bar, its label lines
    pair_width = 2 * MARGIN + GAP + 10 + COLOUR_BAR_WIDTH + COLOUR_BAR_LABELS
    stacked = min((width - pair_width) / 2, height - top - below)
    beside = min((width - pair_width - SIDE_PANEL) / 2, height - top - MARGIN)
    wide = beside > 1.2 * stacked
    side = max(grid_size * MIN_PIXEL, beside if wide else stacked)
    cell = max(float(MIN_PIXEL), float(int(side // grid_size)))  # whole screen pixels per image pixel
    side = cell * grid_size
    images, labels = {}, {}
    x = MARGIN
    for image in IMAGES:
        images[image] = Box(x, top, side, side)
        labels[image] = Box(x, label_top, side + GAP - 4, 2 * line)
        x += side + GAP
    colour_bar = Box(x - GAP + 10, top, COLOUR_BAR_WIDTH, side)
    if wide:
        left = colour_bar.right + COLOUR_BAR_LABELS
        column = max(120.0, width - left - MARGIN)
        caption = Box(left, top, column, 4 * line)
        bar = Box(left, caption.bottom + 8, column, BAR_HEIGHT)
        bar_labels = Box(left, bar.bottom + 6, column, 6 * line)
    else:
        caption = Box(MARGIN, top + side + 6, max(0.0, width - 2 * MARGIN), 2 * line)
        bar_width = max(120.0, images["candidate"].right - MARGIN)
        bar = Box(MARGIN, caption.bottom + 8, bar_width, BAR_HEIGHT)
        bar_labels = Box(MARGIN, bar.bottom + 6, max(bar_width, width - 2 * MARGIN), 3 * line)
    return PairLayout(width, height, heading, labels, images, cell, colour_bar, caption, bar, bar_labels, grid_size)


@dataclass(frozen=True)
class BarSegment:
    label: str
    value: float
    x0: float  # screen x where the segment starts (nearer zero) ...
    x1: float  # ... and ends


@dataclass(frozen=True)
class DecompositionBar:
    zero_x: float
    total_x: float  # where the logit falls
    segments: tuple[BarSegment, ...]


def decomposition_bar(terms: tuple[tuple[str, float], ...], box: Box) -> DecompositionBar:
    """The stacked diverging bar of `terms` in `box`: positives stacked rightwards from zero,
    negatives leftwards, on one linear axis that holds both stacks and their sum."""
    positive = sum(v for _, v in terms if v > 0)
    negative = sum(v for _, v in terms if v < 0)
    low, high = min(negative, 0.0), max(positive, 0.0)
    span = (high - low) or 1.0
    scale = box.w / span

    def at(value: float) -> float:
        return box.x + (value - low) * scale

    segments, up, down = [], 0.0, 0.0
    for label, value in terms:
        if value >= 0:
            segments.append(BarSegment(label, value, at(up), at(up + value)))
            up += value
        else:
            segments.append(BarSegment(label, value, at(down), at(down + value)))
            down += value
    return DecompositionBar(at(0.0), at(sum(v for _, v in terms)), tuple(segments))
