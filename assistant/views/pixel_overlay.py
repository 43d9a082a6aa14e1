"""The colours of the pixel lens's heatmaps, in NumPy (no Qt): a signed diverging colour map on one
scale for both images of a pair, and the blend of a grey product image with its heatmap.

The map runs blue (evidence against) through near-white (nothing) to red (evidence for), on
ColorBrewer's RdBu anchors, a scheme readers with red-green colour blindness still tell apart
(blue and red differ in lightness and hue for all three common types).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# RdBu, five classes, from -1 (blue) through 0 (near white) to +1 (red).
ANCHORS = np.array([
    [33, 102, 172],  # #2166ac
    [103, 169, 207],  # #67a9cf
    [247, 247, 247],  # #f7f7f7
    [239, 138, 98],  # #ef8a62
    [178, 24, 43],  # #b2182b
], dtype=np.float64)
ANCHOR_POSITIONS = np.linspace(-1.0, 1.0, len(ANCHORS))
DEFAULT_OPACITY = 0.6


def as_array(grid: Sequence[Sequence[float]]) -> np.ndarray:
    """A heatmap's nested tuples as a float64 (rows, cols) array."""
    return np.asarray(grid, dtype=np.float64)


def shared_scale(*grids: Sequence[Sequence[float]]) -> float:
    """The largest |relevance| over all `grids`: the one scale both images of a pair are drawn on,
    so that equal colours mean equal relevance. 0 when every cell is 0."""
    peak = max((float(np.max(np.abs(as_array(g)))) for g in grids if len(g)), default=0.0)
    return peak if np.isfinite(peak) else 0.0


def diverging_colours(values: np.ndarray, scale: float) -> np.ndarray:
    """RGB (uint8, shape values.shape + (3,)) of signed `values` on the symmetric range ±`scale`;
    values beyond it take the end colours (never happens with `shared_scale`)."""
    values = np.asarray(values, dtype=np.float64)
    t = np.zeros_like(values) if scale <= 0 else np.clip(values / scale, -1.0, 1.0)
    channels = [np.interp(t, ANCHOR_POSITIONS, ANCHORS[:, c]) for c in range(3)]
    return np.rint(np.stack(channels, axis=-1)).astype(np.uint8)


def blend(image: np.ndarray, heat: np.ndarray, opacity: float) -> np.ndarray:
    """The grey `image` (uint8, rows x cols) under the RGB `heat` at `opacity` (0: the image only,
    1: the heatmap only), as RGB uint8."""
    opacity = float(min(1.0, max(0.0, opacity)))
    grey = np.repeat(np.asarray(image, dtype=np.float64)[..., None], 3, axis=-1)
    mixed = (1.0 - opacity) * grey + opacity * np.asarray(heat, dtype=np.float64)
    return np.rint(mixed).astype(np.uint8)


def overlay(image: np.ndarray, grid: Sequence[Sequence[float]], scale: float, opacity: float) -> np.ndarray:
    """One image of a pair with its heatmap on the pair's `scale`, as RGB uint8."""
    heat = diverging_colours(as_array(grid), scale)
    if heat.shape[:2] != np.shape(image):
        raise ValueError(f"A {heat.shape[0]}x{heat.shape[1]} heatmap does not fit a "
                         f"{np.shape(image)[0]}x{np.shape(image)[1]} image.")
    return blend(image, heat, opacity)


def rgb32(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (rows, cols, 3) packed as 0xffRRGGBB uint32, the layout of QImage.Format_RGB32."""
    rgb = np.asarray(rgb, dtype=np.uint32)
    return np.ascontiguousarray((0xFF << 24) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2], dtype=np.uint32)
