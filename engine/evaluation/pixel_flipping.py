"""Pixel flipping by regions (Samek et al. 2017; the paper's Fig. 3; specs/pixels.md section 3.3).

One image of each pair (the candidate) is cut into square regions; a method's map orders them by
their summed relevance, most relevant first (MoRF) or least relevant first (LeRF), and the regions
are replaced one by one by noise that is fixed in advance and shared by every method (a paired
comparison). After each step the relation logit is recorded. Then

    AOPC@L = mean over pairs of (1 / (L + 1)) * sum_{k=0..L} (z_0 - z_k)       (z_k: after k regions)
    ABPC@L = AOPC@L(MoRF) - AOPC@L(LeRF)     (Schulz et al. 2020: the area between the two curves,
                                              which cancels the damage noise does anywhere)

and the share of pairs still predicted related (z > 0) after k regions, the paper's accuracy curve.
Plain numpy over a logit function: the benchmark binds it to the model with the queries fixed.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

REGION = 2  # pixels per side: the notes' 2x2 regions, 196 per 28x28 image

LogitFunction = Callable[[np.ndarray], np.ndarray]  # (n, H, W) candidates -> (n,) logits


def region_scores(maps: np.ndarray, region: int = REGION) -> np.ndarray:
    """(n, H, W) maps -> (n, regions) summed relevance per region, regions in row-major order."""
    n, height, width = maps.shape
    if height % region or width % region:
        raise ValueError(f"a {height}x{width} image does not split into {region}x{region} regions")
    blocks = maps.reshape(n, height // region, region, width // region, region)
    return blocks.sum(axis=(2, 4)).reshape(n, -1)


def region_order(maps: np.ndarray, most_relevant_first: bool = True, region: int = REGION) -> np.ndarray:
    """(n, regions) region indices, by decreasing (MoRF) or increasing (LeRF) summed relevance; ties
    keep row-major order in both, so LeRF is not simply MoRF reversed where regions tie."""
    scores = region_scores(maps, region)
    return np.argsort(-scores if most_relevant_first else scores, axis=1, kind="stable")


def perturbation_curves(logits: LogitFunction, images: np.ndarray, order: np.ndarray, noise: np.ndarray,
                        steps: int, region: int = REGION) -> np.ndarray:
    """(n, steps + 1) logits: column k after the first k regions of `order` were replaced by `noise`."""
    images = np.asarray(images, dtype=np.float32)
    if noise.shape != images.shape:
        raise ValueError(f"noise is {noise.shape}, the images {images.shape}")
    if steps > order.shape[1]:
        raise ValueError(f"{steps} steps but only {order.shape[1]} regions")
    n, _, width = images.shape
    per_row = width // region
    current = images.copy()
    rows = np.arange(n)
    curves = np.empty((n, steps + 1), dtype=np.float64)
    curves[:, 0] = logits(current)
    for k in range(steps):
        top, left = (order[:, k] // per_row) * region, (order[:, k] % per_row) * region
        for dy in range(region):
            for dx in range(region):
                current[rows, top + dy, left + dx] = noise[rows, top + dy, left + dx]
        curves[:, k + 1] = logits(current)
    return curves


def aopc(curves: np.ndarray, regions: int) -> float:
    """Area over the perturbation curve after `regions` steps: the mean logit drop over k = 0..regions."""
    if regions >= curves.shape[1]:
        raise ValueError(f"AOPC@{regions} needs {regions + 1} curve points, the curves have {curves.shape[1]}")
    drops = curves[:, :1] - curves[:, : regions + 1]
    return float(drops.mean())


def abpc(morf: np.ndarray, lerf: np.ndarray, regions: int) -> float:
    """Most- minus least-relevant-first AOPC after `regions` steps."""
    return aopc(morf, regions) - aopc(lerf, regions)


def abpc_per_pair(morf: np.ndarray, lerf: np.ndarray, regions: int) -> np.ndarray:
    """(n,) each pair's ABPC after `regions` steps; their mean is `abpc`."""
    def area(curves: np.ndarray) -> np.ndarray:
        return (curves[:, :1] - curves[:, : regions + 1]).mean(1)

    return area(morf) - area(lerf)


def bootstrap_interval(values: np.ndarray, seed: int = 0, resamples: int = 2000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (pairs resampled with replacement)."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def still_related(curves: np.ndarray) -> np.ndarray:
    """(steps + 1,) share of pairs with logit > 0 after k regions."""
    return (curves > 0).mean(axis=0)


def mean_drop(curves: np.ndarray) -> np.ndarray:
    """(steps + 1,) mean logit drop after k regions (the curve AOPC averages)."""
    return (curves[:, :1] - curves).mean(axis=0)
