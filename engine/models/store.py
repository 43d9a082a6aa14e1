"""The model cache, one entry per (dataset, lens, model, hyper-parameters): named arrays plus a
manifest, written atomically, reused only when the manifest matches.

Weights are a numpy .npz read with pickling disabled, so loading a cached model can never run code
and serving does not need torch. The manifest records the weights file's SHA-256 and each array's
shape and dtype; a file that fails any check is moved aside and the model retrained, with a note.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engine.errors import CacheNotWritableError, ModelFileError
from engine.progress import SILENT, TaskState

FORMAT_VERSION = 2
WEIGHTS_FILE = "weights.npz"
MANIFEST_FILE = "manifest.json"
CHECKSUM_KEY = "weights_sha256"  # the manifest's record of the weights file, checked on every load
ARRAYS_KEY = "arrays"  # name -> {"shape", "dtype"} of each saved array

Arrays = dict[str, np.ndarray]
Shapes = dict[str, tuple[int, ...]]


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


def load(folder: Path, manifest: dict, shapes: Shapes | None = None) -> tuple[Arrays, dict] | None:
    """The cached arrays when present and trained on exactly `manifest`'s data and settings.

    Returns None when there is nothing usable (absent or stale); raises ModelFileError for a file
    that exists but cannot be trusted: an unreadable manifest, weights that differ from the SHA-256
    the manifest recorded, arrays other than those recorded or those `shapes` (name -> shape, from
    the data and settings) demands, or non-finite numbers. The caller moves such a file aside.
    """
    manifest_path, weights_path = folder / MANIFEST_FILE, folder / WEIGHTS_FILE
    if not manifest_path.exists() or not weights_path.exists():
        return None
    stored = read_manifest(manifest_path)
    if {k: stored.get(k) for k in manifest} != manifest:
        return None
    try:
        content = weights_path.read_bytes()  # read once: hashed, then parsed
    except OSError as error:
        raise ModelFileError(f"{weights_path} is unreadable ({type(error).__name__}).") from None
    digest = hashlib.sha256(content).hexdigest()
    recorded = stored.get(CHECKSUM_KEY)
    if recorded is not None and recorded != digest:
        raise ModelFileError(f"{weights_path} does not match the SHA-256 checksum in its manifest.")
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # zipfile and numpy raise many kinds for a damaged file
        raise ModelFileError(f"{weights_path} is damaged ({type(error).__name__}).") from None
    _check_arrays(weights_path, arrays, stored.get(ARRAYS_KEY), shapes)
    if recorded is None:
        # A cache written before checksums: it passed every other check, so its hash is recorded
        # now (trust on first use) and any later change to the file is caught.
        stored = dict(stored, **{CHECKSUM_KEY: digest, ARRAYS_KEY: _array_record(arrays)})
        _write_manifest_if_possible(manifest_path, stored)
    return arrays, stored


def read_manifest(path: Path) -> dict:
    """The manifest as a dict; ModelFileError for anything else (unreadable, not JSON, a list, null,
    nesting too deep for the parser)."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as error:
        raise ModelFileError(f"{path} is unreadable ({type(error).__name__}).") from None
    if not isinstance(stored, dict):
        raise ModelFileError(f"{path} is not a manifest (it holds {type(stored).__name__}).")
    return stored


def _check_arrays(path: Path, arrays: Arrays, recorded, shapes: Shapes | None) -> None:
    if recorded is not None and recorded != _array_record(arrays):
        raise ModelFileError(f"{path} holds other arrays than its manifest records.")
    if shapes is not None:
        found = {name: tuple(array.shape) for name, array in arrays.items()}
        wanted = {name: tuple(shape) for name, shape in shapes.items()}
        if found != wanted:
            raise ModelFileError(f"{path} holds arrays of shapes {found}, but its data and settings need {wanted}.")
    for name, array in arrays.items():
        if array.dtype.kind not in "fiub":
            raise ModelFileError(f"{path} holds {array.dtype} data in {name!r}, not numbers.")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ModelFileError(f"{path} holds non-finite numbers in {name!r}.")


def _array_record(arrays: Arrays) -> dict:
    return {name: {"shape": list(array.shape), "dtype": array.dtype.str} for name, array in sorted(arrays.items())}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest_if_possible(path: Path, record: dict) -> None:
    """Atomically replace a manifest; a read-only cache keeps the old one (it is still served)."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=".manifest-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(handle, "w") as out:
            out.write(json.dumps(record, indent=2, sort_keys=True))
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


def save(folder: Path, manifest: dict, arrays: Arrays, training: dict) -> None:
    """Write weights and manifest into a temporary folder, then move it into place in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder.parent))
    try:
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        with open(staging / WEIGHTS_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        record = dict(manifest, training=training, created=time.strftime("%Y-%m-%dT%H:%M:%S"),
                      **{CHECKSUM_KEY: _file_sha256(staging / WEIGHTS_FILE), ARRAYS_KEY: _array_record(arrays)})
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
    try:
        os.replace(folder, target)
    except OSError as error:
        raise CacheNotWritableError(folder.parent, error, "a damaged model cannot be replaced") from None
    return target


def ensure_writable(folder: Path) -> None:
    """Raise CacheNotWritableError unless a file can be created in `folder` (made when absent), so
    that an unwritable cache is reported before minutes of training rather than after."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise CacheNotWritableError(folder, error, "a trained model could not be saved") from None


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
    shapes: Shapes | None = None,
) -> CachedModel:
    """The cached model for `manifest`, else `train(state)` -> (arrays, training record), cached.

    `shapes` (array name -> shape) is what the data and settings imply; `check` raises
    ModelFileError (or KeyError/ValueError/IndexError) for arrays that do not fit the data in other
    ways. A damaged or ill-fitting entry is moved aside and the model retrained, with a note saying
    so. CacheNotWritableError comes before any training when the model could not be saved.
    """
    folder = model_dir(cache_dir, manifest)
    note = ""
    if not retrain:
        try:
            cached = load(folder, manifest, shapes)
            if cached is not None and check is not None:
                try:
                    check(cached[0])
                except (KeyError, ValueError, IndexError) as error:
                    raise ModelFileError(f"{folder / WEIGHTS_FILE} does not fit its data ({error}).") from None
        except ModelFileError as error:
            moved = move_aside(folder)
            note = f"The cached model was unusable ({str(error).rstrip('.')}); it was moved to {moved} and the model retrained."
            cached = None
        if cached is not None:
            arrays, stored = cached
            state.progress(1.0, "Loaded the cached model")
            return CachedModel(arrays, stored, trained_now=False)
    ensure_writable(folder.parent)
    arrays, training = train(state)
    save(folder, manifest, arrays, training)
    return CachedModel(arrays, dict(manifest, training=training), trained_now=True, note=note)
