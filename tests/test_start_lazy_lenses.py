"""The start builds only the view in front: after the window's first Sankey is painted, the other
lenses' explainers and views are not imported; bringing a tab to the front imports and builds it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LATER = ("engine.explain.expert_explainer", "engine.explain.pixel_explainer", "engine.explain.influence_explainer",
         "assistant.views.expert_panel", "assistant.views.pixel_panel", "assistant.views.influence_panel")

PROBE = """
import sys
from assistant import app
LATER = %r

def on_window(window):
    from PySide6.QtCore import QTimer
    from engine.api import Lens

    def report(mark):
        print(mark, " ".join(name for name in LATER if name in sys.modules) or "-", flush=True)

    def open_experts():
        window.tabs.show_lens(Lens.EXPERTS)
        panel = window.tabs.currentWidget()
        report("OPENED")
        print("BUILT", type(panel).__name__, window.tabs.current_lens().value, flush=True)
        window.close()

    def painted():
        if window.last_result is not None and window.isVisible() and not getattr(window, "_probed", False):
            window._probed = True
            report("PAINTED")
            QTimer.singleShot(0, open_experts)

    window.tabs.panel(Lens.RELEVANCE).view.painted.connect(painted)

raise SystemExit(app.main(sys.argv[1:], on_window=on_window))
""" % (LATER,)


def test_the_first_paint_imports_only_the_view_in_front(ml100k_folder, tmp_path):
    pytest.importorskip("PySide6.QtWidgets")
    from engine.api import Engine

    cache = os.environ["CINEWHY_CACHE"]
    Engine.load("ml-100k", ml100k_folder, offline=True, cache_dir=cache)  # trained here if not cached yet
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CINEWHY_DATA_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--data", str(ml100k_folder), "--offline", "--cache-dir", cache],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.split()}
    assert "PAINTED" in lines and "OPENED" in lines, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert lines["PAINTED"] == ["-"]
    opened = set(lines["OPENED"])
    assert "assistant.views.expert_panel" in opened  # its explainer follows when the live worker prepares it
    assert not opened & {"assistant.views.pixel_panel", "engine.explain.pixel_explainer"}
    assert lines["BUILT"] == ["ExpertPanel", "experts"]
