"""The session expert model: for each movie of a sitting's second half, was it liked? Decided by a
per-position mixture of 8 interpretable experts (the sequence variant of Afchar & Hennequin, §4.3,
adapted to MovieLens rating sittings: specs/experts.md §1.6, §3.4, §3.6).

Each expert h has its own blocks of `width` units in every layer (the fused masked layers of
engine.models.experts):
- the given half's rows and the guessed half's rows are projected per expert, each expert reading
  only its subset's columns (the guessed half never has the history group: it is the label);
- optional self-attention blocks over the given half (the paper's encoder; the notes' prototype had
  none), then one cross-attention block: the guessed positions attend over the given half, every
  expert with its own queries, keys and values (so attention never mixes experts);
- a feed-forward layer and the output head read their own block and their children's blocks
  detached (parents use, but never train, their children), then one logit per guessed position.
Attention divides by sqrt(d) (the reference code multiplied: notes §7.9); layer norms are per block.

The shares at a position sum to 1 and its probability is their weighted sum of the experts'
predictions, exactly (engine.models.experts_gating.mixture). The control is the same network with a
single expert reading everything, wider: the non-interpretable model the bars compare against.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.data.session_features import GIVEN_ONLY, GROUPS, SUBSETS, SessionArrays, SessionEncoder
from engine.models.experts import ExpertLayout, MaskedLinear, expert_layer
from engine.models.experts_gating import GateConfig, Mixture, mixture
from engine.models.experts_training import gem_loss
from engine.progress import SILENT, StepProgress, TaskState

# The session experts decide on liked / not liked, symmetric classes: |F|^2 around 0.5 (the code's
# Spotify choice), for training weights and shares alike.
SESSION_GATE = GateConfig(confidence="square", training_confidence="square", training_weight="reference")


@dataclass(frozen=True)
class SessionModelConfig:
    width: int = 16  # units per expert in every block
    heads: int = 2
    feed_forward: int = 32
    encoder_blocks: int = 0  # self-attention blocks over the given half before the cross-attention
    gate: GateConfig = field(default_factory=lambda: SESSION_GATE)

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be a multiple of heads {self.heads}")

    def to_dict(self) -> dict:
        return {**asdict(self), "gate": self.gate.to_dict()}


INTERPRETABLE = SessionModelConfig()
CONTROL = SessionModelConfig(width=64, heads=4, feed_forward=128)


def session_layout(encoder: SessionEncoder, interpretable: bool = True) -> ExpertLayout:
    """The 8 subsets of the notes over the encoder's groups; the control: one expert reading all."""
    groups = tuple((name, encoder.columns[name].stop - encoder.columns[name].start) for name in GROUPS)
    if not interpretable:
        return ExpertLayout(groups, (("control", frozenset(GROUPS)),))
    return ExpertLayout(groups, tuple((s.id, frozenset(s.groups)) for s in SUBSETS))


def _target_feature_mask(layout: ExpertLayout) -> torch.Tensor:
    """The given side's (H, D) mask without the columns the guessed half never has."""
    mask = layout.feature_mask().clone()
    slices = layout.group_slices()
    for group in GIVEN_ONLY:
        if group in slices:
            mask[:, slices[group]] = False
    return mask


class BlockNorm(nn.Module):
    """Layer norm over each expert's block separately, with per-expert gain and bias (an operation
    inside a block keeps every expert's input dependence)."""

    def __init__(self, experts: int, width: int):
        super().__init__()
        self.experts, self.width = experts, width
        self.gain = nn.Parameter(torch.ones(experts, width))
        self.bias = nn.Parameter(torch.zeros(experts, width))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        blocks = z.reshape(*z.shape[:-1], self.experts, self.width)
        normed = F.layer_norm(blocks, (self.width,)) * self.gain + self.bias
        return normed.reshape(z.shape)


def _own_blocks(experts: int, in_width: int, out_width: int) -> MaskedLinear:
    """H blocks -> H blocks with no links between experts (block-diagonal)."""
    return expert_layer(torch.zeros(experts, experts, dtype=torch.bool), in_width, out_width)


class ExpertAttention(nn.Module):
    """Multi-head attention run separately inside every expert's block: queries of expert h attend
    over keys and values of expert h only. `memory_mask` (N, Tm) says which memory rows are real."""

    def __init__(self, experts: int, width: int, heads: int):
        super().__init__()
        self.experts, self.width, self.heads = experts, width, heads
        self.query, self.key, self.value, self.out = (_own_blocks(experts, width, width) for _ in range(4))

    def _split(self, z: torch.Tensor) -> torch.Tensor:
        n, t, _ = z.shape
        return z.reshape(n, t, self.experts, self.heads, self.width // self.heads).permute(0, 2, 3, 1, 4)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(queries)), self._split(self.key(memory)), self._split(self.value(memory))
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=memory_mask[:, None, None, None, :])
        n, _, _, t, _ = attended.shape
        return self.out(attended.permute(0, 3, 1, 2, 4).reshape(n, t, self.experts * self.width))


class FeedForward(nn.Module):
    """Two masked layers; the first reads the children's blocks detached (the paper's regrouping
    between blocks), the second stays inside each block."""

    def __init__(self, children: torch.Tensor, width: int, hidden: int):
        super().__init__()
        experts = children.shape[0]
        self.up = expert_layer(children, width, hidden)
        self.down = _own_blocks(experts, hidden, width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.down(F.leaky_relu(self.up(z)))


class SessionExperts(nn.Module):
    """(given rows, given mask, guessed rows) -> one logit of P(liked) per expert and guessed
    position, (N, T, H); `mixture` turns them into predictions, confidences, shares."""

    def __init__(self, layout: ExpertLayout, config: SessionModelConfig = INTERPRETABLE):
        super().__init__()
        self.layout, self.config = layout, config
        h, d = layout.n_experts, config.width
        children = layout.children()
        self.register_buffer("children_mask", children)
        self.embed_given = MaskedLinear(layout.feature_mask().repeat_interleave(d, dim=0))
        self.embed_target = MaskedLinear(_target_feature_mask(layout).repeat_interleave(d, dim=0))
        self.encoder = nn.ModuleList(
            nn.ModuleList([ExpertAttention(h, d, config.heads), BlockNorm(h, d), FeedForward(children, d, config.feed_forward),
                           BlockNorm(h, d)])
            for _ in range(config.encoder_blocks)
        )
        self.cross = ExpertAttention(h, d, config.heads)
        self.cross_norm = BlockNorm(h, d)
        self.feed_forward = FeedForward(children, d, config.feed_forward)
        self.out_norm = BlockNorm(h, d)
        self.head = expert_layer(children, d, 1)

    def forward(self, given: torch.Tensor, given_mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        memory = self.embed_given(given)
        for attention, norm, feed_forward, out_norm in self.encoder:
            memory = norm(memory + attention(memory, memory, given_mask))
            memory = out_norm(memory + feed_forward(memory))
        z = self.embed_target(target)
        z = self.cross_norm(z + self.cross(z, memory, given_mask))
        z = self.out_norm(z + self.feed_forward(z))
        return self.head(z)

    def mixture(self, given: torch.Tensor, given_mask: torch.Tensor, target: torch.Tensor) -> Mixture:
        return mixture(torch.sigmoid(self(given, given_mask, target)), self.children_mask, self.config.gate)

    @property
    def expert_keys(self) -> tuple[str, ...]:
        return self.layout.keys


def build_session_model(encoder: SessionEncoder, interpretable: bool = True, config: SessionModelConfig | None = None,
                        seed: int = 0) -> SessionExperts:
    torch.manual_seed(seed)
    config = config or (INTERPRETABLE if interpretable else CONTROL)
    return SessionExperts(session_layout(encoder, interpretable), config)


def to_tensors(arrays: SessionArrays, rows: slice | np.ndarray = slice(None)) -> tuple[torch.Tensor, ...]:
    """(given, given_mask, target, target_mask, labels) as torch tensors, for `rows` of the batch."""
    return (torch.from_numpy(arrays.given[rows]), torch.from_numpy(arrays.given_mask[rows]),
            torch.from_numpy(arrays.target[rows]), torch.from_numpy(arrays.target_mask[rows]),
            torch.from_numpy(arrays.labels[rows]))


@dataclass(frozen=True)
class SessionTraining:
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 6  # stop after this many epochs without a better validation accuracy
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainingRecord:
    best_epoch: int
    epochs_run: int
    validation_accuracy: list[float]
    seconds: float


def predict_probabilities(model: SessionExperts, arrays: SessionArrays, batch_size: int = 512) -> Mixture:
    """The mixture for every window of `arrays`, as numpy arrays, (N, T, H) and (N, T)."""
    model.eval()
    parts = []
    with torch.no_grad():
        for start in range(0, len(arrays.labels), batch_size):
            given, given_mask, target, _, _ = to_tensors(arrays, slice(start, start + batch_size))
            parts.append(model.mixture(given, given_mask, target))
    return Mixture(*(torch.cat([getattr(p, name) for p in parts]).numpy() for name in Mixture._fields))


def validation_accuracy(model: SessionExperts, arrays: SessionArrays) -> float:
    prediction = predict_probabilities(model, arrays).prediction
    right = ((prediction > 0.5) == (arrays.labels > 0.5)) & arrays.target_mask
    return float(right.sum() / max(arrays.target_mask.sum(), 1))


def train_session_model(model: SessionExperts, training_windows: Callable[[int], SessionArrays],
                        validation: SessionArrays, settings: SessionTraining = SessionTraining(),
                        state: TaskState = SILENT, label: str = "Training the session experts") -> TrainingRecord:
    """GEM training (E-step weights detached, one Adam step per batch) on a fresh draw of window
    offsets every epoch (`training_windows(epoch)`); keeps the weights of the epoch with the best
    validation accuracy. Progress and cancel at every batch (Cancelled leaves nothing saved)."""
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(settings.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    first = training_windows(0)
    steps_per_epoch = -(-len(first.labels) // settings.batch_size)
    progress = StepProgress(state, settings.epochs * steps_per_epoch, up_to=settings.patience < settings.epochs)
    best = (-1.0, 0, copy.deepcopy(model.state_dict()))
    history: list[float] = []
    for epoch in range(settings.epochs):
        arrays = first if epoch == 0 else training_windows(epoch)
        order = torch.randperm(len(arrays.labels), generator=generator).numpy()
        model.train()
        for step, start in enumerate(range(0, len(order), settings.batch_size)):
            progress.step(epoch * steps_per_epoch + min(step, steps_per_epoch - 1),
                          f"{label}: epoch {epoch + 1} of {settings.epochs}")
            given, given_mask, target, target_mask, labels = to_tensors(arrays, order[start:start + settings.batch_size])
            loss = gem_loss(model(given, given_mask, target), labels, model.children_mask, model.config.gate, target_mask)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        history.append(validation_accuracy(model, validation))
        if history[-1] > best[0]:
            best = (history[-1], epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= settings.patience:
            break
    model.load_state_dict(best[2])
    model.eval()
    state.progress(1.0, f"{label}: done, best epoch {best[1] + 1} of {len(history)}")
    return TrainingRecord(best[1] + 1, len(history), history, time.perf_counter() - started)


class SessionPredictor:
    """A trained session model with its encoder: the numbers of one window's guessed half, per
    position and expert (what a timeline shows). Runs on the calling thread."""

    def __init__(self, model: SessionExperts, encoder: SessionEncoder):
        self.model, self.encoder = model.eval(), encoder

    def window(self, window, user=None) -> Mixture:
        """The mixture at every guessed position of `window` (a dataset window or a profile's, with
        `user` giving a profile's demographics): numpy arrays (T, H) and (T,)."""
        arrays = self.encoder.encode([window], [user] if user is not None else None)
        given, given_mask, target, target_mask, _ = to_tensors(arrays)
        with torch.no_grad():
            mixed = self.model.mixture(given, given_mask, target)
        keep = target_mask[0]
        return Mixture(*(value[0][keep].numpy() for value in mixed))
