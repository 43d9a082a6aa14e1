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
