"""The lens contract: what every explanation method provides, and the registry that finds each one.

A lens is one model, one explainer and one explanation type. The facade, the app's window, its live
worker and its dialogue reach a lens only through this registry, so adding a lens is one entry in
`EXPLAINERS` (with its light availability check in `AVAILABILITY`, and one in the app's view
registry), never a new branch elsewhere.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, Sequence, runtime_checkable

from engine.errors import LensUnavailableError
from engine.progress import SILENT, TaskState

if TYPE_CHECKING:  # only for annotations: importing them here would load the models at start-up
    from engine.catalogue import Catalogue
    from engine.data.types import Dataset
    from engine.export import ExportedModel, OnnxProgram
    from engine.profile import Profile


class Lens(Enum):
    RELEVANCE = "relevance"  # RecoNet + epsilon-LRP: which profile features drove the score
    INFLUENCE = "influence"  # FIA on MF/NCF: which past ratings moved a prediction
    EXPERTS = "experts"  # interpretable mixture of experts: which input subset decided
    PIXELS = "pixels"  # LRP on a CNN relation model: which pixels drove a match


LENS_TITLES = {
    Lens.RELEVANCE: "Feature relevance",
    Lens.INFLUENCE: "Training-data influence",
    Lens.EXPERTS: "Expert attribution",
    Lens.PIXELS: "Pixel relevance",
}

# Each built lens: "module:Explainer class", imported when first used so that a start-up which
# never opens a lens does not pay for its model code.
EXPLAINERS: dict[Lens, str] = {
    Lens.RELEVANCE: "engine.explain.relevance_explainer:RelevanceExplainer",
    Lens.INFLUENCE: "engine.explain.influence_explainer:InfluenceExplainer",
    Lens.EXPERTS: "engine.explain.expert_explainer:ExpertExplainer",
    Lens.PIXELS: "engine.explain.pixel_explainer:PixelExplainer",
}

# Each built lens's availability check, "module:function(dataset) -> None or why not": light
# functions (engine.explain.availability) that import no model code, so that Engine.lenses() at
# start-up does not load the explainers. A lens with no entry here is asked through its explainer
# class's `unavailable_reason` (which imports it).
AVAILABILITY: dict[Lens, str] = {
    Lens.RELEVANCE: "engine.explain.availability:always",
    Lens.INFLUENCE: "engine.explain.availability:influence",
    Lens.EXPERTS: "engine.explain.availability:experts",
    Lens.PIXELS: "engine.explain.availability:pixels",
}

NOT_BUILT: dict[Lens, str] = {}  # lens -> why it is not available yet (every lens is built now)


@runtime_checkable
class Explanation(Protocol):
    """Plain frozen data (numbers and names, no tensors) that a view draws and the dialogue phrases.

    `parts` are the signed contributions the explanation lists, in the order it presents them;
    `explained` is the number they explain and `remainder` what no listed part carries (biases, a
    stabiliser, the global mean). An exact explainer guarantees sum(parts) + remainder == explained.
    """

    @property
    def lens(self) -> Lens: ...

    @property
    def subject(self) -> int: ...  # the movie explained

    @property
    def explained(self) -> float: ...

    @property
    def parts(self) -> tuple[float, ...]: ...

    @property
    def remainder(self) -> float: ...

    def to_dict(self) -> dict: ...


@dataclass(frozen=True, eq=False)
class LensContext:
    """What a lens may build on: the loaded data, its catalogue, the cache and the engine's recommender."""

    dataset: "Dataset"
    catalogue: "Catalogue"
    cache_dir: Path
    recommender: object  # the served RecoNet the engine ranks with (engine.models.builder.ServedModel)
    vocabulary: object  # engine.data.vocabulary.Vocabulary
    retrain: bool = False


class Explainer(ABC):
    """One explanation method over one model. `prepare` trains or loads the model (with progress and
    cancel); `explain` is then a pure function of frozen weights, safe to call from any thread."""

    lens: ClassVar[Lens]
    exact: ClassVar[bool]  # do the parts add up to what is explained?
    # How `parts` are ordered: "value" (largest signed first) or "magnitude" (largest |part| first).
    order: ClassVar[str] = "value"
    # What `explain` explains: "movies" (a profile's movie) or another catalogue of the lens's own
    # (e.g. "products": the pixel lens explains pairs of product images, never the selected movie).
    subjects: ClassVar[str] = "movies"

    def __init__(self, context: LensContext):
        self.context = context

    @classmethod
    def unavailable_reason(cls, dataset: "Dataset") -> str | None:
        """None when the lens works on this dataset, else one sentence saying why not."""
        return None

    @property
    @abstractmethod
    def prepared(self) -> bool:
        """Whether `explain` can run without training or loading first."""

    @abstractmethod
    def prepare(self, state: TaskState = SILENT) -> None:
        """Train or load the lens's model. Idempotent; raises Cancelled when the state asks."""

    @abstractmethod
    def explain(self, profile: "Profile", movie_ids: Sequence[int]) -> list[Explanation]:
        """One explanation per movie id, in the same order."""

    def model_note(self) -> str:
        """Anything the user should know about the model (e.g. that a damaged cache was replaced)."""
        return ""

    @abstractmethod
    def onnx_program(self) -> "OnnxProgram":
        """The prepared model as a torch module with example inputs and the vocabulary of its inputs
        and outputs (engine.export). Every lens exports: ONNX is the engine's interchange format.
        May import torch, so it is called only to export."""

    def export_onnx(self, path: str | Path) -> "ExportedModel":
        """Write the prepared model to `path` as ONNX, with its vocabulary beside it."""
        from engine.export import ExportError, write_program

        if not self.prepared:
            raise ExportError(f"The {self.lens.value} lens's model is not ready yet; prepare it before exporting.")
        return write_program(self.onnx_program(), path)


def explainer_class(lens: Lens) -> type[Explainer]:
    """The explainer registered for `lens`; LensUnavailableError when none is built."""
    target = EXPLAINERS.get(lens)
    if target is None:
        raise LensUnavailableError(NOT_BUILT.get(lens, f"The {lens.value} lens is not available."))
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def lens_subjects(lens: Lens) -> str:
    """What `lens` explains ("movies" unless its explainer says otherwise; "movies" when not built)."""
    return explainer_class(lens).subjects if lens in EXPLAINERS else "movies"


def unavailable_reason(lens: Lens, dataset: "Dataset") -> str | None:
    """None when `lens` can explain on `dataset`, else why not."""
    if lens not in EXPLAINERS:
        return NOT_BUILT.get(lens, f"The {lens.value} lens is not available.")
    check = AVAILABILITY.get(lens)
    if check is None:
        return explainer_class(lens).unavailable_reason(dataset)
    module, name = check.split(":")
    return getattr(importlib.import_module(module), name)(dataset)
