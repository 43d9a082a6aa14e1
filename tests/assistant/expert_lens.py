"""The CI-sized expert lens (tests/engine/expert_model_fixture.py) served by the tests' shared engine
for one test only: the session's engine must not keep it, or a later test that registers its own
explainer for Lens.EXPERTS (tests/assistant/lens_fakes.py) would find this one prepared instead."""
from __future__ import annotations

from engine.api import Lens
from tests.engine.expert_model_fixture import ci_explainer


def serve_ci_experts(engine, monkeypatch):
    """Install the prepared CI explainer as `engine`'s expert lens until the test ends; returns it."""
    # setitem remembers what was there (nothing, usually) and puts it back at the end of the test;
    # ci_explainer installs the explainer itself on its first call only (it is cached), hence the set below.
    monkeypatch.setitem(engine._explainers, Lens.EXPERTS, None)
    explainer = ci_explainer(engine)
    engine._explainers[Lens.EXPERTS] = explainer
    return explainer
