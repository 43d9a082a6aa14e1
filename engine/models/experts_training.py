"""GEM training of the interpretable mixture (Afchar & Hennequin §3.3.4): per batch, the E-step
computes each expert's weight from the current parameters and holds it constant; the generalised
M-step takes one gradient step on the weighted sum of the experts' own losses. All experts train at
once; gradients reach an expert only through its own prediction (its children are read detached).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from engine.models.experts import InterpretableExperts
from engine.models.experts_gating import GateConfig, alphas, confidence, deselection, normalise
from engine.progress import SILENT, StepProgress, TaskState


@dataclass(frozen=True)
class GemConfig:
    """Optimiser settings of a GEM run (Adam, as in the paper and its code)."""

    learning_rate: float = 1e-3
    batch_size: int = 256
    steps: int = 3000
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def training_weights(predictions: torch.Tensor, children: torch.Tensor, gate: GateConfig) -> torch.Tensor:
    """The E-step weights w_h (..., H), computed from the current predictions and held constant
    (detached): gradients of the M-step flow only through each expert's own loss. For "paper" they are
    already normalised over the experts of each sample; "reference" is normalised by gem_loss."""
    with torch.no_grad():
        g = confidence(predictions.detach(), gate.training_confidence, gate.centre)
        if gate.training_weight == "reference":
            return deselection(g, children)
        # A tiny floor: early in training every g can be ~0; the ratio is still the responsibilities.
        return normalise(alphas(g, children), 1e-12)


class Batch(NamedTuple):
    """Inputs (..., D), targets in {0, 1} (...), and optionally which positions count (...)."""

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor | None = None


def gem_loss(
    logits: torch.Tensor, y: torch.Tensor, children: torch.Tensor, gate: GateConfig, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The M-step objective for per-expert logits (..., H) and targets (...): sum_h w_h BCE(y, f_h) with
    the weights w detached. "reference": a global weighted mean over (position, expert); "paper": the
    weights are normalised per position, then the mean over positions. `mask` drops padded positions."""
    y = y.to(logits.dtype)
    per_expert = F.binary_cross_entropy_with_logits(logits, y.unsqueeze(-1).expand_as(logits), reduction="none")
    w = training_weights(torch.sigmoid(logits), children, gate)
    if mask is not None:
        w = w * mask.to(w.dtype).unsqueeze(-1)
    weighted = (w * per_expert).sum()
    if gate.training_weight == "reference":
        return weighted / w.sum().clamp(min=1e-12)
    count = logits[..., 0].numel() if mask is None else mask.sum()
    return weighted / torch.as_tensor(count, dtype=logits.dtype).clamp(min=1)


def gem_step(model: InterpretableExperts, optimiser: torch.optim.Optimizer, batch: Batch) -> float:
    """One E-step + one gradient step; returns the batch's weighted loss."""
    model.train()
    loss = gem_loss(model(batch.x), batch.y, model.children_mask, model.config.gate, batch.mask)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return float(loss.detach())


@dataclass(frozen=True, eq=False)
class GemResult:
    steps: int
    losses: list[float] = field(default_factory=list)  # mean loss per progress interval of 100 steps
    seconds: float = 0.0


def train_gem(
    model: InterpretableExperts,
    next_batch: Callable[[int], Batch],
    config: GemConfig,
    state: TaskState = SILENT,
    label: str = "Training the experts",
) -> GemResult:
    """`config.steps` GEM steps on batches from `next_batch(step)` (fresh samples, or an epoch's
    slices: the caller decides). Cancel is checked at every step and raises Cancelled; the model is
    left as trained so far and nothing is saved here."""
    started = time.perf_counter()
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    progress = StepProgress(state, config.steps)
    losses, running = [], []
    for step in range(config.steps):
        progress.step(step, f"{label}: step {step + 1} of {config.steps}")
        running.append(gem_step(model, optimiser, next_batch(step)))
        if len(running) == 100:
            losses.append(sum(running) / len(running))
            running = []
    if running:
        losses.append(sum(running) / len(running))
    model.eval()
    state.progress(1.0, f"{label}: done, {config.steps} steps")
    return GemResult(config.steps, losses, time.perf_counter() - started)
