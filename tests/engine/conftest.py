"""An engine on the real MovieLens 100k (found as the app finds it: tests/conftest.py), trained once
per test run (about a minute on two cores)."""
import os
from pathlib import Path

import numpy as np
import pytest

from engine.api import Engine
from engine.data.types import Dataset, Interactions, Movie, User


@pytest.fixture(scope="session")
def engine_cache() -> str:
    return os.environ["CINEWHY_CACHE"]


@pytest.fixture(scope="session")
def ml100k_engine(ml100k_folder: Path, engine_cache) -> Engine:
    return Engine.load("ml-100k", ml100k_folder, offline=True, cache_dir=engine_cache)


@pytest.fixture()
def tiny_dataset() -> Dataset:
    """Four movies, two users; ratings of 3 and above are positives."""
    movies = {
        1: Movie(1, "A", 1990, ("Action",)),
        2: Movie(2, "B", 1991, ("Comedy",)),
        3: Movie(3, "C", 1992, ("Drama",)),
        4: Movie(4, "D", 1993, ("Action", "Drama")),
    }
    users = {1: User(1, "F", "25-34", "writer"), 2: User(2, "M", "18-24", "artist")}
    interactions = Interactions(
        np.array([1, 1, 1, 2, 2]), np.array([1, 2, 3, 2, 4]), np.array([5, 4, 3, 5, 1], dtype=np.float32)
    )
    return Dataset("tiny", movies, users, interactions)
