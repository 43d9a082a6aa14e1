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

No torch here: every function works on numpy arrays and torch tensors alike (only operators and
methods both share), so training uses them on tensors and the app serves them on numpy arrays.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

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


Array = Any  # a numpy array or a torch tensor


def confidence(prediction: Array, name: str, centre: float = 0.3) -> Array:
    """g in [0, 1] from an expert's predicted probability in [0, 1] (any shape)."""
    if name == "shifted_l4":
        # c^4 / (1 + c^3), scaled so the farthest prediction from the centre has g = 1.
        far = max(centre, 1.0 - centre)
        c = abs(prediction - centre)
        return c**4 / (1 + c**3) * ((1 + far**3) / far**4)
    signed = abs(2 * prediction - 1)
    if name == "abs":
        return signed
    if name == "square":
        return signed**2
    if name == "lp4":
        return 2 * signed**4 / (1 + signed**3)
    raise ValueError(f"unknown confidence {name!r}; one of {', '.join(CONFIDENCES)}")


def deselection(g: Array, children: Array) -> Array:
    """prod over the children j of h of (1 - g_j), for every h: (..., H) -> (..., H).
    children[h, j] is True when S_j is a strict subset of S_h (all strict subsets, not only the
    immediate ones: notes §7.5). A product over a (..., H, H) grid whose non-children factors are
    1 - g * 0 = 1 exactly, so it is exact, also when g_j = 1."""
    return (1 - g[..., None, :] * children).prod(-1)


def alphas(g: Array, children: Array) -> Array:
    """alpha_h = g_h * prod_{j child of h} (1 - g_j); in [0, 1], blind to h's parents."""
    return g * deselection(g, children)


def normalise(alpha: Array, floor: float) -> Array:
    """Shares summing to 1 without ever dividing by less than `floor`: where sum alpha >= floor this is
    alpha / sum alpha; below it the missing mass (floor - sum alpha) is spread evenly over the experts
    and the sum divided by floor. Continuous at the floor; all experts equal when nobody is confident."""
    total = alpha.sum(-1)[..., None]
    missing = (floor - total).clip(min=0.0) / alpha.shape[-1]
    return (alpha + missing) / total.clip(min=floor)


class Mixture(NamedTuple):
    """The mixture's numbers for every row (or position); all (..., H) except the last three (...)."""

    predictions: Array  # f_h, each expert's P(y = 1)
    confidences: Array  # g_h
    alphas: Array
    shares: Array  # sum to 1 over the experts
    prediction: Array  # sum_h share_h * f_h
    alpha_total: Array
    undecided: Array  # bool: alpha_total < undecided_below, "no expert was confident"


def mixture(predictions: Array, children: Array, gate: GateConfig) -> Mixture:
    """The boosted mixture of the experts' predicted probabilities (..., H)."""
    g = confidence(predictions, gate.confidence, gate.centre)
    alpha = alphas(g, children)
    shares = normalise(alpha, gate.undecided_below)
    total = alpha.sum(-1)
    return Mixture(predictions, g, alpha, shares, (shares * predictions).sum(-1), total, total < gate.undecided_below)

