"""The planted "brand marks" of the pixel lens's catalogue: the known right answer for its heatmaps.

Every image gets one 5×5 mark pasted over it (the whole box overwritten: 9 pixels at full ink,
16 at background): brand 0 "plus" (middle row and column lit), brand 1 "cross" (both diagonals),
at one of four corners one pixel in from the edge. Brand and corner are drawn uniformly with a seed
per split, so the same seed gives the same marks on every machine; the manifest records the seed,
the boxes and a digest of the drawn layout. The ground-truth region of an image is its 5×5 box
(25 of 784 pixels).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from engine.errors import InvalidInputError

MARK_SIZE = 5
BRANDS: tuple[str, ...] = ("plus", "cross")
# (row, column) of each box's top-left pixel on the 28×28 image.
CORNERS: tuple[tuple[int, int], ...] = ((1, 1), (1, 22), (22, 1), (22, 22))
CORNER_NAMES: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
MARK_SEED = 0
# Each split draws its marks from its own stream, so adding test images never moves a training mark.
SPLIT_STREAMS = {"train": 0, "test": 1}
INK = 255  # a lit mark pixel in the uint8 images (1.0 once scaled to [0, 1])


def _pattern(brand: str) -> np.ndarray:
    box = np.zeros((MARK_SIZE, MARK_SIZE), dtype=bool)
    middle = MARK_SIZE // 2
    if brand == "plus":
        box[middle, :] = box[:, middle] = True
    else:
        np.fill_diagonal(box, True)
        np.fill_diagonal(box[:, ::-1], True)
    return box


PATTERNS: dict[str, np.ndarray] = {brand: _pattern(brand) for brand in BRANDS}


@dataclass(frozen=True, eq=False)
class BrandMarks:
    """The marks of one split: `brand[i]` indexes BRANDS, `corner[i]` indexes CORNERS."""

    split: str
    seed: int
    brand: np.ndarray  # (n,) int8
    corner: np.ndarray  # (n,) int8

    def __len__(self) -> int:
        return len(self.brand)

    def box(self, item: int) -> tuple[int, int, int, int]:
        """(row, column, height, width) of item's mark box: the JSON's `mark_box`."""
        row, col = CORNERS[int(self.corner[item])]
        return row, col, MARK_SIZE, MARK_SIZE

    def boxes(self) -> np.ndarray:
        """(n, 4) int array of every item's (row, column, height, width)."""
        corners = np.asarray(CORNERS, dtype=np.int64)[self.corner]
        size = np.full((len(self), 2), MARK_SIZE, dtype=np.int64)
        return np.concatenate([corners, size], axis=1)

    def brand_name(self, item: int) -> str:
        return BRANDS[int(self.brand[item])]

    def region(self, items: np.ndarray | list[int]) -> np.ndarray:
        """(k, 28, 28) bool: the ground-truth region (the mark box) of each item asked for."""
        items = np.asarray(items, dtype=np.int64)
        masks = np.zeros((len(items), 28, 28), dtype=bool)
        for number, item in enumerate(items):
            row, col, height, width = self.box(int(item))
            masks[number, row:row + height, col:col + width] = True
        return masks

    def layout_digest(self) -> str:
        """SHA-256 of the drawn brands and corners: pins the layout in a manifest."""
        digest = hashlib.sha256(np.ascontiguousarray(self.brand, dtype=np.int8).tobytes())
        digest.update(np.ascontiguousarray(self.corner, dtype=np.int8).tobytes())
        return digest.hexdigest()

    def manifest(self) -> dict:
        """What a model manifest records about these marks (JSON-ready)."""
        return {
            "split": self.split,
            "seed": self.seed,
            "count": len(self),
            "mark_size": MARK_SIZE,
            "patterns": marks_legend(),
            "boxes": {name: [row, col, MARK_SIZE, MARK_SIZE] for name, (row, col) in zip(CORNER_NAMES, CORNERS)},
            "per_brand": np.bincount(self.brand, minlength=len(BRANDS)).tolist(),
            "per_corner": np.bincount(self.corner, minlength=len(CORNERS)).tolist(),
            "layout_sha256": self.layout_digest(),
        }


def marks_legend() -> dict[str, list[str]]:
    """Each brand's 5×5 pattern as rows of '#' (ink) and '.' (background)."""
    return {brand: ["".join("#" if lit else "." for lit in row) for row in pattern]
            for brand, pattern in PATTERNS.items()}


def draw_marks(count: int, split: str, seed: int = MARK_SEED) -> BrandMarks:
    """Brand and corner of each of `count` images of `split`, uniform, reproducible from the seed."""
    if split not in SPLIT_STREAMS:
        raise InvalidInputError(f"Unknown split {split!r}; known splits: {', '.join(SPLIT_STREAMS)}.")
    rng = np.random.default_rng([seed, SPLIT_STREAMS[split]])
    brand = rng.integers(0, len(BRANDS), count).astype(np.int8)
    corner = rng.integers(0, len(CORNERS), count).astype(np.int8)
    return BrandMarks(split, seed, brand, corner)


def plant_marks(images: np.ndarray, marks: BrandMarks) -> np.ndarray:
    """A copy of the uint8 images (n, 28, 28) with each mark pasted over its box."""
    if len(images) != len(marks):
        raise InvalidInputError(f"{len(images)} images but {len(marks)} marks.")
    planted = np.array(images, dtype=np.uint8, copy=True)
    stamps = np.stack([PATTERNS[brand].astype(np.uint8) * INK for brand in BRANDS])
    for corner, (row, col) in enumerate(CORNERS):
        chosen = np.flatnonzero(marks.corner == corner)
        planted[chosen, row:row + MARK_SIZE, col:col + MARK_SIZE] = stamps[marks.brand[chosen]]
    return planted
