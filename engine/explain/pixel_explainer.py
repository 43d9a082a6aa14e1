"""The pixel lens's explainer: exact LRP heatmaps of the relation model over the product catalogue.

It explains pairs of catalogue products (Fashion-MNIST test images with planted brand marks) for
one of two rule-made shoppers, never a movie: MovieLens has no images. Its model and data are its
own (engine.models.pixel_model), so it needs no MovieLens context and the `heatmap` verb builds it
without loading any.

This module imports neither torch nor the model code at import time: the app's start-up asks
its light check (engine.explain.availability.pixels, a look for the files) and nothing more until the tab is used.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from engine.data.product_catalogue import SHOPPERS
from engine.errors import InvalidInputError, LensUnavailableError
from engine.explain.availability import fashion_mnist_folders, pixels as _pixels_available
from engine.explain.pixel_explanation import IMAGES, VIEWS, PixelExplanation, PixelHeatmaps, PixelItem
from engine.lenses import Explainer, Lens, LensContext
from engine.progress import SILENT, TaskState

if TYPE_CHECKING:
    from engine.data.product_catalogue import ProductCatalogue
    from engine.export import OnnxProgram
    from engine.profile import Profile

FEATURE_BATCH = 250  # test images per forward pass for the catalogue's features (fastest measured)


_THREADS_LOCK = threading.Lock()
_threads_users = 0  # explanations inside _one_torch_thread now (the app's tab and the live worker may overlap)
_threads_before = 0  # torch's thread count when the first of them entered


@contextmanager
def _one_torch_thread():
    """Explanations run on one torch thread: on the shared 2-core machine two were 3-4x slower.
    torch's setting is process-wide, so overlapping explanations on two threads share one count:
    the first to enter saves the setting and the last to leave restores it."""
    import torch

    global _threads_users, _threads_before
    with _THREADS_LOCK:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield torch
    finally:
        with _THREADS_LOCK:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_before)


class PixelExplainer(Explainer):
    lens = Lens.PIXELS
    exact = True  # both images' pixels + what the branch kept back + the offset == the logit
    subjects = "products"

    def __init__(self, context: LensContext | None = None, *, cache_dir: str | Path | None = None,
                 data_path: str | Path | None = None, offline: bool = False, retrain: bool | None = None,
                 **model_options):
        """`context` (the engine's) gives the cache and retrain flag; without one (the `heatmap` verb,
        tests) `cache_dir` or the default cache is used. `model_options` go to obtain_pixel_model
        (config, seed, pairs_per_shopper, shoppers, catalogues): the defaults are the app's model."""
        super().__init__(context)
        from engine.data.registry import default_cache_dir

        self.cache_dir = Path(cache_dir) if cache_dir else (context.cache_dir if context else default_cache_dir())
        self.data_path = data_path
        self.offline = offline
        self.retrain = bool(context.retrain if retrain is None and context else retrain)
        self._options = model_options
        self._lock = threading.Lock()
        self._module = None
        self._train: ProductCatalogue | None = None
        self._test: ProductCatalogue | None = None
        self._note = ""
        self.manifest: dict = {}
        self._features: np.ndarray | None = None  # (n_test, F) of every test image, for `related`

    # ----- the lens contract -----

    @classmethod
    def unavailable_reason(cls, dataset=None) -> str | None:
        """None when Fashion-MNIST lies in a folder the search reads without downloading (the
        registry's light check, engine.explain.availability.pixels)."""
        return _pixels_available(dataset)

    @property
    def prepared(self) -> bool:
        return self._module is not None and self._features is not None

    def prepare(self, state: TaskState = SILENT) -> None:
        with self._lock:
            if self.prepared:
                state.progress(1.0, "The pixel relevance model is ready")
                return
            from engine.models.pixel_model import obtain_pixel_model

            model = obtain_pixel_model(self.cache_dir, data_path=self.data_path, state=state.sub(0.0, 0.95),
                                       retrain=self.retrain, offline=self.offline, **self._options)
            self._train, self._test = model.catalogues
            self._module = model.module
            try:
                self._features = self._obtain_features(state.sub(0.95, 1.0))
            except BaseException:
                self._module = None  # prepared means ready to rank too
                raise
            self._note = model.note
            self.manifest = model.cached.manifest

    def model_note(self) -> str:
        return self._note

    def explain(self, profile: "Profile", movie_ids: Sequence[int]) -> list:
        raise LensUnavailableError(
            "The pixel lens explains pairs of products in its Fashion-MNIST catalogue, not movies; "
            "pick a shopper and two products in the Pixel relevance tab or use `python -m engine heatmap`."
        )

    def onnx_program(self) -> "OnnxProgram":
        from engine.export.pixels import pixels_program

        self._require_prepared()
        return pixels_program(self._module, self._test, self.manifest)

    # ----- the catalogue -----

    @property
    def shoppers(self) -> tuple[str, ...]:
        return SHOPPERS

    @property
    def catalogue(self) -> "ProductCatalogue":
        """The test catalogue: the items this lens explains (images the model never trained on)."""
        self._require_prepared()
        return self._test

    def item(self, item_id: int) -> PixelItem:
        item = self._item_id(item_id)
        described = self.catalogue.describe(item)
        return PixelItem(item, described["class"], described["brand"], tuple(described["mark_box"]))

    def image(self, item_id: int) -> np.ndarray:
        """The item's (28, 28) uint8 image, mark planted."""
        return self.catalogue.images[self._item_id(item_id)]

    def sample_queries(self, n: int = 12, seed: int = 0) -> list[int]:
        """`n` query items spread over garment classes and brands: each (class, brand) combination in
        a seeded order, one random item of it, before any combination comes twice."""
        catalogue = self.catalogue
        rng = np.random.default_rng(seed)
        classes = len(catalogue.class_names)
        brands = int(catalogue.marks.brand.max()) + 1
        combos = rng.permutation(classes * brands)
        picked: list[int] = []
        for number in range(min(n, len(catalogue))):
            combo = int(combos[number % len(combos)])
            members = np.flatnonzero((catalogue.labels == combo // brands) & (catalogue.marks.brand == combo % brands))
            members = np.setdiff1d(members, picked)
            if len(members) == 0:
                members = np.setdiff1d(np.arange(len(catalogue)), picked)
            picked.append(int(rng.choice(members)))
        return picked

    # ----- explaining a pair -----

    def explain_pair(self, shopper: str, query_id: int, candidate_id: int, rules: str = "composite") -> PixelExplanation:
        """Why the two catalogue items are related or not for `shopper`, both views."""
        from engine.explain.pixel_lrp import RULE_SETS, explain_pairs

        index = self._shopper_index(shopper)
        query, candidate = self.item(query_id), self.item(candidate_id)
        if rules not in RULE_SETS:
            raise InvalidInputError(f"Unknown rule set {rules!r}; rule sets: {', '.join(RULE_SETS)}.")
        images = self.catalogue.images
        with _one_torch_thread():
            relevance = explain_pairs(self._module, images[[query.id]], images[[candidate.id]], index, RULE_SETS[rules])
        return explanation_of(relevance, 0, shopper, query, candidate, self.catalogue.marks.region([query.id, candidate.id]))

    def related(self, shopper: str, query_id: int, k: int = 8) -> list[tuple[PixelItem, float]]:
        """The `k` test items most related to `query_id` for `shopper` (the query itself left out),
        best first, with their probability: the paper's eq. 5, ranked by the logit."""
        query = self._item_id(query_id)
        if k < 1:
            raise InvalidInputError(f"Ask for at least one related item, not {k}.")
        logits = self.logits_against(shopper, query)
        logits[query] = -np.inf
        k = min(k, len(logits) - 1)
        best = np.argpartition(-logits, k - 1)[:k]
        best = best[np.lexsort((best, -logits[best]))]  # by logit, ties by id: deterministic
        return [(self.item(int(i)), float(1.0 / (1.0 + np.exp(-float(logits[i]))))) for i in best]

    def logits_against(self, shopper: str, query_id: int) -> np.ndarray:
        """The relation logit of `query_id` with every test item for `shopper`, (n_test,) float64."""
        index = self._shopper_index(shopper)
        features = self._test_features()
        arrays = self._head_arrays()
        style = (features @ arrays["projection"]) * arrays["shopper_weight"][index]
        query = style[self._item_id(query_id)]
        return float(arrays["offset"][index]) - ((style - query) ** 2).sum(axis=1)

    # ----- internals -----

    def _require_prepared(self) -> None:
        if not self.prepared:
            raise LensUnavailableError("The pixel lens's model is not ready yet; prepare it first.")

    def _shopper_index(self, shopper: str) -> int:
        if shopper not in SHOPPERS:
            raise InvalidInputError(f"Unknown shopper {shopper!r}; shoppers: {', '.join(SHOPPERS)}.")
        return SHOPPERS.index(shopper)

    def _item_id(self, item_id) -> int:
        count = len(self.catalogue)
        if isinstance(item_id, bool) or not isinstance(item_id, (int, np.integer)) or not 0 <= int(item_id) < count:
            raise InvalidInputError(f"There is no catalogue item {item_id!r}; items are numbered 0 to {count - 1:,} "
                                    "(the Fashion-MNIST test images).")
        return int(item_id)

    def _head_arrays(self) -> dict[str, np.ndarray]:
        module = self._module
        return {name: getattr(module, name).detach().numpy().astype(np.float64)
                for name in ("projection", "shopper_weight", "offset")}

    def _test_features(self) -> np.ndarray:
        """Every test image's features f (float64), made in `prepare`."""
        self._require_prepared()
        return self._features

    def _obtain_features(self, state: TaskState) -> np.ndarray:
        """The test catalogue's features from the model cache, else computed now (seconds on one core)
        and cached beside the model, keyed by its weights; an unwritable cache only costs the saving."""
        import hashlib

        from engine.errors import CacheNotWritableError
        from engine.models import store

        arrays = self._module.to_arrays()
        weights = hashlib.sha256(b"".join(arrays[k].tobytes() for k in sorted(arrays))).hexdigest()
        test = self._test
        manifest = store.expected_manifest("fashion-mnist", test.fingerprint, Lens.PIXELS.value, "test-features",
                                           {"batch": FEATURE_BATCH}, model_weights=weights,
                                           marks=test.marks.layout_digest())

        def compute(task: TaskState):
            return {"features": self._compute_features(task)}, {"items": len(test)}

        shapes = {"features": (len(test), self._module.config.features)}
        try:
            cached = store.obtain(self.cache_dir, manifest, compute, state, shapes=shapes)
            return cached.arrays["features"].astype(np.float64)
        except CacheNotWritableError:
            return self._compute_features(state).astype(np.float64)

    def _compute_features(self, state: TaskState) -> np.ndarray:
        from engine.models.relation_cnn import image_tensor

        images = self._test.images
        parts = []
        with _one_torch_thread() as torch, torch.no_grad():
            for start in range(0, len(images), FEATURE_BATCH):
                state.progress(start / len(images), "Computing the catalogue's image features")
                parts.append(self._module.features(image_tensor(images[start:start + FEATURE_BATCH])).numpy())
        return np.concatenate(parts).astype(np.float32)


def explanation_of(relevance, row: int, shopper: str, query: PixelItem, candidate: PixelItem,
                   regions: np.ndarray | None) -> PixelExplanation:
    """Row `row` of a pixel_lrp.PixelRelevance as the contract's frozen explanation. `regions`
    (2, H, W) bool: the planted marks of query and candidate, for the mark mass (None: unknown)."""
    heatmaps = {}
    for view in VIEWS:
        maps = {image: relevance.maps[view][image][row] for image in IMAGES}
        kept = {image: float(relevance.bias[view][image][row] + relevance.absorbed[view][image][row]) for image in IMAGES}
        heatmaps[view] = PixelHeatmaps(view, _grid(maps["query"]), _grid(maps["candidate"]),
                                       kept["query"], kept["candidate"])
    mass: tuple[tuple[str, float], ...] = ()
    if regions is not None:
        net = np.stack([relevance.maps["net"][i][row] for i in IMAGES])
        shared = np.stack([relevance.maps["shared"][i][row] for i in IMAGES])
        mass = (("why_not", mark_share(-net, regions)), ("why_related", mark_share(shared, regions)))
    return PixelExplanation(
        query=query, candidate=candidate, shopper=shopper,
        logit=float(relevance.logit[row]), offset=float(relevance.offset[row]),
        distance=float(relevance.distance[row]), similarity=float(relevance.similarity[row]),
        net=heatmaps["net"], shared=heatmaps["shared"], rules=dict(relevance.rules),
        conservation_error=float(relevance.conservation_error),
        layer_error=tuple(sorted((name, float(v)) for name, v in relevance.layer_error.items())),
        mark_mass=mass,
    )


def mark_share(relevance: np.ndarray, region: np.ndarray) -> float:
    """Share of the positive relevance that lies on `region` (same shape); 0 when none is positive."""
    positive = np.clip(relevance.astype(np.float64), 0.0, None)
    total = positive.sum()
    return float(positive[region].sum() / total) if total > 0 else 0.0


def _grid(values: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(row) for row in values.astype(np.float64).tolist())
