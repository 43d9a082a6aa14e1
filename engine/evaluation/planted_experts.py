"""Planted ground truth for the interpretable mixture of experts (notes §3.7): two synthetic tasks in
which we know which input subset decides each point, and a runner that trains the mixture with GEM
and measures whether the argmax-share expert is the planted one.

- "toy": the paper's toy (b) ("dataset C" of its notebook). Groups x1, x2; experts S1 = {x1},
  S2 = {x2}, S3 = {x1, x2}. Half the points come from 4 clusters solvable from one coordinate
  ((+-1, 0) from x1, (0, +-1) from x2), half from an XOR at (+-2, +-2) that needs both. The bivariate
  expert alone could solve everything; the gate must still hand the central clusters to the simple
  experts.
- "recommender": the MovieLens shape, a 3-level Hasse diagram with cross-links. Groups content,
  user, collab (4 features each); experts S1 content, S2 content+user, S3 content+collab, S4 all.
  A region marker carried only by the content group says which subset decides the label.

Generators are numpy (seeded); torch is imported only by the runner.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from engine.progress import SILENT, TaskState

TASKS = ("toy", "recommender")
NOISE = 0.25  # the toy's cluster spread
TOY_CENTRES = np.array(
    # (x1, x2, label, planted expert)
    [
        (-1, 0, 0, 0), (1, 0, 1, 0),  # horizontal: x1 decides -> S1
        (0, 1, 1, 1), (0, -1, 0, 1),  # vertical: x2 decides -> S2
        (-2, -2, 0, 2), (2, -2, 1, 2), (-2, 2, 1, 2), (2, 2, 0, 2),  # XOR: needs both -> S3
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class PlantedData:
    x: np.ndarray  # (n, D) float32
    y: np.ndarray  # (n,) float32 in {0, 1}
    planted: np.ndarray  # (n,) int: the expert that should decide
    near_centre: np.ndarray  # (n,) bool: within 2 sigma of its cluster centre (the toy); all True otherwise


def toy_points(n: int, rng: np.random.Generator) -> PlantedData:
    """The notebook's sampling: half from the 4 central clusters, half from the 4 XOR clusters."""
    half = n // 2
    cluster = np.concatenate([rng.integers(0, 4, half), rng.integers(4, 8, n - half)])
    centre = TOY_CENTRES[cluster]
    offset = rng.normal(0.0, NOISE, (n, 2))
    x = (centre[:, :2] + offset).astype(np.float32)
    near = np.linalg.norm(offset, axis=1) < 2 * NOISE
    return PlantedData(x, centre[:, 2].astype(np.float32), centre[:, 3].astype(np.int64), near)


def recommender_points(n: int, rng: np.random.Generator) -> PlantedData:
    """Region z in 0..3 (uniform), each decided by one subset; only the content group marks z."""
    z = rng.integers(0, 4, n)
    content = rng.normal(0.0, 0.3, (n, 4))
    user = rng.normal(0.0, 1.0, (n, 4))
    collab = rng.normal(0.0, 1.0, (n, 4))
    sign = np.where(rng.random(n) < 0.5, -2.0, 2.0)
    content[np.arange(n), z] += np.where(z == 0, sign, 2.0)
    y = np.select(
        [z == 0, z == 1, z == 2],
        [content[:, 0] > 0, user[:, 0] > 0, collab[:, 0] > 0],
        default=user[:, 0] * collab[:, 0] > 0,
    )
    x = np.concatenate([content, user, collab], axis=1).astype(np.float32)
    return PlantedData(x, y.astype(np.float32), z.astype(np.int64), np.ones(n, dtype=bool))


def task_layout(task: str):
    """The ExpertLayout and per-expert hidden widths of a task (the notes' prototype sizes)."""
    from engine.models.experts import ExpertLayout

    if task == "toy":
        return ExpertLayout.of({"x1": 1, "x2": 1}, {"S1": ["x1"], "S2": ["x2"], "S3": ["x1", "x2"]}), (16, 16)
    if task == "recommender":
        groups = {"content": 4, "user": 4, "collab": 4}
        experts = {"S1": ["content"], "S2": ["content", "user"], "S3": ["content", "collab"], "S4": list(groups)}
        return ExpertLayout.of(groups, experts), (32, 16)
    raise ValueError(f"unknown task {task!r}; one of {', '.join(TASKS)}")


SAMPLERS = {"toy": toy_points, "recommender": recommender_points}


@dataclass(frozen=True)
class PlantedResult:
    task: str
    training_weight: str
    confidence: str
    seed: int
    steps: int
    test_points: int
    accuracy: float  # the mixture's prediction thresholded at 0.5
    planted_match: float  # argmax share == planted expert, over all test points
    near_centre_match: float  # the same within 2 sigma of the cluster centres (toy; = planted_match otherwise)
    recall: dict[str, float] = field(default_factory=dict)  # per planted expert (region)
    alone_accuracy: dict[str, float] = field(default_factory=dict)  # each expert's own prediction
    undecided: float = 0.0  # fraction of test points where no expert was confident
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def run_planted(
    task: str,
    training_weight: str = "reference",
    steps: int = 3000,
    seed: int = 0,
    test_points: int = 8192,
    confidence: str = "square",
    batch_size: int = 256,
    state: TaskState = SILENT,
) -> PlantedResult:
    """Train on fresh samples every step (as the notebook does), then score a fixed test set."""
    import torch

    from engine.models.experts import ExpertsConfig, InterpretableExperts
    from engine.models.experts_gating import GateConfig
    from engine.models.experts_training import Batch, GemConfig, train_gem

    started = time.perf_counter()
    layout, hidden = task_layout(task)
    sample = SAMPLERS[task]
    gate = GateConfig(confidence=confidence, training_confidence="square", training_weight=training_weight)
    torch.manual_seed(seed)
    model = InterpretableExperts(layout, ExpertsConfig(hidden=hidden, output="tanh", gate=gate))
    train_rng = np.random.default_rng([seed, 1])

    def next_batch(_: int) -> Batch:
        data = sample(batch_size, train_rng)
        return Batch(torch.from_numpy(data.x), torch.from_numpy(data.y))

    train_gem(model, next_batch, GemConfig(batch_size=batch_size, steps=steps, seed=seed), state, f"Planted {task}")
    test = sample(test_points, np.random.default_rng([seed, 2]))
    with torch.no_grad():
        mix = model.mixture(torch.from_numpy(test.x))
    y = test.y > 0.5
    decided = mix.shares.argmax(dim=-1).numpy()
    match = decided == test.planted
    alone = (mix.predictions.numpy() > 0.5) == y[:, None]
    keys = layout.keys
    return PlantedResult(
        task=task,
        training_weight=training_weight,
        confidence=confidence,
        seed=seed,
        steps=steps,
        test_points=test_points,
        accuracy=float(((mix.prediction.numpy() > 0.5) == y).mean()),
        planted_match=float(match.mean()),
        near_centre_match=float(match[test.near_centre].mean()),
        recall={keys[h]: float(match[test.planted == h].mean()) for h in range(len(keys)) if (test.planted == h).any()},
        alone_accuracy={keys[h]: float(alone[:, h].mean()) for h in range(len(keys))},
        undecided=float(mix.undecided.numpy().mean()),
        seconds=time.perf_counter() - started,
    )


def main() -> None:  # pragma: no cover - a manual runner: python -m engine.evaluation.planted_experts
    import json
    import sys

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    for task in TASKS:
        for weighting in ("reference", "paper"):
            print(json.dumps(run_planted(task, weighting, steps=steps).to_dict()), flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()
