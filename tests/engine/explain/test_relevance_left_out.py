"""A movie the profile holds is explained as if it were left out: never its own evidence (issue 13.3)."""
import pytest

from engine.api import Engine


def test_a_profile_movie_is_explained_without_itself(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    fargo = next(m.id for m in ml100k_engine.movies() if m.title == "Fargo")
    assert fargo in profile.positives

    explanation = ml100k_engine.explain(profile, fargo)

    assert explanation.left_out
    assert str(fargo) not in [k for kind, k in zip(explanation.kinds, explanation.keys) if kind == "movie"]
    alone = ml100k_engine.explain(profile.without_movie(fargo), fargo)
    assert not alone.left_out
    assert explanation.relevances == pytest.approx(alone.relevances, abs=1e-12)
    assert explanation.logit == pytest.approx(alone.logit, abs=1e-12)
    assert explanation.to_dict()["left_out"] is True


def test_movies_not_in_the_profile_are_explained_as_before(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    top = ml100k_engine.recommend(profile, 2)
    fargo = next(m.id for m in ml100k_engine.movies() if m.title == "Fargo")

    both = ml100k_engine.explain_many(profile, [top[0].movie.id, fargo, top[1].movie.id])

    assert [e.left_out for e in both] == [False, True, False]
    assert both[0].relevances == pytest.approx(ml100k_engine.explain(profile, top[0].movie.id).relevances, abs=1e-12)
    assert both[0].logit == pytest.approx(top[0].logit)


def test_explanations_carry_the_rank_and_the_score_relative_to_the_top(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    recommendations = ml100k_engine.recommend(profile, 10, explain=True)

    assert [r.explanation.rank for r in recommendations] == [r.rank for r in recommendations]
    assert recommendations[0].explanation.relative_score == pytest.approx(1.0)
    top = recommendations[0].probability
    for r in recommendations:
        assert r.explanation.relative_score == pytest.approx(r.probability / top, rel=1e-6)  # float32 logits

    far = ml100k_engine.movie(1500).id  # an obscure movie far down the list
    explanation = ml100k_engine.explain(profile, far)
    assert explanation.rank == ml100k_engine.rank_of(profile, far) > 10
    assert 0 < explanation.relative_score < 1


def test_a_left_out_movie_is_ranked_among_the_rest_of_the_profile(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    fargo = next(m.id for m in ml100k_engine.movies() if m.title == "Fargo")

    explanation = ml100k_engine.explain(profile, fargo)

    assert explanation.rank == ml100k_engine.rank_of(profile.without_movie(fargo), fargo)
