"""The interpretable multi-layered network of Afchar & Hennequin (RecSys 2020, §3.4): H experts in one
set of fused layers, where expert h reads only the input features of its subset S_h.

Every layer holds H blocks of units, one per expert. Masks on the weights make the connectivity:
- input layer: block h reads feature c iff c belongs to a group of S_h (eqs. 8-9);
- hidden and output layers: block i reads its own block, and the blocks of its children j
  (S_j strictly inside S_i, eq. 14) *detached*, so a parent learns to use its children's features but
  never trains them: a child learns only from its own loss.
So expert h's output is a function of x restricted to S_h, exactly (tests check the Jacobian).

Input is any dense float tensor (..., D) whose columns are laid out group after group (the static
recommender concatenates embeddings into it); outputs are one logit per expert (..., H). Shared input
encoders before this network (embedding tables) are trained by every expert that reads them, as in the
reference code (notes §1.5): that keeps input dependence, but a child's input representation is shaped
by its parents too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.models.experts_gating import GateConfig, Mixture, mixture

OUTPUTS = ("tanh", "sigmoid")


@dataclass(frozen=True)
class ExpertLayout:
    """Feature groups (name, width) in the order of the input's columns, and the experts as
    (key, group names). Subsets must be distinct; a subset is a set of group names."""

    groups: tuple[tuple[str, int], ...]
    experts: tuple[tuple[str, frozenset[str]], ...]

    def __post_init__(self) -> None:
        names = [name for name, _ in self.groups]
        if len(set(names)) != len(names) or any(width <= 0 for _, width in self.groups):
            raise ValueError("group names must be distinct and widths positive")
        keys = [key for key, _ in self.experts]
        if len(set(keys)) != len(keys):
            raise ValueError("expert keys must be distinct")
        subsets = [frozenset(s) for _, s in self.experts]
        if len(set(subsets)) != len(subsets) or any(not s for s in subsets):
            raise ValueError("every expert needs a distinct, non-empty subset of groups")
        unknown = set().union(*subsets) - set(names)
        if unknown:
            raise ValueError(f"experts name unknown groups: {sorted(unknown)}")

    @staticmethod
    def of(groups: dict[str, int], experts: dict[str, list[str] | tuple[str, ...]]) -> "ExpertLayout":
        """Convenience: ExpertLayout.of({"x1": 1, "x2": 1}, {"S1": ["x1"], "S2": ["x2"], "S3": ["x1", "x2"]})."""
        return ExpertLayout(tuple(groups.items()), tuple((k, frozenset(v)) for k, v in experts.items()))

    @property
    def n_features(self) -> int:
        return sum(width for _, width in self.groups)

    @property
    def n_experts(self) -> int:
        return len(self.experts)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.experts)

    def group_slices(self) -> dict[str, slice]:
        """Where each group's columns lie in the input."""
        out, start = {}, 0
        for name, width in self.groups:
            out[name] = slice(start, start + width)
            start += width
        return out

    def feature_mask(self) -> torch.Tensor:
        """(H, D) bool: expert h may read feature c."""
        mask = torch.zeros(self.n_experts, self.n_features, dtype=torch.bool)
        slices = self.group_slices()
        for h, (_, subset) in enumerate(self.experts):
            for name in subset:
                mask[h, slices[name]] = True
        return mask

    def children(self) -> torch.Tensor:
        """(H, H) bool: children[h, j] iff S_j is a strict subset of S_h (all strict subsets)."""
        subsets = [s for _, s in self.experts]
        return torch.tensor([[sj < sh for sj in subsets] for sh in subsets], dtype=torch.bool)

    def children_of(self) -> dict[str, list[str]]:
        grid = self.children()
        return {k: [self.keys[j] for j in range(self.n_experts) if grid[h, j]] for h, k in enumerate(self.keys)}

    def to_dict(self) -> dict:
        return {
            "groups": [{"name": n, "width": w} for n, w in self.groups],
            "experts": [{"key": k, "groups": [n for n, _ in self.groups if n in s]} for k, s in self.experts],
            "children": self.children_of(),
        }


@dataclass(frozen=True)
class ExpertsConfig:
    """The network's shape and its gate; `to_dict` goes into model manifests."""

    hidden: tuple[int, ...] = (16, 16)  # units per expert in each hidden layer
    output: str = "tanh"  # "tanh": F = tanh(a), f = (F + 1) / 2 (paper); "sigmoid": f = sigmoid(a) (MovieLens code)
    gate: GateConfig = field(default_factory=GateConfig)

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ValueError(f"unknown output {self.output!r}; one of {', '.join(OUTPUTS)}")
        if any(width <= 0 for width in self.hidden):
            raise ValueError("hidden widths must be positive")

    def to_dict(self) -> dict:
        return {"hidden": list(self.hidden), "output": self.output, "gate": self.gate.to_dict()}


class MaskedLinear(nn.Module):
    """y = (W * own) z + (W * linked) detach(z) + b: one fused layer where `own` entries carry
    gradient into their input and `linked` entries read it without training it. Entries in neither
    mask are zero and stay zero (their gradient is zero). Each row is initialised with its real
    fan-in (the number of entries it may use), like nn.Linear's default on that many inputs."""

    def __init__(self, own: torch.Tensor, linked: torch.Tensor | None = None):
        super().__init__()
        linked = torch.zeros_like(own) if linked is None else linked
        if own.shape != linked.shape or (own & linked).any():
            raise ValueError("own and linked masks must have one shape and not overlap")
        self.register_buffer("own", own.to(torch.float32))
        self.register_buffer("linked", linked.to(torch.float32))
        self.has_links = bool(linked.any())
        allowed = own | linked
        fan_in = allowed.sum(dim=1, keepdim=True).clamp(min=1).to(torch.float32)
        bound = 1.0 / fan_in.sqrt()
        self.weight = nn.Parameter((torch.rand(own.shape) * 2 - 1) * bound * allowed)
        self.bias = nn.Parameter((torch.rand(own.shape[0]) * 2 - 1) * bound.squeeze(1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not self.has_links:
            return F.linear(z, self.weight * self.own, self.bias)
        return _MaskedLinearFunction.apply(z, self.weight, self.bias, self.own, self.own + self.linked)

    def effective_parameters(self) -> int:
        """Weights a mask allows plus biases: the count the paper's table 1 reports."""
        return int((self.own + self.linked).sum().item()) + self.bias.numel()


class _MaskedLinearFunction(torch.autograd.Function):
    """F.linear(z, W * own, b) + F.linear(z.detach(), W * linked) in one product each way, the same
    numbers: the output reads W * allowed (own + linked); the input's gradient flows through the own
    entries only (the linked ones read it detached); the weight's gradient is the usual outer product
    kept where allowed. Three matrix products per step instead of five."""

    @staticmethod
    def forward(ctx, z, weight, bias, own, allowed):
        ctx.save_for_backward(z, weight, own, allowed)
        return F.linear(z, weight * allowed, bias)

    @staticmethod
    def backward(ctx, grad):
        z, weight, own, allowed = ctx.saved_tensors
        grad_z = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_z = grad @ (weight * own)
        flat_grad = grad.reshape(-1, grad.shape[-1])
        if ctx.needs_input_grad[1]:
            grad_weight = (flat_grad.T @ z.reshape(-1, z.shape[-1])) * allowed
        if ctx.needs_input_grad[2]:
            grad_bias = flat_grad.sum(0)
        return grad_z, grad_weight, grad_bias, None, None


def block_masks(children: torch.Tensor, in_width: int, out_width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks of a layer from H blocks of in_width units to H blocks of out_width: own = block
    diagonal, linked = blocks (i, j) with j a child of i."""
    eye = torch.eye(children.shape[0], dtype=torch.bool)
    expand = torch.ones(out_width, in_width, dtype=torch.bool)
    return torch.kron(eye, expand).bool(), torch.kron(children & ~eye, expand).bool()


def input_layer(layout: ExpertLayout, width: int) -> MaskedLinear:
    """D features -> H blocks of `width` units; block h reads only S_h's features."""
    return MaskedLinear(layout.feature_mask().repeat_interleave(width, dim=0))


def expert_layer(children: torch.Tensor, in_width: int, out_width: int) -> MaskedLinear:
    """H blocks -> H blocks: own block trained through, children's blocks read detached. Reusable by
    models that put other per-block operations (attention, norms) between these layers."""
    return MaskedLinear(*block_masks(children, in_width, out_width))


class InterpretableExperts(nn.Module):
    """The network of H masked experts: (..., D) -> one logit of P(y = 1) per expert (..., H).
    Hidden layers ReLU, as in the paper's MLPs; the output layer also reads the children's last
    hidden blocks (detached), as the reference code does (the parameter count confirms it)."""

    def __init__(self, layout: ExpertLayout, config: ExpertsConfig = ExpertsConfig()):
        super().__init__()
        if not config.hidden:
            raise ValueError("at least one hidden layer")
        self.layout = layout
        self.config = config
        children = layout.children()
        self.register_buffer("children_mask", children)
        widths = list(config.hidden)
        layers = [input_layer(layout, widths[0])]
        layers += [expert_layer(children, a, b) for a, b in zip(widths, widths[1:])]
        self.hidden_layers = nn.ModuleList(layers)
        self.head = expert_layer(children, widths[-1], 1)

    def hidden_units(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer, (..., H * hidden[-1]), expert after expert."""
        z = x
        for layer in self.hidden_layers:
            z = torch.relu(layer(z))
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-expert logits of P(y = 1): sigmoid(logit) is expert h's prediction f_h."""
        a = self.head(self.hidden_units(x))
        # tanh output F = tanh(a) gives f = (F + 1) / 2 = sigmoid(2a): the same numbers, as a logit.
        return 2 * a if self.config.output == "tanh" else a

    def mixture(self, x: torch.Tensor) -> Mixture:
        """Predictions, confidences, alphas, shares, the mixed prediction and the undecided flag."""
        return mixture(torch.sigmoid(self(x)), self.children_mask, self.config.gate)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """numpy arrays for the model store and for serving without torch (experts_serving): each
        layer's weight with its masks applied, its bias, the children grid and the layer count."""
        layers = [*self.hidden_layers, self.head]
        arrays = {"layers": np.asarray(len(layers)), "children": self.children_mask.numpy().copy()}
        with torch.no_grad():
            for k, layer in enumerate(layers):
                arrays[f"layer{k}.weight"] = (layer.weight * (layer.own + layer.linked)).numpy().copy()
                arrays[f"layer{k}.bias"] = layer.bias.numpy().copy()
        return arrays

    def expert_blocks(self, layer: int) -> list[slice]:
        """The unit ranges of each expert in hidden layer `layer` (for tests and inspection)."""
        width = self.config.hidden[layer]
        return [slice(h * width, (h + 1) * width) for h in range(self.layout.n_experts)]


def effective_parameter_count(module: nn.Module) -> int:
    """Parameters of a model that may hold InterpretableExperts (or MaskedLinear) parts: masked
    layers count only their allowed entries, every other parameter counts whole."""
    masked = [m for m in module.modules() if isinstance(m, MaskedLinear)]
    inside = {id(p) for m in masked for p in m.parameters()}
    plain = sum(p.numel() for p in module.parameters() if id(p) not in inside)
    return plain + sum(m.effective_parameters() for m in masked)
