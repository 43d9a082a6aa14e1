"""GEM training: the E-step weights are constants of the M-step (no gradient through them), padded
positions count for nothing, both weightings normalise as documented, and the loop reports progress
and stops on Cancel."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from engine.errors import Cancelled  # noqa: E402
from engine.models.experts import ExpertLayout, ExpertsConfig, InterpretableExperts  # noqa: E402
from engine.models.experts_gating import GateConfig  # noqa: E402
from engine.models.experts_training import Batch, GemConfig, gem_loss, train_gem, training_weights  # noqa: E402
from engine.progress import TaskState  # noqa: E402

torch.set_num_threads(1)
CHILDREN = torch.tensor([[False, False, False], [False, False, False], [True, True, False]])


def logits_and_targets(shape=(32, 3), seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(*shape, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    y = (torch.rand(shape[:-1], generator=g) > 0.5).double()
    return logits, y


@pytest.mark.parametrize("weighting", ["reference", "paper"])
def test_gradients_flow_only_through_each_experts_own_loss(weighting):
    gate = GateConfig(training_weight=weighting)
    logits, y = logits_and_targets()
    gem_loss(logits, y, CHILDREN, gate).backward()
    got = logits.grad.clone()

    # By hand: constant weights times each expert's own BCE.
    logits.grad = None
    w = training_weights(torch.sigmoid(logits), CHILDREN, gate)
    bce = F.binary_cross_entropy_with_logits(logits, y[:, None].expand_as(logits), reduction="none")
    by_hand = (w * bce).sum() / (w.sum() if weighting == "reference" else len(y))
    by_hand.backward()
    assert torch.allclose(got, logits.grad, atol=1e-12)

    # Not vacuous: letting the gradient through the weights gives other numbers.
    logits.grad = None
    bce = F.binary_cross_entropy_with_logits(logits, y[:, None].expand_as(logits), reduction="none")
    p = torch.sigmoid(logits)
    g = (2 * p - 1) ** 2
    attached = torch.stack([torch.ones_like(g[:, 0]), torch.ones_like(g[:, 0]), (1 - g[:, 0]) * (1 - g[:, 1])], 1)
    if weighting == "paper":
        alpha = g * attached
        attached = alpha / alpha.sum(-1, keepdim=True)
    ((attached * bce).sum() / (attached.sum() if weighting == "reference" else len(y))).backward()
    assert not torch.allclose(got, logits.grad, atol=1e-6)


@pytest.mark.parametrize("weighting", ["reference", "paper"])
def test_padded_positions_count_for_nothing(weighting):
    gate = GateConfig(training_weight=weighting)
    logits, y = logits_and_targets((4, 6, 3))
    mask = torch.ones(4, 6, dtype=torch.bool)
    mask[:, 4:] = False
    loss = gem_loss(logits, y, CHILDREN, gate, mask)
    loss.backward()
    assert (logits.grad[:, 4:] == 0).all() and (logits.grad[:, :4] != 0).any()
    kept = gem_loss(logits.detach()[:, :4], y[:, :4], CHILDREN, gate)
    assert torch.allclose(loss, kept)


def tiny_model(gate: GateConfig = GateConfig()) -> InterpretableExperts:
    torch.manual_seed(0)
    layout = ExpertLayout.of({"a": 1, "b": 1}, {"S1": ["a"], "S2": ["b"], "S3": ["a", "b"]})
    return InterpretableExperts(layout, ExpertsConfig(hidden=(8,), gate=gate))


def batches(step: int) -> Batch:
    g = torch.Generator().manual_seed(step)
    x = torch.randn(64, 2, generator=g)
    return Batch(x, (x[:, 0] > 0).float())


def test_training_learns_reports_progress_and_leaves_eval_mode():
    model = tiny_model()
    seen: list[tuple[float, str]] = []
    result = train_gem(model, batches, GemConfig(steps=200), TaskState(on_progress=lambda f, m: seen.append((f, m))))
    assert result.steps == 200 and len(result.losses) == 2
    assert result.losses[-1] < result.losses[0]
    assert seen[-1][0] == 1.0 and not model.training
    x = batches(10_000).x
    with torch.no_grad():
        mix = model.mixture(x)
    assert ((mix.prediction > 0.5) == (x[:, 0] > 0)).float().mean() > 0.9


def test_cancel_stops_the_loop_within_a_step():
    model = tiny_model()
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 5

    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(Cancelled):
        train_gem(model, batches, GemConfig(steps=1000), TaskState(should_cancel=cancel))
    assert len(calls) == 6  # one check per step: five steps ran, the sixth was refused
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
