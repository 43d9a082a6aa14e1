"""The static Intrp-MLP of the expert lens (Afchar & Hennequin, RecSys 2020, §4.2; notes §1.8): four
masked experts over the groups content / user / item, built on the core's InterpretableExperts:
S1 content, S2 content + user, S3 content + item, S4 all. Each expert outputs P(liked) through a
sigmoid; the boosted gate turns the four into one probability and the shares that explain it.

The gate used to *rank and explain* (the inference gate) may differ from the one the experts were
trained with: the gate's confidence decides how often a weak simple expert deselects the
all-features expert, which is what cost the notes' prototype 5.3 HR points. `choose_gate` picks it on
validation among named candidates; shares and prediction always come from the same gate, so the
prediction is the share-weighted sum of the experts' predictions, exactly.
"""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from engine.models.experts import ExpertsConfig, InterpretableExperts
from engine.models.experts_gating import GateConfig, Mixture, mixture
from engine.models.experts_layouts import static_layout
from engine.models.experts_training import gem_loss
from engine.models.static_mlp import Pairs, StaticInputs

EXPERT_NAMES = {
    "S1": "genres and demographics",
    "S2": "genres and demographics plus your own taste",
    "S3": "genres and demographics plus the film's own signature",
    "S4": "everything (collaborative)",
}
# Training gate of the reference MovieLens code: shifted L4 confidence around the base rate (1 in 5
# training pairs is a positive), reference training weight.
TRAINING_GATE = GateConfig(confidence="shifted_l4", training_confidence="shifted_l4", training_weight="reference",
                           centre=0.3)
# Inference gates tried on validation (the first is the training gate).
GATE_CANDIDATES: dict[str, GateConfig] = {
    "shifted_l4 centre 0.3": TRAINING_GATE,
    "shifted_l4 centre 0.5": replace(TRAINING_GATE, confidence="shifted_l4", centre=0.5),
    "square": replace(TRAINING_GATE, confidence="square"),
    "abs": replace(TRAINING_GATE, confidence="abs"),
    "lp4": replace(TRAINING_GATE, confidence="lp4"),
}


class IntrpMLP(nn.Module):
    def __init__(self, inputs: StaticInputs, n_users: int, n_items: int, hidden: tuple[int, ...] = (64, 32, 16, 8),
                 gate: GateConfig = TRAINING_GATE, mixture_loss_weight: float = 0.0):
        super().__init__()
        self.inputs = inputs
        self.mixture_loss_weight = mixture_loss_weight
        layout = static_layout(n_users, n_items, n_content=inputs.widths["content"],
                               factors=inputs.config.factors, hidden=hidden)
        self.layout = layout.layout
        self.experts = InterpretableExperts(layout.layout, ExpertsConfig(hidden=tuple(hidden), output="sigmoid", gate=gate))
        self.inference_gate = gate
        self.inference_gate_name = "training gate"

    @property
    def expert_keys(self) -> tuple[str, ...]:
        return self.layout.keys

    def logits(self, pairs: Pairs) -> torch.Tensor:
        """Per-expert logits (n, H)."""
        return self.experts(self.inputs(pairs))

    def loss(self, pairs: Pairs, labels: torch.Tensor) -> torch.Tensor:
        """The GEM M-step objective with detached E-step weights (the core's gem_loss); with
        `mixture_loss_weight` > 0, plus that much of the mixed prediction's own log-loss, whose gradient
        also reaches the gate (each confidence is a function of its expert's prediction): the experts
        then learn to be unconfident where the mixture would rank worse by trusting them. Input
        dependence is untouched (each expert still reads only its subset)."""
        logits = self.experts(self.inputs(pairs))
        gate = self.experts.config.gate
        loss = gem_loss(logits, labels, self.experts.children_mask, gate)
        if self.mixture_loss_weight > 0:
            mixed = mixture(torch.sigmoid(logits), self.experts.children_mask, gate).prediction
            loss = loss + self.mixture_loss_weight * nn.functional.binary_cross_entropy(
                mixed.clamp(1e-6, 1 - 1e-6), labels)
        return loss

    def mixture(self, pairs: Pairs, gate: GateConfig | None = None) -> Mixture:
        """Each expert's prediction, confidence, alpha and share, and the mixed prediction, in float64
        (float32 sigmoids saturate and make ties between candidates)."""
        predictions = torch.sigmoid(self.logits(pairs).double())
        return mixture(predictions, self.experts.children_mask, gate or self.inference_gate)

    def scores(self, pairs: Pairs) -> torch.Tensor:
        return self.mixture(pairs).prediction

    def expert_scores(self, pairs: Pairs, expert: str) -> torch.Tensor:
        """One expert alone, as a ranker (its logit): to show what the gate costs."""
        return self.logits(pairs)[:, self.expert_keys.index(expert)].double()

    def use_gate(self, name: str, gate: GateConfig) -> None:
        self.inference_gate, self.inference_gate_name = gate, name
