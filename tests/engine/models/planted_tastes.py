"""A small MovieLens-shaped dataset with planted tastes, for the static expert-lens tests."""
from __future__ import annotations

import numpy as np

from engine.data.types import Dataset, Interactions, Movie, User

GENRES = ("Action", "Comedy", "Drama", "Horror")


def small_movielens(n_users: int = 120, n_items: int = 200, seed: int = 0) -> Dataset:
    """Four taste groups, told apart by gender and age, each rating half of its own quarter of the
    catalogue; each quarter has its own genre. Timestamps random."""
    rng = np.random.default_rng(seed)
    quarter = n_items // 4
    movies = {i: Movie(i, f"M{i}", 1980 + i % 20, (GENRES[(i - 1) // quarter],)) for i in range(1, n_items + 1)}
    users, items = [], []
    people = {}
    for u in range(1, n_users + 1):
        group = u % 4
        people[u] = User(u, "FM"[group % 2], ("18-24", "25-34")[group // 2], ("writer", "artist", "other")[u % 3])
        chosen = rng.choice(np.arange(group * quarter + 1, (group + 1) * quarter + 1), size=quarter // 2, replace=False)
        users += [u] * len(chosen)
        items += chosen.tolist()
    inter = Interactions(np.array(users), np.array(items), np.full(len(users), 4, np.float32),
                         rng.integers(0, 10_000, len(users)))
    return Dataset("small", movies, people, inter)
