"""The boosted gate: alphas from all strict subsets, shares that sum to 1, a prediction that is the
share-weighted sum of the experts' predictions exactly, and "no expert was confident" as a state."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.models.experts_gating import (  # noqa: E402
    GateConfig,
    alphas,
    confidence,
    mixture,
    normalise,
)
from engine.models.experts_training import training_weights  # noqa: E402

# S1 = {a}, S2 = {b}, S3 = {a, b}
CHILDREN3 = torch.tensor([[False, False, False], [False, False, False], [True, True, False]])
# The recommender's shape: S4 has S1, S2, S3 as children; S2 and S3 have S1.
CHILDREN4 = torch.tensor(
    [
        [False, False, False, False],
        [True, False, False, False],
        [True, False, False, False],
        [True, True, True, False],
    ]
)


def test_alphas_on_a_hand_computed_example():
    g = torch.tensor([0.5, 0.2, 0.9])
    assert torch.allclose(alphas(g, CHILDREN3), torch.tensor([0.5, 0.2, 0.9 * 0.5 * 0.8]))
    g4 = torch.tensor([0.1, 0.6, 0.3, 0.8])
    expected = torch.tensor([0.1, 0.6 * 0.9, 0.3 * 0.9, 0.8 * 0.9 * 0.4 * 0.7])  # S4: all strict subsets
    assert torch.allclose(alphas(g4, CHILDREN4), expected)


def test_a_fully_confident_child_silences_its_parents_exactly():
    g = torch.tensor([1.0, 0.3, 0.7, 0.9])
    a = alphas(g, CHILDREN4)
    assert a[1] == 0 and a[2] == 0 and a[3] == 0 and a[0] == 1


@pytest.mark.parametrize(
    "name, p, g",
    [
        ("abs", 0.9, 0.8),
        ("square", 0.9, 0.64),
        ("square", 0.1, 0.64),
        ("lp4", 1.0, 1.0),
        ("lp4", 0.75, 2 * 0.5**4 / (1 + 0.5**3)),
        # The notes' worked example (§5.3): shifted L4 centred at 0.3.
        ("shifted_l4", 0.41, 0.0008),
        ("shifted_l4", 0.88, 0.5296),
        ("shifted_l4", 0.80, 0.3108),
        ("shifted_l4", 0.95, 0.7833),
        ("shifted_l4", 1.0, 1.0),
        ("shifted_l4", 0.3, 0.0),
    ],
)
def test_confidence_functions(name, p, g):
    assert float(confidence(torch.tensor(p, dtype=torch.float64), name)) == pytest.approx(g, abs=5e-5)


def test_the_notes_worked_example_reproduces_its_shares_and_probability():
    predictions = torch.tensor([0.41, 0.88, 0.80, 0.95], dtype=torch.float64)
    mix = mixture(predictions, CHILDREN4, GateConfig(confidence="shifted_l4"))
    assert mix.alphas.tolist() == pytest.approx([0.0008, 0.5292, 0.3105, 0.2537], abs=2e-4)
    assert mix.shares.tolist() == pytest.approx([0.0007, 0.4836, 0.2838, 0.2319], abs=2e-4)
    assert float(mix.prediction) == pytest.approx(0.8732, abs=2e-4)
    assert float(mix.alpha_total) == pytest.approx(1.0943, abs=3e-4)
    assert not bool(mix.undecided)


@pytest.mark.parametrize("confidence_name", ["abs", "square", "lp4", "shifted_l4"])
def test_shares_sum_to_one_and_the_prediction_is_their_weighted_sum(confidence_name):
    torch.manual_seed(0)
    predictions = torch.rand(7, 5, 4, dtype=torch.float64)  # per-position (n, T, H) works the same
    mix = mixture(predictions, CHILDREN4, GateConfig(confidence=confidence_name))
    assert mix.shares.shape == (7, 5, 4) and mix.prediction.shape == (7, 5) and mix.undecided.shape == (7, 5)
    assert (mix.shares >= 0).all()
    assert torch.allclose(mix.shares.sum(-1), torch.ones(7, 5, dtype=torch.float64), atol=1e-12)
    assert torch.equal(mix.prediction, (mix.shares * predictions).sum(-1))
    decided = ~mix.undecided
    ratio = mix.alphas / mix.alphas.sum(-1, keepdim=True)
    assert torch.allclose(mix.shares[decided], ratio[decided], atol=1e-12)


def test_no_expert_confident_is_a_state_not_a_division_by_zero():
    predictions = torch.tensor([[0.5, 0.5, 0.5, 0.5], [0.51, 0.49, 0.5, 0.52], [0.99, 0.5, 0.5, 0.5]])
    mix = mixture(predictions, CHILDREN4, GateConfig(confidence="square"))
    assert mix.undecided.tolist() == [True, True, False]
    assert torch.isfinite(mix.shares).all() and torch.isfinite(mix.prediction).all()
    assert torch.allclose(mix.shares[0], torch.full((4,), 0.25))  # nobody confident: all experts equal
    assert float(mix.prediction[0]) == pytest.approx(0.5)
    assert torch.allclose(mix.shares.sum(-1), torch.ones(3))
    assert torch.equal(mix.prediction, (mix.shares * predictions).sum(-1))


def test_shares_are_continuous_across_the_undecided_threshold():
    floor = 0.05
    just_above = normalise(torch.tensor([0.03, 0.0200001, 0.0, 0.0]), floor)
    just_below = normalise(torch.tensor([0.03, 0.0199999, 0.0, 0.0]), floor)
    assert torch.allclose(just_above, just_below, atol=1e-5)


def test_training_weights_are_detached_and_follow_the_named_weighting():
    predictions = torch.tensor([[0.9, 0.5, 0.2, 0.7]], requires_grad=True)
    g = (2 * predictions.detach() - 1) ** 2
    reference = training_weights(predictions, CHILDREN4, GateConfig(training_weight="reference"))
    assert not reference.requires_grad
    # the code's weighting: the children's deselection only, without the expert's own g
    expected = torch.stack([torch.tensor(1.0), 1 - g[0, 0], 1 - g[0, 0], (1 - g[0, 0]) * (1 - g[0, 1]) * (1 - g[0, 2])])
    assert torch.allclose(reference[0], expected)
    paper = training_weights(predictions, CHILDREN4, GateConfig(training_weight="paper"))
    a = alphas(g, CHILDREN4)
    assert torch.allclose(paper, a / a.sum(-1, keepdim=True))


@pytest.mark.parametrize("confidence_name", ["abs", "square", "lp4", "shifted_l4"])
def test_numpy_and_torch_give_the_same_mixture(confidence_name):
    torch.manual_seed(1)
    predictions = torch.rand(64, 4, dtype=torch.float64)
    predictions[:8] = 0.5 + 0.01 * (predictions[:8] - 0.5)  # some undecided rows
    gate = GateConfig(confidence=confidence_name)
    from_torch = mixture(predictions, CHILDREN4, gate)
    from_numpy = mixture(predictions.numpy(), CHILDREN4.numpy(), gate)
    for a, b in zip(from_torch, from_numpy):  # powers may differ in the last bit between libraries
        assert np.allclose(a.numpy(), b, rtol=1e-12, atol=1e-15) and a.numpy().dtype == b.dtype
    assert from_numpy.undecided.any() and not from_numpy.undecided.all()
