"""Rating sittings: the session task of the expert lens on MovieLens 100k (notes: specs/experts.md §3).

MovieLens timestamps are the times ratings were *entered*, so a "session" is a sitting in which a
user rated movies: a gap of more than an hour starts a new one. A sitting of at least 10 ratings is
cut into consecutive windows of up to 20; in each window the first half is given with its ratings
and the model guesses, for every movie of the second half, whether it was liked (4-5 stars).

Users rated in pages (about half of consecutive ratings share a second), so the order within a
second is undefined: it is drawn with a seed, never taken from item ids, which follow the catalogue.
The split is by user (most users have one sitting), so a test user's ratings never train anything.
An ad-hoc profile has no timestamps: the order in which its movies were added is its sitting.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.types import Dataset, Interactions
from engine.errors import InvalidInputError
from engine.profile import Profile

SITTING_GAP_S = 3600  # a gap of more than this many seconds starts a new sitting
WINDOW_SIZE = 20  # ratings per window at most
MIN_WINDOW = 10  # shorter sittings and tail windows are dropped (half of it is the given part)
LIKED_STARS = 4  # the session label: liked = 4-5 stars (not the relevance lens's 3)


@dataclass(frozen=True, eq=False)
class Sitting:
    """One user's ratings entered without a gap of more than SITTING_GAP_S, in rating order."""

    user: int
    index: int  # 0-based among the user's sittings, in time order
    items: np.ndarray  # int64 movie ids
    ratings: np.ndarray  # float32 stars
    timestamps: np.ndarray  # int64 seconds since 1970

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, eq=False)
class Window:
    """Up to WINDOW_SIZE consecutive ratings of a sitting: the first `given` are shown with their
    stars, the rest are guessed. `gaps` are the seconds since the previous rating of the sitting
    (0 for its first rating and for a profile, which has no times)."""

    user: int | None  # the dataset user, None for an ad-hoc profile
    sitting: int  # index of the sitting among the user's (0 for a profile)
    start: int  # offset of the window's first rating in its sitting
    items: np.ndarray  # int64
    ratings: np.ndarray  # float32
    gaps: np.ndarray  # float64 seconds
    timestamps: np.ndarray | None = None  # int64, None for a profile

    def __len__(self) -> int:
        return len(self.items)

    @property
    def given(self) -> int:
        """How many ratings are given: the first half, rounded down."""
        return len(self) // 2

    @property
    def liked(self) -> np.ndarray:
        return self.ratings >= LIKED_STARS


@dataclass(frozen=True)
class UserSplit:
    """Disjoint sets of dataset users: the crowd features and the models learn from `train` only."""

    train: frozenset[int]
    validation: frozenset[int]
    test: frozenset[int]
    seed: int


def rating_order(timestamps: np.ndarray, seed: int) -> np.ndarray:
    """Indices that sort `timestamps`, ties broken by a seeded random draw (not by position)."""
    tie_break = np.random.default_rng(seed).random(len(timestamps))
    return np.lexsort((tie_break, timestamps))


def sitting_bounds(timestamps: np.ndarray, gap_s: int = SITTING_GAP_S) -> list[tuple[int, int]]:
    """(start, end) of each sitting of a user's ratings, given their sorted timestamps: a new sitting
    starts where the gap to the previous rating is more than `gap_s` seconds."""
    if len(timestamps) == 0:
        return []
    breaks = np.flatnonzero(np.diff(np.asarray(timestamps, dtype=np.int64)) > gap_s) + 1
    edges = [0, *breaks.tolist(), len(timestamps)]
    return list(zip(edges[:-1], edges[1:]))


def user_sittings(dataset: Dataset, seed: int = 0, gap_s: int = SITTING_GAP_S) -> dict[int, list[Sitting]]:
    """Every user's sittings (of any length), in time order. Raises InvalidInputError for a dataset
    without timestamps (the re-indexed ML-1M copy has none)."""
    interactions = dataset.interactions
    if interactions.timestamps is None:
        raise InvalidInputError(f"{dataset.name} has no rating times, so it has no sittings: use ml-100k.")
    order = _by_user_then_time(interactions, seed)
    users, items = interactions.users[order], interactions.items[order]
    ratings, times = interactions.ratings[order], interactions.timestamps[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    result: dict[int, list[Sitting]] = {}
    for first, last in zip(starts.tolist(), ends.tolist()):
        user = int(users[first])
        result[user] = [
            Sitting(user, index, items[first + a:first + b], ratings[first + a:first + b], times[first + a:first + b])
            for index, (a, b) in enumerate(sitting_bounds(times[first:last], gap_s))
        ]
    return result


def _by_user_then_time(interactions: Interactions, seed: int) -> np.ndarray:
    tie_break = np.random.default_rng(seed).random(len(interactions))
    return np.lexsort((tie_break, interactions.timestamps, interactions.users))


def window_bounds(length: int, offset: int = 0, size: int = WINDOW_SIZE, min_length: int = MIN_WINDOW) -> list[tuple[int, int]]:
    """(start, end) of the consecutive windows of a sitting of `length` ratings, starting at
    `offset`: each up to `size` long, a tail shorter than `min_length` dropped."""
    bounds = []
    for start in range(offset, length, size):
        end = min(start + size, length)
        if end - start >= min_length:
            bounds.append((start, end))
    return bounds


def max_offset(length: int, size: int = WINDOW_SIZE, min_length: int = MIN_WINDOW) -> int:
    """The largest start offset that still leaves a sitting of `length` at least one window: the
    offsets 0..max_offset re-draw where windows fall (training augmentation, as Deezer did)."""
    if length < min_length:
        return 0
    return min(length % size, length - min_length)


def sitting_windows(sitting: Sitting, offset: int = 0) -> list[Window]:
    gaps = np.r_[0.0, np.diff(sitting.timestamps).astype(np.float64)]
    return [
        Window(sitting.user, sitting.index, start, sitting.items[start:end], sitting.ratings[start:end],
               gaps[start:end], sitting.timestamps[start:end])
        for start, end in window_bounds(len(sitting), offset)
    ]


def timeline_windows(sitting: Sitting) -> list[Window]:
    """The windows a timeline shows for a sitting: its benchmark windows, or, for a sitting shorter
    than MIN_WINDOW (most sittings are), the whole sitting as one window when it has at least two
    ratings (one given, one guessed); none for a single rating."""
    windows = sitting_windows(sitting)
    if windows or len(sitting) < 2:
        return windows
    gaps = np.r_[0.0, np.diff(sitting.timestamps).astype(np.float64)]
    return [Window(sitting.user, sitting.index, 0, sitting.items, sitting.ratings, gaps, sitting.timestamps)]


def windows_of(sittings: dict[int, list[Sitting]], users, rng: np.random.Generator | None = None) -> list[Window]:
    """All windows of `users`' sittings, in user then time order. With `rng`, every sitting's
    windows start at a random offset (a fresh draw per call: per epoch in training); without, at 0."""
    result: list[Window] = []
    for user in sorted(users):
        for sitting in sittings.get(user, ()):
            offset = int(rng.integers(0, max_offset(len(sitting)) + 1)) if rng is not None else 0
            result.extend(sitting_windows(sitting, offset))
    return result


def split_users(user_ids, seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> UserSplit:
    """A seeded user-disjoint split into train, validation and test users."""
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise InvalidInputError(f"split fractions must be three non-negative numbers summing to 1, got {fractions}")
    ids = np.array(sorted(int(u) for u in user_ids), dtype=np.int64)
    shuffled = ids[np.random.default_rng(seed).permutation(len(ids))]
    n_train = int(round(fractions[0] * len(ids)))
    n_validation = int(round(fractions[1] * len(ids)))
    parts = np.split(shuffled, [n_train, n_train + n_validation])
    return UserSplit(*(frozenset(part.tolist()) for part in parts), seed=seed)


def user_folds(user_ids, seed: int = 0, folds: int = 5) -> list[UserSplit]:
    """Seeded user cross-validation: fold k tests on the k-th of `folds` equal parts of the users,
    validates on half of the next part and trains on the rest, so every user is tested exactly once."""
    if folds < 3:
        raise InvalidInputError(f"cross-validation needs at least 3 folds, got {folds}")
    ids = np.array(sorted(int(u) for u in user_ids), dtype=np.int64)
    parts = np.array_split(ids[np.random.default_rng(seed).permutation(len(ids))], folds)
    splits = []
    for k in range(folds):
        following = parts[(k + 1) % folds]
        validation = following[: len(following) // 2]
        test = parts[k]
        train = np.setdiff1d(ids, np.concatenate([test, validation]))
        splits.append(UserSplit(frozenset(train.tolist()), frozenset(validation.tolist()), frozenset(test.tolist()), seed))
    return splits


def profile_window(profile: Profile, size: int = WINDOW_SIZE) -> Window:
    """An ad-hoc profile's sitting: its rated movies in the order they were added (the latest
    `size` of them), as one window. Needs at least two rated movies: one given, one guessed."""
    rated = profile.rated[-size:]
    if len(rated) < 2:
        raise InvalidInputError(
            f"A sitting needs at least 2 rated movies (one shown, one guessed); this profile has {len(profile.rated)}."
        )
    items = np.array([movie for movie, _ in rated], dtype=np.int64)
    ratings = np.array([stars for _, stars in rated], dtype=np.float32)
    start = len(profile.rated) - len(rated)
    return Window(profile.user_id, 0, start, items, ratings, np.zeros(len(rated)), None)
