"""Baseline attributions of the relation logit: gradient x input and the gradient equal a float64
finite-difference gradient of a tiny model, occlusion equals the logit change of each occluded
patch computed one forward pass at a time, random maps are seeded, and no parameter gradient is
touched."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.evaluation.pixel_baselines import (
    gradient, gradient_times_input, occlusion, patch_corners, random_maps,
)
from engine.models.relation_cnn import RelationCNN, RelationCNNConfig, image_tensor

SIDE = 12
CONFIG = RelationCNNConfig(image_size=SIDE, conv1=3, conv2=4, hidden=8, features=6, rank=3, n_shoppers=2)


@pytest.fixture(scope="module")
def model() -> RelationCNN:
    torch.manual_seed(5)
    module = RelationCNN(CONFIG)
    with torch.no_grad():
        module.shopper_weight.normal_()
        module.offset.normal_()
    return module.eval()


def images(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.05, 1.0, (n, SIDE, SIDE)) * (rng.uniform(size=(n, SIDE, SIDE)) < 0.7)).astype(np.float32)


def logit64(module: RelationCNN, a: np.ndarray, b: np.ndarray, shopper: np.ndarray) -> np.ndarray:
    double = RelationCNN(CONFIG).double()
    double.load_state_dict(module.state_dict())
    with torch.no_grad():
        # float64 all the way: image_tensor would round the finite-difference step to float32
        return double(torch.from_numpy(a)[:, None], torch.from_numpy(b)[:, None], torch.as_tensor(shopper)).numpy()


def finite_difference(module, a, b, shopper, side: str, h: float = 1e-6) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    grads = np.zeros(a.shape)
    for r in range(SIDE):
        for c in range(SIDE):
            up, down = (a64.copy(), b64.copy()), (a64.copy(), b64.copy())
            index = 0 if side == "query" else 1
            up[index][:, r, c] += h
            down[index][:, r, c] -= h
            grads[:, r, c] = (logit64(module, *up, shopper) - logit64(module, *down, shopper)) / (2 * h)
    return grads


def test_gradient_times_input_and_gradient_equal_a_finite_difference_gradient(model):
    a, b, shopper = images(3, 1), images(3, 2), np.array([0, 1, 1])
    times_input = gradient_times_input(model, a, b, shopper)
    sensitivity = gradient(model, a, b, shopper)
    for side, x in (("query", a), ("candidate", b)):
        numeric = finite_difference(model, a, b, shopper, side)
        scale = np.abs(numeric).max()
        assert scale > 1e-5  # the test compares something
        np.testing.assert_allclose(times_input[side], x * numeric, atol=1e-4 * scale)
        np.testing.assert_allclose(sensitivity[side], np.abs(numeric), atol=1e-4 * scale)


def test_gradients_leave_the_model_parameters_alone(model):
    gradient_times_input(model, images(2, 3), images(2, 4), 1)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("patch,stride", [(4, 4), (4, 2), (3, 2)])
def test_occlusion_equals_the_logit_drop_of_each_patch_computed_naively(model, patch, stride):
    a, b, shopper = images(2, 5), images(2, 6), np.array([1, 0])
    maps = occlusion(model, a, b, shopper, patch=patch, stride=stride)
    x_a, x_b, s = image_tensor(a), image_tensor(b), torch.as_tensor(shopper)
    with torch.no_grad():
        base = model(x_a, x_b, s)
        for side in ("query", "candidate"):
            drops, cover = np.zeros((2, SIDE, SIDE)), np.zeros((SIDE, SIDE))
            for r, c in patch_corners(SIDE, patch, stride):
                occluded_a, occluded_b = x_a.clone(), x_b.clone()
                target = occluded_a if side == "query" else occluded_b
                target[:, :, r:r + patch, c:c + patch] = 0.0
                drop = (base - model(occluded_a, occluded_b, s)).numpy()
                drops[:, r:r + patch, c:c + patch] += drop[:, None, None]
                cover[r:r + patch, c:c + patch] += 1
            assert cover.min() >= 1  # every pixel is covered, the edges included
            np.testing.assert_allclose(maps[side], drops / cover, rtol=1e-4, atol=1e-5)


def test_occlusion_can_compute_the_candidate_only(model):
    maps = occlusion(model, images(2, 7), images(2, 8), 0, images=("candidate",))
    assert set(maps) == {"candidate"} and maps["candidate"].shape == (2, SIDE, SIDE)


def test_random_maps_are_seeded():
    first, again, other = random_maps(4, SIDE, 3), random_maps(4, SIDE, 3), random_maps(4, SIDE, 4)
    np.testing.assert_array_equal(first["query"], again["query"])
    np.testing.assert_array_equal(first["candidate"], again["candidate"])
    assert not np.array_equal(first["query"], other["query"])
    assert not np.array_equal(first["query"], first["candidate"])
    assert first["query"].shape == (4, SIDE, SIDE)
