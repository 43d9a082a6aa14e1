"""Asking which lenses work (Engine.lenses() at the app's start) uses each lens's light check in
engine.lenses.AVAILABILITY and imports none of the explainers' model code; the light checks give
the same answers as the explainer classes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.data.types import Dataset, Interactions
from engine.lenses import AVAILABILITY, EXPLAINERS, Lens, explainer_class, unavailable_reason

REPO = Path(__file__).resolve().parents[2]
EXPLAINER_MODULES = sorted(target.split(":")[0] for target in EXPLAINERS.values())


def bare(dataset: Dataset) -> Dataset:
    empty = Interactions(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    return Dataset("bare", dataset.movies, dataset.users, empty)


def test_every_built_lens_has_a_light_check():
    assert set(AVAILABILITY) == set(EXPLAINERS)


@pytest.mark.parametrize("lens", sorted(EXPLAINERS, key=lambda lens: lens.value))
def test_the_light_check_answers_as_the_explainer(lens, tiny_dataset):
    for dataset in (tiny_dataset, bare(tiny_dataset)):
        assert unavailable_reason(lens, dataset) == explainer_class(lens).unavailable_reason(dataset)


def test_a_dataset_without_ratings_is_refused_by_the_rating_lenses(tiny_dataset):
    empty = bare(tiny_dataset)
    assert "no ratings" in unavailable_reason(Lens.INFLUENCE, empty)
    assert "no ratings" in unavailable_reason(Lens.EXPERTS, empty)
    assert unavailable_reason(Lens.RELEVANCE, empty) is None


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=dict(os.environ), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stdout.split())


ASK_EVERY_LENS = """
from types import SimpleNamespace
from engine.lenses import Lens, unavailable_reason
dataset = SimpleNamespace(name="probe", interactions=[(1, 2, 4.0)])
answers = {lens: unavailable_reason(lens, dataset) for lens in Lens}
"""


def test_asking_every_lens_imports_no_explainer():
    assert not set(EXPLAINER_MODULES) & loaded_after(ASK_EVERY_LENS)


def test_the_probe_sees_an_explainer_once_it_is_used():
    """The probe above can fail: building the explainer class imports its module."""
    modules = loaded_after(ASK_EVERY_LENS + "from engine.lenses import explainer_class\n"
                           "explainer_class(Lens.EXPERTS)\n")
    assert "engine.explain.expert_explainer" in modules
