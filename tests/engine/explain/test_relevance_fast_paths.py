"""The relevance lens's hot-path shortcuts give exactly what the plain computations give: a profile's
feature rows (Vocabulary.profile_rows) and an explanation's rank among the unseen movies."""
import numpy as np
import pytest

from engine.explain.relevance_explainer import _ranks


@pytest.mark.parametrize("seed", range(5))
def test_profile_rows_equal_the_vocabulary_union(ml100k_engine, seed):
    explainer = ml100k_engine._relevance
    vocabulary = explainer._vocabulary
    rng = np.random.default_rng(seed)
    attribute_rows = [vocabulary.attribute(k, key) for k in ("gender", "age", "occupation")
                      for key in vocabulary.attribute_keys(k)]
    for _ in range(40):
        liked = rng.choice(vocabulary.n_items, size=int(rng.integers(0, 80)), replace=True)  # repeats too
        attributes = sorted(rng.choice(attribute_rows, size=int(rng.integers(0, 4)), replace=False).tolist())
        for use_user in (True, False):
            for use_item in (True, False):
                fast = explainer._profile_rows(liked, attributes, use_user, use_item)
                plain = vocabulary.profile_rows(liked, attributes, use_user, use_item)
                assert fast.dtype == plain.dtype and fast.tolist() == plain.tolist()


def sorted_ranks(logits, items, held):
    eligible = np.sort(np.delete(logits, held))
    scores = logits[items]
    return (len(eligible) - np.searchsorted(eligible, scores, side="right") + 1).tolist()


@pytest.mark.parametrize("n_items", [1, 5, 40])
def test_ranks_count_the_better_unseen_movies_ties_sharing_a_rank(n_items):
    rng = np.random.default_rng(n_items)
    logits = rng.integers(0, 6, size=50).astype(np.float32)  # many ties
    held = rng.choice(50, size=10, replace=False)
    items = rng.choice(50, size=n_items, replace=True)
    ranks, relative = _ranks(logits, items, held)
    assert ranks == sorted_ranks(logits, items, held)
    best = np.delete(logits, held).max()
    assert relative == pytest.approx(np.exp(logits[items] - best).tolist())


def test_ranks_of_a_profile_holding_every_movie_are_none():
    logits = np.array([0.5, 0.1, 0.3], dtype=np.float32)
    assert _ranks(logits, np.array([0]), np.array([0, 1, 2])) == ([None], [None])
    assert _ranks(logits, np.arange(3).repeat(20), np.array([2, 1, 0])) == ([None] * 60, [None] * 60)


def test_a_profiles_rows_are_its_liked_movies_and_attributes(ml100k_engine):
    """rows() reads the liked movies straight from the stars; Profile.positives says which they are."""
    explainer = ml100k_engine._relevance
    vocabulary = explainer._vocabulary
    config = explainer._served.config
    rng = np.random.default_rng(7)
    movie_ids = [m.id for m in ml100k_engine.movies()]
    for _ in range(60):
        movies = rng.choice(movie_ids, size=int(rng.integers(0, 30)), replace=False).tolist()
        stars = [None if rng.random() < 0.3 else int(rng.integers(1, 6)) for _ in movies]
        profile = ml100k_engine.make_profile(movies, gender="F", age=30, ratings=stars)
        liked = np.array([vocabulary.item_index[m] for m in profile.positives], dtype=np.int64)
        attributes = vocabulary.user_attributes(profile.gender, profile.age, profile.occupation)
        expected = vocabulary.profile_rows(liked, attributes, config.use_user_attributes, config.use_item_attributes)
        rows, held = explainer.rows(profile)
        assert rows.tolist() == expected.tolist()
        assert held.tolist() == [vocabulary.item_index[m] for m in profile.movies]


@pytest.mark.parametrize("seed", range(3))
def test_profile_rows_without_genre_masks_equal_the_vocabulary_union(ml100k_engine, monkeypatch, seed):
    """Without the genre bit masks (a dataset with no genres, or too many for one mask) the rows are
    still the vocabulary's union: the sorted parts when no genre is read, the plain union otherwise."""
    explainer = ml100k_engine._relevance
    vocabulary = explainer._vocabulary
    monkeypatch.setattr(explainer, "_genre_bits", None)
    rng = np.random.default_rng(seed)
    attribute_rows = [vocabulary.attribute(k, key) for k in ("gender", "age", "occupation")
                      for key in vocabulary.attribute_keys(k)]
    for _ in range(30):
        liked = rng.choice(vocabulary.n_items, size=int(rng.integers(0, 60)), replace=True)
        attributes = sorted(rng.choice(attribute_rows, size=int(rng.integers(0, 4)), replace=False).tolist())
        for use_user in (True, False):
            for use_item in (True, False):
                fast = explainer._profile_rows(liked, attributes, use_user, use_item)
                plain = vocabulary.profile_rows(liked, attributes, use_user, use_item)
                assert fast.dtype == plain.dtype and fast.tolist() == plain.tolist()
