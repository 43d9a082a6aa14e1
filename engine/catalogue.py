"""The read-only facts a screen shows: movies, users and what each user liked. No model behind it,
so a window may read it on its own thread while the engine scores on another."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from engine.data.sparse_rows import SparseRows
from engine.data.types import Dataset, Movie, User
from engine.errors import InvalidInputError
from engine.profile import Profile


@dataclass(frozen=True)
class ModelInfo:
    dataset: str
    source: str
    variant: str
    n_movies: int
    n_users: int
    validation_recall_at_50: float | None
    training_seconds: float | None
    trained_now: bool
    note: str = ""


@dataclass(frozen=True, eq=False)
class Catalogue:
    dataset: Dataset
    info: ModelInfo
    item_ids: np.ndarray  # item row -> movie id
    liked: SparseRows  # users x item rows, positives
    user_row: dict[int, int]
    occupations: tuple[str, ...]
    ratings: SparseRows | None = None  # users x item rows, stars; None: only `liked` is known

    @cached_property
    def movies(self) -> list[Movie]:
        return sorted(self.dataset.movies.values(), key=lambda m: m.id)

    @cached_property
    def user_ids(self) -> list[int]:
        return sorted(self.user_row)

    def user(self, user_id: int) -> User | None:
        return self.dataset.users.get(int(user_id))

    def movie(self, movie_id) -> Movie:
        try:
            return self.dataset.movies[int(movie_id)]
        except (KeyError, ValueError, TypeError):
            raise InvalidInputError(
                f"Unknown movie id {movie_id!r}: {self.dataset.name} has movie ids "
                f"{self.item_ids.min()} to {self.item_ids.max()}."
            ) from None

    def user_profile(self, user_id) -> Profile:
        """A dataset user's profile: every movie they rated, with its stars, and their attributes."""
        row = self.user_row.get(int(user_id)) if str(user_id).lstrip("-").isdigit() else None
        if row is None:
            ids = self.user_ids
            raise InvalidInputError(f"Unknown user {user_id!r}: {self.dataset.name} has users {ids[0]} to {ids[-1]}.")
        user = self.user(user_id)
        if self.ratings is None:
            items = self.liked.indices[self.liked.indptr[row] : self.liked.indptr[row + 1]]
            stars = [None] * len(items)
        else:
            span = slice(self.ratings.indptr[row], self.ratings.indptr[row + 1])
            items, stars = self.ratings.indices[span], [min(5, max(1, int(round(s)))) for s in self.ratings.data[span]]
        ids = self.item_ids[items]
        order = np.argsort(ids, kind="stable")
        return Profile(
            movies=tuple(int(ids[i]) for i in order),
            ratings=tuple(stars[i] for i in order),
            gender=user.gender if user else None,
            age=user.age if user else None,
            occupation=user.occupation if user else None,
            user_id=int(user_id),
        )
