"""The relevance lens keeps each recent profile's rows and scores, so "explain this movie" after a
recommendation for the same profile reuses them: the answers equal those computed afresh, an edited
profile is scored anew, and the kept arrays cannot be changed by a caller."""
import numpy as np
import pytest

from engine.explain.relevance_explainer import SCORED_PROFILES_KEPT, softmax


def _fresh(explainer, profile):
    rows, held = explainer.rows(profile)
    logits = explainer._weights.logits(rows)
    return rows, held, logits


def test_explaining_after_recommending_equals_a_fresh_explanation(ml100k_engine):
    engine = ml100k_engine
    profile = engine.user_profile(engine.user_ids()[3])
    top = engine.recommend(profile, 3, explain=True)
    explainer = engine._relevance
    again = engine.explain(profile, top[1].movie.id)
    kept = explainer.scored(profile)
    explainer.forget_scored()
    assert explainer.scored(profile) is not kept  # forgotten: scored afresh (benchmarks time that)
    explainer.forget_scored()
    fresh = engine.explain(profile, top[1].movie.id)
    assert again == fresh
    # Batched with the other recommendations the LRP sums may differ in the last bits, not more.
    assert again.names == top[1].explanation.names
    assert again.relevances == pytest.approx(top[1].explanation.relevances, rel=1e-5, abs=1e-9)


def test_an_equal_profile_is_served_from_the_cache_and_an_edited_one_is_scored_anew(ml100k_engine):
    engine = ml100k_engine
    explainer = engine._relevance
    profile = engine.user_profile(engine.user_ids()[5])
    first = explainer.scored(profile)
    copy = engine.make_profile(profile.movies, gender=profile.gender, age=profile.age,
                               occupation=profile.occupation, ratings=profile.ratings)
    assert copy is not profile and explainer.scored(copy) is first  # by what scoring reads, not identity
    edited = profile.without_movie(profile.movies[0])
    scored = explainer.scored(edited)
    rows, held, logits = _fresh(explainer, edited)
    assert scored is not first
    assert scored.rows.tolist() == rows.tolist() and scored.held.tolist() == held.tolist()
    np.testing.assert_array_equal(scored.logits, logits)
    np.testing.assert_array_equal(scored.probabilities, softmax(logits))


def test_the_kept_arrays_are_read_only_and_the_cache_is_bounded(ml100k_engine):
    engine = ml100k_engine
    explainer = engine._relevance
    scored = explainer.scored(engine.user_profile(engine.user_ids()[0]))
    for array in scored:
        with pytest.raises(ValueError):
            array[...] = 0
    for user in engine.user_ids()[: SCORED_PROFILES_KEPT + 5]:
        explainer.scored(engine.user_profile(user))
    assert len(explainer._scored) == SCORED_PROFILES_KEPT


def test_rank_and_score_read_the_shared_scores_and_equal_fresh_ones(ml100k_engine):
    engine = ml100k_engine
    explainer = engine._relevance
    profile = engine.user_profile(engine.user_ids()[7])
    movie = engine.recommend(profile, 5)[4].movie.id
    rank, (logit, probability) = engine.rank_of(profile, movie), engine._score(profile, movie)
    rows, held, logits = _fresh(explainer, profile)
    item = explainer._vocabulary.item_index[movie]
    assert rank == 5
    assert logit == float(logits[item]) and probability == float(softmax(logits)[item])
