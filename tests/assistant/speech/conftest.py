"""The ml-100k catalogue as the speech grammar takes it, and a grammar cache per test module."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.speech.synthetic import espeak_missing
from engine.data.registry import load_dataset


@pytest.fixture(scope="session")
def catalogue(ml100k_folder: Path) -> tuple[dict[int, str], list[str]]:
    """(movie id -> title, occupations) of MovieLens 100k."""
    if espeak_missing():
        pytest.fail(f"Words outside the dictionary are pronounced by espeak-ng: {espeak_missing()}")
    dataset = load_dataset("ml-100k", ml100k_folder, offline=True)
    return {m.id: m.title for m in dataset.movies.values()}, sorted({u.occupation for u in dataset.users.values()})


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")
