"""The expert lens: which interpretable expert (which subset of the inputs) decided a prediction.

Two models (engine/models):
- static, for a recommendation: the Intrp-MLP with its user group built from the profile's rated
  movies (static_model_cache), so a dataset user and a new profile are served alike, without
  retraining. Its probability is that the profile would pick the movie (every rating counts as a
  pick, as in the paper), and it is exactly the share-weighted sum of the four experts' own
  predictions. Explained with numpy only (static_serving);
- session, for a rating sitting (session_model_cache): per guessed position the mixture of 8
  experts. A dataset user's sittings come from their rating times (ml-100k); an ad-hoc profile's
  sitting is the order in which it rated movies (engine.data.sessions.profile_window).

Datasets without rating times (the shared ML-1M copy) get the static shares only, with popularity and
mean-rating deciles as the movie's content; `timeline_reason` says so.
"""
from __future__ import annotations

import datetime
from typing import NamedTuple, Sequence

import numpy as np

from engine.data.types import Dataset, User
from engine.errors import InvalidInputError, LensUnavailableError
from engine.explain.expert_explanation import (
    ExpertAggregate, ExpertInfo, ExpertShares, ExpertTimeline, ExpertVote, TimelineStep,
)
from engine.lenses import Explainer, Lens, LensContext
from engine.models.experts_gating import Mixture
from engine.models.static_serving import STATIC_EXPERTS, StaticServing
from engine.profile import Profile
from engine.progress import SILENT, TaskState

DECILE_CONTENT = "popularity and mean-rating deciles"


class SittingInfo(NamedTuple):
    """One sitting a timeline can show: 1-based index among the profile's sittings, ISO-8601 UTC start
    and end ("" for an ad-hoc profile), how many ratings, how many timeline windows (a sitting
    longer than 20 ratings has several), and per window how many of the session model's guesses were
    right and how many it made (what the timeline's header says, to pick a sitting by)."""

    index: int
    start: str
    end: str
    length: int
    windows: int
    right: tuple[tuple[int, int], ...] = ()  # (right, guessed) per window


class ExpertExplainer(Explainer):
    lens = Lens.EXPERTS
    exact = True  # probability == sum of share * expert prediction, by construction of the gate
    order = "value"
    subjects = "movies"
    # The models' settings; None: the served ones (static_model_cache.SERVED, session_model_cache's
    # defaults). Tests swap in CI-sized settings here or per instance.
    static_settings = None
    session_training = None

    def __init__(self, context: LensContext, static_settings=None, session_training=None):
        super().__init__(context)
        self._static_settings = static_settings or type(self).static_settings
        self._session_training = session_training or type(self).session_training
        self._static = None  # ServedStaticModel
        self._session = None  # ServedSessionModel
        self._experts: tuple[ExpertInfo, ...] = ()
        self._titles: dict[int, str] = {}
        self._note = ""
        self._last_scores: tuple[tuple[bytes, bytes], np.ndarray] | None = None
        self._own_ratings: dict[int, frozenset] = {}  # dataset user -> their (movie, stars), to recognise them
        self._listed: dict[int, list[SittingInfo]] = {}  # dataset user -> their scored sittings

    # ----- availability and preparation -----

    @classmethod
    def unavailable_reason(cls, dataset: Dataset) -> str | None:
        from engine.explain.availability import experts

        return experts(dataset)

    @staticmethod
    def timeline_reason(dataset: Dataset) -> str | None:
        """None when sittings can be explained on `dataset`, else why not (no rating times)."""
        if dataset.interactions.timestamps is None:
            return (f"{dataset.name} has no rating times, so it has no sittings to explain: the expert timeline needs "
                    "ml-100k. The expert shares of a recommendation work here, with the movie's popularity and mean "
                    "rating standing in for its genres and year.")
        return None

    @property
    def prepared(self) -> bool:
        timed = self.timeline_reason(self.context.dataset) is None
        return self._static is not None and (self._session is not None or not timed)

    def prepare(self, state: TaskState = SILENT) -> None:
        if self.prepared:
            state.progress(1.0, "The expert lens's models are ready")
            return
        dataset, cache = self.context.dataset, self.context.cache_dir
        timed = self.timeline_reason(dataset) is None
        if self._static is None:
            from engine.models.static_model_cache import obtain_static_model  # imports torch: training or loading only

            options = {} if self._static_settings is None else {"settings": self._static_settings}
            static = obtain_static_model(dataset, cache, state.sub(0.0, 0.6 if timed else 1.0),
                                         retrain=self.context.retrain, **options)
            self._experts = _static_experts(static.manifest["training"].get("item_content", ""))
            self._titles = {int(m): dataset.movies[int(m)].label for m in static.serving.item_ids if int(m) in dataset.movies}
            self._note = static.note
            self._static = static
        if timed and self._session is None:
            from engine.models.session_model_cache import obtain_session_model

            options = {} if self._session_training is None else {"training": self._session_training}
            session = obtain_session_model(dataset, cache, state.sub(0.6, 1.0), retrain=self.context.retrain, **options)
            self._note = " ".join(n for n in (self._note, session.note) if n)
            self._session = session
        state.progress(1.0, "The expert lens's models are ready")

    def model_note(self) -> str:
        return self._note

    @property
    def serving(self) -> StaticServing:
        """The served static model (after `prepare`)."""
        self._ensure()
        return self._static.serving

    @property
    def static_manifest(self) -> dict:
        self._ensure()
        return self._static.manifest

    def _ensure(self) -> None:
        if not self.prepared:
            self.prepare()

    def onnx_program(self):
        from engine.export.experts import static_experts_program  # imports torch: only when exporting

        self._ensure()
        return static_experts_program(self._static.serving, self._experts, self.context.dataset)

    # ----- one recommendation: the static shares -----

    def explain(self, profile: Profile, movie_ids: Sequence[int]) -> list[ExpertShares]:
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        self._ensure()
        serving = self._static.serving
        items = self._columns(movie_ids)
        known = serving.columns(profile.movies)
        history = known[known >= 0]
        categories = serving.categories_of(profile.gender, profile.age, profile.occupation)
        history = np.unique(history)
        mixed = serving.mixture(categories, history, items)
        scores = self._all_scores(categories, history)
        held = np.zeros(len(serving.item_ids), dtype=bool)
        held[history] = True
        group = self._user_group(profile, len(history))
        return [self._shares(profile, k, int(item), mixed, scores, held, group) for k, item in enumerate(items)]

    def _all_scores(self, categories: np.ndarray, history: np.ndarray) -> np.ndarray:
        """Every movie's probability for one profile, for the ranks: kept for the last profile, since
        the app and the dialogue explain several movies of the same profile in a row."""
        key = (categories.tobytes(), history.tobytes())
        last = self._last_scores
        if last is not None and last[0] == key:
            return last[1]
        serving = self._static.serving
        scores = serving.mixture(categories, history, np.arange(len(serving.item_ids))).prediction
        self._last_scores = (key, scores)  # one assignment: another thread sees the old pair or the new
        return scores

    def _shares(self, profile: Profile, k: int, item: int, mixed: Mixture, scores: np.ndarray, held: np.ndarray,
                group: str) -> ExpertShares:
        votes = tuple(
            ExpertVote(e.id, float(mixed.predictions[k, h]), float(mixed.confidences[k, h]),
                       float(mixed.alphas[k, h]), float(mixed.shares[k, h]))
            for h, e in enumerate(self._experts)
        )
        rank = None
        if not held[item]:
            better = (scores > scores[item]) | ((scores == scores[item]) & (np.arange(len(scores)) < item))
            rank = int(np.count_nonzero(better & ~held)) + 1
        notes = []
        if held[item]:
            notes.append("The profile rated this movie itself; it was left out of the profile's movies to score it.")
        if self._static.manifest["training"].get("item_content") == DECILE_CONTENT:
            notes.append("This dataset has no genres or years: the movie's content is its popularity and mean "
                         "rating (deciles), not comparable to the paper.")
        movie_id = int(self._static.serving.item_ids[item])
        return ExpertShares(
            item_id=movie_id, title=self._titles.get(movie_id, str(movie_id)), probability=float(mixed.prediction[k]),
            experts=self._experts, votes=votes, alpha_total=float(mixed.alpha_total[k]),
            undecided=bool(mixed.undecided[k]), model="intrp-mlp", user_id=profile.user_id, rank=rank,
            user_group=group, note=" ".join(notes),
        )

    def _user_group(self, profile: Profile, known: int) -> str:
        if known == 0:
            return "no rated movies yet: only the movie and the demographics speak"
        return f"built from the profile's {known} rated movie{'s' if known != 1 else ''} (no retraining)"

    def _columns(self, movie_ids: Sequence[int]) -> np.ndarray:
        ids = [int(m) for m in movie_ids]
        columns = self._static.serving.columns(ids)
        for movie, column in zip(ids, columns.tolist()):
            if column < 0:
                raise InvalidInputError(
                    f"Movie {movie} has no ratings in {self.context.dataset.name}, so the expert model does not know it.")
        return columns

    # ----- one sitting: the session timeline -----

    def sittings(self, profile: Profile) -> list[SittingInfo]:
        """The sittings `timeline` can show for `profile`: a dataset user's rating sittings with at
        least two ratings, or an ad-hoc profile's one sitting (its rated movies in the order added)."""
        self._check_timed()
        self._ensure()
        from engine.data import sessions

        user = self._dataset_user(profile)
        if user is None:
            rated = len(profile.rated)
            if rated < 2:
                return []
            demographics = User(-1, profile.gender, profile.age, profile.occupation)
            right = (self._guesses_right(sessions.profile_window(profile), demographics),)
            return [SittingInfo(1, "", "", min(rated, sessions.WINDOW_SIZE), 1, right)]
        listed = self._listed.get(user)
        if listed is None:  # a dataset user's sittings never change: scored once
            listed = self._listed[user] = [
                SittingInfo(s.index + 1, _iso(s.timestamps[0]), _iso(s.timestamps[-1]), len(s), len(windows),
                            tuple(self._guesses_right(w) for w in windows))
                for s in self._session.sittings.get(user, []) if len(s) >= 2 and (windows := sessions.timeline_windows(s))]
        return list(listed)

    def _guesses_right(self, window, demographics=None) -> tuple[int, int]:
        """(right, guessed) for one window, judged as the timeline judges a step: the like-probability
        on the side of 0.5 of whether the rating was liked (4-5 stars)."""
        probability = np.asarray(self._session.predictor.window(window, demographics).prediction)
        liked = np.asarray(window.ratings[window.given:]) >= 4
        return int(np.count_nonzero((probability >= 0.5) == liked)), int(len(liked))

    def timeline(self, profile: Profile, sitting: int | None = None, window: int = 1) -> ExpertTimeline:
        """Who decided each guess of one sitting: `sitting` is the 1-based index of a dataset user's
        sitting (None: their latest with a timeline) or 1 for an ad-hoc profile; `window` the 1-based
        window of a sitting longer than 20 ratings."""
        from engine.data import sessions
        from engine.data.session_features import AGGREGATES, SUBSETS

        self._check_timed()
        self._ensure()
        user = self._dataset_user(profile)
        notes = []
        if user is None:
            if sitting not in (None, 1):
                raise InvalidInputError(f"This profile has one sitting (the order its movies were rated), not {sitting}.")
            if window != 1:
                raise InvalidInputError(f"This profile's sitting has one window, not {window}.")
            chosen = sessions.profile_window(profile)
            count, index, windows_in = 1, 1, 1
            demographics = User(-1, profile.gender, profile.age, profile.occupation)
            notes.append("The sitting is the order in which the profile's movies were rated (the latest "
                         f"{sessions.WINDOW_SIZE} at most); the model was not retrained for it.")
        else:
            all_sittings = self._session.sittings.get(user, [])
            index = sitting if sitting is not None else self._latest(all_sittings)
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 1 <= index <= len(all_sittings):
                raise InvalidInputError(f"User {user} has sittings 1 to {len(all_sittings)}, not {sitting}.")
            windows = sessions.timeline_windows(all_sittings[index - 1])
            if not windows:
                raise InvalidInputError(f"Sitting {index} of user {user} has a single rating: there is nothing to guess.")
            if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 1 <= window <= len(windows):
                raise InvalidInputError(f"Sitting {index} of user {user} has windows 1 to {len(windows)}, not {window}.")
            chosen, count, windows_in, demographics = windows[window - 1], len(all_sittings), len(windows), None
            if windows_in > 1:
                notes.append(f"Window {window} of {windows_in} of this sitting (ratings {chosen.start + 1} to "
                             f"{chosen.start + len(chosen)}).")
            split = self._session.split
            notes.append("This user's ratings trained the session model." if user in split.train else
                         "This user was held out of the session model's training.")
        mixed = self._session.predictor.window(chosen, demographics)
        experts = tuple(ExpertInfo(s.id, s.key, s.label, tuple(s.groups)) for s in SUBSETS)
        aggregates = tuple(ExpertAggregate(key, label, tuple(ids)) for key, label, ids in AGGREGATES)
        steps = _steps(chosen, mixed, experts, aggregates, self._title)
        times = chosen.timestamps
        return ExpertTimeline(
            experts=experts, aggregates=aggregates, steps=steps, sitting=int(index), sittings=count,
            user_id=user, start=_iso(times[0]) if times is not None else "",
            end=_iso(times[-1]) if times is not None else "", note=" ".join(notes),
        )

    def _title(self, movie_id: int) -> str:
        movie = self.context.dataset.movies.get(int(movie_id))
        return movie.label if movie is not None else str(movie_id)

    @staticmethod
    def _latest(all_sittings) -> int:
        from engine.data.sessions import timeline_windows

        usable = [s.index + 1 for s in all_sittings if timeline_windows(s)]
        return usable[-1] if usable else len(all_sittings)

    def _dataset_user(self, profile: Profile) -> int | None:
        """The dataset user whose rating times give the sittings: only when the profile is that user's
        ratings unchanged; any other profile is ad hoc (its own order of rating)."""
        if not isinstance(profile, Profile):
            raise InvalidInputError("Expected a Profile (use Engine.user_profile or Engine.make_profile).")
        if profile.user_id is None or profile.user_id not in self._session.sittings:
            return None
        user = int(profile.user_id)
        own = self._own_ratings.get(user)
        if own is None:
            own = self._own_ratings[user] = frozenset(
                (int(m), float(r)) for s in self._session.sittings[user] for m, r in zip(s.items.tolist(), s.ratings.tolist()))
        rated = profile.rated
        given = {(int(m), float(r)) for m, r in rated}
        return user if own == given and len(rated) == len(profile.movies) else None

    def _check_timed(self) -> None:
        reason = self.timeline_reason(self.context.dataset)
        if reason is not None:
            raise LensUnavailableError(reason)


def _steps(window, mixed: Mixture, experts, aggregates, title) -> tuple[TimelineStep, ...]:
    # Plain floats once per array: float() on every numpy element cost a third of a timeline.
    predictions, confidences, alphas, shares = (a.tolist() for a in mixed[:4])
    probability, alpha_total, undecided = mixed.prediction.tolist(), mixed.alpha_total.tolist(), mixed.undecided.tolist()
    column = {e.id: h for h, e in enumerate(experts)}
    steps = []
    for position, (movie, stars) in enumerate(zip(window.items.tolist(), window.ratings.tolist())):
        rating = int(round(stars))
        liked = bool(stars >= 4)
        if position < window.given:
            steps.append(TimelineStep(position + 1, "given", int(movie), title(movie), rating, liked))
            continue
        j = position - window.given
        votes = tuple(ExpertVote(e.id, predictions[j][h], confidences[j][h], alphas[j][h], shares[j][h])
                      for h, e in enumerate(experts))
        steps.append(TimelineStep(
            position + 1, "predicted", int(movie), title(movie), rating, liked,
            probability=probability[j], alpha_total=alpha_total[j], undecided=bool(undecided[j]), votes=votes,
            aggregate_shares=tuple((a.key, float(sum(shares[j][column[i]] for i in a.experts))) for a in aggregates),
        ))
    return tuple(steps)


def _static_experts(item_content: str) -> tuple[ExpertInfo, ...]:
    experts = []
    for expert_id, key, label, groups in STATIC_EXPERTS:
        if item_content == DECILE_CONTENT and expert_id == "S1":
            label = "the movie's popularity and average rating, and your demographics"
        experts.append(ExpertInfo(expert_id, key, label, groups))
    return tuple(experts)


def _iso(seconds) -> str:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
