"""epsilon-LRP for RecoNet against the paper's three steps, computed naively and by hand."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.explain.lrp import EPSILON, feature_relevances
from engine.models.reconet import RecoNetWeights


def naive_lrp(weights: RecoNetWeights, rows, target, epsilon=EPSILON):
    """Section 4.3 step by step with loops: output -> (hidden ->) pooling -> latent factors -> features."""
    q = weights.embedding.astype(np.float64)
    x = q[rows].mean(axis=0)
    d = len(x)
    # Step 1: zero all non-target outputs; relevance of the layer below the output is w_ji * a_i.
    if weights.hidden_weight is None:
        r_pool = [weights.output_weight[target, i] * x[i] for i in range(d)]
    else:
        a, bias = weights.hidden_weight.astype(np.float64), weights.hidden_bias.astype(np.float64)
        s = a @ x + bias
        h = np.maximum(s, 0)
        r_hidden = [weights.output_weight[target, k] * h[k] for k in range(len(h))]
        r_pool = []
        for i in range(d):
            total = 0.0
            for k in range(len(h)):
                stabilised = s[k] + epsilon * (1.0 if s[k] >= 0 else -1.0)
                total += a[k, i] * x[i] / stabilised * r_hidden[k]
            r_pool.append(total)
    # Step 2: proportional redistribution over the latent factors of the profile's features.
    z = {}
    for k in rows:
        for i in range(d):
            denominator = sum(q[i_row, i] for i_row in rows)
            z[(i, k)] = q[k, i] / denominator * r_pool[i]
    # Step 3: vertical summation.
    return np.array([sum(z[(i, k)] for i in range(d)) for k in rows])


def random_weights(rng, n_features=12, n_items=7, dim=5, hidden=None):
    return RecoNetWeights(
        embedding=rng.normal(size=(n_features, dim)).astype(np.float32),
        output_weight=rng.normal(size=(n_items, hidden or dim)).astype(np.float32),
        output_bias=rng.normal(size=n_items).astype(np.float32),
        hidden_weight=rng.normal(size=(hidden, dim)).astype(np.float32) if hidden else None,
        hidden_bias=rng.normal(size=hidden).astype(np.float32) if hidden else None,
    )


def test_hand_computed_example():
    # Q rows: q0 = (1, 2), q1 = (3, 0), q2 = (0, 1); W = [[1, -1], [2, 1]], b = (0.5, -0.5).
    weights = RecoNetWeights(
        embedding=np.array([[1, 2], [3, 0], [0, 1]], dtype=np.float32),
        output_weight=np.array([[1, -1], [2, 1]], dtype=np.float32),
        output_bias=np.array([0.5, -0.5], dtype=np.float32),
    )
    rows = np.array([0, 2])
    # Profile {0, 2}: x = (0.5, 1.5). Target 0: R = (0.5, -1.5); dimension 0 goes all to q0 (1/1),
    # dimension 1 splits 2/3 : 1/3, so Z0 = 0.5 - 1.0 = -0.5 and Z2 = -0.5.
    # Target 1: R = (1.0, 1.5); Z0 = 1.0 + 1.0 = 2.0 and Z2 = 0.5.
    relevance, bias_share, absorbed = feature_relevances(weights, rows, np.array([0, 1]))
    np.testing.assert_allclose(relevance, [[-0.5, 2.0], [-0.5, 0.5]], atol=1e-6)
    np.testing.assert_allclose(bias_share, [0.5, -0.5])
    np.testing.assert_allclose(absorbed, [0.0, 0.0])
    assert weights.logits(rows)[0] == pytest.approx(-0.5)
    assert weights.logits(rows)[1] == pytest.approx(2.0)


@pytest.mark.parametrize("hidden", [None, 6])
def test_fast_path_matches_the_naive_rule(hidden):
    rng = np.random.default_rng(3)
    for _ in range(5):
        weights = random_weights(rng, hidden=hidden)
        rows = np.sort(rng.choice(12, size=int(rng.integers(1, 8)), replace=False))
        targets = np.arange(7)
        fast, _, _ = feature_relevances(weights, rows, targets)
        for t in targets:
            np.testing.assert_allclose(fast[:, t], naive_lrp(weights, rows, t), rtol=1e-6, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(1, 12),
    hidden=st.sampled_from([None, 4, 9]),
)
def test_relevance_is_conserved(seed, size, hidden):
    """Features + bias share + epsilon share = the target logit, for any profile and target."""
    rng = np.random.default_rng(seed)
    weights = random_weights(rng, hidden=hidden)
    rows = np.sort(rng.choice(12, size=size, replace=False))
    targets = np.arange(7)
    relevance, bias_share, absorbed = feature_relevances(weights, rows, targets)
    logits = weights.logits(rows).astype(np.float64)
    np.testing.assert_allclose(relevance.sum(axis=0) + bias_share + absorbed, logits, rtol=1e-5, atol=1e-5)
    if hidden is None:
        assert not absorbed.any()


def test_removing_the_most_relevant_feature_lowers_the_logit_most():
    """The paper's pertinence check (section 5.4) on a linear model, where it must hold exactly."""
    rng = np.random.default_rng(7)
    weights = random_weights(rng, n_features=30, dim=8)
    rows = np.arange(10)
    relevance, _, _ = feature_relevances(weights, rows, np.array([2]))
    drops = []
    for i in range(len(rows)):
        kept = np.delete(rows, i)
        # With the mean fixed at 1/|FS|, dropping feature k lowers the logit by its relevance.
        drops.append(weights.output_weight[2] @ (weights.embedding[kept].sum(axis=0) / len(rows)))
    base = weights.logits(rows)[2] - weights.output_bias[2]
    np.testing.assert_allclose(base - np.array(drops), relevance[:, 0], rtol=1e-5, atol=1e-5)
