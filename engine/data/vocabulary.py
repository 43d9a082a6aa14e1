"""One index space for every profile feature: movies first, then user and movie attributes.

RecoNet embeds items and attributes in one table, so the output layer's item indices are the
first `n_items` rows of the embedding table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.types import AGE_BUCKETS, GENDERS, Dataset

FEATURE_KINDS = ("movie", "gender", "age", "occupation", "genre")


@dataclass(frozen=True)
class Feature:
    kind: str  # one of FEATURE_KINDS
    key: str  # movie id as text, "F", "25-34", "writer", "Sci-Fi"
    name: str  # what a person reads: "Alien (1979)", "female", "aged 25-34", "works as writer", "Sci-Fi movies"


class Vocabulary:
    """Maps movies and attributes of one dataset to embedding rows, and back to readable features."""

    def __init__(self, dataset: Dataset):
        movies = sorted(dataset.movies.values(), key=lambda m: m.id)
        self.item_ids = np.array([m.id for m in movies], dtype=np.int64)
        self.item_index = {int(m.id): i for i, m in enumerate(movies)}
        self.features: list[Feature] = [Feature("movie", str(m.id), m.label) for m in movies]
        self._attribute_index: dict[tuple[str, str], int] = {}

        users = dataset.users.values()
        for gender in sorted({u.gender for u in users if u.gender}):
            self._add("gender", gender, GENDERS.get(gender, gender))
        present_ages = {u.age for u in users if u.age}
        for age in [a for a in AGE_BUCKETS if a in present_ages]:
            self._add("age", age, f"aged {age}")
        for occupation in sorted({u.occupation for u in users if u.occupation}):
            self._add("occupation", occupation, f"works as {occupation}")
        for genre in dataset.genres:
            self._add("genre", genre, f"{genre} movies")

        # Dense movie-by-genre table: small (movies x ~19) and fast to multiply during sampling.
        genre_columns = {g: j for j, g in enumerate(dataset.genres)}
        self.genre_feature_offset = self._attribute_index.get(("genre", dataset.genres[0])) if dataset.genres else None
        self.item_genres = np.zeros((len(movies), len(genre_columns)), dtype=np.float32)
        for i, movie in enumerate(movies):
            for genre in movie.genres:
                self.item_genres[i, genre_columns[genre]] = 1.0

    def _add(self, kind: str, key: str, name: str) -> None:
        self._attribute_index[(kind, key)] = len(self.features)
        self.features.append(Feature(kind, key, name))

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def n_genres(self) -> int:
        return self.item_genres.shape[1]

    def attribute(self, kind: str, key: str) -> int | None:
        return self._attribute_index.get((kind, key))

    def attribute_keys(self, kind: str) -> list[str]:
        return [key for (k, key) in self._attribute_index if k == kind]

    def user_attributes(self, gender: str | None, age: str | None, occupation: str | None) -> list[int]:
        """Embedding rows of the given user attributes; unknown or missing ones are left out."""
        rows = []
        for kind, key in (("gender", gender), ("age", age), ("occupation", occupation)):
            if key is not None:
                row = self.attribute(kind, key)
                if row is not None:
                    rows.append(row)
        return rows

    def genre_rows(self, item_rows: np.ndarray) -> np.ndarray:
        """Embedding rows of the genres of any of the given movies (the union, once each)."""
        if self.genre_feature_offset is None or len(item_rows) == 0:
            return np.empty(0, dtype=np.int64)
        present = self.item_genres[item_rows].any(axis=0)
        return np.flatnonzero(present).astype(np.int64) + self.genre_feature_offset

    def profile_rows(
        self,
        item_rows: np.ndarray,
        user_attribute_rows: list[int],
        use_user_attributes: bool,
        use_item_attributes: bool,
    ) -> np.ndarray:
        """All embedding rows of a profile: its movies, then its attributes, each once."""
        parts = [np.asarray(item_rows, dtype=np.int64)]
        if use_user_attributes:
            parts.append(np.asarray(user_attribute_rows, dtype=np.int64))
        if use_item_attributes:
            parts.append(self.genre_rows(np.asarray(item_rows, dtype=np.int64)))
        return np.unique(np.concatenate(parts))
