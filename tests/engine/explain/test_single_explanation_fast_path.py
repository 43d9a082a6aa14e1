"""Engine.explain's one-movie path (RelevanceExplainer._explain_one, lrp.target_relevance, the rows'
embeddings and unseen logits kept with a scored profile) gives what the batch path explain_rows
gives from scratch: the same features in the same order, relevances equal up to the last bits, and
the same rank, relative score, probability, logit and shares."""
from dataclasses import replace

import numpy as np
import pytest

from engine.explain.lrp import feature_relevances, target_relevance
from tests.engine.explain.test_lrp import random_weights


def reference(explainer, profile, movie_id):
    """explain_rows on rows and scores computed afresh, nothing reused from the kept scores."""
    rows, held = explainer.rows(profile)
    weights = explainer._weights
    logits = weights.logits(rows)
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    item = explainer._vocabulary.item_index[movie_id]
    return explainer.explain_rows(rows, logits, probabilities, np.array([item]), held=held)[0]


def assert_same(fast, slow):
    assert fast.names == slow.names and fast.kinds == slow.kinds and fast.keys == slow.keys
    np.testing.assert_allclose(fast.relevances, slow.relevances, rtol=1e-12, atol=1e-15)
    assert (fast.item_id, fast.title, fast.rank, fast.left_out) == (slow.item_id, slow.title, slow.rank, slow.left_out)
    assert (fast.logit, fast.probability) == pytest.approx((slow.logit, slow.probability), rel=1e-6)
    assert fast.relative_score == (None if slow.relative_score is None else pytest.approx(slow.relative_score, rel=1e-6))
    assert (fast.bias_share, fast.absorbed) == pytest.approx((slow.bias_share, slow.absorbed), rel=1e-12, abs=1e-15)
    assert fast.note == slow.note


def profiles(engine, rng, users=25, adhoc=15):
    ids = engine.user_ids()
    chosen = [engine.user_profile(ids[i]) for i in rng.choice(len(ids), size=users, replace=False)]
    movies = [m.id for m in engine.movies()]
    for _ in range(adhoc):
        picked = rng.choice(movies, size=int(rng.integers(1, 40)), replace=False).tolist()
        stars = [None if rng.random() < 0.3 else int(rng.integers(1, 6)) for _ in picked]  # some disliked
        chosen.append(engine.make_profile(picked, gender="M", age=25, ratings=stars))
    chosen.append(engine.make_profile([movies[0]], ratings=[1]))  # no feature at all: the popular fallback
    return chosen


@pytest.mark.parametrize("seed", range(2))
def test_one_movie_explained_fast_equals_explain_rows_from_scratch(ml100k_engine, seed):
    engine = ml100k_engine
    explainer = engine._relevance
    rng = np.random.default_rng(seed)
    movie_ids = [m.id for m in engine.movies()]
    for profile in profiles(engine, rng):
        explainer.forget_scored()
        unheld = [m for m in movie_ids if m not in set(profile.movies)]
        for movie_id in [engine.recommend(profile, 1)[0].movie.id, *rng.choice(unheld, size=3).tolist()]:
            assert_same(engine.explain(profile, movie_id), reference(explainer, profile, movie_id))
        held = int(rng.choice(profile.movies))  # explained as if left out of the profile
        slow = reference(explainer, profile.without_movie(held), held)
        assert_same(engine.explain(profile, held), replace(slow, left_out=True))


def test_a_batch_with_held_movies_equals_one_movie_at_a_time(ml100k_engine):
    engine = ml100k_engine
    profile = engine.user_profile(engine.user_ids()[5])
    movie_ids = [*profile.movies[:3], *(r.movie.id for r in engine.recommend(profile, 4))]
    batch = engine.explain_many(profile, movie_ids)
    for movie_id, explanation in zip(movie_ids, batch):
        assert_same(explanation, engine.explain(profile, movie_id))
    assert [e.left_out for e in batch] == [True] * 3 + [False] * 4


def test_the_kept_scores_are_what_scoring_computes_afresh(ml100k_engine):
    engine = ml100k_engine
    explainer = engine._relevance
    weights = explainer._weights
    for user in engine.user_ids()[:10]:
        profile = engine.user_profile(user)
        kept = explainer._kept(profile)
        rows, held = explainer.rows(profile)
        assert kept.scored.pooled.tobytes() == weights.pooled(rows).tobytes()  # bit for bit: ranking reads it
        assert kept.scored.logits.tobytes() == weights.logits(rows).tobytes()
        assert np.array_equal(kept.embedded, weights.embedding64[rows])
        unseen = np.delete(kept.scored.logits, held)
        assert kept.best == unseen.max()
        assert np.sort(kept.unseen[np.isfinite(kept.unseen)]).tolist() == np.sort(unseen).tolist()


@pytest.mark.parametrize("hidden", [None, 4, 9])
def test_target_relevance_equals_feature_relevances(hidden):
    rng = np.random.default_rng(3)
    weights = random_weights(rng, n_features=20, n_items=9, dim=6, hidden=hidden)
    for size in range(1, 21):
        rows = np.sort(rng.choice(20, size=size, replace=False))
        pooled = weights.pooled(rows)
        relevance, bias_share, absorbed = feature_relevances(weights, rows, np.arange(9))
        for target in range(9):
            one, bias, eps = target_relevance(weights, weights.embedding64[rows], pooled, target)
            np.testing.assert_allclose(one, relevance[:, target], rtol=1e-12, atol=1e-15)
            assert (bias, eps) == pytest.approx((bias_share[target], absorbed[target]), rel=1e-12, abs=1e-15)


def test_movie_rows_by_table_equal_the_sorted_search(ml100k_engine, monkeypatch):
    """The id -> row table gives searchsorted's rows, and names the same first unknown id (below,
    between and above the known ids)."""
    explainer = ml100k_engine._relevance
    assert explainer._row_of_id is not None  # MovieLens ids are dense
    ids = explainer._vocabulary.item_ids
    rng = np.random.default_rng(0)
    probes = [rng.choice(ids, size=40).tolist() for _ in range(20)]
    probes += [[int(ids[3]), bad, int(ids[5])] for bad in (-7, -1, 0, int(ids.max()) + 1, int(ids.max()) + 10**9, 2**62)]
    for movies in probes:
        answers = []
        for table in (explainer._row_of_id, None):
            monkeypatch.setattr(explainer, "_row_of_id", table)
            try:
                answers.append(explainer._item_rows(movies).tolist())
            except Exception as error:  # noqa: BLE001 - the error itself is compared
                answers.append((type(error), str(error)))
        assert answers[0] == answers[1]
        assert isinstance(answers[0], list) == (set(movies) <= set(ids.tolist()))
