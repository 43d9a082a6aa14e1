"""The boosted gate of the interpretable mixture of experts (Afchar & Hennequin, RecSys 2020, §3.3),
as pure tensor functions on (..., H) tensors, so a static prediction (n, H) and a sequence of positions
(n, T, H) go through the same code.

Each expert h predicts f_h = P(y = 1) from its own subset S_h of the input groups. Its confidence g_h is
a named function of that prediction; an expert is deselected by every confident expert whose subset is
strictly inside its own:  alpha_h = g_h * prod_{j: S_j strictly in S_h} (1 - g_j),
share_h = alpha_h / sum_j alpha_j, prediction = sum_h share_h * f_h (exactly, by construction).

Named options, because the paper and its reference code differ (notes §1.4, §7.1-7.3):
- confidence: "abs" |F| (paper eq. 6), "square" F^2 (the reference code's training), "lp4"
  2|F|^4/(1+|F|^3) (the toy notebook's inference), "shifted_l4" (the MovieLens code: distance from a
  centre, ~ the base rate, so confident *positives* count far more than confident negatives);
  F = 2 f - 1 is the expert's output in [-1, 1].
- training_weight: "reference" -- the code: prod (1 - g_j) over children only (no own g_h), loss
  averaged over all (sample, expert) weights; "paper" -- eq. 4: the full alpha_h, normalised over the
  experts of each sample.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch

CONFIDENCES = ("abs", "square", "lp4", "shifted_l4")
TRAINING_WEIGHTS = ("reference", "paper")


@dataclass(frozen=True)
class GateConfig:
    """How confidences, shares and the GEM training weights are computed; stored in model manifests."""

    confidence: str = "square"  # used to compute alpha and shares at inference
    training_confidence: str = "square"  # used for the (detached) E-step weights while training
    training_weight: str = "reference"
    centre: float = 0.3  # "shifted_l4" only: the prediction counted as "no opinion"
    undecided_below: float = 0.05  # sum of alpha under this: "no expert was confident"

    def __post_init__(self) -> None:
        for name in (self.confidence, self.training_confidence):
            if name not in CONFIDENCES:
                raise ValueError(f"unknown confidence {name!r}; one of {', '.join(CONFIDENCES)}")
        if self.training_weight not in TRAINING_WEIGHTS:
            raise ValueError(f"unknown training weight {self.training_weight!r}; one of {', '.join(TRAINING_WEIGHTS)}")
        if not 0.0 < self.centre < 1.0:
            raise ValueError("centre must lie strictly between 0 and 1")
        if not self.undecided_below > 0.0:
            raise ValueError("undecided_below must be positive (it is also the floor of the shares' denominator)")

    def to_dict(self) -> dict:
        return asdict(self)


def confidence(prediction: torch.Tensor, name: str, centre: float = 0.3) -> torch.Tensor:
    """g in [0, 1] from an expert's predicted probability in [0, 1] (any shape)."""
    if name == "shifted_l4":
        # c^4 / (1 + c^3), scaled so the farthest prediction from the centre has g = 1.
        far = max(centre, 1.0 - centre)
        c = (prediction - centre).abs()
        return c**4 / (1 + c**3) * ((1 + far**3) / far**4)
    signed = (2 * prediction - 1).abs()
    if name == "abs":
        return signed
    if name == "square":
        return signed**2
    if name == "lp4":
        return 2 * signed**4 / (1 + signed**3)
    raise ValueError(f"unknown confidence {name!r}; one of {', '.join(CONFIDENCES)}")


def deselection(g: torch.Tensor, children: torch.Tensor) -> torch.Tensor:
    """prod over the children j of h of (1 - g_j), for every h: (..., H) -> (..., H).
    children[h, j] is True when S_j is a strict subset of S_h (all strict subsets, not only the
    immediate ones: notes §7.5). A product over a masked (..., H, H) grid: exact, also when g_j = 1."""
    keep = (1 - g).unsqueeze(-2).expand(*g.shape[:-1], g.shape[-1], g.shape[-1])
    return torch.where(children, keep, torch.ones_like(keep)).prod(dim=-1)


def alphas(g: torch.Tensor, children: torch.Tensor) -> torch.Tensor:
    """alpha_h = g_h * prod_{j child of h} (1 - g_j); in [0, 1], blind to h's parents."""
    return g * deselection(g, children)


def normalise(alpha: torch.Tensor, floor: float) -> torch.Tensor:
    """Shares summing to 1 without ever dividing by less than `floor`: where sum alpha >= floor this is
    alpha / sum alpha; below it the missing mass (floor - sum alpha) is spread evenly over the experts
    and the sum divided by floor. Continuous at the floor; all experts equal when nobody is confident."""
    total = alpha.sum(dim=-1, keepdim=True)
    missing = (floor - total).clamp(min=0.0) / alpha.shape[-1]
    return (alpha + missing) / total.clamp(min=floor)


class Mixture(NamedTuple):
    """The mixture's numbers for every row (or position); all (..., H) except the last three (...)."""

    predictions: torch.Tensor  # f_h, each expert's P(y = 1)
    confidences: torch.Tensor  # g_h
    alphas: torch.Tensor
    shares: torch.Tensor  # sum to 1 over the experts
    prediction: torch.Tensor  # sum_h share_h * f_h
    alpha_total: torch.Tensor
    undecided: torch.Tensor  # bool: alpha_total < undecided_below, "no expert was confident"


def mixture(predictions: torch.Tensor, children: torch.Tensor, gate: GateConfig) -> Mixture:
    """The boosted mixture of the experts' predicted probabilities (..., H)."""
    g = confidence(predictions, gate.confidence, gate.centre)
    alpha = alphas(g, children)
    shares = normalise(alpha, gate.undecided_below)
    total = alpha.sum(dim=-1)
    return Mixture(
        predictions, g, alpha, shares, (shares * predictions).sum(dim=-1), total, total < gate.undecided_below
    )


def training_weights(predictions: torch.Tensor, children: torch.Tensor, gate: GateConfig) -> torch.Tensor:
    """The E-step weights w_h (..., H), computed from the current predictions and held constant
    (detached): gradients of the M-step flow only through each expert's own loss. For "paper" they are
    already normalised over the experts of each sample; "reference" is normalised by train_loss."""
    with torch.no_grad():
        g = confidence(predictions.detach(), gate.training_confidence, gate.centre)
        if gate.training_weight == "reference":
            return deselection(g, children)
        # A tiny floor: early in training every g can be ~0; the ratio is still the responsibilities.
        return normalise(alphas(g, children), 1e-12)
