"""The interpretable network of masked experts: input dependence (Jacobian), boosting isolation (a
parent's loss never trains a child), equality with H separate networks written naively from the
paper's equations, and the paper's parameter count for the ML-1M model."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from engine.models.experts import (  # noqa: E402
    ExpertLayout,
    ExpertsConfig,
    InterpretableExperts,
    MaskedLinear,
    effective_parameter_count,
)
from engine.models.experts_gating import GateConfig  # noqa: E402
from engine.models.experts_layouts import static_layout  # noqa: E402

torch.set_num_threads(1)

# Three levels of the Hasse diagram, groups of unequal widths, and an expert (S5) that is no one's
# child but has two children -- more than the recommender's shape, so off-by-one block errors show.
LAYOUT = ExpertLayout.of(
    {"a": 3, "b": 2, "c": 4, "d": 1},
    {
        "S1": ["a"],
        "S2": ["a", "b"],
        "S3": ["a", "c"],
        "S4": ["a", "b", "c", "d"],
        "S5": ["d"],
        "S6": ["b", "d"],
    },
)
HIDDEN = (7, 5, 3)


def random_net(output: str = "tanh", seed: int = 0) -> InterpretableExperts:
    torch.manual_seed(seed)
    net = InterpretableExperts(LAYOUT, ExpertsConfig(hidden=HIDDEN, output=output))
    with torch.no_grad():  # biases away from 0 so ReLUs are active on both sides of 0
        for layer in [*net.hidden_layers, net.head]:
            layer.bias.add_(0.1)
    return net


def test_children_are_all_strict_subsets():
    assert LAYOUT.children_of() == {
        "S1": [],
        "S2": ["S1"],
        "S3": ["S1"],
        "S4": ["S1", "S2", "S3", "S5", "S6"],
        "S5": [],
        "S6": ["S5"],
    }


@pytest.mark.parametrize("output", ["tanh", "sigmoid"])
def test_jacobian_of_each_expert_is_zero_outside_its_subset(output):
    net = random_net(output)
    x = torch.randn(16, LAYOUT.n_features, dtype=torch.float64)
    net = net.double()
    jac = torch.autograd.functional.jacobian(lambda inp: net(inp), x)  # (n, H, n, D)
    per_row = torch.stack([jac[i, :, i, :] for i in range(len(x))])  # (n, H, D)
    allowed = LAYOUT.feature_mask()
    assert (per_row[:, ~allowed] == 0).all()
    # Not vacuous: every expert depends on every group of its subset.
    slices = LAYOUT.group_slices()
    for h, (_, subset) in enumerate(LAYOUT.experts):
        for name in subset:
            assert per_row[:, h, slices[name]].abs().max() > 0, (h, name)


def test_jacobian_stays_zero_after_training_steps():
    """Masked entries get zero gradient, so Adam never makes them non-zero."""
    from engine.models.experts_training import Batch, gem_step

    net = random_net()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(5):
        x = torch.randn(32, LAYOUT.n_features)
        gem_step(net, optimiser, Batch(x, (x[:, 0] > 0).float()))
    x = torch.randn(8, LAYOUT.n_features)
    jac = torch.autograd.functional.jacobian(lambda inp: net(inp), x)
    per_row = torch.stack([jac[i, :, i, :] for i in range(len(x))])
    assert (per_row[:, ~LAYOUT.feature_mask()] == 0).all()


def expert_rows(net: InterpretableExperts, h: int) -> list[tuple[torch.nn.Parameter, slice]]:
    """The parameters that belong to expert h: the rows of its block in every masked layer."""
    out = []
    for layer, width in zip([*net.hidden_layers, net.head], [*HIDDEN, 1]):
        rows = slice(h * width, (h + 1) * width)
        out += [(layer.weight, rows), (layer.bias, rows)]
    return out


def test_a_parents_loss_gives_its_children_exactly_zero_gradient():
    net = random_net()
    x = torch.randn(64, LAYOUT.n_features)
    children = LAYOUT.children()
    for parent in range(LAYOUT.n_experts):
        net.zero_grad(set_to_none=False)
        loss = nn.functional.binary_cross_entropy_with_logits(net(x)[:, parent], (x[:, 1] > 0).float())
        loss.backward()
        for child in torch.nonzero(children[parent]).flatten().tolist():
            for param, rows in expert_rows(net, child):
                assert (param.grad[rows] == 0).all(), (parent, child)
        # The parent's own rows learn, and so do its weights reading the (detached) children.
        own_grad = sum(float(p.grad[r].abs().sum()) for p, r in expert_rows(net, parent))
        assert own_grad > 0
        if children[parent].any():
            layer = net.hidden_layers[1]
            w_in, w_out = HIDDEN[0], HIDDEN[1]
            reading = layer.weight.grad[parent * w_out : (parent + 1) * w_out]
            child = int(torch.nonzero(children[parent]).flatten()[0])
            assert reading[:, child * w_in : (child + 1) * w_in].abs().sum() > 0


def naive_experts(net: InterpretableExperts, x: torch.Tensor) -> torch.Tensor:
    """H separate MLPs written from the paper's equations (8-14), with weights copied out of the
    fused layers: expert h's first layer sees x restricted to S_h; every later layer sees
    [own hidden units, children's hidden units]; F_h = tanh(w . h + b), f_h = (F_h + 1) / 2."""
    mask = LAYOUT.feature_mask()
    children = LAYOUT.children()
    layers = [*net.hidden_layers, net.head]
    widths = [*HIDDEN, 1]
    hidden_per_expert: list[list[torch.Tensor]] = [[] for _ in range(LAYOUT.n_experts)]
    out = []
    for h in range(LAYOUT.n_experts):
        rows = slice(h * widths[0], (h + 1) * widths[0])
        cols = torch.nonzero(mask[h]).flatten()
        w = layers[0].weight.detach()[rows][:, cols]
        hidden_per_expert[h].append(torch.relu(x[:, cols] @ w.T + layers[0].bias.detach()[rows]))
    for k in range(1, len(layers)):
        for h in range(LAYOUT.n_experts):
            readers = [h] + torch.nonzero(children[h]).flatten().tolist()
            rows = slice(h * widths[k], (h + 1) * widths[k])
            inputs, weights = [], []
            for j in readers:
                inputs.append(hidden_per_expert[j][k - 1])
                weights.append(layers[k].weight.detach()[rows, j * widths[k - 1] : (j + 1) * widths[k - 1]])
            z = torch.cat(inputs, dim=1) @ torch.cat(weights, dim=1).T + layers[k].bias.detach()[rows]
            hidden_per_expert[h].append(z if k == len(layers) - 1 else torch.relu(z))
    for h in range(LAYOUT.n_experts):
        out.append((torch.tanh(hidden_per_expert[h][-1][:, 0]) + 1) / 2)
    return torch.stack(out, dim=1)


def naive_mixture(f: torch.Tensor) -> torch.Tensor:
    """eq. 1 with g = F^2 and alpha from all strict subsets, one sample and expert at a time."""
    subsets = [s for _, s in LAYOUT.experts]
    mixed = []
    for row in f.tolist():
        g = [(2 * p - 1) ** 2 for p in row]
        alpha = []
        for h, sh in enumerate(subsets):
            a = g[h]
            for j, sj in enumerate(subsets):
                if sj < sh:
                    a *= 1 - g[j]
            alpha.append(a)
        mixed.append(sum(a * p for a, p in zip(alpha, row)) / sum(alpha))
    return torch.tensor(mixed)


def test_the_fused_network_equals_h_separate_networks_from_the_equations():
    net = random_net()
    x = torch.randn(128, LAYOUT.n_features)
    with torch.no_grad():
        fused = torch.sigmoid(net(x))
        naive = naive_experts(net, x)
        mix = net.mixture(x)
    assert (fused - naive).abs().max() < 1e-6
    decided = ~mix.undecided
    assert decided.sum() > 64
    assert (mix.prediction[decided] - naive_mixture(naive[decided])).abs().max() < 1e-6


def test_masked_linear_rejects_overlapping_masks():
    own = torch.eye(3, dtype=torch.bool)
    with pytest.raises(ValueError):
        MaskedLinear(own, own.clone())


def test_layout_rejects_unknown_groups_and_repeated_subsets():
    with pytest.raises(ValueError):
        ExpertLayout.of({"a": 1}, {"S1": ["b"]})
    with pytest.raises(ValueError):
        ExpertLayout.of({"a": 1, "b": 1}, {"S1": ["a"], "S2": ["a"]})


def test_ml1m_static_model_has_the_papers_parameter_count():
    """Table 1: Intrp-MLP 782K. Notes §1.9: 782,634 with a 3,883-row item table (movies.csv)."""
    shape = static_layout(n_users=6040, n_items=3883)
    net = InterpretableExperts(shape.layout, ExpertsConfig(hidden=shape.hidden, output="sigmoid"))
    per_layer = [layer.effective_parameters() for layer in [*net.hidden_layers, net.head]]
    assert per_layer == [49_664, 73_984, 18_560, 4_672, 148]

    class PaperIntrpMlp(nn.Module):
        """The reference's content encoders as the notes count them: sex 2-d, age 6-d, occupation
        8-d embeddings (16 = c_u), Dense 16 on [year, 18 genres] (c_i), then the experts."""

        def __init__(self):
            super().__init__()
            self.tables = nn.ModuleDict({g: nn.Embedding(*rows_width) for g, rows_width in shape.embeddings.items()})
            self.sex, self.age, self.occupation = nn.Embedding(2, 2), nn.Embedding(7, 6), nn.Embedding(21, 8)
            self.item_content = nn.Linear(19, 16)
            self.experts = net

    assert effective_parameter_count(PaperIntrpMlp()) == 782_634


def test_configs_go_into_manifests():
    import json

    config = ExpertsConfig(hidden=(4, 2), output="sigmoid", gate=GateConfig(confidence="shifted_l4", training_weight="paper"))
    assert json.loads(json.dumps(config.to_dict())) == {
        "hidden": [4, 2],
        "output": "sigmoid",
        "gate": {
            "confidence": "shifted_l4",
            "training_confidence": "square",
            "training_weight": "paper",
            "centre": 0.3,
            "undecided_below": 0.05,
        },
    }
    assert json.dumps(LAYOUT.to_dict())
    with pytest.raises(ValueError):
        GateConfig(confidence="softmax")
    with pytest.raises(ValueError):
        GateConfig(training_weight="greedy")


@pytest.mark.parametrize("output", ["tanh", "sigmoid"])
def test_numpy_serving_gives_the_torch_networks_numbers(output):
    from engine.models.experts_serving import ExpertsWeights

    net = random_net(output)
    x = torch.randn(3, 5, LAYOUT.n_features)  # per-position inputs (n, T, D) as well
    with torch.no_grad():
        expected = net.mixture(x)
    served = ExpertsWeights.from_arrays(net.to_arrays(), output, net.config.gate).mixture(x.numpy())
    for name in ("predictions", "shares", "prediction", "alpha_total"):
        assert abs(getattr(served, name) - getattr(expected, name).numpy()).max() < 1e-6, name
    assert (served.undecided == expected.undecided.numpy()).all()


def test_serving_module_does_not_import_torch():
    import subprocess
    import sys

    probe = "import sys, engine.models.experts_serving\nprint('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_masked_layer_gradients_equal_the_two_product_formulation():
    """The fused masked layer (one product forward, two backward) gives the output and the gradients
    of F.linear(z, W * own, b) + F.linear(z.detach(), W * linked), the formulation it replaces."""
    from engine.models.experts import block_masks, MaskedLinear

    torch.manual_seed(0)
    children = torch.tensor([[False, False, False], [True, False, False], [True, True, False]])
    layer = MaskedLinear(*block_masks(children, 4, 3))
    z = torch.randn(7, 12, requires_grad=True)
    weight = layer.weight.detach().clone().requires_grad_(True)
    bias = layer.bias.detach().clone().requires_grad_(True)
    z2 = z.detach().clone().requires_grad_(True)
    upstream = torch.randn(7, 9)
    (layer(z) * upstream).sum().backward()
    expected = (torch.nn.functional.linear(z2, weight * layer.own, bias)
                + torch.nn.functional.linear(z2.detach(), weight * layer.linked))
    (expected * upstream).sum().backward()
    torch.testing.assert_close(layer(z), expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(z.grad, z2.grad, rtol=0, atol=1e-6)
    torch.testing.assert_close(layer.weight.grad, weight.grad, rtol=0, atol=1e-6)
    torch.testing.assert_close(layer.bias.grad, bias.grad, rtol=0, atol=1e-6)
