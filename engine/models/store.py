"""The model cache: weights plus a manifest, written atomically, reused only when the manifest matches."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from engine.errors import ModelFileError
from engine.models.reconet import RecoNetWeights

FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.pt"
MANIFEST_FILE = "manifest.json"


def expected_manifest(dataset_name: str, fingerprint: str, feature_keys: list[str], config: dict) -> dict:
    """What a cached model must have been trained on to be reused."""
    vocabulary_hash = hashlib.sha256("\n".join(feature_keys).encode()).hexdigest()[:16]
    return {
        "format": FORMAT_VERSION,
        "dataset": dataset_name,
        "fingerprint": fingerprint,
        "vocabulary": vocabulary_hash,
        "n_features": len(feature_keys),
        "config": config,
    }


def model_dir(cache_dir: Path, manifest: dict) -> Path:
    key = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir) / "models" / f"{manifest['dataset']}-reconet-{key}"


def load(folder: Path, manifest: dict) -> tuple[RecoNetWeights, dict] | None:
    """The cached weights when present and trained on exactly `manifest`'s data and settings.

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
        tensors = torch.load(weights_path, map_location="cpu", weights_only=True)
        weights = RecoNetWeights.from_tensors(tensors)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise ModelFileError(f"{weights_path} is damaged ({type(error).__name__}).") from None
    if weights.embedding.shape[0] != manifest["n_features"]:
        raise ModelFileError(f"{weights_path} does not match its manifest (feature count differs).")
    return weights, stored


def save(folder: Path, manifest: dict, weights: RecoNetWeights, training: dict) -> None:
    """Write weights and manifest into a temporary folder, then move it into place in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder.parent))
    try:
        torch.save(weights.to_tensors(), staging / WEIGHTS_FILE)
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
