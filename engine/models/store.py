"""The model cache, one entry per (dataset, lens, model, hyper-parameters): named arrays plus a
manifest, written atomically, reused only when the manifest matches.

Weights are a numpy .npz read with pickling disabled, so loading a cached model can never run code
and serving does not need torch.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engine.errors import ModelFileError
from engine.progress import SILENT, TaskState

FORMAT_VERSION = 2
WEIGHTS_FILE = "weights.npz"
MANIFEST_FILE = "manifest.json"

Arrays = dict[str, np.ndarray]


def expected_manifest(dataset_name: str, fingerprint: str, lens: str, model: str, config: dict, **extra) -> dict:
    """What a cached model must have been trained on to be reused; `extra` holds e.g. a vocabulary hash."""
    return {
        "format": FORMAT_VERSION,
        "dataset": dataset_name,
        "fingerprint": fingerprint,
        "lens": lens,
        "model": model,
        "config": config,
        **extra,
    }


def vocabulary_hash(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def model_dir(cache_dir: Path, manifest: dict) -> Path:
    key = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir) / "models" / f"{manifest['dataset']}-{manifest['lens']}-{manifest['model']}-{key}"


def load(folder: Path, manifest: dict) -> tuple[Arrays, dict] | None:
    """The cached arrays when present and trained on exactly `manifest`'s data and settings.

    Returns None when there is nothing usable (absent or stale); raises ModelFileError for a file
    that exists but cannot be read, so the caller can move it aside and retrain.
    """
    manifest_path, weights_path = folder / MANIFEST_FILE, folder / WEIGHTS_FILE
    if not manifest_path.exists() or not weights_path.exists():
        return None
    try:
        stored = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{manifest_path} is unreadable ({error}).") from None
    if {k: stored.get(k) for k in manifest} != manifest:
        return None
    try:
        with np.load(weights_path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # zipfile and numpy raise many kinds for a damaged file
        raise ModelFileError(f"{weights_path} is damaged ({type(error).__name__}).") from None
    for name, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ModelFileError(f"{weights_path} holds non-finite numbers in {name!r}.")
    return arrays, stored


def save(folder: Path, manifest: dict, arrays: Arrays, training: dict) -> None:
    """Write weights and manifest into a temporary folder, then move it into place in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder.parent))
    try:
        with open(staging / WEIGHTS_FILE, "wb") as handle:
            np.savez(handle, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
        record = dict(manifest, training=training, created=time.strftime("%Y-%m-%dT%H:%M:%S"))
        (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2, sort_keys=True))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def move_aside(folder: Path) -> Path:
    """Keep a damaged model for inspection instead of deleting it."""
    target = folder.with_name(folder.name + f".damaged-{int(time.time())}")
    os.replace(folder, target)
    return target


@dataclass(frozen=True, eq=False)
class CachedModel:
    arrays: Arrays
    manifest: dict  # includes "training" as the trainer reported it
    trained_now: bool
    note: str = ""  # e.g. that a damaged cache was moved aside


def obtain(
    cache_dir: Path,
    manifest: dict,
    train: Callable[[TaskState], tuple[Arrays, dict]],
    state: TaskState = SILENT,
    retrain: bool = False,
    check: Callable[[Arrays], None] | None = None,
) -> CachedModel:
    """The cached model for `manifest`, else `train(state)` -> (arrays, training record), cached.

    `check` raises ModelFileError when loaded arrays do not fit the data (e.g. a wrong shape); a
    damaged or ill-fitting entry is moved aside and the model retrained, with a note saying so.
    """
    folder = model_dir(cache_dir, manifest)
    note = ""
    if not retrain:
        try:
            cached = load(folder, manifest)
            if cached is not None and check is not None:
                try:
                    check(cached[0])
                except (KeyError, ValueError, IndexError) as error:
                    raise ModelFileError(f"{folder / WEIGHTS_FILE} does not fit its data ({error}).") from None
        except ModelFileError as error:
            moved = move_aside(folder)
            note = f"The cached model was unusable ({error}); it was moved to {moved} and the model retrained."
            cached = None
        if cached is not None:
            arrays, stored = cached
            state.progress(1.0, "Loaded the cached model")
            return CachedModel(arrays, stored, trained_now=False)
    arrays, training = train(state)
    save(folder, manifest, arrays, training)
    return CachedModel(arrays, dict(manifest, training=training), trained_now=True, note=note)
