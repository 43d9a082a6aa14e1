"""The real MovieLens copies: ml-100k wherever the app finds it (tests/conftest.py: $CINEWHY_DATA, the
cache, the GroupLens download or the recbole wheel, in either file layout), the others in the shared
data folder ($CINEWHY_DATA, else <repo>/../shared/data).

Skipped where a copy is absent. Nothing here is copied into the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.data import load_dataset, load_ml1m_reindexed
from engine.data.types import AGE_BUCKETS, ML1M_OCCUPATIONS, Movie


def _shared_data() -> Path:
    configured = os.environ.get("CINEWHY_DATA")  # read at import, before the autouse fixture clears it
    return Path(configured) if configured else Path(__file__).resolve().parents[3].parent / "shared" / "data"


SHARED = _shared_data()


def _folder(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"no shared copy of {name} at {folder}")
    return folder


def test_real_ml100k(ml100k_folder):
    dataset = load_dataset("ml-100k", ml100k_folder, offline=True)
    inter = dataset.interactions
    assert len(inter) == 100_000
    assert len(dataset.users) == 943 and len(dataset.movies) == 1_682
    assert len(np.unique(inter.users)) == 943 and len(np.unique(inter.items)) == 1_682
    assert np.bincount(inter.ratings.astype(int))[1:].tolist() == [6_110, 11_370, 27_145, 34_174, 21_201]
    assert inter.timestamps.min() == 874_724_710 and inter.timestamps.max() == 893_286_638
    assert dataset.movies[1] == Movie(1, "Toy Story", 1995, ("Animation", "Children's", "Comedy"))
    assert dataset.movies[12].title == "The Usual Suspects"
    assert len(dataset.genres) == 19
    assert all(user.age in AGE_BUCKETS and user.gender in ("F", "M") for user in dataset.users.values())


def test_real_ml1m_reindexed():
    dataset = load_ml1m_reindexed(_folder("ml-1m-ratings-reindexed"))
    inter = dataset.interactions
    assert len(inter) == 1_000_209 and inter.timestamps is None
    assert len(dataset.users) == 6_040
    assert sum(user.gender is not None for user in dataset.users.values()) == 6_040
    assert sum(user.gender == "F" for user in dataset.users.values()) == 1_709
    assert all(user.occupation in ML1M_OCCUPATIONS for user in dataset.users.values())
    assert len(dataset.movies) == 3_706 and not dataset.has_titles
    assert np.bincount(inter.ratings.astype(int))[1:].tolist() == [56_174, 107_557, 261_197, 348_971, 226_310]


def test_real_ml100k_through_the_registry(ml100k_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("CINEWHY_DATA", str(ml100k_folder.parent))
    small = load_dataset("ml-100k", cache_dir=tmp_path, offline=True)
    assert (small.name, len(small.interactions)) == ("ml-100k", 100_000)


def test_real_ml1m_through_the_registry(tmp_path, monkeypatch):
    # ML-1M comes only from the shared folder or GroupLens (no wheel carries it): offline it may be absent
    _folder("ml-1m-ratings-reindexed")
    monkeypatch.setenv("CINEWHY_DATA", str(SHARED))
    large = load_dataset("ml-1m", cache_dir=tmp_path, offline=True)
    assert (large.name, len(large.interactions)) == ("ml-1m", 1_000_209)
