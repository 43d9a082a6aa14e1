"""Export a lens's served model as ONNX, with the vocabulary of its inputs and outputs beside it.

ONNX is the interchange format: any runtime (onnxruntime, a browser, another language) can score
profiles with the exact weights the app serves. Each lens says what its model computes as an
`OnnxProgram` (a torch module, example inputs and a JSON vocabulary: what every input and output
position means); `write_program` turns that into two files, `NAME.onnx` and `NAME.vocabulary.json`.

Nothing here imports torch at module import: serving never needs it, only writing a file does.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import EngineError

OPSET = 17  # widely supported (onnxruntime >= 1.12); every operator the lenses use exists in it
VOCABULARY_SUFFIX = ".vocabulary.json"
VOCABULARY_FORMAT = "cinewhy-onnx-vocabulary/1"


class ExportError(EngineError):
    """An export that cannot be written: an unusable output path, or a model not prepared."""


@dataclass(frozen=True, eq=False)
class OnnxProgram:
    """What a lens exports: its served model as a torch module and the meaning of its tensors."""

    module: object  # torch.nn.Module: the served model's computation with its frozen weights
    example_inputs: tuple[np.ndarray, ...]  # one small batch, in input order (shapes and dtypes)
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    vocabulary: dict  # JSON-ready: per input and output, what each position means
    metadata: dict  # lens, model, dataset, fingerprint, ... (the opset is added on writing)
    batch_axes: dict[str, int] = field(default_factory=dict)  # name -> its batch axis (default 0)


@dataclass(frozen=True)
class ExportedModel:
    onnx_path: Path
    vocabulary_path: Path
    metadata: dict
    onnx_bytes: int
    seconds: float


def vocabulary_path(onnx_path: str | Path) -> Path:
    """Where the vocabulary of `onnx_path` lives: beside it, `model.onnx` -> `model.vocabulary.json`."""
    path = Path(onnx_path)
    return path.with_name((path.stem if path.suffix == ".onnx" else path.name) + VOCABULARY_SUFFIX)


def default_output(dataset: str, lens: str, model: str) -> Path:
    return Path(f"cinewhy-{dataset}-{lens}-{model}.onnx")


def check_output_path(path: str | Path) -> Path:
    """The output path, made absolute, once it is known that both files can be written there.

    Runs before any model is trained, so that a typo in the path does not cost a training run."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name such as {path / 'model.onnx'}.")
    folder = path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ExportError(f"Cannot write the export into {folder}: {existing} is a file, not a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-", delete=True):
            pass
    except OSError as error:
        raise ExportError(f"Cannot write the export into {folder}: {error.strerror or error}.") from None
    if vocabulary_path(path).is_dir():
        raise ExportError(f"{vocabulary_path(path)} is a folder, so the vocabulary cannot be written beside the model.")
    return path.resolve()


def write_program(program: OnnxProgram, path: str | Path) -> ExportedModel:
    """Export `program` to `path` (ONNX, dynamic batch axis) and its vocabulary beside it.

    Both files are written to temporary names and moved into place, so a failed export leaves no
    half-written file behind."""
    import onnx
    import torch

    path = check_output_path(path)
    started = time.perf_counter()
    metadata = dict(program.metadata, opset=OPSET, torch=torch.__version__.split("+")[0])
    inputs = tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in program.example_inputs)
    axes = {name: {program.batch_axes.get(name, 0): "batch"} for name in (*program.input_names, *program.output_names)}
    buffer = io.BytesIO()
    module = program.module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which needs onnxscript
        # (not installed, and not needed for these plain graphs).
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module, inputs, buffer, dynamo=False, input_names=list(program.input_names),
            output_names=list(program.output_names), dynamic_axes=axes, opset_version=OPSET,
            # No folding: it would store each weight cast to float64, doubling the file; onnxruntime
            # folds those casts itself when it loads the model.
            do_constant_folding=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    model.producer_name = "cinewhy"
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value) if not isinstance(value, str) else value
    onnx.checker.check_model(model)
    vocabulary = {"format": VOCABULARY_FORMAT, "metadata": metadata, **program.vocabulary}
    vocabulary_file = vocabulary_path(path)
    _write_atomically(path, model.SerializeToString())
    _write_atomically(vocabulary_file, json.dumps(vocabulary, indent=1, allow_nan=False).encode())
    return ExportedModel(path, vocabulary_file, metadata, path.stat().st_size, time.perf_counter() - started)


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; an export is meant to be shared
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as error:
        raise ExportError(f"Cannot write {path}: {error.strerror or error}.") from None
