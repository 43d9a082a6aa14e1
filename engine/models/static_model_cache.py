"""The served static model of the expert lens: the Intrp-MLP whose user group is built from the
profile's rated movies (the variant that serves every profile, dataset user or new, without
retraining), trained once on the leave-one-out split's training ratings and cached with a manifest
(engine.models.store). Its gate is the lens's one gate (intrp_mlp.STATIC_GATE: trained with, selected
with, measured by `bench experts` and served), stored in the manifest, so a model cached with another
gate is retrained, never reused; serving then needs numpy only (engine.models.static_serving).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data.types import Dataset
from engine.evaluation.sampled import draw_negatives, split_dataset
from engine.models import store
from engine.models.experts_gating import GateConfig
from engine.models.intrp_mlp import MIXTURE_LOSS_WEIGHT, STATIC_GATE, STATIC_GATE_NAME, IntrpMLP
from engine.models.static_features import build_features
from engine.models.static_mlp import POOL_SCALE, StaticInputs, StaticInputsConfig
from engine.models.static_serving import StaticServing
from engine.models.static_training import PairMaker, StaticTrainingConfig, train_static, validation_hr
from engine.progress import SILENT, TaskState

LENS = "experts"
MODEL = "intrp-mlp"


@dataclass(frozen=True)
class StaticModelSettings:
    factors: int = 32
    hidden: tuple[int, ...] = (64, 32, 16, 8)  # per expert, as the benchmark's Intrp-MLP
    # best validation epochs 17-20 of 20 with the mixture loss weight 1.0 (seeds 0 and 1; intrp_mlp)
    training: StaticTrainingConfig = StaticTrainingConfig(epochs=20)
    split_seed: int = 0
    selection_seed: int = 100  # the validation negatives that pick the epoch
    gate: GateConfig = STATIC_GATE
    gate_name: str = STATIC_GATE_NAME
    mixture_loss_weight: float = MIXTURE_LOSS_WEIGHT
    pool_scale: float = POOL_SCALE  # of the pooled mean of the profile's movies (static_mlp)

    def to_dict(self) -> dict:
        return {"factors": self.factors, "hidden": list(self.hidden), "training": self.training.to_dict(),
                "split_seed": self.split_seed, "selection_seed": self.selection_seed, "user_group": "profile",
                "gate": self.gate.to_dict(), "gate_name": self.gate_name,
                "mixture_loss_weight": self.mixture_loss_weight, "pool_scale": self.pool_scale}


SERVED = StaticModelSettings()


@dataclass(frozen=True, eq=False)
class ServedStaticModel:
    serving: StaticServing
    manifest: dict
    trained_now: bool
    note: str = ""
    module: IntrpMLP | None = None  # the torch model, when it was trained or rebuilt in this process


def static_manifest(dataset: Dataset, settings: StaticModelSettings) -> dict:
    return store.expected_manifest(dataset.name, dataset.fingerprint, LENS, MODEL, settings.to_dict(),
                                   positives="every rating", negatives="unrated movies")


def obtain_static_model(dataset: Dataset, cache_dir: str | Path, state: TaskState = SILENT, *,
                        settings: StaticModelSettings = SERVED, retrain: bool = False) -> ServedStaticModel:
    """The cached profile-built Intrp-MLP for `dataset`, trained (progress and cancel) when the
    cache has none for these exact settings."""
    holder: dict = {}

    def train(task_state: TaskState):
        previous = torch.get_num_threads()
        torch.set_num_threads(min(previous, 2))
        try:
            model, record = _train(dataset, settings, task_state)
        finally:
            torch.set_num_threads(previous)
        holder["model"] = model
        return static_arrays(model, record["item_ids"]), {k: v for k, v in record.items() if k != "item_ids"}

    cached = store.obtain(Path(cache_dir), static_manifest(dataset, settings), train, state, retrain,
                          check=_check)
    training = cached.manifest["training"]
    gate = GateConfig(**training["inference_gate"])
    serving = StaticServing.from_arrays(cached.arrays, gate, training["category_names"])
    return ServedStaticModel(serving, cached.manifest, cached.trained_now, cached.note, holder.get("model"))


def _train(dataset: Dataset, settings: StaticModelSettings, state: TaskState) -> tuple[IntrpMLP, dict]:
    split = split_dataset(dataset, seed=settings.split_seed)
    features = build_features(dataset, split)
    make = PairMaker(features, split)
    selection = draw_negatives(split, seed=settings.selection_seed)
    torch.manual_seed(settings.training.seed)
    inputs = StaticInputs(features, split.n_users, split.n_items,
                          StaticInputsConfig(factors=settings.factors, user_group="profile",
                                             pool_scale=settings.pool_scale))
    model = IntrpMLP(inputs, split.n_users, split.n_items, hidden=tuple(settings.hidden), gate=settings.gate,
                     mixture_loss_weight=settings.mixture_loss_weight)
    log = train_static(model, make, split, selection, settings.training, state.sub(0.0, 0.95),
                       label="Training the expert lens's model")
    hr = validation_hr(model.scores, make, split, selection)["hr"]
    state.progress(1.0, f"The expert lens's model is ready (validation HR@10 {hr:.3f})")
    return model, {
        "item_ids": split.item_ids, "category_names": [list(n) for n in features.category_names],
        "item_content": features.item_content_kind, "protocol": split.protocol,
        # the gate it was trained and selected with, the one it is served with
        "inference_gate_name": settings.gate_name, "inference_gate": settings.gate.to_dict(),
        "validation_hr": round(hr, 4), "validation_hr_by_epoch": log.validation_hr, "best_epoch": log.best_epoch,
        "seconds": round(log.seconds, 1),
    }


def static_arrays(model: IntrpMLP, item_ids: np.ndarray) -> dict[str, np.ndarray]:
    """The numpy arrays StaticServing reads: input tables ("inputs.*") and masked expert layers ("experts.*")."""
    inputs = model.inputs
    with torch.no_grad():
        tables = {
            "gender": inputs.categories[0].weight, "age": inputs.categories[1].weight,
            "occupation": inputs.categories[2].weight, "content_weight": inputs.item_content.weight,
            "content_bias": inputs.item_content.bias, "content_table": inputs.content_table,
            "item_table": inputs.item_table.weight, "history_table": inputs.history_table.weight,
            # pool(scale * mean) = (scale * W) mean + b: the served pool_weight takes the constant
            "pool_weight": inputs.config.pool_scale * inputs.pool.weight, "pool_bias": inputs.pool.bias,
        }
        arrays = {f"inputs.{name}": value.detach().numpy().copy() for name, value in tables.items()}
    arrays["inputs.item_ids"] = np.asarray(item_ids, dtype=np.int64)
    arrays.update({f"experts.{name}": value for name, value in model.experts.to_arrays().items()})
    return arrays


def _check(arrays: dict[str, np.ndarray]) -> None:
    n_items = len(arrays["inputs.item_ids"])
    for name in ("content_table", "item_table", "history_table"):
        if arrays[f"inputs.{name}"].shape[0] != n_items:
            raise ValueError(f"{name} has {arrays[f'inputs.{name}'].shape[0]} rows for {n_items} movies")
