"""Training and scoring of the static expert-lens models (control MLP, content-only, Intrp-MLP) on a
leave-one-out split: Adam, 4 fresh negatives per positive every epoch, and the epoch with the best
validation HR@10 (against the stored validation negatives) kept, as the reference code selects.
Progress and cancel at every batch (engine.progress)."""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch

from engine.evaluation.sampled import LeaveOneOutSplit, pair_batches, sampled_from_pairs
from engine.models.static_features import StaticFeatures, training_pairs
from engine.models.static_mlp import History, Pairs
from engine.progress import SILENT, StepProgress, TaskState

SCORE_CHUNK = 65536


@dataclass(frozen=True)
class StaticTrainingConfig:
    epochs: int = 12
    batch_size: int = 512
    learning_rate: float = 1e-3
    negatives: int = 4
    demographics_dropout: float = 0.05  # trains the "not given" rows, for profiles without demographics
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(eq=False)
class TrainingLog:
    validation_hr: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0


class PairMaker:
    """Builds `Pairs` from numpy (user rows, item columns) of one split's users."""

    def __init__(self, features: StaticFeatures, split: LeaveOneOutSplit):
        self.categories = torch.from_numpy(features.user_categories)
        self.history = History.of(split.train)
        self.train = split.train
        train = split.train.tocsr()
        rows = np.repeat(np.arange(train.shape[0], dtype=np.int64), np.diff(train.indptr))
        self._n_items = train.shape[1]
        self._train_keys = np.sort(rows * self._n_items + train.indices)  # (user, item) pairs rated in training

    def rated(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Whether each (user, item) pair is a training rating: a binary search in the sorted pair
        keys (scipy's fancy indexing of the matrix is far slower on millions of pairs)."""
        keys = np.asarray(users, np.int64) * self._n_items + np.asarray(items, np.int64)
        at = np.searchsorted(self._train_keys, keys).clip(max=max(len(self._train_keys) - 1, 0))
        return self._train_keys[at] == keys if len(self._train_keys) else np.zeros(len(keys), bool)

    def __call__(self, users: np.ndarray, items: np.ndarray, in_history: np.ndarray | None = None,
                 categories: torch.Tensor | None = None) -> Pairs:
        users_t = torch.from_numpy(np.ascontiguousarray(users, np.int64))
        if in_history is None:
            in_history = self.rated(users, items)
        return Pairs(users_t, torch.from_numpy(np.ascontiguousarray(items, np.int64)),
                     self.categories[users_t] if categories is None else categories,
                     torch.from_numpy(np.asarray(in_history, np.float32)), self.history)


def score_pairs(score: Callable[[Pairs], torch.Tensor], make: PairMaker, users: np.ndarray, items: np.ndarray
                ) -> np.ndarray:
    """float64 scores of many pairs, in chunks, without gradients."""
    out = np.empty(len(users), np.float64)
    with torch.inference_mode():
        for start in range(0, len(users), SCORE_CHUNK):
            end = start + SCORE_CHUNK
            out[start:end] = score(make(users[start:end], items[start:end])).numpy()
    return out


def score_matrix(score: Callable[[Pairs], torch.Tensor], make: PairMaker, rows: np.ndarray, n_items: int
                 ) -> np.ndarray:
    """Scores of every item for the given user rows: (len(rows), n_items), for the full ranking."""
    users = np.repeat(rows, n_items)
    items = np.tile(np.arange(n_items), len(rows))
    return score_pairs(score, make, users, items).reshape(len(rows), n_items)


def validation_hr(score: Callable[[Pairs], torch.Tensor], make: PairMaker, split: LeaveOneOutSplit,
                  negatives: dict[str, np.ndarray], which: str = "validation") -> dict:
    users, items = pair_batches(split, negatives, which)
    return sampled_from_pairs(score_pairs(score, make, users, items), split.n_users)


def train_static(model: torch.nn.Module, make: PairMaker, split: LeaveOneOutSplit,
                 negatives: dict[str, np.ndarray], config: StaticTrainingConfig, state: TaskState = SILENT,
                 label: str = "Training") -> TrainingLog:
    """Trains `model` (anything with `loss(pairs, labels)` and `scores(pairs)`) in place; leaves it at
    its best validation epoch, in eval mode."""
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng([config.seed, 7])
    # fused: one kernel per step for all parameters instead of a Python loop over them (same update)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate, fused=True)
    per_epoch = -(-split.train.nnz * (1 + config.negatives) // config.batch_size)
    progress = StepProgress(state, per_epoch * config.epochs)
    log = TrainingLog()
    best_state, best_hr = None, -1.0
    unknown = torch.tensor([m.num_embeddings - 1 for m in model.inputs.categories])
    for epoch in range(config.epochs):
        model.train()
        users, items, labels = training_pairs(split.train, rng, config.negatives)
        in_history = labels  # a positive's movie is in its user's training history; a negative's is not
        for batch in range(per_epoch):
            progress.step(epoch * per_epoch + batch, f"{label}: epoch {epoch + 1} of {config.epochs}")
            part = slice(batch * config.batch_size, (batch + 1) * config.batch_size)
            categories = make.categories[torch.from_numpy(users[part])]
            if config.demographics_dropout > 0:
                drop = torch.rand(categories.shape) < config.demographics_dropout
                categories = torch.where(drop, unknown.expand_as(categories), categories)
            pairs = make(users[part], items[part], in_history[part], categories)
            loss = model.loss(pairs, torch.from_numpy(labels[part]))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        model.eval()
        hr = validation_hr(model.scores, make, split, negatives)["hr"]
        log.validation_hr.append(round(hr, 4))
        if hr > best_hr:
            best_hr, log.best_epoch = hr, epoch + 1
            best_state = copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    log.seconds = time.perf_counter() - started
    state.progress(1.0, f"{label}: best validation HR@10 {best_hr:.3f} at epoch {log.best_epoch}")
    return log
