"""RecoNet training: softmax cross-entropy on sampled examples, early stopping on validation recall@50."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from engine.data.vocabulary import Vocabulary
from engine.models.reconet import RecoNetConfig, RecoNetWeights
from engine.models.reconet_module import RecoNetModule, to_torch_csr
from engine.models.sampling import ExampleSampler
from engine.progress import SILENT, StepProgress, TaskState


@dataclass(frozen=True, eq=False)
class TrainingResult:
    weights: RecoNetWeights
    best_epoch: int
    validation_recall: list[float] = field(default_factory=list)  # one per validation check
    seconds: float = 0.0


def train_reconet(
    vocabulary: Vocabulary,
    train: sp.csr_matrix,
    user_attributes: sp.csr_matrix | None,
    config: RecoNetConfig,
    validate: Callable[[RecoNetWeights], float] | None,
    state: TaskState = SILENT,
) -> TrainingResult:
    """Train until `validate` (recall@50 on validation) has not improved for `config.patience` checks;
    with no `validate`, train `config.max_epochs` and keep the last weights."""
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    module = RecoNetModule(vocabulary.n_features, vocabulary.n_items, config)
    optimiser = torch.optim.Adam(module.parameters(), lr=config.learning_rate)
    sampler = ExampleSampler(
        vocabulary,
        train,
        user_attributes if config.use_user_attributes else None,
        config.use_item_attributes,
        config.beta,
        config.seed,
    )
    if len(sampler) == 0:
        raise ValueError("no training examples: the training split holds no positive ratings")

    best_weights, best_recall, best_check = module.to_weights(), -1.0, 0
    history: list[float] = []
    n_batches = -(-len(sampler) // config.batch_size)
    # Validation points inside each epoch (config.checks_per_epoch). On ML-1M two checks with a
    # patience of one stopped a variant on a 0.002 dip, so the defaults check once per epoch.
    checks = {round(n_batches * (c + 1) / config.checks_per_epoch) for c in range(config.checks_per_epoch)}
    check, stop = 0, False
    # Cancel is checked at every batch (a check every 20 batches let an ML-1M Cancel wait ~13 s);
    # the time left assumes every epoch runs: early stopping can only make it shorter.
    steps = StepProgress(state, config.max_epochs * n_batches, up_to=validate is not None)
    upto = "" if validate is None else "at most "
    variant = config.variant_on(user_attributes is not None and user_attributes.nnz > 0, vocabulary.n_genres > 0)
    for epoch in range(1, config.max_epochs + 1):
        module.train()
        order = sampler.epoch_order()
        for b in range(n_batches):
            steps.step((epoch - 1) * n_batches + b, f"Training {variant}: epoch {epoch} of {upto}{config.max_epochs}")
            profiles, labels = sampler.batch(order[b * config.batch_size : (b + 1) * config.batch_size])
            logits = module(to_torch_csr(profiles))
            loss = F.cross_entropy(logits, torch.from_numpy(labels))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if b + 1 not in checks:
                continue
            check += 1
            weights = module.to_weights()
            if validate is None:
                best_weights, best_check = weights, check
                continue
            state.check_cancelled()
            recall = float(validate(weights))
            history.append(recall)
            if recall > best_recall:
                best_weights, best_recall, best_check = weights, recall, check
            elif check - best_check >= config.patience:
                stop = True
                break
        if stop:
            break
    best_epoch = -(-best_check // config.checks_per_epoch)
    done = f"validation recall@50 {best_recall:.4f}" if validate is not None else f"{config.max_epochs} epochs"
    state.progress(1.0, f"Trained {variant}: {done}")
    return TrainingResult(best_weights, best_epoch, history, time.perf_counter() - started)


def validation_recall(
    vocabulary: Vocabulary,
    train: sp.csr_matrix,
    validation: sp.csr_matrix,
    user_attributes: sp.csr_matrix | None,
    config: RecoNetConfig,
    k: int = 50,
) -> Callable[[RecoNetWeights], float]:
    """recall@k on the validation items, ranking everything not in the user's training history."""
    from engine.evaluation.metrics import mean_recall_at_k
    from engine.models.profiles import profile_matrix

    rows = np.flatnonzero(np.diff(validation.indptr) > 0)
    attributes = user_attributes[rows] if (user_attributes is not None and config.use_user_attributes) else None
    profiles = profile_matrix(vocabulary, train[rows], attributes, config.use_item_attributes)
    exclude, truth = train[rows], validation[rows]

    def evaluate(weights: RecoNetWeights) -> float:
        return mean_recall_at_k(weights.logits_batch(profiles), exclude, truth, k)

    return evaluate
