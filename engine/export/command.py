"""`python -m engine export`: write a lens's served model as ONNX with its vocabulary beside it."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.api import Engine, Lens
from engine.data.registry import default_cache_dir
from engine.data.vocabulary import Vocabulary
from engine.errors import InvalidInputError
from engine.export import ExportedModel, check_output_path, default_output
from engine.lenses import LensContext, explainer_class
from engine.progress import SILENT, TaskState

# The models a lens can export besides its default (the first); a lens not listed has one model.
LENS_MODELS = {Lens.RELEVANCE: ("reconet",), Lens.INFLUENCE: ("mf", "ncf"), Lens.PIXELS: ("relation-cnn",),
               Lens.EXPERTS: ("intrp-mlp",)}


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "export", parents=[common], help="write a lens's served model as ONNX, with its vocabulary beside it"
    )
    parser.add_argument("--lens", required=True, choices=[lens.value for lens in Lens], help="whose model")
    parser.add_argument("--model", help="influence: mf (default) or ncf")
    parser.add_argument("--fashion-data", metavar="PATH",
                        help="pixels: a folder holding the Fashion-MNIST files (skips the search)")
    parser.add_argument("--output", metavar="PATH",
                        help="the .onnx file (default cinewhy-DATASET-LENS-MODEL.onnx in this folder); "
                             "the vocabulary goes beside it as NAME.vocabulary.json")


# The pixel lens's catalogue is not MovieLens: its export names (and loads) only Fashion-MNIST.
PIXEL_CATALOGUE = "fashion-mnist"


def check(args) -> Path:
    """The output path, once the lens, model and path are known to be usable: run before loading
    anything, so that a mistake costs no training."""
    lens = Lens(args.lens)
    explainer_class(lens)  # a lens not built yet fails here with one sentence
    model = model_of(lens, args.model)
    data_name = PIXEL_CATALOGUE if lens is Lens.PIXELS else args.dataset
    return check_output_path(args.output or default_output(data_name, lens.value, model))


def needs_movielens(args) -> bool:
    return Lens(args.lens) is not Lens.PIXELS


def run_pixels(args, state: TaskState) -> int:
    """Export the pixel lens's model without loading MovieLens (the `heatmap` verb's explainer)."""
    from engine import heatmap_command

    path = check(args)
    explainer = heatmap_command.make_explainer(args)
    explainer.prepare(state)
    return _report(explainer.export_onnx(path))


def model_of(lens: Lens, model: str | None) -> str:
    models = LENS_MODELS.get(lens, ("default",))
    if model is None:
        return models[0]
    if model not in models:
        raise InvalidInputError(f"The {lens.value} lens exports {' or '.join(models)}, not {model!r}.")
    return model


def run(engine: Engine, args, state: TaskState) -> int:
    return _report(export(engine, Lens(args.lens), check(args), args.model, args.cache_dir, state))


def _report(exported: ExportedModel) -> int:
    print(f"Wrote {exported.onnx_path} ({exported.onnx_bytes / 1e6:.2f} MB, opset {exported.metadata['opset']}) "
          f"and its vocabulary {exported.vocabulary_path} in {exported.seconds:.1f} s.")
    return 0


def export(engine: Engine, lens: Lens, path: str | Path, model: str | None = None, cache_dir=None,
           state: TaskState = SILENT) -> ExportedModel:
    """Export `lens`'s model (trained or loaded from the cache first, with progress and cancel)."""
    model = model_of(lens, model)
    if lens is Lens.INFLUENCE and model != LENS_MODELS[lens][0]:
        # The engine serves MF; another rating model is prepared here, as `influence --model` does.
        from engine.explain.influence_explainer import InfluenceExplainer

        check_output_path(path)
        context = LensContext(engine.dataset, engine.catalogue, Path(cache_dir or default_cache_dir()), None,
                              Vocabulary(engine.dataset))
        explainer = InfluenceExplainer(context, model)
        explainer.prepare(state)
        return explainer.export_onnx(path)
    return engine.export_onnx(lens, path, state)
