"""Fixtures of the app's tests: one engine on the real MovieLens 100k per test run, and a profile
store and QSettings in the test's temporary folder (never the user's real data or settings)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from engine.api import Engine


@pytest.fixture(scope="session")
def app_engine() -> Engine:
    root = os.environ.get("CINEWHY_DATA")
    folder = Path(root) / "ml-100k" if root else None
    if folder is None or not folder.is_dir():
        pytest.skip("MovieLens 100k is not available (set CINEWHY_DATA to a folder holding ml-100k/)")
    return Engine.load("ml-100k", folder, offline=True, cache_dir=os.environ["CINEWHY_CACHE"])


@pytest.fixture(autouse=True)
def private_data_home(tmp_path, monkeypatch) -> Path:
    """ProfileStore() without a path writes here, not into the user's data folder."""
    home = tmp_path / "data-home"
    monkeypatch.setenv("CINEWHY_DATA_HOME", str(home))
    return home


@pytest.fixture
def store_path(private_data_home) -> Path:
    return private_data_home / "profiles.sqlite3"


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
