"""The relevance lens: RecoNet's epsilon-LRP relevance of every profile feature for a movie.

The profile's liked movies (rated 3 stars or more, or unrated) and its attributes are RecoNet's
input features; the served RecoNet is the engine's recommender, so preparing this lens costs nothing.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from engine.errors import InvalidInputError
from engine.explain.lrp import feature_relevances
from engine.explain.relevance import RelevanceExplanation
from engine.lenses import Explainer, Lens, LensContext
from engine.profile import Profile
from engine.progress import SILENT, TaskState


class RelevanceExplainer(Explainer):
    lens = Lens.RELEVANCE
    exact = True  # relevances + bias share + epsilon share = the logit
    order = "value"

    def __init__(self, context: LensContext):
        super().__init__(context)
        self._served = context.recommender
        self._weights = self._served.weights
        self._vocabulary = context.vocabulary
        self._movies = context.dataset.movies
        self._movie_genres = {str(m.id): tuple(m.genres) for m in self._movies.values()}
        self._popularity = np.asarray(context.catalogue.liked.sum(axis=0)).ravel()
        vocabulary = self._vocabulary
        self._feature_columns = tuple(
            np.array([getattr(f, field) for f in vocabulary.features], dtype=object) for field in ("kind", "key", "name")
        )

    @property
    def prepared(self) -> bool:
        return True

    def prepare(self, state: TaskState = SILENT) -> None:
        state.progress(1.0, "The relevance lens uses the recommender's own model")

    def onnx_program(self):
        from engine.export.relevance import relevance_program  # imports torch: only when exporting

        return relevance_program(self.context)

    def explain(self, profile: Profile, movie_ids: Sequence[int]) -> list[RelevanceExplanation]:
        """A movie the profile holds is explained as if it were left out: it would otherwise be its own
        evidence, and "why not Fargo?" is a question about the rest of the profile."""
        index = self._vocabulary.item_index
        items = np.array([index[int(m)] for m in movie_ids], dtype=np.int64)
        rows, held_rows = self.rows(profile)
        pooled = self._weights.pooled(rows)
        logits = self._weights.logits_of_pooled(pooled)
        explanations = self.explain_rows(rows, logits, softmax(logits), items, pooled, held_rows)
        held = set(profile.movies)
        for i, movie_id in enumerate(movie_ids):
            if int(movie_id) in held:
                rest = profile.without_movie(int(movie_id))
                rest_rows, rest_held = self.rows(rest)
                rest_pooled = self._weights.pooled(rest_rows)
                rest_logits = self._weights.logits_of_pooled(rest_pooled)
                explained = self.explain_rows(
                    rest_rows, rest_logits, softmax(rest_logits), items[i:i + 1], rest_pooled, rest_held)
                explanations[i] = replace(explained[0], left_out=True)
        return explanations

    # ----- shared with the engine's ranking, which scores the same rows -----

    def rows(self, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
        """The profile's feature rows (liked movies and attributes) and the item rows of every movie it holds."""
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        held = self._item_rows(profile.movies)
        liked = self._item_rows(profile.positives)
        config = self._served.config
        attributes = self._vocabulary.user_attributes(profile.gender, profile.age, profile.occupation)
        rows = self._vocabulary.profile_rows(liked, attributes, config.use_user_attributes, config.use_item_attributes)
        return rows, held

    def _item_rows(self, movie_ids) -> np.ndarray:
        """Vocabulary rows of movie ids, found in the sorted id array (the per-edit hot path)."""
        try:
            ids = np.array(movie_ids, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            ids = None
        if ids is None or ids.ndim != 1:
            raise InvalidInputError(f"The profile's movies must be movie ids, got {movie_ids!r}.")
        known = self._vocabulary.item_ids
        rows = np.searchsorted(known, ids)
        unknown = (rows >= len(known)) | (known[np.minimum(rows, len(known) - 1)] != ids)
        if unknown.any():
            raise InvalidInputError(f"Unknown movie id {int(ids[np.argmax(unknown)])} in the profile.")
        return rows.astype(np.int64, copy=False)

    def explain_rows(self, rows, logits, probabilities, items, pooled=None, held=None) -> list[RelevanceExplanation]:
        """`pooled`: the profile vector of `rows`, when the caller computed it for `logits`; `held`: the
        item rows of the profile's movies, which give each explanation its rank and relative score."""
        if len(rows) == 0:
            return [self._popular_explanation(item, logits, probabilities) for item in items]
        ranks, relative = _ranks(logits, np.asarray(items), held) if held is not None else ([None] * len(items),) * 2
        relevance, bias_share, absorbed = feature_relevances(self._weights, rows, np.asarray(items), pooled=pooled)
        # Sort every column at once and gather names with numpy: this is the top-50 hot path.
        order = np.argsort(-relevance, axis=0, kind="stable")
        sorted_rows = rows[order].T
        kinds, keys, names = (column[sorted_rows].tolist() for column in self._feature_columns)
        values = np.take_along_axis(relevance, order, axis=0).T.tolist()
        explanations = []
        for column, item in enumerate(items):
            movie = self._movies[int(self._vocabulary.item_ids[item])]
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
                    rank=ranks[column],
                    relative_score=relative[column],
                    movie_genres=self._movie_genres,
                )
            )
        return explanations

    def _popular_explanation(self, item, logits, probabilities) -> RelevanceExplanation:
        movie = self._movies[int(self._vocabulary.item_ids[item])]
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


def _ranks(logits: np.ndarray, items: np.ndarray, held: np.ndarray) -> tuple[list, list]:
    """Each item's 1-based rank among the movies the profile does not hold (ties share a rank), and its
    probability relative to the best of them (1.0 for the top recommendation)."""
    eligible = np.sort(np.delete(logits, held))
    if len(eligible) == 0:
        return [None] * len(items), [None] * len(items)
    scores = logits[items]
    ranks = len(eligible) - np.searchsorted(eligible, scores, side="right") + 1
    return ranks.tolist(), np.exp(scores - eligible[-1]).tolist()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()
