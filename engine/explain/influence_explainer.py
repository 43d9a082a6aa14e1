"""The training-data influence lens: which ratings moved a predicted rating, by FIA on a rating model.

The served model is trained on every rating of the dataset (an explanation of a dataset user then
lists exactly the ratings their profile shows). A dataset user whose profile is unchanged is
explained with their trained factors; any other profile (ad-hoc, or an edited user) is folded in:
its user factors are fitted to its ratings with the item side frozen (a ridge regression for MF,
no retraining), so the influence of each of its own ratings is that of the fold-in's local problem.
Movies in a profile without stars count as DEFAULT_STARS (4, what the app proposes when a movie is
added): a rating model needs a number, and the relevance lens likewise counts them as liked.
"""
from __future__ import annotations

import importlib
from typing import Sequence

import numpy as np

from engine.data.types import Dataset
from engine.errors import InvalidInputError
from engine.explain.fia import fia
from engine.explain.influence import OTHER, OWN, InfluenceExplanation, RatingInfluence
from engine.lenses import Explainer, Lens, LensContext
from engine.models import store
from engine.models.rating_data import RatingIndex, concatenate, rating_data, subset
from engine.models.rating_model import RatingTriples
from engine.profile import DEFAULT_STARS, Profile
from engine.progress import SILENT, TaskState

MODELS = ("mf", "ncf")
STATIONARY = 1e-3  # largest |∂J/∂θ| at which the trained model still counts as a stationary point


def model_kind(name: str):
    """The module that trains and loads rating model `name`; it provides default_config(dataset
    name) -> a config with as_dict() or to_dict(), train(ratings, n_users, n_items, config, state) -> (model,
    record) and load(arrays) -> model."""
    if name not in MODELS:
        raise InvalidInputError(f"Unknown rating model {name!r}: use one of {', '.join(MODELS)}.")
    module = importlib.import_module(f"engine.models.{name}")
    if not all(hasattr(module, f) for f in ("default_config", "train", "load")):
        raise InvalidInputError(f"The {name} rating model is not available in this build.")
    return module


class InfluenceExplainer(Explainer):
    lens = Lens.INFLUENCE
    exact = False  # FIA estimates each rating's effect; the effects do not add up to the prediction
    order = "magnitude"

    def __init__(self, context: LensContext, model: str = "mf"):
        super().__init__(context)
        self.model_name = model
        self._kind = model_kind(model)
        self._model = None
        self._note = ""
        self.manifest: dict = {}

    @classmethod
    def unavailable_reason(cls, dataset: Dataset) -> str | None:
        from engine.explain.availability import influence

        return influence(dataset)

    @property
    def prepared(self) -> bool:
        return self._model is not None

    def prepare(self, state: TaskState = SILENT) -> None:
        if self._model is not None:
            state.progress(1.0, "The influence model is ready")
            return
        dataset, vocabulary = self.context.dataset, self.context.vocabulary
        data = rating_data(dataset, vocabulary)
        config = self._kind.default_config(dataset.name)
        manifest = store.expected_manifest(
            dataset.name, dataset.fingerprint, Lens.INFLUENCE.value, self.model_name, _settings(config),
            training_set="all ratings",
        )

        def train(progress: TaskState):
            model, record = self._kind.train(data.ratings, data.n_users, data.n_items, config, progress)
            return model.to_arrays(), record

        def check(arrays):
            model = self._kind.load(arrays)
            if (model.n_users, model.n_items) != (data.n_users, data.n_items):
                raise ValueError(f"{model.n_users} x {model.n_items} weights for {data.n_users} x {data.n_items} data")

        cached = store.obtain(self.context.cache_dir, manifest, train, state, self.context.retrain, check)
        self._data = data
        self._index = RatingIndex(data.ratings, data.n_users, data.n_items)
        self._titles = np.array([dataset.movies[int(m)].label for m in data.item_ids], dtype=object)
        self._item_row = vocabulary.item_index
        self._note = cached.note
        gradient = cached.manifest.get("training", {}).get("max_gradient")
        if gradient is not None and gradient > STATIONARY:
            # Influence functions assume a stationary point; far from one they mostly describe the optimiser.
            self._note = (self._note + " " if self._note else "") + (
                f"The influence model stopped before a stationary point (largest gradient {gradient:.1e}), "
                "so its influences are rougher estimates than usual.")
        self.manifest = cached.manifest
        self._model = self._kind.load(cached.arrays)

    def model_note(self) -> str:
        return self._note

    @property
    def model(self):
        """The served rating model (after `prepare`)."""
        return self._model

    def onnx_program(self):
        from engine.export.influence import influence_program  # imports torch: only when exporting

        return influence_program(self.model_name, self._model, self._data.user_ids, self._data.item_ids,
                                 self.context.dataset)

    def explain(self, profile: Profile, movie_ids: Sequence[int]) -> list[InfluenceExplanation]:
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        if self._model is None:
            self.prepare()
        items = [self._row_of(m) for m in movie_ids]
        subject = self._subject(profile)
        scores = subject.model.predict(np.full(self._data.n_items, subject.row), np.arange(self._data.n_items))
        held = np.zeros(len(scores), dtype=bool)
        held[[self._row_of(m) for m in profile.movies]] = True
        return [self._explain_item(subject, item, scores, held) for item in items]

    # ----- who is explained -----

    def _subject(self, profile: Profile) -> "_Subject":
        user_row = self._data.user_row(profile.user_id) if profile.user_id is not None else None
        if user_row is not None:
            own = self._index.of_user(user_row)
            trained = dict(zip(self._data.item_ids[own.items].tolist(), own.ratings.tolist()))
            if trained == {m: (DEFAULT_STARS if r is None else r) for m, r in zip(profile.movies, profile.ratings)}:
                return _Subject(self._model, user_row, own, int(profile.user_id), fold_in=False, note="")
        return self._fold_in(profile)

    def _fold_in(self, profile: Profile) -> "_Subject":
        items = np.array([self._row_of(m) for m in profile.movies], dtype=np.int64)
        stars = np.array([DEFAULT_STARS if r is None else r for r in profile.ratings], dtype=np.float64)
        if not hasattr(self._model, "with_folded_in_user"):
            raise InvalidInputError(f"The {self.model_name} model cannot fold in a new profile; use a dataset user.")
        model, row = self._model.with_folded_in_user(items, stars)
        own = RatingTriples(np.full(len(items), row, dtype=np.int64), items, stars)
        unrated = sum(r is None for r in profile.ratings)
        note = ("Your ratings were folded into the model (user factors fitted to them with the movies' factors "
                "frozen, no retraining).")
        if unrated:
            note += f" {unrated} movie{'s' if unrated > 1 else ''} without stars counted as {DEFAULT_STARS} stars."
        if not len(items):
            note = "The profile has no ratings: the prediction is the movie's general level, explained by others' ratings."
        return _Subject(model, row, own, None, fold_in=True, note=note)

    # ----- one movie -----

    def _explain_item(self, subject: "_Subject", item: int, scores: np.ndarray, held: np.ndarray) -> InfluenceExplanation:
        others = self._index.of_item(item)
        others = subset(others, others.users != subject.row)
        related = concatenate(subject.own, others)
        result = fia(subject.model.local_problem(subject.row, item, related))
        order = np.lexsort((np.arange(len(related)), -np.abs(result.values)))
        own_rows = related.users[order] == subject.row
        user_ids = self._data.user_ids[np.minimum(related.users[order], self._data.n_users - 1)]
        movie_ids = self._data.item_ids[related.items[order]]
        titles = self._titles[related.items[order]]
        ratings = tuple(
            RatingInfluence(OWN if is_own else OTHER, subject.user_id if is_own else int(uid), int(mid), title,
                            float(stars), float(value))
            for is_own, uid, mid, title, stars, value in zip(
                own_rows.tolist(), user_ids.tolist(), movie_ids.tolist(), titles.tolist(),
                related.ratings[order].tolist(), result.values[order].tolist())
        )
        rank = None
        if not held[item]:
            better = (scores > scores[item]) | ((scores == scores[item]) & (np.arange(len(scores)) < item))
            rank = int(np.count_nonzero(better & ~held)) + 1
        note = subject.note
        if held[item]:
            note = (note + " " if note else "") + "The profile rated this movie itself; that rating is among those listed."
        return InfluenceExplanation(
            item_id=int(self._data.item_ids[item]), title=str(self._titles[item]), model=self.model_name,
            predicted_rating=float(result.prediction), ratings=ratings, user_id=subject.user_id,
            fold_in=subject.fold_in, rank=rank, note=note,
        )

    def _row_of(self, movie_id) -> int:
        try:
            return self._item_row[int(movie_id)]
        except (KeyError, ValueError, TypeError):
            raise InvalidInputError(f"Unknown movie id {movie_id!r} in {self.context.dataset.name}.") from None


def _settings(config) -> dict:
    """A model config's hyper-parameters for the cache manifest (as_dict or to_dict)."""
    return config.as_dict() if hasattr(config, "as_dict") else config.to_dict()


class _Subject:
    """The model and user row an explanation is computed for, with that user's own ratings."""

    def __init__(self, model, row: int, own: RatingTriples, user_id: int | None, fold_in: bool, note: str):
        self.model, self.row, self.own, self.user_id, self.fold_in, self.note = model, row, own, user_id, fold_in, note
