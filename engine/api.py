"""The engine's one facade: load a dataset and its models, recommend, and explain with each lens.

The app and the command line use only this module and the plain data objects it returns. Lenses are
reached through the registry in engine.lenses: nothing here knows which lenses exist.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from engine.catalogue import Catalogue, ModelInfo
from engine.data.registry import default_cache_dir, load_dataset
from engine.data.splits import positives_rows, ratings_rows
from engine.data.types import AGE_BUCKETS, GENDERS, ML1M_OCCUPATIONS, Dataset, Movie, User
from engine.data.vocabulary import Vocabulary
from engine.errors import (
    Cancelled, DataFormatError, DataUnavailableError, EngineError, InvalidInputError, LensUnavailableError,
    ModelFileError,
)
from engine.evaluation.ranking import top_k
from engine.explain.expert_explanation import (
    ExpertAggregate, ExpertInfo, ExpertShares, ExpertTimeline, ExpertVote, TimelineStep,
)
from engine.explain.influence import InfluenceExplanation, RatingInfluence
from engine.explain.relevance import FeatureRelevance, RelevanceExplanation
from engine.explain.pixel_explanation import CATALOGUE_NOTE as PIXEL_CATALOGUE_NOTE, PixelExplanation, PixelHeatmaps, PixelItem
from engine.explain.relevance_explainer import RelevanceExplainer
from engine.explain.removal_check import DEFAULT_REASONS, RemovalCheck, RemovedReason, check_removal
from engine.explain.relevance_groups import GROUP_KIND, RULE as GROUP_RULE, GroupedRelevanceExplanation, group_by_genre, group_members
from engine.lenses import (
    LENS_TITLES, Explainer, Explanation, Lens, LensContext, explainer_class, lens_subjects, unavailable_reason,
)
from engine.models.builder import ServedModel, default_config, obtain_model
from engine.models.profiles import dataset_user_attribute_rows
from engine.models.reconet import RecoNetConfig
from engine.profile import (
    DEFAULT_STARS, POSITIVE_STARS, STARS, Profile, normalise_age, normalise_gender, normalise_occupation,
)
from engine.progress import SILENT, TaskState

# The plain data types the app may use, re-exported so that it needs no other engine module.
__all__ = [
    "DEFAULT_STARS", "Engine", "Explanation", "FeatureRelevance", "LENS_TITLES", "Lens", "ModelInfo", "Movie",
    "lens_subjects",
    "Profile", "Recommendation", "RelevanceExplanation", "STARS",
    # app-facing plain data, helpers and errors (the app imports nothing else from the engine)
    "AGE_BUCKETS", "Catalogue", "GENDERS", "ML1M_OCCUPATIONS", "POSITIVE_STARS", "User", "normalise_age", "SILENT",
    "TaskState",
    "default_cache_dir", "InfluenceExplanation", "RatingInfluence",
    "Cancelled", "DataFormatError", "DataUnavailableError", "EngineError", "InvalidInputError",
    "LensUnavailableError", "ModelFileError",
    "GROUP_KIND", "GROUP_RULE", "GroupedRelevanceExplanation", "group_by_genre", "group_members",  # grouped view
    "DEFAULT_REASONS", "RemovalCheck", "RemovedReason",  # the check under the Sankey
    "PIXEL_CATALOGUE_NOTE", "PixelExplanation", "PixelHeatmaps", "PixelItem",  # the pixel lens's catalogue demo
    "ExpertAggregate", "ExpertInfo", "ExpertShares", "ExpertTimeline", "ExpertVote", "TimelineStep",  # the expert lens
]


@dataclass(frozen=True)
class Recommendation:
    rank: int  # 1-based
    movie: Movie
    probability: float
    logit: float
    explanation: Explanation | None = None  # the recommender's own lens (feature relevance)


class Engine:
    """A loaded dataset with its served RecoNet and its lenses. Thread-safe for reads: every call is a
    pure function of frozen weights; a lens's model is trained or loaded once, under a lock."""

    def __init__(
        self, dataset: Dataset, served: ServedModel, vocabulary: Vocabulary, user_ids, positives, attributes,
        cache_dir: Path | None = None, retrain: bool = False,
    ):
        # Serving multiplies a few thousand by a hundred numbers: BLAS threads gain nothing there,
        # and when another process holds a core they made one explanation 20x slower (0.7 ms ->
        # 13.8 ms median measured at ML-1M size). Training uses torch's own threads, unaffected.
        threadpool_limits(limits=1, user_api="blas")
        self.dataset = dataset
        self._served = served
        self._weights = served.weights
        self._vocabulary = vocabulary
        self._popularity = np.asarray(positives.sum(axis=0)).ravel()
        self._occupations = vocabulary.attribute_keys("occupation")
        user_row = {int(u): r for r, u in enumerate(user_ids)}
        self.catalogue = Catalogue(
            dataset, _model_info(dataset, served, len(user_row)), vocabulary.item_ids, positives, user_row,
            tuple(sorted(self._occupations)), ratings_rows(dataset, vocabulary, np.asarray(user_ids)),
        )
        self._context = LensContext(
            dataset, self.catalogue, Path(cache_dir) if cache_dir else default_cache_dir(), served, vocabulary, retrain
        )
        self._relevance = RelevanceExplainer(self._context)  # ranks every recommendation, so always at hand
        self._explainers: dict[Lens, Explainer] = {Lens.RELEVANCE: self._relevance}
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        dataset: str = "ml-100k",
        data_path: str | Path | None = None,
        *,
        offline: bool = False,
        cache_dir: str | Path | None = None,
        config: RecoNetConfig | None = None,
        retrain: bool = False,
        state: TaskState = SILENT,
        on_first_use: Callable[[str], None] | None = None,
    ) -> "Engine":
        """Find the data (see engine.data.registry), then load or train the recommender with progress.
        Lens models are trained or loaded on first use (`prepare`)."""
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        data = load_dataset(
            dataset, data_path, state=state.sub(0.0, 0.1), offline=offline, cache_dir=cache, on_first_use=on_first_use
        )
        vocabulary = Vocabulary(data)
        config = config or default_config(data.name)
        user_ids, positives = positives_rows(data, vocabulary, config.positive_threshold)
        attributes = dataset_user_attribute_rows(vocabulary, data, user_ids)
        served = obtain_model(
            data, vocabulary, user_ids, positives, attributes, config, cache, state.sub(0.1, 1.0), retrain
        )
        return cls(data, served, vocabulary, user_ids, positives, attributes, cache, retrain)

    # ----- catalogue and profiles -----

    @property
    def info(self) -> ModelInfo:
        return self.catalogue.info

    @property
    def occupations(self) -> list[str]:
        return list(self.catalogue.occupations)

    def movie(self, movie_id: int) -> Movie:
        return self.catalogue.movie(movie_id)

    def movies(self) -> list[Movie]:
        return list(self.catalogue.movies)

    def user_ids(self) -> list[int]:
        return list(self.catalogue.user_ids)

    def user_profile(self, user_id: int) -> Profile:
        """A dataset user's profile: the movies they rated, with their stars, and their attributes."""
        return self.catalogue.user_profile(user_id)

    def make_profile(
        self, movies=(), gender: str | None = None, age: str | int | None = None, occupation: str | None = None,
        ratings: Sequence[int | None] | None = None,
    ) -> Profile:
        """An ad-hoc profile, validated: a new user needs no retraining. `ratings` are stars per movie."""
        movies = list(movies)
        stars = list(ratings) if ratings is not None else [None] * len(movies)
        if len(stars) != len(movies):
            raise InvalidInputError(f"Give one rating per movie: {len(movies)} movies, {len(stars)} ratings.")
        chosen: dict[int, int | None] = {}
        for movie, rating in zip(movies, stars):
            chosen[int(self.movie(movie).id)] = rating  # a repeated movie keeps its last rating
        return Profile(
            movies=tuple(chosen),
            ratings=tuple(chosen.values()),
            gender=normalise_gender(gender),
            age=normalise_age(age),
            occupation=normalise_occupation(occupation, self._occupations),
        )

    # ----- recommendations -----

    def recommend(self, profile: Profile, k: int = 10, explain: bool = False) -> list[Recommendation]:
        """The k best movies the profile does not hold, best first, optionally with their feature relevance."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise InvalidInputError(f"The number of recommendations must be a positive whole number, got {k!r}.")
        rows, held, pooled, logits, probabilities = self._relevance.scored(profile)
        if len(rows) == 0:
            order = top_k(self._popularity.astype(np.float64), int(k), exclude=held)
        else:
            order = top_k(logits, int(k), exclude=held)
        explanations = (
            self._relevance.explain_rows(rows, logits, probabilities, order, pooled, held) if explain else [None] * len(order)
        )
        return [
            Recommendation(
                rank=r + 1,
                movie=self.dataset.movies[int(self._vocabulary.item_ids[item])],
                probability=float(probabilities[item]),
                logit=float(logits[item]),
                explanation=explanations[r],
            )
            for r, item in enumerate(order)
        ]

    def rank_of(self, profile: Profile, movie_id: int) -> int | None:
        """1-based rank among the movies the profile does not hold, or None when it holds this one."""
        item = self._vocabulary.item_index[int(self.movie(movie_id).id)]
        rows, held, _, logits, _ = self._relevance.scored(profile)  # shared with recommend and explain
        if item in set(held.tolist()):
            return None
        scores = self._popularity.astype(np.float64) if len(rows) == 0 else logits
        eligible = np.ones(len(scores), dtype=bool)
        eligible[held] = False
        better = (scores > scores[item]) | ((scores == scores[item]) & (np.arange(len(scores)) < item))
        return int(np.count_nonzero(better & eligible)) + 1

    def removal_check(self, profile: Profile, movie_id: int, k: int = DEFAULT_REASONS) -> RemovalCheck:
        """Where `movie_id` would rank without the top `k` reasons its relevance explanation names
        (engine.explain.removal_check): re-scored with the served model, no retraining."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise InvalidInputError(f"The number of reasons to remove must be a positive whole number, got {k!r}.")
        explanation = self._relevance.explain(profile, [int(self.movie(movie_id).id)])[0]
        return check_removal(profile, explanation, self.rank_of, self._score, int(k))

    def _score(self, profile: Profile, movie_id: int) -> tuple[float, float]:
        """The movie's logit and softmax probability for `profile`."""
        item = self._vocabulary.item_index[int(self.movie(movie_id).id)]
        scored = self._relevance.scored(profile)  # the removal check scores, ranks and explains one profile
        return float(scored.logits[item]), float(scored.probabilities[item])

    # ----- lenses -----

    def lenses(self) -> dict[Lens, str | None]:
        """Each lens with None when it can explain on this dataset, else why not."""
        return {lens: unavailable_reason(lens, self.dataset) for lens in Lens}

    def is_prepared(self, lens: Lens) -> bool:
        explainer = self._explainers.get(lens)
        return explainer is not None and explainer.prepared

    def prepare(self, lens: Lens, state: TaskState = SILENT) -> str:
        """Train or load `lens`'s model (progress and cancel through `state`); returns a note for the
        user, e.g. that a damaged cached model was replaced, or ''. Raises LensUnavailableError."""
        return self._explainer(lens, state).model_note()

    def explainer(self, lens: Lens) -> Explainer:
        """`lens`'s explainer, made if needed but not prepared (see `prepare`): for lenses whose
        subjects are not movies (the pixel lens's product pairs) the caller uses its own methods.
        Raises LensUnavailableError when the lens cannot work here."""
        lens = _lens(lens)
        with self._lock:
            explainer = self._explainers.get(lens)
            if explainer is None:
                reason = unavailable_reason(lens, self.dataset)
                if reason is not None:
                    raise LensUnavailableError(reason)
                explainer = self._explainers[lens] = explainer_class(lens)(self._context)
            return explainer

    def export_onnx(self, lens: Lens, path: str | Path, state: TaskState = SILENT):
        """Write `lens`'s served model as ONNX at `path` with its vocabulary beside it (engine.export),
        training or loading the model first like `prepare`. Returns an engine.export.ExportedModel."""
        from engine.export import check_output_path  # the export code imports torch; serving never does

        check_output_path(path)  # before any training: a bad path must not cost a training run
        return self._explainer(_lens(lens), state).export_onnx(path)

    def explain(self, profile: Profile, movie_id: int, lens: Lens = Lens.RELEVANCE) -> Explanation:
        """Why `movie_id` scores as it does for `profile`, through one lens."""
        return self.explain_many(profile, [movie_id], lens)[0]

    def explain_many(self, profile: Profile, movie_ids: Sequence[int], lens: Lens = Lens.RELEVANCE) -> list[Explanation]:
        ids = [int(self.movie(m).id) for m in movie_ids]
        return self._explainer(lens).explain(profile, ids)

    def _explainer(self, lens: Lens, state: TaskState = SILENT) -> Explainer:
        lens = Lens(lens)
        explainer = self._explainers.get(lens)
        if explainer is not None and explainer.prepared:
            return explainer
        with self._lock:  # two threads asking at once train the model once
            explainer = self._explainers.get(lens)
            if explainer is None:
                reason = unavailable_reason(lens, self.dataset)
                if reason is not None:
                    raise LensUnavailableError(reason)
                explainer = explainer_class(lens)(self._context)
            explainer.prepare(state)
            self._explainers[lens] = explainer
            return explainer


def _lens(value) -> Lens:
    try:
        return Lens(value)
    except ValueError:
        raise InvalidInputError(f"Unknown lens {value!r}; lenses: {', '.join(l.value for l in Lens)}.") from None


def _model_info(dataset: Dataset, served: ServedModel, n_users: int) -> ModelInfo:
    training = served.manifest.get("training", {})
    recalls = training.get("validation_recall_at_50") or []
    return ModelInfo(
        dataset=dataset.name,
        source=dataset.source,
        variant=served.config.variant_on(bool(dataset.users), bool(dataset.genres)),
        n_movies=len(dataset.movies),
        n_users=n_users,
        validation_recall_at_50=max(recalls) if recalls else None,
        training_seconds=training.get("seconds"),
        trained_now=served.trained_now,
        note=served.note,
    )
