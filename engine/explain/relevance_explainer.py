"""The relevance lens: RecoNet's epsilon-LRP relevance of every profile feature for a movie.

The profile's liked movies (rated 3 stars or more, or unrated) and its attributes are RecoNet's
input features; the served RecoNet is the engine's recommender, so preparing this lens costs nothing.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from typing import NamedTuple, Sequence

import numpy as np

from engine.errors import InvalidInputError
from engine.explain.lrp import feature_relevances, target_relevance
from engine.explain.relevance import RelevanceExplanation
from engine.lenses import Explainer, Lens, LensContext
from engine.profile import POSITIVE_STARS, Profile
from engine.progress import SILENT, TaskState


# Profiles whose scores are kept: the app recommends for a profile, then explains the movie the user
# picks for the same profile; a few entries also cover the "without this movie" profiles of an explain.
SCORED_PROFILES_KEPT = 8


class ScoredProfile(NamedTuple):
    """What scoring a profile computes, shared by ranking and explaining it (read-only arrays)."""

    rows: np.ndarray  # the profile's feature rows
    held: np.ndarray  # item rows of every movie it holds
    pooled: np.ndarray  # the profile vector of `rows`
    logits: np.ndarray  # every movie's score
    probabilities: np.ndarray  # softmax of `logits`


class _Kept(NamedTuple):
    """A scored profile and what its explanations reuse, computed with it once (read-only arrays)."""

    scored: ScoredProfile
    embedded: np.ndarray  # float64 embeddings of scored.rows (exact copies): LRP's operand, gathered once
    unseen: np.ndarray  # logits with the held movies at -inf: ranks among the movies not held
    best: np.floating  # unseen.max(): the top recommendation's logit (-inf when every movie is held)


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
        # Each movie's genres as one bit mask, so that a profile's genre rows are one OR-reduction.
        genre_bits = np.zeros(vocabulary.n_items, dtype=np.int64)
        for g in range(vocabulary.n_genres if vocabulary.n_genres < 63 else 0):
            genre_bits |= (vocabulary.item_genres[:, g] > 0).astype(np.int64) << g
        self._genre_bits = genre_bits if 0 < vocabulary.n_genres < 63 else None
        self._item_ids_padded = np.append(vocabulary.item_ids, -1)
        self._row_of_id = _row_table(vocabulary.item_ids)
        self._feature_columns = tuple(
            np.array([getattr(f, field) for f in vocabulary.features], dtype=object) for field in ("kind", "key", "name")
        )
        self._scored: OrderedDict[tuple, _Kept] = OrderedDict()
        self._scored_lock = threading.Lock()  # the UI's worker and other threads may score at once
        # The profile object last scored or looked up, and its entry: a Profile is immutable, so the
        # same object needs no key (hashing two tuples of a long profile costs more than its LRP).
        self._last: tuple[Profile, _Kept] | None = None

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
        items = [index[int(m)] for m in movie_ids]
        kept = self._kept(profile)
        if len(items) == 1:  # Engine.explain: one movie, without the batch's sorting and gathering
            if kept.unseen[items[0]] == -np.inf:  # the logits are finite: -inf marks a held movie
                rest = self._kept(profile.without_movie(int(movie_ids[0])))
                return [replace(self._explain_one(rest, items[0]), left_out=True)]
            return [self._explain_one(kept, items[0])]
        held = np.isneginf(kept.unseen[items]).tolist()
        scored = kept.scored
        explanations = self.explain_rows(scored.rows, scored.logits, scored.probabilities, np.array(items, dtype=np.int64),
                                         scored.pooled, scored.held, kept.embedded)
        for i, movie_id in enumerate(movie_ids):
            if held[i]:
                explanations[i] = self.explain(profile, [movie_id])[0]  # left out, as above
        return explanations

    def _explain_one(self, kept: _Kept, item: int) -> RelevanceExplanation:
        """explain_rows for one movie the profile does not hold (tests hold the two equal)."""
        rows, _, pooled, logits, probabilities = kept.scored
        if len(rows) == 0:
            return self._popular_explanation(item, logits, probabilities)
        relevance, bias_share, absorbed = target_relevance(self._weights, kept.embedded, pooled, item)
        order = (-relevance).argsort(kind="stable")  # the method: no np.argsort wrapper
        sorted_rows = rows[order]
        kinds, keys, names = self._feature_columns
        score = logits[item]
        best = kept.best
        movie = self._movies[int(self._vocabulary.item_ids[item])]
        return RelevanceExplanation(
            item_id=movie.id,
            title=movie.label,
            probability=float(probabilities[item]),
            logit=float(score),
            bias_share=bias_share,
            absorbed=absorbed,
            kinds=tuple(kinds[sorted_rows].tolist()),
            keys=tuple(keys[sorted_rows].tolist()),
            names=tuple(names[sorted_rows].tolist()),
            relevances=tuple(relevance[order].tolist()),
            rank=int(np.count_nonzero(kept.unseen > score)) + 1 if best != -np.inf else None,
            relative_score=float(np.exp(score - best)) if best != -np.inf else None,
            movie_genres=self._movie_genres,
        )

    def forget_scored(self) -> None:
        """Drops the kept scores, so the next explanation pays its forward pass (benchmarks time that)."""
        with self._scored_lock:
            self._scored.clear()
            self._last = None

    def scored(self, profile: Profile) -> ScoredProfile:
        """The profile's rows and every movie's score, computed once per profile: an explanation asked
        for a profile just recommended for (the app's "why this movie?") then costs only its LRP."""
        return self._kept(profile).scored

    def _kept(self, profile: Profile) -> _Kept:
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and last[0] is profile:
            return last[1]
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        key = (profile.movies, profile.ratings, profile.gender, profile.age, profile.occupation)  # what scores read
        with self._scored_lock:
            kept = self._scored.get(key)
            if kept is not None:
                self._scored.move_to_end(key)
                self._last = (profile, kept)
                return kept
        kept = self._score(profile)
        with self._scored_lock:
            self._scored[key] = kept
            self._last = (profile, kept)
            while len(self._scored) > SCORED_PROFILES_KEPT:
                self._scored.popitem(last=False)
        return kept

    def _score(self, profile: Profile) -> _Kept:
        rows, held = self.rows(profile)
        weights = self._weights
        embedded32 = weights.embedding[rows]
        # weights.pooled(rows) (np.mean's float32 sums) from the rows gathered once for LRP too
        pooled = np.add.reduce(embedded32, axis=0) / len(rows) if len(rows) else weights.pooled(rows)
        logits = weights.logits_of_pooled(pooled)
        unseen = logits.copy()
        unseen[held] = -np.inf
        best = unseen.max() if len(unseen) else np.float32(-np.inf)
        kept = _Kept(ScoredProfile(rows, held, pooled, logits, softmax(logits)), embedded32.astype(np.float64), unseen, best)
        for array in (*kept.scored, kept.embedded, unseen):
            array.setflags(write=False)  # shared between callers: nobody may change it
        return kept

    # ----- shared with the engine's ranking, which scores the same rows -----

    def rows(self, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
        """The profile's feature rows (liked movies and attributes) and the item rows of every movie it holds."""
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        held = self._item_rows(profile.movies)
        # Profile.positives as a mask over `held`: no stars (None -> NaN) or POSITIVE_STARS and more.
        liked = held[~(np.array(profile.ratings, dtype=np.float64) < POSITIVE_STARS)] if len(held) else held
        config = self._served.config
        attributes = self._vocabulary.user_attributes(profile.gender, profile.age, profile.occupation)
        return self._profile_rows(liked, attributes, config.use_user_attributes, config.use_item_attributes), held

    def _profile_rows(self, liked: np.ndarray, attributes: list[int], use_user: bool, use_item: bool) -> np.ndarray:
        """`Vocabulary.profile_rows` (the sorted union of the movies', the user's and the genres' rows)
        for the edit hot path: the three kinds occupy consecutive ranges of the vocabulary (movies,
        then user attributes, then genres), so the union is the concatenation of each sorted part."""
        vocabulary = self._vocabulary
        genres_read = use_item and len(liked) and (vocabulary.genre_feature_offset is not None and vocabulary.n_genres > 0)
        if self._genre_bits is None and genres_read:  # more genres than one int64 mask holds
            return vocabulary.profile_rows(liked, attributes, use_user, use_item)
        # The few attribute and genre rows, sorted in Python: one small array rather than two.
        tail = sorted(set(attributes)) if use_user and attributes else []
        if genres_read:
            bits = int(np.bitwise_or.reduce(self._genre_bits[liked]))
            offset = vocabulary.genre_feature_offset
            tail += [offset + g for g in range(vocabulary.n_genres) if bits >> g & 1]
        movies = _sorted_unique(liked)
        return np.concatenate((movies, np.array(tail, dtype=np.int64))) if tail else movies

    def _item_rows(self, movie_ids) -> np.ndarray:
        """Vocabulary rows of movie ids, found in the sorted id array (the per-edit hot path)."""
        try:
            ids = np.array(movie_ids, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            ids = None
        if ids is None or ids.ndim != 1:
            raise InvalidInputError(f"The profile's movies must be movie ids, got {movie_ids!r}.")
        if self._row_of_id is not None:  # one gather; an id outside the table clips to a -1 at either end
            rows = self._row_of_id.take(ids + 1, mode="clip")
            unknown = rows < 0
        else:
            rows = np.searchsorted(self._vocabulary.item_ids, ids)
            unknown = self._item_ids_padded[rows] != ids  # past the end: the pad (-1) is never an id
        if unknown.any():
            raise InvalidInputError(f"Unknown movie id {int(ids[np.argmax(unknown)])} in the profile.")
        return rows.astype(np.int64, copy=False)

    def explain_rows(self, rows, logits, probabilities, items, pooled=None, held=None, embedded=None
                     ) -> list[RelevanceExplanation]:
        """`pooled`: the profile vector of `rows`, when the caller computed it for `logits`; `held`: the
        item rows of the profile's movies, which give each explanation its rank and relative score;
        `embedded`: the rows' float64 embeddings, when the caller kept them."""
        if len(rows) == 0:
            return [self._popular_explanation(item, logits, probabilities) for item in items]
        ranks, relative = _ranks(logits, np.asarray(items), held) if held is not None else ([None] * len(items),) * 2
        relevance, bias_share, absorbed = feature_relevances(
            self._weights, rows, np.asarray(items), pooled=pooled, embedded=embedded)
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


def _row_table(item_ids: np.ndarray) -> np.ndarray | None:
    """Movie id + 1 -> vocabulary row, -1 where no movie has the id (at 0 too, where negative ids clip),
    when the ids are dense enough for a table (MovieLens's are); None otherwise (then searchsorted)."""
    if len(item_ids) == 0 or item_ids.min() < 0 or item_ids.max() > 4 * len(item_ids) + 1000:
        return None
    table = np.full(int(item_ids.max()) + 3, -1, dtype=np.int64)
    table[item_ids + 1] = np.arange(len(item_ids))
    return table


def _sorted_unique(rows: np.ndarray) -> np.ndarray:
    """np.unique for a few rows, without its overhead (a profile rarely repeats a row)."""
    ordered = np.sort(rows)
    if len(ordered) > 1:
        repeated = ordered[1:] == ordered[:-1]
        if repeated.any():
            ordered = ordered[np.concatenate(([True], ~repeated))]
    return ordered.astype(np.int64, copy=False)


def _ranks(logits: np.ndarray, items: np.ndarray, held: np.ndarray) -> tuple[list, list]:
    """Each item's 1-based rank among the movies the profile does not hold (ties share a rank), and its
    probability relative to the best of them (1.0 for the top recommendation)."""
    scores = logits[items]
    if len(items) <= 32:  # counting beats sorting every movie's score for the few items of an update
        unseen = logits.copy()
        unseen[held] = -np.inf  # the logits are finite: a held movie is never better, nor the best
        best = unseen.max()
        if best == -np.inf:
            return [None] * len(items), [None] * len(items)
        ranks = 1 + np.count_nonzero(unseen[:, np.newaxis] > scores[np.newaxis, :], axis=0)
    else:
        ordered = np.sort(np.delete(logits, held))
        if len(ordered) == 0:
            return [None] * len(items), [None] * len(items)
        best = ordered[-1]
        ranks = len(ordered) - np.searchsorted(ordered, scores, side="right") + 1
    return ranks.tolist(), np.exp(scores - best).tolist()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    shifted /= shifted.sum()  # in place: the same numbers, one array fewer
    return shifted
