"""MF training stays cancellable inside an ALS sweep: Cancel was checked once per sweep, so closing
the window during training on ML-1M waited for a whole sweep (seconds). Deterministic: a TaskState
whose cancel flag flips after a given number of checks, no clocks."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import Cancelled
from engine.models import mf
from engine.progress import TaskState

N_USERS, N_ITEMS = 900, 300  # several blocks of rows on each side


def ratings(seed: int = 5) -> mf.RatingTriples:
    rng = np.random.default_rng(seed)
    users = np.concatenate([np.arange(N_USERS), rng.integers(0, N_USERS, 4000)])
    items = np.concatenate([rng.integers(0, N_ITEMS, N_USERS), rng.integers(0, N_ITEMS, 4000)])
    users, items = np.concatenate([users, rng.integers(0, N_USERS, N_ITEMS)]), np.concatenate([items, np.arange(N_ITEMS)])
    pairs = np.unique(np.stack([users, items], axis=1), axis=0)
    stars = rng.integers(1, 6, len(pairs)).astype(np.float64)
    return mf.RatingTriples(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), stars)


class CountingState(TaskState):
    """Cancel reads True from the `cancel_at`-th check on (never, when None); counts the checks."""

    def __init__(self, cancel_at: int | None = None):
        self.checks = 0

        def should_cancel() -> bool:
            self.checks += 1
            return cancel_at is not None and self.checks >= cancel_at

        super().__init__(should_cancel=should_cancel)


def start_model(data: mf.TrainingSet) -> mf.MatrixFactorization:
    rng = np.random.default_rng(0)
    return mf.MatrixFactorization(3.0, rng.normal(0, 0.1, (N_USERS, 4)), rng.normal(0, 0.1, (N_ITEMS, 4)),
                                  np.zeros(N_USERS), np.zeros(N_ITEMS), reg=2.0, reg_bias=0.5)


def test_a_sweep_checks_cancel_every_few_hundred_rows_and_gives_the_same_model():
    data = mf.TrainingSet(ratings(), N_USERS, N_ITEMS)
    model = start_model(data)
    counting = CountingState()
    blocked = mf.als_sweep(model, data, counting, rows_per_check=100)
    assert counting.checks == N_USERS // 100 + N_ITEMS // 100  # 9 blocks of users, 3 of items
    whole = mf.als_sweep(model, data, CountingState(), rows_per_check=N_USERS + N_ITEMS)
    np.testing.assert_allclose(blocked.flat(), whole.flat(), rtol=1e-12, atol=1e-12)
    assert mf.ROWS_PER_CANCEL_CHECK <= 500  # "every few hundred users or items"


@pytest.mark.parametrize("cancel_at", [2, 5, 11])  # users' second block, users' fifth, items' second
def test_a_cancel_raised_mid_sweep_stops_the_sweep_at_once(cancel_at):
    data = mf.TrainingSet(ratings(), N_USERS, N_ITEMS)
    full = CountingState()
    mf.als_sweep(start_model(data), data, full, rows_per_check=100)
    state = CountingState(cancel_at)
    with pytest.raises(Cancelled):
        mf.als_sweep(start_model(data), data, state, rows_per_check=100)
    assert state.checks == cancel_at < full.checks  # no further block was solved


def test_training_stops_inside_the_first_sweep_when_cancelled_there(monkeypatch):
    """Cancel pressed as the first sweep starts (right after its progress report, check 1): no sweep
    may finish. Before, the whole sweep ran and the cancel landed at the next sweep's report."""
    finished = []
    real_sweep = mf.als_sweep

    def counted_sweep(*args, **kwargs):
        result = real_sweep(*args, **kwargs)
        finished.append(result)
        return result

    monkeypatch.setattr(mf, "als_sweep", counted_sweep)
    config = mf.MFConfig(factors=4, reg=2.0, reg_bias=0.5, sweeps=3, tolerance=1e-6)
    state = CountingState(cancel_at=2)
    with pytest.raises(Cancelled):
        mf.train_mf(ratings(), N_USERS, N_ITEMS, config, state)
    assert finished == [] and state.checks == 2
