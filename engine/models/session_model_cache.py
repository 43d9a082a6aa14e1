"""The served session expert model: trained once on the train users of a seeded user split, cached
with a manifest (engine.models.store), and rebuilt from its arrays on later starts.

The encoder (content, demographics, crowd statistics of the same train users) is recomputed from
the dataset at load: it is deterministic given the dataset and the split seed, both in the manifest.
An ad-hoc profile needs no retraining: its sitting is the order it rated movies, and its user
features are its demographics (engine.data.sessions.profile_window).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data import sessions
from engine.data.session_features import CROWD_RANK, LIKE_RATE_PRIOR, SUBSETS, SessionEncoder, fit_crowd
from engine.data.types import Dataset
from engine.models import store
from engine.models.experts_session import (
    INTERPRETABLE, SessionModelConfig, SessionPredictor, SessionTraining, build_session_model, train_session_model,
)
from engine.progress import SILENT, TaskState

LENS = "experts"
MODEL = "intrp-session"


@dataclass(frozen=True, eq=False)
class ServedSessionModel:
    predictor: SessionPredictor
    split: sessions.UserSplit
    sittings: dict[int, list[sessions.Sitting]]
    manifest: dict
    trained_now: bool
    note: str = ""


def session_manifest(dataset: Dataset, config: SessionModelConfig, training: SessionTraining, split_seed: int) -> dict:
    task = {"label_stars": sessions.LIKED_STARS, "sitting_gap_s": sessions.SITTING_GAP_S,
            "window": sessions.WINDOW_SIZE, "min_window": sessions.MIN_WINDOW, "split_seed": split_seed,
            "crowd_rank": CROWD_RANK, "like_rate_prior": LIKE_RATE_PRIOR,
            "subsets": [{"id": s.id, "groups": list(s.groups)} for s in SUBSETS]}
    return store.expected_manifest(dataset.name, dataset.fingerprint, LENS, MODEL,
                                   {"model": config.to_dict(), "training": training.to_dict(), "task": task})


def obtain_session_model(dataset: Dataset, cache_dir: str | Path, state: TaskState = SILENT, *,
                         config: SessionModelConfig = INTERPRETABLE, training: SessionTraining = SessionTraining(),
                         split_seed: int = 0, retrain: bool = False) -> ServedSessionModel:
    """The cached interpretable session model for `dataset`, trained (with progress and cancel)
    when the cache has none for these exact settings."""
    sittings = sessions.user_sittings(dataset, seed=split_seed)
    split = sessions.split_users(dataset.users, seed=split_seed)
    encoder = SessionEncoder(dataset, fit_crowd(dataset, split.train))
    manifest = session_manifest(dataset, config, training, split_seed)
    model = build_session_model(encoder, True, config, seed=training.seed)
    shapes = {name: tuple(value.shape) for name, value in model.state_dict().items()}

    def train(task_state: TaskState):
        previous = torch.get_num_threads()
        torch.set_num_threads(min(previous, 2))
        try:
            rng = np.random.default_rng(training.seed)
            validation = encoder.encode(sessions.windows_of(sittings, split.validation))
            record = train_session_model(model, lambda epoch: encoder.encode(sessions.windows_of(sittings, split.train, rng)),
                                         validation, training, task_state)
        finally:
            torch.set_num_threads(previous)
        arrays = {name: value.detach().numpy().copy() for name, value in model.state_dict().items()}
        return arrays, {"best_epoch": record.best_epoch, "epochs_run": record.epochs_run,
                        "validation_accuracy": record.validation_accuracy, "seconds": round(record.seconds, 1)}

    cached = store.obtain(Path(cache_dir), manifest, train, state, retrain, shapes=shapes)
    if not cached.trained_now:
        model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in cached.arrays.items()})
    return ServedSessionModel(SessionPredictor(model, encoder), split, sittings, cached.manifest, cached.trained_now,
                              cached.note)
