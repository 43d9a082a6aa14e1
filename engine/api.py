"""The engine's one facade: load a dataset and its models, recommend, and explain with each lens.

The app and the command line use only this module and the plain data objects it returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from engine.catalogue import Catalogue, ModelInfo
from engine.data.registry import default_cache_dir, load_dataset
from engine.data.splits import positives_matrix
from engine.data.types import Dataset, Movie
from engine.data.vocabulary import Vocabulary
from engine.errors import InvalidInputError, LensUnavailableError
from engine.evaluation.ranking import top_k
from engine.explain.lrp import feature_relevances
from engine.explain.relevance import RelevanceExplanation
from engine.models.builder import ServedModel, default_config, obtain_model
from engine.models.profiles import dataset_user_attributes
from engine.models.reconet import RecoNetConfig
from engine.profile import Profile, normalise_age, normalise_gender, normalise_occupation
from engine.progress import SILENT, TaskState


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

_NOT_BUILT = {
    Lens.INFLUENCE: "The influence lens (which past ratings moved a prediction) is not available yet.",
    Lens.EXPERTS: "The expert lens (which input subset decided a prediction) is not available yet.",
    Lens.PIXELS: "The pixel lens (image heatmaps of a match) is not available yet.",
}


@dataclass(frozen=True)
class Recommendation:
    rank: int  # 1-based
    movie: Movie
    probability: float
    logit: float
    explanation: RelevanceExplanation | None = None


class Engine:
    """A loaded dataset with its served RecoNet. Thread-safe for reads: every call is a pure function
    of the frozen weights."""

    def __init__(self, dataset: Dataset, served: ServedModel, vocabulary: Vocabulary, user_ids, positives, attributes):
        # Serving multiplies a few thousand by a hundred numbers: BLAS threads gain nothing there,
        # and when another process holds a core they made one explanation 20x slower (0.7 ms ->
        # 13.8 ms median measured at ML-1M size). Training uses torch's own threads, unaffected.
        threadpool_limits(limits=1, user_api="blas")
        self.dataset = dataset
        self._served = served
        self._weights = served.weights
        self._vocabulary = vocabulary
        self._attributes = attributes
        self._popularity = np.asarray(positives.sum(axis=0)).ravel()
        self._occupations = vocabulary.attribute_keys("occupation")
        user_row = {int(u): r for r, u in enumerate(user_ids)}
        self.catalogue = Catalogue(
            dataset, _model_info(dataset, served, len(user_row)), vocabulary.item_ids, positives, user_row,
            tuple(sorted(self._occupations)),
        )
        self._feature_columns = tuple(
            np.array([getattr(f, field) for f in vocabulary.features], dtype=object) for field in ("kind", "key", "name")
        )

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
        """Find the data (see engine.data.registry), then load or train the model with progress."""
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        data = load_dataset(
            dataset, data_path, state=state.sub(0.0, 0.1), offline=offline, cache_dir=cache, on_first_use=on_first_use
        )
        vocabulary = Vocabulary(data)
        config = config or default_config(data.name)
        user_ids, positives = positives_matrix(data, vocabulary, config.positive_threshold)
        attributes = dataset_user_attributes(vocabulary, data, user_ids)
        served = obtain_model(
            data, vocabulary, user_ids, positives, attributes, config, cache, state.sub(0.1, 1.0), retrain
        )
        return cls(data, served, vocabulary, user_ids, positives, attributes)

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
        """A dataset user's profile: the movies they rated positively, and their attributes."""
        return self.catalogue.user_profile(user_id)

    def make_profile(
        self, movies=(), gender: str | None = None, age: str | int | None = None, occupation: str | None = None
    ) -> Profile:
        """An ad-hoc profile, validated: a new user needs no retraining."""
        ids = tuple(dict.fromkeys(int(self.movie(m).id) for m in movies))
        return Profile(
            movies=ids,
            gender=normalise_gender(gender),
            age=normalise_age(age),
            occupation=normalise_occupation(occupation, self._occupations),
        )

    # ----- recommendations and explanations -----

    def recommend(self, profile: Profile, k: int = 10, explain: bool = False) -> list[Recommendation]:
        """The k best movies the profile has not watched, best first, optionally with explanations."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise InvalidInputError(f"The number of recommendations must be a positive whole number, got {k!r}.")
        rows, watched = self._rows(profile)
        logits = self._weights.logits(rows)
        if len(rows) == 0:
            order = top_k(self._popularity.astype(np.float64), int(k))
        else:
            order = top_k(logits, int(k), exclude=watched)
        probabilities = _softmax(logits)
        explanations = self._explain_items(profile, rows, logits, probabilities, order) if explain else [None] * len(order)
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

    def explain(self, profile: Profile, movie_id: int, lens: Lens = Lens.RELEVANCE) -> RelevanceExplanation:
        """Why `movie_id` scores as it does for `profile`, through one lens."""
        if lens is not Lens.RELEVANCE:
            raise LensUnavailableError(_NOT_BUILT[lens])
        item = self._vocabulary.item_index[int(self.movie(movie_id).id)]
        rows, _ = self._rows(profile)
        logits = self._weights.logits(rows)
        return self._explain_items(profile, rows, logits, _softmax(logits), np.array([item]))[0]

    def rank_of(self, profile: Profile, movie_id: int) -> int | None:
        """1-based rank among unwatched movies, or None when the profile already has it."""
        item = self._vocabulary.item_index[int(self.movie(movie_id).id)]
        rows, watched = self._rows(profile)
        if item in set(watched.tolist()):
            return None
        scores = self._popularity.astype(np.float64) if len(rows) == 0 else self._weights.logits(rows)
        eligible = np.ones(len(scores), dtype=bool)
        eligible[watched] = False
        better = (scores > scores[item]) | ((scores == scores[item]) & (np.arange(len(scores)) < item))
        return int(np.count_nonzero(better & eligible)) + 1

    @staticmethod
    def lenses() -> dict[Lens, str | None]:
        """Each lens with None when it is available, else why not."""
        return {lens: _NOT_BUILT.get(lens) for lens in Lens}

    # ----- internals -----

    def _rows(self, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
        """The profile's embedding rows and its watched item rows."""
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        index = self._vocabulary.item_index
        try:
            watched = np.array([index[int(m)] for m in profile.movies], dtype=np.int64)
        except KeyError as error:
            raise InvalidInputError(f"Unknown movie id {error.args[0]} in the profile.") from None
        config = self._served.config
        attributes = self._vocabulary.user_attributes(profile.gender, profile.age, profile.occupation)
        rows = self._vocabulary.profile_rows(
            watched, attributes, config.use_user_attributes, config.use_item_attributes
        )
        return rows, watched

    def _explain_items(self, profile, rows, logits, probabilities, items) -> list[RelevanceExplanation]:
        if len(rows) == 0:
            return [self._popular_explanation(item, logits, probabilities) for item in items]
        relevance, bias_share, absorbed = feature_relevances(self._weights, rows, np.asarray(items))
        # Sort every column at once and gather names with numpy: this is the top-50 hot path.
        order = np.argsort(-relevance, axis=0, kind="stable")
        sorted_rows = rows[order].T
        kinds, keys, names = (column[sorted_rows].tolist() for column in self._feature_columns)
        values = np.take_along_axis(relevance, order, axis=0).T.tolist()
        explanations = []
        for column, item in enumerate(items):
            movie = self.dataset.movies[int(self._vocabulary.item_ids[item])]
            explanations.append(
                RelevanceExplanation(
                    item_id=movie.id,
                    title=movie.label,
                    probability=float(probabilities[item]),
                    logit=float(logits[item]),
                    bias_share=float(bias_share[column]),
                    absorbed=float(absorbed[column]),
                    kinds=tuple(kinds[column]),
                    keys=tuple(keys[column]),
                    names=tuple(names[column]),
                    relevances=tuple(values[column]),
                )
            )
        return explanations

    def _popular_explanation(self, item, logits, probabilities) -> RelevanceExplanation:
        movie = self.dataset.movies[int(self._vocabulary.item_ids[item])]
        fans = int(self._popularity[item])
        return RelevanceExplanation(
            item_id=movie.id,
            title=movie.label,
            probability=float(probabilities[item]),
            logit=float(logits[item]),
            bias_share=float(logits[item]),
            absorbed=0.0,
            note=f"Your profile is empty, so this is one of the most popular movies: {fans} people liked it.",
        )


def _model_info(dataset: Dataset, served: ServedModel, n_users: int) -> ModelInfo:
    training = served.manifest.get("training", {})
    recalls = training.get("validation_recall_at_50") or []
    return ModelInfo(
        dataset=dataset.name,
        source=dataset.source,
        variant=served.config.variant,
        n_movies=len(dataset.movies),
        n_users=n_users,
        validation_recall_at_50=max(recalls) if recalls else None,
        training_seconds=training.get("seconds"),
        trained_now=served.trained_now,
        note=served.note,
    )


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()
