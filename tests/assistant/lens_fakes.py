"""A second lens for the app's tests, registered the way a real one is (one explainer entry in
engine.lenses.EXPLAINERS, one view entry in assistant.views.lens_views.LENS_VIEWS), so the tests
show that the window and the live worker serve any lens without naming it.

Its model "trains" in a few progress steps and can be held at a gate, so that a test can watch the
busy state and cancel it. Its explanation is a plain function of the profile and the movie.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QLabel

from assistant.views import lens_views
from assistant.views.lens_panel import LensPanel
from engine import lenses
from engine.api import Lens
from engine.lenses import Explainer

FAKE_LENS = Lens.EXPERTS  # a lens the engine does not build yet


@dataclass(frozen=True)
class FakeExplanation:
    item_id: int
    title: str
    parts: tuple[float, ...]
    remainder: float = 0.0

    lens = FAKE_LENS

    @property
    def subject(self) -> int:
        return self.item_id

    @property
    def explained(self) -> float:
        return sum(self.parts) + self.remainder

    def to_dict(self) -> dict:
        return {"lens": self.lens.value, "item": self.item_id, "parts": list(self.parts)}


class FakeExplainer(Explainer):
    lens = FAKE_LENS
    exact = True
    gate: threading.Event | None = None  # when set by a test, preparing waits until the gate opens
    explain_delay = 0.0  # seconds each explain call takes
    preparations = 0

    def __init__(self, context):
        super().__init__(context)
        self._ready = False

    @property
    def prepared(self) -> bool:
        return self._ready

    def prepare(self, state) -> None:
        type(self).preparations += 1
        for step in range(4):
            state.progress(step / 4, "fitting the fake experts")
            while self.gate is not None and not self.gate.wait(0.01):
                state.check_cancelled()
        state.progress(1.0, "done")
        self._ready = True

    def explain(self, profile, movie_ids):
        time.sleep(self.explain_delay)
        catalogue = self.context.catalogue
        return [
            FakeExplanation(int(m), catalogue.movie(m).label, (float(len(profile.movies)), float(m % 7)))
            for m in movie_ids
        ]

    def onnx_program(self):
        """The fake's explanation as a graph: (profile size, movie id) -> its two parts."""
        import numpy as np
        import torch

        from engine.export import OnnxProgram

        class FakeParts(torch.nn.Module):
            def forward(self, profile_size, movie):
                return torch.stack([profile_size, torch.remainder(movie, 7).to(torch.float32)], dim=1)

        example = (np.array([0.0, 3.0], dtype=np.float32), np.array([1, 50], dtype=np.int64))
        return OnnxProgram(
            FakeParts(), example, ("profile_size", "movie"), ("parts",),
            vocabulary={"outputs": {"parts": {"meaning": "the fake explanation's two parts"}}},
            metadata={"lens": self.lens.value, "model": "fake", "dataset": self.context.dataset.name,
                      "fingerprint": self.context.dataset.fingerprint},
        )


class FakePanel(LensPanel):
    lens = FAKE_LENS

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel(self)
        self.set_content(self.label)
        self.drawn: list = []

    def draw(self, explanation) -> None:
        self.drawn.append(explanation)
        self.label.setText(f"{explanation.title}: {explanation.parts}")


@pytest.fixture
def fake_lens(monkeypatch):
    """Register the fake lens in both registries; forget its model afterwards."""
    monkeypatch.setitem(lenses.EXPLAINERS, FAKE_LENS, f"{__name__}:FakeExplainer")
    monkeypatch.setitem(lens_views.LENS_VIEWS, FAKE_LENS, f"{__name__}:FakePanel")
    monkeypatch.setattr(FakeExplainer, "gate", None)
    monkeypatch.setattr(FakeExplainer, "explain_delay", 0.0)
    monkeypatch.setattr(FakeExplainer, "preparations", 0)
    engines = []
    yield engines  # a test appends the engines whose prepared fake model must be dropped
    for engine in engines:
        engine._explainers.pop(FAKE_LENS, None)
    if FakeExplainer.gate is not None:
        FakeExplainer.gate.set()
