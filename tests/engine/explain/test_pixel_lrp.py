"""Full-model LRP of the relation logit: conservation per layer and end to end in both views, the
shared view sums to <s_i, s_j>, identical images have an empty net map, and with LRP-0 everywhere the
net map equals -1/2 x * grad d (the notes' identity for a bias-free ReLU branch)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.explain.pixel_lrp import COMPOSITE, COMPOSITE_AVGPOOL, PAPER_EPSILON, explain_pairs
from engine.models.relation_cnn import RelationCNN, RelationCNNConfig, image_tensor

CONFIG = RelationCNNConfig(image_size=12, conv1=4, conv2=6, hidden=10, features=8, rank=4, n_shoppers=2)


def random_model(seed: int) -> RelationCNN:
    torch.manual_seed(seed)
    module = RelationCNN(CONFIG)
    with torch.no_grad():
        module.shopper_weight.normal_()
        module.offset.normal_()
    return module.eval()


def random_images(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(size=(n, 12, 12)) * (rng.uniform(size=(n, 12, 12)) < 0.6)).astype(np.float32)


@pytest.mark.parametrize("rule_set", [COMPOSITE, PAPER_EPSILON, COMPOSITE_AVGPOOL], ids=lambda r: r.name)
@pytest.mark.parametrize("seed", range(3))
def test_both_views_conserve_per_layer_and_end_to_end_in_float32(rule_set, seed):
    module = random_model(seed)
    shoppers = np.arange(6) % 2
    result = explain_pairs(module, random_images(6, seed), random_images(6, seed + 10), shoppers, rule_set)
    scale = max(1.0, float(np.abs(result.logit).max()), float(np.abs(result.similarity).max()))
    assert result.conservation_error <= 1e-4 * scale
    assert set(result.layer_error) == {"head", "fc2", "fc1", "pool2", "conv2", "pool1", "conv1"}
    assert max(result.layer_error.values()) <= 1e-4 * scale
    for image in ("query", "candidate"):
        shared = result.totals("shared", image) + result.bias["shared"][image] + result.absorbed["shared"][image]
        np.testing.assert_allclose(shared, result.similarity, atol=1e-4 * scale)
    with torch.no_grad():
        logits = module(image_tensor(random_images(6, seed)), image_tensor(random_images(6, seed + 10)),
                        torch.from_numpy(shoppers))
    np.testing.assert_allclose(result.logit, logits.numpy(), rtol=1e-5, atol=1e-5)


def test_in_float64_the_bias_free_composite_puts_all_of_the_logit_on_pixels():
    module = random_model(4)
    result = explain_pairs(module, random_images(5, 1), random_images(5, 2), 1, COMPOSITE, torch.float64)
    net = result.totals("net", "query") + result.totals("net", "candidate")
    # The guard epsilon of the gamma and box rules is the only share left: negligible.
    np.testing.assert_allclose(net + result.offset, result.logit, rtol=1e-8, atol=1e-8)
    assert result.conservation_error < 1e-9
    assert np.abs(result.bias["net"]["query"]).max() == 0.0


def test_an_image_paired_with_itself_has_an_empty_net_map():
    images = random_images(3, 7)
    result = explain_pairs(random_model(5), images, images, 0, COMPOSITE, torch.float64)
    assert np.abs(result.maps["net"]["query"]).max() == 0.0
    assert np.abs(result.maps["net"]["candidate"]).max() == 0.0
    np.testing.assert_allclose(result.logit, result.offset)
    shared = result.totals("shared", "query") + result.absorbed["shared"]["query"]  # the guard epsilon's share
    np.testing.assert_allclose(shared, result.similarity, rtol=1e-9)


def test_lrp0_everywhere_equals_half_gradient_times_input_of_the_distance():
    module = random_model(6).double()
    a, b = random_images(4, 3), random_images(4, 4)
    shopper = torch.tensor([0, 1, 0, 1])
    lrp0 = replace(PAPER_EPSILON, epsilon=1e-13)
    result = explain_pairs(module, a, b, shopper.numpy(), lrp0, torch.float64)
    x_a, x_b = image_tensor(a).double().requires_grad_(True), image_tensor(b).double().requires_grad_(True)
    f = module.features(torch.cat([x_a, x_b]))
    distance = module.distance(f[:4], f[4:], shopper)
    grad_a, grad_b = torch.autograd.grad(distance.sum(), [x_a, x_b])
    np.testing.assert_allclose(result.maps["net"]["query"], (-0.5 * x_a * grad_a)[:, 0].detach().numpy(), atol=1e-9)
    np.testing.assert_allclose(result.maps["net"]["candidate"], (-0.5 * x_b * grad_b)[:, 0].detach().numpy(), atol=1e-9)


def test_explaining_leaves_the_models_gradients_alone():
    module = random_model(8)
    explain_pairs(module, random_images(2, 1), random_images(2, 2), 0)
    assert all(p.grad is None for p in module.parameters())


MODELS = [random_model(seed) for seed in range(4)]  # built once: hypothesis draws pairs, shoppers and models


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 3), st.integers(0, 2 ** 31 - 1), st.integers(1, 4), st.sampled_from(["composite", "paper-epsilon"]))
def test_random_pairs_conserve_within_1e4_in_float32(model, seed, n, rules):
    from engine.explain.pixel_lrp import RULE_SETS

    rng = np.random.default_rng(seed)
    a, b = random_images(n, seed), random_images(n, seed + 1)
    b[: n // 2] = a[: n // 2]  # some pairs of an image with itself (distance 0)
    result = explain_pairs(MODELS[model], a, b, rng.integers(0, 2, n), RULE_SETS[rules])
    scale = max(1.0, float(np.abs(result.logit).max()), float(np.abs(result.similarity).max()))
    assert result.conservation_error <= 1e-4 * scale
    assert max(result.layer_error.values()) <= 1e-4 * scale
