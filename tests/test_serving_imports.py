"""Serving needs numpy only: importing torch costs over a second of start-up, so the modules the app
and the command line load to serve and explain must not import it (training and export still do)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def imported_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running `code` in a fresh interpreter."""
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stdout.split())


@pytest.mark.parametrize("module", ["engine.api", "engine.models.builder", "engine.explain.relevance_explainer"])
def test_serving_modules_do_not_import_torch(module):
    assert "torch" not in imported_after(f"import {module}")


def test_the_window_modules_do_not_import_torch():
    pytest.importorskip("PySide6.QtWidgets")
    assert "torch" not in imported_after("import assistant.app, assistant.main_window")


def test_training_still_brings_torch():
    """The probe can see torch when it is imported, so the tests above can fail."""
    assert "torch" in imported_after("import engine.models.training")


def test_torch_parts_stay_reachable_from_the_reconet_module():
    modules = imported_after(
        "from engine.models.reconet import RecoNetModule, to_torch_csr\nassert RecoNetModule.__name__ == 'RecoNetModule'"
    )
    assert "torch" in modules


def test_the_engine_and_window_modules_do_not_import_scipy():
    """scipy.sparse cost the start 0.2-0.3 s (it pulls numpy.f2py and numpy.testing); serving keeps
    its rows in plain numpy arrays (engine.data.sparse_rows)."""
    pytest.importorskip("PySide6.QtWidgets")
    assert "scipy" not in imported_after("import engine.api, assistant.app, assistant.main_window")


def test_training_still_brings_scipy():
    """The probe sees scipy when a module needs it, so the test above can fail."""
    assert "scipy" in imported_after(
        "from engine.data.sparse_rows import SparseRows\nSparseRows.from_entries([0], [0], [1.0], (1, 1)).to_scipy()")
    assert "scipy" in imported_after("import engine.models.training")


STARTED_PROBE = """
import sys
from assistant import app

def on_window(window):
    from engine.api import Lens

    def painted():
        if window.last_result is not None and window.isVisible():
            print("SCIPY-AT-FIRST-PAINT", "scipy" in sys.modules, flush=True)
            window.close()

    window.tabs.panel(Lens.RELEVANCE).view.painted.connect(painted)

raise SystemExit(app.main(sys.argv[1:], on_window=on_window))
"""


def test_the_app_paints_its_first_sankey_without_scipy(ml100k_folder, tmp_path):
    """The whole start, from launch to the first Sankey painted with a cached model, as main.py runs it."""
    pytest.importorskip("PySide6.QtWidgets")
    from engine.api import Engine

    cache = os.environ["CINEWHY_CACHE"]
    Engine.load("ml-100k", ml100k_folder, offline=True, cache_dir=cache)  # trained here if not cached yet
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CINEWHY_DATA_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", STARTED_PROBE, "--data", str(ml100k_folder), "--offline", "--cache-dir", cache],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    marks = [line.split() for line in done.stdout.splitlines() if line.startswith("SCIPY-AT-FIRST-PAINT")]
    assert marks, f"the window painted no Sankey (exit {done.returncode}): {done.stderr[-2000:]}"
    assert marks[0][1] == "False"
