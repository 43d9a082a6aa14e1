"""'Group by genre' on a dataset without genres (the re-indexed ML-1M): the button and Ctrl+G are
off there, with a tooltip that says why; on MovieLens 100k they stay on."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from assistant.main_window import MainWindow
from assistant.storage import ProfileStore
from assistant.views.sankey_panel import NO_GENRES_TIP
from engine.api import Engine
from test_main_window import open_window, sankey, wait_fresh  # noqa: F401 (a fixture)
from test_rough_edges_window import write_reindexed_ml1m


@pytest.fixture(scope="module")
def reindexed_engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("reindexed")
    return Engine.load("ml-1m", write_reindexed_ml1m(root / "ml-1m"), offline=True, cache_dir=root / "cache")


def test_group_by_genre_is_off_with_a_reason_on_a_dataset_without_genres(qtbot, reindexed_engine, store_path,
                                                                        settings):
    assert not reindexed_engine.catalogue.dataset.genres  # the catalogue really lists none
    store = ProfileStore(store_path)
    try:
        window = MainWindow(reindexed_engine, store, settings, start=("user", 1))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        wait_fresh(qtbot, window)
        panel = sankey(window)
        qtbot.waitUntil(lambda: panel.view.explanation is not None, timeout=10_000)
        assert not panel.group_button.isEnabled() and not panel.group_action.isEnabled()
        assert not panel.genres_available
        assert panel.group_button.toolTip() == NO_GENRES_TIP and "no genres" in NO_GENRES_TIP
        QTest.keySequence(panel, "Ctrl+G")  # the shortcut does nothing either
        assert not panel.grouped and not panel.group_button.isChecked()
        window.close()
    finally:
        store.close()


def test_group_by_genre_stays_on_where_movies_have_genres(qtbot, open_window):
    window = open_window(("user", 1))
    panel = sankey(window)
    qtbot.waitUntil(lambda: panel.view.explanation is not None, timeout=10_000)
    assert panel.group_button.isEnabled() and panel.group_action.isEnabled()
    assert panel.group_button.toolTip() != NO_GENRES_TIP and "genre" in panel.group_button.toolTip()
    qtbot.mouseClick(panel.group_button, Qt.MouseButton.LeftButton)
    assert panel.grouped
