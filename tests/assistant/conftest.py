"""Fixtures of the app's tests: one engine on the real MovieLens 100k per test run, and a profile
store and QSettings in the test's temporary folder (never the user's real data or settings)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from engine.api import Engine


@pytest.fixture(scope="session")
def app_engine(ml100k_folder: Path) -> Engine:
    return Engine.load("ml-100k", ml100k_folder, offline=True, cache_dir=os.environ["CINEWHY_CACHE"])


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


@pytest.fixture
def saved_profile_window(qtbot, app_engine, store_path, settings):
    """The window opened on a saved profile ("Mine", a copy of dataset user 2), its store its own."""
    from assistant.main_window import MainWindow
    from assistant.storage import ProfileStore
    from test_main_window import show_ready

    with ProfileStore(store_path) as store:
        saved = store.create_from("ml-100k", "Mine", app_engine.catalogue.user_profile(2))
    store = ProfileStore(store_path)
    window = show_ready(qtbot, MainWindow(app_engine, store, settings, start=("saved", saved.id)))
    yield window
    window.live.stop()
    store.close()
