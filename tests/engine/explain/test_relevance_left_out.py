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
