"""The session metrics and baselines, on cases worked out by hand."""
import numpy as np
import pytest

from engine.data.session_features import HALF, CrowdStats, SessionArrays
from engine.evaluation import session_baselines as B
from engine.evaluation import session_metrics as M


def _arrays(given_liked, target_items, labels, users=None) -> SessionArrays:
    n = len(given_liked)
    g = np.zeros((n, HALF), np.float32)
    gm = np.zeros((n, HALF), bool)
    t = np.zeros((n, HALF), np.int64)
    tm = np.zeros((n, HALF), bool)
    y = np.zeros((n, HALF), np.float32)
    for k in range(n):
        g[k, :len(given_liked[k])], gm[k, :len(given_liked[k])] = given_liked[k], True
        t[k, :len(target_items[k])], tm[k, :len(target_items[k])] = target_items[k], True
        y[k, :len(labels[k])] = labels[k]
    empty = np.zeros((n, HALF, 1), np.float32)
    return SessionArrays(empty, gm, empty, tm, y, g, t, np.array(users or list(range(n))))


def _crowd() -> CrowdStats:
    # movie 10: 9 likes of 10 ratings; movie 20: 0 of 30; global like-rate 0.5
    return CrowdStats({10: 0, 20: 1}, np.array([10.0, 30.0]), np.array([9.0, 0.0]), np.zeros((2, 16), np.float32),
                      0.5, frozenset())


def test_metrics_by_hand():
    guesses = np.array([[1, 0, 1, 0], [0, 0, 0, 0]], float)[:, :4]
    labels = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], float)
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
    assert M.accuracy(guesses, labels, mask) == pytest.approx(4 / 6)
    assert M.accuracy_at_first(guesses, labels, mask) == pytest.approx(0.5)
    # window 1: right at 1, 3, 4 -> (1*1 + 0 + 1*2/3 + 1*3/4) / 4; window 2: right at 2 only -> (1 * 1/2) / 2
    expected = ((1 + 2 / 3 + 3 / 4) / 4 + (0.5 / 2)) / 2
    assert M.mean_average_accuracy(guesses, labels, mask) == pytest.approx(expected)


def test_user_bootstrap_moves_whole_users():
    guesses = np.ones((4, 2))
    labels = np.array([[1, 1], [1, 1], [0, 0], [0, 0]], float)
    mask = np.ones((4, 2), bool)
    low, high = M.user_bootstrap_interval(guesses, labels, mask, np.array([1, 1, 2, 2]), resamples=500)
    # two users, one always right and one always wrong: a resample is 0, 1/2 or 1
    assert low == 0.0 and high == 1.0
    same = M.user_bootstrap_interval(guesses, np.ones((4, 2)), mask, np.array([1, 1, 2, 2]))
    assert same == (1.0, 1.0)


def test_the_four_baselines_by_hand():
    arrays = _arrays(given_liked=[[1, 0, 0], [0, 1]], target_items=[[10, 20], [20, 10, 10]],
                     labels=[[1, 0], [0, 1, 0]])
    crowd = _crowd()
    rate10, rate20 = (9 + 5) / 20, (0 + 5) / 40  # smoothed with 10 ratings at the global rate
    assert crowd.like_rate(np.array([10, 20])) == pytest.approx([rate10, rate20])
    last = B.baseline_probabilities("last", arrays, crowd)
    assert (last > 0.5)[arrays.target_mask].tolist() == [False, False, True, True, True]
    mean = B.baseline_probabilities("mean", arrays, crowd)
    # means 1/3 and 1/2; a tie at 0.5 counts as "liked"
    assert (mean > 0.5)[arrays.target_mask].tolist() == [False, False, True, True, True]
    rate = B.baseline_probabilities("like_rate", arrays, crowd)
    assert rate[0, :2] == pytest.approx([rate10, rate20], abs=1e-6)
    offset = B.baseline_probabilities("mean_plus_offset", arrays, crowd)
    assert offset[0, 0] == pytest.approx(1 / 3 + rate10 - 0.5, abs=1e-6)
    assert offset[1, 0] == pytest.approx(0.5 + rate20 - 0.5, abs=1e-6)
    results = B.evaluate_baselines(arrays, crowd)
    # last: window 1 guesses (0, 0) against (1, 0), window 2 (1, 1, 1) against (0, 1, 0): 2 of 5 right
    assert results["last"]["accuracy"] == pytest.approx(2 / 5)
    # like-rate: movie 10 liked (0.7), movie 20 not (0.125): (1, 0) right twice, (0, 1, 1) twice of three
    assert results["like_rate"]["accuracy"] == pytest.approx(4 / 5)
    assert set(results) == set(B.BASELINE_NAMES)
