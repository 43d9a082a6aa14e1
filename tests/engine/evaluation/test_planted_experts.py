"""Planted ground truth (notes §3.7, issue 9 Done-when): trained with GEM on fresh samples (fixed
seeds), the mixture must be accurate AND give the argmax share to the subset planted for each point,
for both training weightings. The thresholds are the issue's (and the notes' within-2-sigma and
per-subset recall for the toy). Seeds 0-3 all pass with these step counts (toy, 3,000 steps:
planted-match 0.92-0.93 reference, 0.95-0.96 paper; within 2 sigma >= 0.956; recommender, 2,000 steps:
planted-match >= 0.987, every region >= 0.974). Fewer toy steps are not robust: at 2,000 one seed of
the paper weighting had not yet handed the x1 clusters to S1 (recall 0.47)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from engine.errors import Cancelled  # noqa: E402
from engine.evaluation.planted_experts import recommender_points, run_planted, toy_points  # noqa: E402
from engine.progress import TaskState  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_toy_generator_plants_what_it_says():
    data = toy_points(4000, np.random.default_rng(0))
    x1, x2 = data.x[:, 0], data.x[:, 1]
    near = data.near_centre
    horizontal, vertical, xor = (data.planted == 0) & near, (data.planted == 1) & near, (data.planted == 2) & near
    # Each planted subset alone determines the label of its clusters (near their centres).
    assert ((x1[horizontal] > 0) == (data.y[horizontal] > 0)).all()
    assert ((x2[vertical] > 0) == (data.y[vertical] > 0)).all()
    assert (((x1[xor] * x2[xor]) < 0) == (data.y[xor] > 0)).all()
    assert abs((data.planted == 2).mean() - 0.5) < 0.01
    assert 0.8 < near.mean() < 0.9  # 2 sigma in 2-d holds 1 - exp(-2) = 86 %


def test_recommender_generator_plants_what_it_says():
    data = recommender_points(4000, np.random.default_rng(0))
    content, user, collab = data.x[:, :4], data.x[:, 4:8], data.x[:, 8:]
    z = data.planted
    assert (np.argmax(np.abs(content), axis=1) == z).all()  # only the content group marks the region
    y = data.y > 0
    assert ((content[z == 0, 0] > 0) == y[z == 0]).all()
    assert ((user[z == 1, 0] > 0) == y[z == 1]).all()
    assert ((collab[z == 2, 0] > 0) == y[z == 2]).all()
    assert ((user[z == 3, 0] * collab[z == 3, 0] > 0) == y[z == 3]).all()


@pytest.mark.parametrize("weighting", ["reference", "paper"])
def test_toy_recovers_the_planted_subsets(weighting):
    result = run_planted("toy", weighting, steps=3000, seed=0, test_points=8192)
    assert result.accuracy >= 0.97
    assert result.planted_match >= 0.88
    assert result.near_centre_match >= 0.95
    assert min(result.recall.values()) >= 0.75
    # The gate's doing: one coordinate alone cannot solve the task, the bivariate expert nearly can.
    assert result.alone_accuracy["S1"] < 0.75 and result.alone_accuracy["S2"] < 0.75


@pytest.mark.parametrize("weighting", ["reference", "paper"])
def test_recommender_shape_recovers_the_planted_subsets(weighting):
    result = run_planted("recommender", weighting, steps=2000, seed=0, test_points=8192)
    assert result.accuracy >= 0.95
    assert result.planted_match >= 0.95
    assert set(result.recall) == {"S1", "S2", "S3", "S4"}
    assert min(result.recall.values()) >= 0.90


def test_the_runner_can_be_cancelled():
    checks = []

    def cancel() -> bool:
        checks.append(1)
        return len(checks) >= 10

    with pytest.raises(Cancelled):
        run_planted("toy", steps=3000, state=TaskState(should_cancel=cancel))
    assert len(checks) == 10  # stopped at the tenth step's check, not after the run
