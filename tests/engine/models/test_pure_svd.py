"""PureSVD against a dense SVD written out from its definition, and on a planted block structure."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.evaluation.sampled import draw_negatives, sampled_from_matrix
from engine.models.baselines import Popularity
from engine.models.pure_svd import PureSVD, tune_factors


def _blocks(seed: int = 0) -> np.ndarray:
    """Two taste groups of 20 users over 2 x 15 items, each user missing a few of their block."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((40, 30))
    matrix[:20, :15] = rng.random((20, 15)) < 0.8
    matrix[20:, 15:] = rng.random((20, 15)) < 0.8
    return matrix


def test_scores_are_the_row_projected_on_the_top_item_factors():
    dense = _blocks()
    model = PureSVD(factors=3).fit(sp.csr_matrix(dense))
    _, _, vt = np.linalg.svd(dense)
    top = vt[:3].T
    expected = dense @ top @ top.T
    assert np.allclose(model.score_exact(sp.csr_matrix(dense)), expected, atol=1e-9)
    assert np.allclose(model.score(sp.csr_matrix(dense)), expected, atol=1e-5)


def test_a_new_user_is_scored_from_their_row_alone():
    dense = _blocks()
    model = PureSVD(factors=2).fit(sp.csr_matrix(dense))
    newcomer = np.zeros((1, 30))
    newcomer[0, [16, 18, 20]] = 1  # a few items of the second block
    scores = model.score_exact(sp.csr_matrix(newcomer))[0]
    assert scores[15:].mean() > scores[:15].mean() + 0.1


def test_repeatable_and_checks_its_size():
    dense = sp.csr_matrix(_blocks())
    assert np.array_equal(PureSVD(4).fit(dense).score_exact(dense), PureSVD(4).fit(dense).score_exact(dense))
    with pytest.raises(ValueError):
        PureSVD(0)
    with pytest.raises(ValueError):
        PureSVD(30).fit(dense)


def test_tuning_picks_the_best_validation_score():
    dense = sp.csr_matrix(_blocks())
    best, scores = tune_factors(dense, lambda model: -abs(model.factors - 4), candidates=(1, 2, 4, 8))
    assert best.factors == 4 and scores == {1: -3.0, 2: -2.0, 4: 0.0, 8: -4.0}


def test_pure_svd_beats_popularity_on_planted_blocks(tmp_path):
    """The split's machinery end to end: on two taste blocks, SVD ranks the held-out item higher."""
    from engine.data.types import Dataset, Interactions, Movie, User
    from engine.evaluation.sampled import split_dataset

    rng = np.random.default_rng(1)
    users, items, times = [], [], []
    for user in range(200):
        # Two taste blocks of 30 items; the first block's fans rate more, so popularity favours it
        # for everyone; a few random items outside the blocks on top.
        block = np.arange(0, 30) if user < 100 else np.arange(30, 60)
        chosen = np.concatenate([rng.choice(block, size=15 if user < 100 else 8, replace=False),
                                 rng.choice(np.arange(60, 300), size=3, replace=False)])
        users += [user + 1] * len(chosen)
        items += (chosen + 1).tolist()
        times += [0] * (len(chosen) - 3) + [-1] * 3  # the noise items are never the latest
    inter = Interactions(np.array(users), np.array(items), np.ones(len(users), np.float32),
                         np.array(times))
    data = Dataset("blocks", {i: Movie(i, f"M{i}") for i in range(1, 301)},
                   {u: User(u) for u in range(1, 201)}, inter)
    split = split_dataset(data, seed=0)
    negatives = draw_negatives(split, seed=0)
    svd = PureSVD(2).fit(split.train)
    pop = Popularity().fit(split.train)
    svd_hr = sampled_from_matrix(svd.score_exact(split.train), split, negatives)["hr"]
    pop_hr = sampled_from_matrix(pop.score(split.train), split, negatives)["hr"]
    assert svd_hr > 0.9 and svd_hr > pop_hr + 0.1
