"""Get a served RecoNet for a dataset: from the cache when it matches, else trained and cached."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.data.sparse_rows import SparseRows, as_scipy
from engine.data.splits import random_split
from engine.data.types import Dataset
from engine.data.vocabulary import Vocabulary
from engine.models import store
from engine.models.reconet import RecoNetConfig, RecoNetWeights
from engine.progress import SILENT, TaskState

if TYPE_CHECKING:  # training converts to scipy; loading a cached model never imports it
    import scipy.sparse as sp

# Found on the 60/20/20 validation split (reports/); ML-100k needs more, smaller steps.
DEFAULT_CONFIGS = {
    "ml-1m": RecoNetConfig(learning_rate=1e-2, batch_size=2048, max_epochs=6, patience=1),
    "ml-100k": RecoNetConfig(learning_rate=5e-3, batch_size=512, max_epochs=40, patience=3, beta=0.5),
}


def default_config(dataset_name: str) -> RecoNetConfig:
    return DEFAULT_CONFIGS.get(dataset_name, DEFAULT_CONFIGS["ml-100k"])


@dataclass(frozen=True, eq=False)
class ServedModel:
    weights: RecoNetWeights
    config: RecoNetConfig
    manifest: dict  # includes "training": {"best_epoch", "validation_recall", "seconds"}
    trained_now: bool
    note: str = ""  # e.g. that a damaged cache was moved aside


def weight_shapes(config: RecoNetConfig, n_features: int, n_items: int) -> dict[str, tuple[int, ...]]:
    """The shape of every RecoNet array that these settings and data imply."""
    width = config.hidden or config.dim
    shapes = {"embedding": (n_features, config.dim), "output_weight": (n_items, width), "output_bias": (n_items,)}
    if config.hidden:
        shapes.update(hidden_weight=(config.hidden, config.dim), hidden_bias=(config.hidden,))
    return shapes


def obtain_model(
    dataset: Dataset,
    vocabulary: Vocabulary,
    user_ids,
    positives: sp.csr_matrix | SparseRows,
    user_attributes: sp.csr_matrix | SparseRows,
    config: RecoNetConfig,
    cache_dir: Path,
    state: TaskState = SILENT,
    retrain: bool = False,
) -> ServedModel:
    """The model trained on 80% of each user's positives, early-stopped on the other 20%."""
    keys = [f"{f.kind}:{f.key}" for f in vocabulary.features]
    manifest = store.expected_manifest(
        dataset.name, dataset.fingerprint, "relevance", "reconet", config.to_dict(),
        vocabulary=store.vocabulary_hash(keys), n_features=len(keys),
    )

    def train(state: TaskState):
        # Said before the seconds of importing torch and building the split, which showed "Loaded ..." still.
        state.progress(0.0, f"Preparing to train {config.variant_on(bool(dataset.users), bool(dataset.genres))}")
        from engine.models.training import train_reconet, validation_recall  # torch: only when training

        positives_csr, attributes_csr = as_scipy(positives), as_scipy(user_attributes)
        split = random_split(user_ids, positives_csr, fractions=(0.8, 0.2, 0.0), cold_fraction=0.0, seed=config.seed)
        validate = validation_recall(vocabulary, split.train, split.validation, attributes_csr, config)
        result = train_reconet(vocabulary, split.train, attributes_csr, config, validate, state)
        training = {
            "best_epoch": result.best_epoch,
            "validation_recall_at_50": result.validation_recall,
            "seconds": round(result.seconds, 2),
        }
        return result.weights.to_arrays(), training

    shapes = weight_shapes(config, len(keys), vocabulary.n_items)
    cached = store.obtain(cache_dir, manifest, train, state, retrain, shapes=shapes)
    return ServedModel(
        RecoNetWeights.from_arrays(cached.arrays), config, cached.manifest, cached.trained_now, cached.note
    )
