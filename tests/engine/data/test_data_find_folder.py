"""registry.find_folder: the folder load_dataset would read, found the same way (the tests find their
MovieLens through it, as the app does)."""
from __future__ import annotations

import pytest

from engine.data import registry
from engine.errors import DataUnavailableError, InvalidInputError


def test_the_cache_folder_is_found_and_loads_as_load_dataset_would(movielens, tmp_path):
    cached = movielens.ml100k(folder=tmp_path / "cache" / "data" / "ml-100k")
    folder = registry.find_folder("ml-100k", cache_dir=tmp_path / "cache", offline=True)
    assert folder == cached
    assert len(registry.load_dataset("ml-100k", folder, offline=True).interactions) == 7


def test_the_environment_folder_comes_before_the_cache(movielens, tmp_path, monkeypatch):
    movielens.ml100k(folder=tmp_path / "cache" / "data" / "ml-100k")
    shared = movielens.ml100k(folder=tmp_path / "shared" / "ml-100k")
    monkeypatch.setenv(registry.DATA_ENV, str(tmp_path / "shared"))
    assert registry.find_folder("ml-100k", cache_dir=tmp_path / "cache", offline=True) == shared


def test_nothing_found_offline_says_what_was_tried(tmp_path):
    with pytest.raises(DataUnavailableError, match="No ml-100k data found.*cache folder.*offline"):
        registry.find_folder("ml-100k", cache_dir=tmp_path / "empty", offline=True)
    with pytest.raises(InvalidInputError, match="Unknown dataset"):
        registry.find_folder("ml-20m", cache_dir=tmp_path, offline=True)
