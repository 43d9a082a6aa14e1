"""The fidelity benchmark's parts: removal curves, the Mann-Whitney wiring and the LIME agreement metrics."""
import itertools

import numpy as np
import pytest
import torch

from engine.evaluation import fidelity
from engine.evaluation.lime_baseline import (
    MaskedTarget, explain_with_lime, top_overlap, top_spearman, weighted_ridge,
)
from engine.models.reconet import RecoNetWeights


def _planted_weights(n_features=12, dim=4, n_items=6) -> RecoNetWeights:
    """Target item 0 is driven by features 0-2 alone: their embeddings point along its output weight,
    the others are orthogonal to it, so removing any of 0-2 must lower its logit more than a random one."""
    rng = np.random.default_rng(1)
    embedding = np.zeros((n_features, dim), dtype=np.float32)
    embedding[:3, 0] = [3.0, 2.0, 1.5]
    embedding[3:, 1:] = rng.normal(size=(n_features - 3, dim - 1))
    output = rng.normal(size=(n_items, dim)).astype(np.float32)
    output[0] = [2.0, 0.0, 0.0, 0.0]
    return RecoNetWeights(embedding, output, np.zeros(n_items, dtype=np.float32))


def test_top_lrp_removal_drops_the_logit_more_than_random_removal_on_a_planted_case():
    weights = _planted_weights()
    instance = fidelity.Instance("planted", np.arange(12), np.array([3]), 0)
    result = fidelity.evaluate(weights, instance, np.random.default_rng(0), draws=50, max_k=5)
    assert set(fidelity.descending(result.relevance)[:3].tolist()) == {0, 1, 2}
    random_mean = np.mean([d.deltas for d in result.random], axis=0)
    assert np.all(result.lrp.deltas[:3] < random_mean[:3])
    assert result.lrp.deltas[2] < 0
    rows = fidelity.curves([result], max_k=5)
    assert rows[0]["lrp"]["mean"] == pytest.approx(result.lrp.deltas[0])
    assert rows[0]["random"]["mean"] == pytest.approx(random_mean[0])


def test_removal_equals_the_served_logits_of_the_remaining_rows_and_counts_the_rank():
    weights = _planted_weights()
    rows = np.arange(2, 12)
    instance = fidelity.Instance("x", rows, np.array([5]), 0)
    order = np.array([3, 0, 7, 1, 2, 4, 5, 6, 8, 9])
    logit, removal = fidelity.ProfileModel(weights, instance).removal(order, 4)
    assert logit == pytest.approx(float(weights.logits(rows)[0]), abs=1e-5)
    for k in range(1, 5):
        kept = np.delete(rows, order[:k])
        logits = weights.logits(kept)
        assert removal.deltas[k - 1] == pytest.approx(float(logits[0]) - logit, abs=1e-5)
        others = np.delete(np.arange(weights.n_items), [0, 5])
        assert removal.ranks[k - 1] == 1 + int(np.sum(logits[others] > logits[0]))


def test_mann_whitney_matches_a_naive_count_and_an_exhaustive_permutation_p_value():
    top = np.array([-2.0, -1.5, -0.7, -0.3])
    rand = np.array([-0.4, 0.1, 0.2, 0.5])
    result = fidelity.mann_whitney(top, rand)
    naive_u = sum((a > b) + 0.5 * (a == b) for a in top for b in rand)
    assert result["u"] == naive_u
    pooled = np.concatenate([top, rand])
    splits = [np.array(c) for c in itertools.combinations(range(8), 4)]
    us = [sum((pooled[i] > b) for i in s for b in np.delete(pooled, s)) for s in splits]
    assert result["p_less"] == pytest.approx(np.mean([u <= naive_u for u in us]))
    centre = 8.0
    assert result["p_two_sided"] == pytest.approx(np.mean([abs(u - centre) >= abs(naive_u - centre) for u in us]))


def test_top_overlap_and_spearman_against_hand_computed_values():
    lrp = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=float)
    lime = np.array([8, 9, 1, 7, 0, 6, 5, 4, 3, 2], dtype=float)
    # LRP's top 5 = {0..4}; LIME's top 5 = {1, 0, 3, 5, 6}: shared {0, 1, 3}
    assert top_overlap(lrp, lime) == pytest.approx(3 / 5)
    # over LRP's top 4 (0..3) LIME's ranks are 2, 1, 4, 3 against 1, 2, 3, 4: rho = 1 - 6*4/(4*15) = 0.6
    assert top_spearman(lrp, lime, k=4) == pytest.approx(0.6)


def test_weighted_ridge_equals_the_normal_equations_with_row_duplication():
    x = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=float)
    y = np.array([1.0, 2.0, 3.5, 0.2])
    beta, intercept = weighted_ridge(x, y, np.array([2.0, 1.0, 1.0, 1.0]), alpha=0.0)
    duplicated = np.vstack([x, x[:1]])
    design = np.hstack([duplicated, np.ones((5, 1))])
    solution = np.linalg.lstsq(design, np.append(y, y[0]), rcond=None)[0]
    assert beta == pytest.approx(solution[:2]) and intercept == pytest.approx(solution[2])


def test_lime_black_box_is_the_served_model_and_lime_finds_the_planted_features():
    weights = _planted_weights()
    rows = np.arange(12)
    mask = np.ones((1, 12))
    mask[0, [1, 4]] = 0
    black_box = MaskedTarget(weights, rows, 0)
    assert float(black_box(torch.from_numpy(mask))[0]) == pytest.approx(
        float(weights.logits(np.delete(rows, [1, 4]))[0]), abs=1e-5)
    lime = explain_with_lime(weights, rows, 0, samples=400, seed=0)
    assert set(np.argsort(-lime.coefficients)[:3].tolist()) == {0, 1, 2}
    assert lime.samples == 400 and lime.seconds > 0
