"""LRP of the relation model's logit to the pixels of both images (specs/pixels.md section 1.5).

The rules (engine.explain.pixel_lrp_rules) are composed layer by layer over one replayed forward pass
of `RelationCNN` (both images as one batch of 2n). The head's exact closed form starts two views:

* net: relevance of the logit z = q - d. Per pair, pixels(query) + pixels(candidate) + bias shares
  + epsilon-absorbed shares + q = z. "What pushes the pair apart" (why not related).
* shared: the cross term 2<s_i, s_j> of z = q - |s_i|^2 - |s_j|^2 + 2<s_i, s_j>, split per image
  (each image's map sums to <s_i, s_j>, less its shares). "What the two have in common" (why
  related): for a related pair the net view nearly vanishes, since a squared distance is flat at 0.

The branch rules are linear in the starting relevance once the activations are fixed, so the four
starting relevances (two views x two images) go through the branch as one stacked batch. Every
layer's conservation error is tracked; with the bias-free branch the shares are zero (or epsilon's).
Only torch.autograd.grad on detached copies is used: the module's `.grad` is never touched.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.explain import pixel_lrp_rules as rules
from engine.models.relation_cnn import RelationCNN, image_tensor


@dataclass(frozen=True)
class RuleSet:
    """Which rule each layer uses; `labels` is what an explanation reports."""

    name: str
    pixels: str  # "box" (z^B over [0, 1]) or "epsilon"
    conv2: str  # "gamma" or "epsilon"
    pool: str = "winner"  # "winner" (winner-take-all) or "proportional" (the avg-pool rule)
    gamma: float = 0.25
    epsilon: float = 1e-6

    @property
    def labels(self) -> dict[str, str]:
        eps = f"epsilon {self.epsilon:g}"
        return {
            "pixels": "zB[0,1]" if self.pixels == "box" else eps,
            "conv2": f"gamma {self.gamma:g}" if self.conv2 == "gamma" else eps,
            "dense": eps,
            "pool": "winner-take-all" if self.pool == "winner" else "proportional (avg-pool rule)",
            "head": "exact LRP-0",
        }


COMPOSITE = RuleSet("composite", pixels="box", conv2="gamma")
PAPER_EPSILON = RuleSet("paper-epsilon", pixels="epsilon", conv2="epsilon")  # the paper's eq. 4 everywhere
# The notes' measured alternative for the pools (specs/pixels.md section 5, rule ablation).
COMPOSITE_AVGPOOL = RuleSet("composite-avgpool", pixels="box", conv2="gamma", pool="proportional")
RULE_SETS = {r.name: r for r in (COMPOSITE, PAPER_EPSILON, COMPOSITE_AVGPOOL)}
POOL_RULES = {"winner": rules.maxpool_wta, "proportional": rules.maxpool_proportional}

VIEWS = ("net", "shared")


@dataclass(frozen=True, eq=False)
class PixelRelevance:
    """n pairs explained; numpy only. Maps are (n, size, size) per view and image; shares (n,).

    `bias` and `absorbed` hold, per view and image, what the branch's layers kept back (bias shares,
    epsilon); `layer_error` is the largest per-sample conservation error of each layer over all
    pairs, views and images; `conservation_error` the largest end-to-end error of the net view:
    |sum of both maps + shares + q - logit|.
    """

    logit: np.ndarray
    offset: np.ndarray
    distance: np.ndarray
    similarity: np.ndarray  # <s_i, s_j>, what each image's shared map explains
    maps: dict[str, dict[str, np.ndarray]]  # view -> "query"/"candidate" -> (n, size, size)
    bias: dict[str, dict[str, np.ndarray]]
    absorbed: dict[str, dict[str, np.ndarray]]
    layer_error: dict[str, float]
    conservation_error: float
    rules: dict[str, str] = field(default_factory=dict)

    @property
    def probability(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit))

    def totals(self, view: str, image: str) -> np.ndarray:
        return self.maps[view][image].reshape(len(self.logit), -1).sum(1)


class _Ledger:
    """Per-layer conservation errors and the shares each layer kept back, per stacked sample."""

    def __init__(self, rows: int, dtype: torch.dtype):
        self.errors: dict[str, float] = {}
        self.bias = torch.zeros(rows, dtype=dtype)
        self.absorbed = torch.zeros(rows, dtype=dtype)

    def rule(self, name: str, result: rules.LayerRelevance, relevance_out: torch.Tensor) -> torch.Tensor:
        self.errors[name] = float(result.conservation_error(relevance_out).abs().max())
        self.bias += result.bias
        self.absorbed += result.absorbed
        return result.input

    def pool(self, name: str, relevance_in: torch.Tensor, relevance_out: torch.Tensor) -> torch.Tensor:
        gap = relevance_out.flatten(1).sum(1) - relevance_in.flatten(1).sum(1)
        self.errors[name] = float(gap.abs().max())
        return relevance_in


def explain_pairs(
    module: RelationCNN,
    images_a: np.ndarray,
    images_b: np.ndarray,
    shopper: np.ndarray | int,
    rule_set: RuleSet = COMPOSITE,
    dtype: torch.dtype = torch.float32,
) -> PixelRelevance:
    """Relevance of each pair's logit to the pixels of both images, in both views.

    images_*: (n, size, size), uint8 or float in [0, 1] (the box rule assumes that range); shopper:
    one id or one per pair. float64 gives a ledger exact to rounding; float32 conserves to ~1e-6.
    """
    x_a, x_b = image_tensor(images_a).to(dtype), image_tensor(images_b).to(dtype)
    n = len(x_a)
    if len(x_b) != n:
        raise ValueError(f"{n} query images but {len(x_b)} candidates")
    shoppers = torch.as_tensor(np.broadcast_to(np.asarray(shopper, dtype=np.int64), (n,)).copy())
    x = torch.cat([x_a, x_b])
    pool = nn.MaxPool2d(2)

    with torch.no_grad():  # the forward pass, replayed with every activation kept
        def weight(layer: nn.Module) -> torch.Tensor:
            return layer.weight.detach().to(dtype)

        z1 = F.conv2d(x, weight(module.conv1), padding=1)
        p1 = F.max_pool2d(F.relu(z1), 2)
        z2 = F.conv2d(p1, weight(module.conv2), padding=1)
        p2 = F.max_pool2d(F.relu(z2), 2)
        flat = p2.flatten(1)
        h = F.relu(flat @ weight(module.fc1).T)
        f = F.relu(h @ weight(module.fc2).T)

    head = rules.distance_head(f[:n], f[n:], module.projection.detach().to(dtype),
                               module.shopper_weight.detach().to(dtype)[shoppers],
                               module.offset.detach().to(dtype)[shoppers])
    # Stacked starting relevance: rows [net query, net candidate, shared query, shared candidate].
    start = torch.cat([head.net_query, head.net_candidate, head.shared_query, head.shared_candidate]).to(dtype)

    def stack(a: torch.Tensor) -> torch.Tensor:  # activations of (query, candidate), once per view
        return torch.cat([a, a])

    ledger = _Ledger(4 * n, dtype)
    eps = rule_set.epsilon
    through_pool = POOL_RULES[rule_set.pool]
    r = ledger.rule("fc2", rules.dense_epsilon(stack(h), module.fc2, start, eps), start)
    r = ledger.rule("fc1", rules.dense_epsilon(stack(flat), module.fc1, r, eps), r)
    r = r.view(stack(p2).shape)
    r = ledger.pool("pool2", through_pool(stack(F.relu(z2)), pool, r), r)
    if rule_set.conv2 == "gamma":
        result = rules.conv_gamma(stack(p1), module.conv2, r, rule_set.gamma)
    else:
        result = rules.conv_epsilon(stack(p1), module.conv2, r, eps)
    r = ledger.rule("conv2", result, r)
    r = ledger.pool("pool1", through_pool(stack(F.relu(z1)), pool, r), r)
    if rule_set.pixels == "box":
        result = rules.box_input(stack(x), module.conv1, r, 0.0, 1.0)
    else:
        result = rules.conv_epsilon(stack(x), module.conv1, r, eps)
    pixels = ledger.rule("conv1", result, r)[:, 0]

    def split(t: torch.Tensor) -> dict[str, dict[str, np.ndarray]]:
        parts = [p.detach().numpy() for p in t.split(n)]
        return {"net": {"query": parts[0], "candidate": parts[1]}, "shared": {"query": parts[2], "candidate": parts[3]}}

    maps, bias, absorbed = split(pixels), split(ledger.bias), split(ledger.absorbed)
    logit = head.logit.detach().numpy()
    offset = head.offset.detach().numpy()
    net_sum = sum(maps["net"][i].reshape(n, -1).sum(1) + bias["net"][i] + absorbed["net"][i]
                  for i in ("query", "candidate"))
    error = float(np.abs(net_sum + offset - logit).max()) if n else 0.0
    ledger.errors["head"] = float((head.net_query.sum(1) + head.net_candidate.sum(1) + head.offset - head.logit).abs().max()) if n else 0.0
    return PixelRelevance(
        logit=logit, offset=offset, distance=head.distance.detach().numpy(),
        similarity=head.similarity.detach().numpy(), maps=maps, bias=bias, absorbed=absorbed,
        layer_error=ledger.errors, conservation_error=error, rules=rule_set.labels,
    )
