"""Feature groups of the session task and the 8 expert subsets over them (specs/experts.md §3.4).

Every position of a window gets one feature row; its columns fall into five groups:

- position: its index in the window and the window's length (in every subset, as Spotify's
  session position was);
- history: liked +-1, (stars - 3) / 2, log(1 + seconds since the previous rating) / 10. Only
  the given half has it: on the guessed half it is the label, so those columns are zero there;
- content: the movie's 19 genre flags and its normalised release year;
- user: gender, age group and occupation, one-hot (the same for the whole window);
- crowd ("what other viewers thought"): the movie's top singular vectors of the binary rated
  matrix, log(1 + ratings), and its smoothed like-rate minus the global one, all computed from
  TRAIN users only. On a train user's own window their rating of the movie is taken out of the
  count and like-rate (leave-one-out), so the model cannot read its label from the crowd.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from engine.data.sessions import LIKED_STARS, WINDOW_SIZE, Window
from engine.data.types import AGE_BUCKETS, Dataset, User

GROUPS: tuple[str, ...] = ("position", "history", "content", "user", "crowd")
GROUP_LABELS = {
    "position": "where the movie sits in the sitting",
    "history": "your ratings earlier in this sitting",
    "content": "the movie's genres and year",
    "user": "your gender, age and occupation",
    "crowd": "what other viewers thought",
}
GIVEN_ONLY = frozenset({"history"})  # groups the guessed half never sees

CROWD_RANK = 16  # singular vectors of the train users' rated matrix
LIKE_RATE_PRIOR = 10.0  # pseudo-ratings at the global like-rate that smooth an item's like-rate
HALF = WINDOW_SIZE // 2  # padded length of each half


@dataclass(frozen=True)
class ExpertSubset:
    id: str
    key: str
    label: str  # plain words for the view and the conversation
    groups: tuple[str, ...]


# The notes' table §3.4 (shaped like the paper's Spotify experts, fig. 7): position in all.
SUBSETS: tuple[ExpertSubset, ...] = (
    ExpertSubset("S1", "persistence", "your ratings earlier in this sitting", ("position", "history")),
    ExpertSubset("S2", "content", "the movie's genres and year", ("position", "content")),
    ExpertSubset("S3", "crowd", "what other viewers thought", ("position", "crowd")),
    ExpertSubset("S4", "content+user", "genres for people like you", ("position", "user", "content")),
    ExpertSubset("S5", "session_taste", "genres you liked this sitting", ("position", "history", "content")),
    ExpertSubset("S6", "session_vs_crowd", "your mood against the crowd", ("position", "history", "crowd")),
    ExpertSubset("S7", "all_but_sitting", "everything except this sitting", ("position", "user", "content", "crowd")),
    ExpertSubset("S8", "all", "everything", GROUPS),
)

# Rows of the timeline (fig. 11 of the paper aggregates the same way).
AGGREGATES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("persistence", "This sitting's ratings", ("S1",)),
    ("session_taste", "Tastes shown this sitting", ("S5", "S6")),
    ("film", "The film itself", ("S2", "S3")),
    ("profile", "Your profile", ("S4", "S7")),
    ("all", "Everything", ("S8",)),
)


def children(subsets: tuple[ExpertSubset, ...] = SUBSETS) -> dict[str, tuple[str, ...]]:
    """Each subset's strict subsets among `subsets` (all of them, not only the immediate ones)."""
    return {
        s.id: tuple(c.id for c in subsets if c.id != s.id and set(c.groups) < set(s.groups)) for s in subsets
    }


@dataclass(frozen=True, eq=False)
class CrowdStats:
    """Per-movie "what other viewers thought", from the train users' ratings only."""

    movie_row: dict[int, int]  # movie id -> row of the arrays below
    counts: np.ndarray  # float64 ratings per movie
    likes: np.ndarray  # float64 ratings of 4-5 stars per movie
    vectors: np.ndarray  # float32 (movies, CROWD_RANK), scaled to unit spread
    global_rate: float
    users: frozenset[int]  # the users they were computed from

    def rows_of(self, movie_ids: np.ndarray) -> np.ndarray:
        """Row of each movie id, -1 for a movie no train user rated."""
        return np.array([self.movie_row.get(int(m), -1) for m in np.ravel(movie_ids)], dtype=np.int64)

    def like_rate(self, movie_ids: np.ndarray, own_liked: np.ndarray | None = None) -> np.ndarray:
        """Smoothed like-rate of each movie; `own_liked` (one per movie, or None) is the rater's own
        label, taken out of the counts (leave-one-out) when the rater is one of `users`."""
        counts, likes = self._counts(movie_ids, own_liked)
        return (likes + LIKE_RATE_PRIOR * self.global_rate) / (counts + LIKE_RATE_PRIOR)

    def _counts(self, movie_ids: np.ndarray, own_liked: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows_of(movie_ids)
        known = rows >= 0
        counts = np.where(known, self.counts[rows], 0.0)
        likes = np.where(known, self.likes[rows], 0.0)
        if own_liked is not None:
            counts = counts - known
            likes = likes - (known & own_liked)
        return counts, likes

    def features(self, movie_ids: np.ndarray, own_liked: np.ndarray | None = None) -> np.ndarray:
        rows = self.rows_of(movie_ids)
        counts, _ = self._counts(movie_ids, own_liked)
        vectors = np.where((rows >= 0)[:, None], self.vectors[np.maximum(rows, 0)], 0.0)
        rate = self.like_rate(movie_ids, own_liked) - self.global_rate
        return np.column_stack([vectors, np.log1p(counts) / 5.0, rate * 4.0]).astype(np.float32)


def fit_crowd(dataset: Dataset, train_users, rank: int = CROWD_RANK) -> CrowdStats:
    """What the train users' ratings say about each movie; nobody else's ratings are read."""
    train = frozenset(int(u) for u in train_users)
    interactions = dataset.interactions
    keep = np.isin(interactions.users, np.array(sorted(train), dtype=np.int64))
    users, items, ratings = interactions.users[keep], interactions.items[keep], interactions.ratings[keep]
    movie_ids = np.unique(items)
    movie_row = {int(m): row for row, m in enumerate(movie_ids.tolist())}
    item_rows = np.searchsorted(movie_ids, items)
    liked = ratings >= LIKED_STARS
    counts = np.bincount(item_rows, minlength=len(movie_ids)).astype(np.float64)
    likes = np.bincount(item_rows, weights=liked, minlength=len(movie_ids))
    global_rate = float(liked.mean()) if len(liked) else 0.5
    vectors = _item_vectors(users, item_rows, len(movie_ids), rank)
    return CrowdStats(movie_row, counts, likes, vectors, global_rate, train)


def _item_vectors(users: np.ndarray, item_rows: np.ndarray, n_items: int, rank: int) -> np.ndarray:
    """Top right singular vectors of the binary user x movie rated matrix, times their singular
    values, scaled so the features have unit spread (the deterministic start keeps them seeded)."""
    if n_items == 0:
        return np.zeros((0, rank), dtype=np.float32)
    user_ids, user_rows = np.unique(users, return_inverse=True)
    matrix = scipy.sparse.csr_matrix((np.ones(len(users)), (user_rows, item_rows)), shape=(len(user_ids), n_items))
    k = min(rank, min(matrix.shape) - 1)
    if k < 1:
        return np.zeros((n_items, rank), dtype=np.float32)
    start = np.ones(min(matrix.shape))
    _, values, vt = scipy.sparse.linalg.svds(matrix, k=k, v0=start)
    order = np.argsort(-values)
    vectors = (vt[order].T * values[order])
    vectors = vectors * np.sign(vectors.sum(axis=0, keepdims=True) + 1e-12)  # a fixed sign per vector
    spread = vectors.std() or 1.0
    padded = np.zeros((n_items, rank))
    padded[:, :k] = vectors / spread
    return padded.astype(np.float32)


@dataclass(frozen=True, eq=False)
class SessionArrays:
    """Padded feature tensors for a batch of windows (numpy; the model module turns them into torch).

    given: (N, HALF, D) features of the given half; target: (N, HALF, D) of the guessed half, with
    the history columns zero; masks say which positions are real; labels are 1.0 for liked."""

    given: np.ndarray
    given_mask: np.ndarray
    target: np.ndarray
    target_mask: np.ndarray
    labels: np.ndarray
    given_liked: np.ndarray  # (N, HALF) the given half's labels, for the baselines
    target_items: np.ndarray  # (N, HALF) movie ids of the guessed half (0 = padding)
    users: np.ndarray  # (N,) dataset user ids, -1 for a profile


class SessionEncoder:
    """Turns windows into feature rows; holds the catalogue's content, the demographic vocabulary
    and the crowd statistics (train users only)."""

    def __init__(self, dataset: Dataset, crowd: CrowdStats):
        self.crowd = crowd
        self.genres = tuple(dataset.genres)
        self.occupations = tuple(sorted({u.occupation for u in dataset.users.values() if u.occupation}))
        self.users = dataset.users
        years = np.array([m.year for m in dataset.movies.values() if m.year], dtype=np.float64)
        self._year_mean = float(years.mean()) if len(years) else 1990.0
        self._year_std = (float(years.std()) or 1.0) if len(years) else 1.0
        self._content = {m.id: self._movie_content(m.genres, m.year) for m in dataset.movies.values()}
        self._unknown_movie = self._movie_content((), None)
        sizes = {"position": 2, "history": 3, "content": len(self.genres) + 1,
                 "user": 2 + len(AGE_BUCKETS) + len(self.occupations), "crowd": CROWD_RANK + 2}
        self.columns: dict[str, slice] = {}
        start = 0
        for group in GROUPS:
            self.columns[group] = slice(start, start + sizes[group])
            start += sizes[group]
        self.width = start

    def _movie_content(self, genres, year) -> np.ndarray:
        flags = [1.0 if g in genres else 0.0 for g in self.genres]
        return np.array(flags + [(year - self._year_mean) / self._year_std if year else 0.0], dtype=np.float32)

    def user_features(self, user: User | None) -> np.ndarray:
        """One-hot gender, age group, occupation; all zero where the profile does not say."""
        row = np.zeros(2 + len(AGE_BUCKETS) + len(self.occupations), dtype=np.float32)
        if user is None:
            return row
        if user.gender in ("F", "M"):
            row[("F", "M").index(user.gender)] = 1.0
        if user.age in AGE_BUCKETS:
            row[2 + AGE_BUCKETS.index(user.age)] = 1.0
        if user.occupation in self.occupations:
            row[2 + len(AGE_BUCKETS) + self.occupations.index(user.occupation)] = 1.0
        return row

    def window_rows(self, window: Window, user: User | None = None) -> np.ndarray:
        """(len(window), width) features of every position; the guessed half's history is zero."""
        n = len(window)
        rows = np.zeros((n, self.width), dtype=np.float32)
        c = self.columns
        rows[:, c["position"]] = np.column_stack([np.arange(n) / WINDOW_SIZE, np.full(n, n / WINDOW_SIZE)])
        liked = window.liked
        history = np.column_stack([np.where(liked, 1.0, -1.0), (window.ratings - 3.0) / 2.0,
                                   np.log1p(np.maximum(window.gaps, 0.0)) / 10.0])
        rows[: window.given, c["history"]] = history[: window.given]
        unknown = self._unknown_movie
        rows[:, c["content"]] = np.stack([self._content.get(int(m), unknown) for m in window.items])
        if user is None and window.user is not None:
            user = self.users.get(window.user)
        rows[:, c["user"]] = self.user_features(user)
        own = liked if window.user is not None and window.user in self.crowd.users else None
        rows[:, c["crowd"]] = self.crowd.features(window.items, own)
        return rows

    def encode(self, windows: list[Window], users: list[User | None] | None = None) -> SessionArrays:
        """Padded arrays for `windows`; `users` (one per window) gives a profile's demographics."""
        n = len(windows)
        given = np.zeros((n, HALF, self.width), dtype=np.float32)
        target = np.zeros((n, HALF, self.width), dtype=np.float32)
        given_mask = np.zeros((n, HALF), dtype=bool)
        target_mask = np.zeros((n, HALF), dtype=bool)
        labels = np.zeros((n, HALF), dtype=np.float32)
        given_liked = np.zeros((n, HALF), dtype=np.float32)
        target_items = np.zeros((n, HALF), dtype=np.int64)
        for k, window in enumerate(windows):
            if len(window) > WINDOW_SIZE:
                raise ValueError(f"a window holds at most {WINDOW_SIZE} ratings, got {len(window)}")
            rows = self.window_rows(window, users[k] if users is not None else None)
            a, b = window.given, len(window) - window.given
            given[k, :a], target[k, :b] = rows[:a], rows[a:]
            given_mask[k, :a], target_mask[k, :b] = True, True
            labels[k, :b] = window.liked[a:]
            given_liked[k, :a] = window.liked[:a]
            target_items[k, :b] = window.items[a:]
        user_ids = np.array([w.user if w.user is not None else -1 for w in windows], dtype=np.int64)
        return SessionArrays(given, given_mask, target, target_mask, labels, given_liked, target_items, user_ids)

    def subset_columns(self, subset: ExpertSubset, side: str) -> np.ndarray:
        """Boolean mask over the feature columns an expert reads on `side` ("given" or "target")."""
        mask = np.zeros(self.width, dtype=bool)
        for group in subset.groups:
            if side == "target" and group in GIVEN_ONLY:
                continue
            mask[self.columns[group]] = True
        return mask
