"""The NCF protocol: leave-latest split, stored negatives, ties counted half; hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.data.types import Dataset, Interactions, Movie, User
from engine.evaluation.sampled import (
    draw_negatives, expected_hit_and_ndcg, full_ranking_metrics, pair_batches, sampled_from_matrix,
    sampled_from_pairs, sampled_metrics, split_dataset,
)


def _dataset(timestamps: bool = True, n_items: int = 300) -> Dataset:
    """User 1 rates items 1..5 at times 10,20,30,40,40 (a tie at the end); user 2 rates 6..9."""
    users = [1, 1, 1, 1, 1, 2, 2, 2, 2]
    items = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    times = [10, 20, 30, 40, 40, 5, 50, 7, 6]
    # Every other item is rated once, by user 3 or 4, so that it counts as "rated by someone".
    extra = list(range(10, n_items + 1))
    users += [3 + i % 2 for i in range(len(extra))] + [3, 3, 3]
    items += extra + [1, 2, 3]
    times += [1] * (len(extra) + 3)
    inter = Interactions(np.array(users), np.array(items), np.full(len(users), 4, np.float32),
                         np.array(times) if timestamps else None)
    movies = {i: Movie(i, f"M{i}") for i in range(1, n_items + 1)}
    return Dataset("toy", movies, {u: User(u) for u in (1, 2, 3, 4)}, inter)


def test_one_tie_across_the_cut_off_is_half_a_hit():
    # 9 above, 1 tied: positions 10 and 11, each with probability 1/2.
    hit, ndcg = expected_hit_and_ndcg(np.array([9]), np.array([1]), k=10)
    assert hit[0] == pytest.approx(0.5)
    assert ndcg[0] == pytest.approx(0.5 / math.log2(11))


def test_ties_spread_over_all_tied_places():
    # 1 above, 2 tied: positions 2, 3, 4 each 1/3; all inside k=10.
    hit, ndcg = expected_hit_and_ndcg(np.array([1, 0, 12]), np.array([2, 0, 0]), k=10)
    assert hit.tolist() == pytest.approx([1.0, 1.0, 0.0])
    assert ndcg[0] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5)) / 3)
    assert ndcg[1] == pytest.approx(1.0)
    assert ndcg[2] == 0.0


def test_sampled_metrics_by_hand():
    positives = np.array([0.5, 0.5, 0.9])
    negatives = np.array([
        [0.1] * 99,  # rank 1
        [0.9] * 9 + [0.5] + [0.1] * 89,  # 9 above, 1 tie: half a hit at 10 / 11
        [1.0] * 20 + [0.0] * 79,  # rank 21: miss
    ])
    result = sampled_metrics(positives, negatives, k=10)
    assert result["hr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["ndcg"] == pytest.approx((1 + 0.5 / math.log2(11)) / 3)


def test_latest_rating_is_test_and_time_ties_are_broken_by_the_seed_not_the_id():
    picks = set()
    for seed in range(20):
        split = split_dataset(_dataset(), seed=seed)
        row = int(np.flatnonzero(split.user_ids == 1)[0])
        test_item = int(split.item_ids[split.test_items[row]])
        assert test_item in (4, 5)  # both rated at the latest time, 40
        picks.add(test_item)
        validation = int(split.item_ids[split.validation_items[row]])
        assert validation != test_item and validation in (1, 2, 3, 4, 5)
        # Training holds exactly the other ratings.
        train_items = set(split.item_ids[split.train[row].indices].tolist())
        assert train_items == {1, 2, 3, 4, 5} - {test_item, validation}
        user2 = int(np.flatnonzero(split.user_ids == 2)[0])
        assert int(split.item_ids[split.test_items[user2]]) == 7  # time 50, no tie
    assert picks == {4, 5}  # the seed, not the id, decides
    assert split.protocol == "leave-latest" and split.comparable_to_paper


def test_without_timestamps_the_split_is_random_and_labelled_not_comparable():
    split = split_dataset(_dataset(timestamps=False), seed=3)
    assert split.protocol == "random leave-one-out" and not split.comparable_to_paper
    again = split_dataset(_dataset(timestamps=False), seed=3)
    assert np.array_equal(split.test_items, again.test_items)
    assert (split.test_items != split.validation_items).all()


def test_negatives_are_never_rated_distinct_and_seeded():
    split = split_dataset(_dataset(), seed=0)
    first = draw_negatives(split, seed=5)
    assert np.array_equal(first["test"], draw_negatives(split, seed=5)["test"])
    assert not np.array_equal(first["test"], draw_negatives(split, seed=6)["test"])
    for which in ("validation", "test"):
        assert first[which].shape == (split.n_users, 99)
        for row in range(split.n_users):
            drawn = first[which][row]
            assert len(set(drawn.tolist())) == 99
            rated = set(split.rated[row].indices.tolist())
            assert not rated & set(drawn.tolist())


def test_full_ranking_skips_training_items_and_the_other_held_out_item():
    split = split_dataset(_dataset(), seed=0)
    row = int(np.flatnonzero(split.user_ids == 1)[0])
    scores = np.zeros((split.n_users, split.n_items))
    # The user's training items and validation item score highest, then the test item: rank 1 anyway.
    scores[row, split.train[row].indices] = 10.0
    scores[row, split.validation_items[row]] = 9.0
    scores[row, split.test_items[row]] = 5.0
    # Ten unrated items above the test item: rank 11, a miss.
    other_row = 1 - row if split.n_users > 1 else row
    result = full_ranking_metrics(scores, split, "test")
    assert result["per_user_hr"][row] == 1.0 and result["per_user_ndcg"][row] == 1.0
    candidates = np.setdiff1d(np.arange(split.n_items), split.rated[other_row].indices)
    scores[other_row, candidates[:10]] = 3.0
    scores[other_row, split.test_items[other_row]] = 2.0
    result = full_ranking_metrics(scores, split, "test")
    assert result["per_user_hr"][other_row] == 0.0


def test_pairs_and_matrix_agree():
    split = split_dataset(_dataset(), seed=0)
    negatives = draw_negatives(split, seed=1)
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(split.n_users, split.n_items)).astype(np.float64)  # many ties
    users, items = pair_batches(split, negatives, "test")
    from_pairs = sampled_from_pairs(scores[users, items], split.n_users)
    from_matrix = sampled_from_matrix(scores, split, negatives, "test")
    assert from_pairs["hr"] == pytest.approx(from_matrix["hr"])
    assert from_pairs["ndcg"] == pytest.approx(from_matrix["ndcg"])
    # With every negative tied with the positive, the place is uniform over 1..100: HR = 10/100.
    flat = sampled_metrics(np.zeros(4), np.zeros((4, 99)))
    assert flat["hr"] == pytest.approx(0.10)
