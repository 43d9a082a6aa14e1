"""Mass and rank accuracy of a pair's maps against known ground-truth pixels, by hand."""
from __future__ import annotations

import numpy as np
import pytest

from engine.evaluation.pixel_ground_truth import chance, mass_accuracy, mean_finite, rank_accuracy


def truth_pair():
    q, c = np.zeros((1, 4, 4), bool), np.zeros((1, 4, 4), bool)
    q[0, 0, :2] = True  # 2 pixels
    c[0, 3, 3] = True  # 1 pixel
    return q, c


def test_mass_counts_only_positive_evidence_on_both_images():
    q_truth, c_truth = truth_pair()
    q_map, c_map = np.zeros((1, 4, 4)), np.zeros((1, 4, 4))
    q_map[0, 0, 0], q_map[0, 2, 2] = 3.0, 1.0  # 3 inside, 1 outside
    c_map[0, 3, 3], c_map[0, 1, 1] = 2.0, -5.0  # 2 inside, a negative value that must not count
    assert mass_accuracy(q_map, c_map, q_truth, c_truth)[0] == pytest.approx(5 / 6)


def test_rank_accuracy_takes_as_many_top_pixels_as_the_truth_holds():
    q_truth, c_truth = truth_pair()  # |GT| = 3
    q_map, c_map = np.zeros((1, 4, 4)), np.zeros((1, 4, 4))
    q_map[0, 0, 1], q_map[0, 3, 0], c_map[0, 3, 3] = 5.0, 4.0, 3.0  # top 3: in, out, in
    c_map[0, 0, 0] = 2.0  # fourth: not counted
    assert rank_accuracy(q_map, c_map, q_truth, c_truth)[0] == pytest.approx(2 / 3)


def test_a_map_without_positive_evidence_has_no_mass_and_is_left_out_of_the_mean():
    q_truth, c_truth = truth_pair()
    negative = -np.ones((1, 4, 4))
    assert np.isnan(mass_accuracy(negative, negative, q_truth, c_truth)[0])
    assert mean_finite(np.array([np.nan, 0.5, 1.0])) == pytest.approx(0.75)
    assert mean_finite(np.array([np.nan])) is None


def test_random_maps_score_chance_on_average():
    rng = np.random.default_rng(0)
    q_truth = np.zeros((2000, 6, 6), bool)
    c_truth = np.zeros((2000, 6, 6), bool)
    q_truth[:, :2, :2] = True
    c_truth[:, 4:, 4:] = True
    level = chance(q_truth, c_truth)
    assert level == pytest.approx(8 / 72)
    q_map, c_map = rng.standard_normal((2000, 6, 6)), rng.standard_normal((2000, 6, 6))
    assert np.mean(mass_accuracy(q_map, c_map, q_truth, c_truth)) == pytest.approx(level, abs=0.01)
    assert np.mean(rank_accuracy(q_map, c_map, q_truth, c_truth)) == pytest.approx(level, abs=0.01)
    # and the truth itself scores 1
    assert mass_accuracy(q_truth * 1.0, c_truth * 1.0, q_truth, c_truth).min() == 1.0
    assert rank_accuracy(q_truth * 1.0, c_truth * 1.0, q_truth, c_truth).min() == 1.0
