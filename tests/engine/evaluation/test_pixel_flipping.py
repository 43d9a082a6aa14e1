"""Pixel flipping by regions: orders, curves, AOPC/ABPC and the accuracy curve by hand on a linear
logit; a random order's ABPC is near zero on average while a true ordering's is not."""
from __future__ import annotations

import numpy as np
import pytest

from engine.evaluation.pixel_baselines import random_maps
from engine.evaluation.pixel_flipping import (
    abpc, abpc_per_pair, aopc, bootstrap_interval, mean_drop, perturbation_curves, region_order, region_scores,
    still_related,
)

# A 4x4 image of four 2x2 regions: top-left, top-right, bottom-left, bottom-right.
REGION_VALUES = np.array([1.0, 0.5, 0.25, 0.0])


def blocks(values) -> np.ndarray:
    return np.kron(np.asarray(values, dtype=np.float32).reshape(2, 2), np.ones((2, 2), np.float32))[None]


def pixel_sum(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).sum(1)


def test_regions_are_summed_and_ordered_both_ways():
    image = blocks(REGION_VALUES)
    np.testing.assert_allclose(region_scores(image)[0], 4 * REGION_VALUES)
    np.testing.assert_array_equal(region_order(image)[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(region_order(image, most_relevant_first=False)[0], [3, 2, 1, 0])
    with pytest.raises(ValueError):
        region_scores(np.zeros((1, 5, 5)))


def test_aopc_abpc_and_accuracy_of_a_known_ordering_by_hand():
    image, noise = blocks(REGION_VALUES), np.zeros((1, 4, 4), np.float32)
    shifted = lambda x: pixel_sum(x) - 0.5  # noqa: E731 -- logit 6.5, related while any ink is left
    morf = perturbation_curves(shifted, image, region_order(image), noise, steps=4)
    lerf = perturbation_curves(shifted, image, region_order(image, False), noise, steps=4)
    np.testing.assert_allclose(morf[0], [6.5, 2.5, 0.5, -0.5, -0.5])  # regions of 4, 2, 1, 0 removed
    np.testing.assert_allclose(lerf[0], [6.5, 6.5, 5.5, 3.5, -0.5])
    assert aopc(morf, 2) == pytest.approx((0 + 4 + 6) / 3)
    assert aopc(lerf, 2) == pytest.approx((0 + 0 + 1) / 3)
    assert abpc(morf, lerf, 2) == pytest.approx(3.0)
    assert aopc(morf, 0) == 0.0
    np.testing.assert_allclose(still_related(morf), [1, 1, 1, 0, 0])
    np.testing.assert_allclose(mean_drop(lerf), [0, 0, 1, 3, 7])
    with pytest.raises(ValueError):
        aopc(morf, 5)


def test_noise_replaces_exactly_the_ordered_regions():
    image = np.zeros((2, 4, 4), np.float32)
    noise = np.arange(32, dtype=np.float32).reshape(2, 4, 4)
    seen = []
    perturbation_curves(lambda x: seen.append(x.copy()) or pixel_sum(x), image, np.array([[3, 0, 1, 2], [1, 2, 3, 0]]),
                        noise, steps=1)
    after = seen[1]
    np.testing.assert_array_equal(after[0, 2:, 2:], noise[0, 2:, 2:])
    np.testing.assert_array_equal(after[1, :2, 2:], noise[1, :2, 2:])
    assert after[0].sum() == noise[0, 2:, 2:].sum() and after[1].sum() == noise[1, :2, 2:].sum()


def test_random_orders_have_abpc_near_zero_and_the_true_relevance_does_not():
    """Noise hurts anywhere on this logit, but most where the image differs most from the noise."""
    rng = np.random.default_rng(1)
    n, side = 400, 8
    images = (rng.uniform(size=(n, side, side)) < 0.4).astype(np.float32)
    noise = rng.uniform(size=(n, side, side)).astype(np.float32)
    reference = images.copy()

    def logit(x):
        return 4.0 - ((x - reference) ** 2).reshape(len(x), -1).sum(1) / 4

    random = random_maps(n, side, seed=2)["candidate"]
    truth = (noise - images) ** 2  # how much each pixel's flip costs
    steps = 8
    result = {}
    for name, maps in (("random", random), ("truth", truth)):
        morf = perturbation_curves(logit, images, region_order(maps), noise, steps)
        lerf = perturbation_curves(logit, images, region_order(maps, False), noise, steps)
        result[name] = (abpc(morf, lerf, steps), aopc(morf, steps))
    assert abs(result["random"][0]) < 0.1 * result["random"][1]
    assert result["truth"][0] > 0.5 * result["truth"][1]


def test_per_pair_abpc_averages_to_abpc_and_its_interval_holds_the_mean():
    rng = np.random.default_rng(3)
    morf, lerf = rng.normal(size=(50, 6)), rng.normal(size=(50, 6))
    per_pair = abpc_per_pair(morf, lerf, 4)
    assert per_pair.shape == (50,) and per_pair.mean() == pytest.approx(abpc(morf, lerf, 4))
    low, high = bootstrap_interval(per_pair, seed=1)
    assert low < per_pair.mean() < high
    wide, narrow = bootstrap_interval(rng.normal(size=20)), bootstrap_interval(rng.normal(size=2000))
    assert wide[1] - wide[0] > 3 * (narrow[1] - narrow[0])  # ~ 1/sqrt(n)
    assert bootstrap_interval(per_pair, seed=1) == (low, high)  # seeded
