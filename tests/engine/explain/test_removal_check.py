"""The removal check (issue 11, in the app): the selected movie re-scored without its top k reasons,
on the real ml-100k model, against the engine's own ranking and a naive recomputation."""
from dataclasses import replace

import pytest

from engine.api import Engine, InvalidInputError, RemovalCheck


def _naive(engine: Engine, profile, movie_id: int, k: int):
    """Recomputed by hand: the explanation's top k movie/attribute features taken out one by one, the
    movie's logit from the recommendation scores of a profile that does not hold it."""
    base = profile.without_movie(movie_id) if movie_id in profile.movies else profile
    explanation = engine.explain(profile, movie_id)
    reasons = [f for f in explanation.features if f.relevance > 0 and f.kind != "genre"][:k]
    after = base
    for reason in reasons:
        after = after.without_movie(int(reason.key)) if reason.kind == "movie" else replace(after, **{reason.kind: None})
    # every movie the profile does not hold, ranked by the engine's scores: the movie's place among them
    ranked = [r.movie.id for r in engine.recommend(after, len(engine.movies()) - len(after.movies))]
    return reasons, after, ranked.index(movie_id) + 1


def test_top_recommendation_falls_when_its_three_reasons_go(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    top = ml100k_engine.recommend(profile, 1)[0]
    check = ml100k_engine.removal_check(profile, top.movie.id)
    assert isinstance(check, RemovalCheck)
    assert check.k == 3 and len(check.removed) == 3 and not check.left_out
    assert check.rank_before == 1
    assert check.rank_after == ml100k_engine.rank_of(check.profile_after, top.movie.id)
    # User 1 likes 219 movies: three reasons carry a small part of the evidence, and the movie may
    # keep its place; its score must still fall, by about the relevance they carried
    assert check.rank_after >= check.rank_before
    assert check.logit_before == pytest.approx(top.logit, abs=1e-5)
    assert check.probability_before == pytest.approx(top.probability, rel=1e-5)
    assert check.logit_after < check.logit_before
    assert check.logit_before - check.logit_after == pytest.approx(sum(check.relevances), rel=0.5)
    # the saved profile is untouched; the copy lost exactly the named movies
    assert ml100k_engine.user_profile(1) == profile
    lost = set(profile.movies) - set(check.profile_after.movies)
    assert lost == {int(r.key) for r in check.removed if r.kind == "movie"}
    assert check.profile_after.user_id is None


@pytest.mark.parametrize("user, position, k", [(1, 0, 3), (7, 4, 1), (42, 11, 5), (13, 30, 3)])
def test_check_agrees_with_a_naive_recomputation(ml100k_engine: Engine, user, position, k):
    profile = ml100k_engine.user_profile(user)
    movie = ml100k_engine.recommend(profile, position + 1)[position].movie.id
    check = ml100k_engine.removal_check(profile, movie, k)
    reasons, after, rank = _naive(ml100k_engine, profile, movie, k)
    assert check.names == tuple(r.name for r in reasons)
    assert check.relevances == pytest.approx([r.relevance for r in reasons])
    assert check.profile_after == replace(after, user_id=None)
    assert check.rank_before == position + 1
    assert check.rank_after == rank == ml100k_engine.rank_of(check.profile_after, movie)
    logit_after = ml100k_engine.explain(check.profile_after, movie).logit
    assert check.logit_after == pytest.approx(logit_after, abs=1e-5)


def test_attributes_are_cleared_when_they_are_among_the_reasons(ml100k_engine: Engine):
    # a profile of one movie and three attributes: four removable reasons, so k=4 takes them all
    profile = ml100k_engine.make_profile([50], gender="F", age=25, occupation="writer")
    movie = ml100k_engine.recommend(profile, 1)[0].movie.id
    explanation = ml100k_engine.explain(profile, movie)
    removable = [f for f in explanation.positive if f.kind != "genre"]
    check = ml100k_engine.removal_check(profile, movie, k=4)
    assert len(check.removed) == len(removable)
    for reason in check.removed:
        if reason.kind != "movie":
            assert getattr(check.profile_after, reason.kind) is None
    assert check.rank_after == ml100k_engine.rank_of(check.profile_after, movie)


def test_fewer_positive_reasons_than_k_removes_those_there_are(ml100k_engine: Engine):
    profile = ml100k_engine.make_profile([50, 181])
    movie = ml100k_engine.recommend(profile, 1)[0].movie.id
    positive = [f for f in ml100k_engine.explain(profile, movie).positive if f.kind != "genre"]
    assert len(positive) < 10
    check = ml100k_engine.removal_check(profile, movie, k=10)
    assert check.k == 10 and len(check.removed) == len(positive)
    assert check.rank_after == ml100k_engine.rank_of(check.profile_after, movie)


def test_empty_profile_has_no_reasons_and_keeps_its_rank(ml100k_engine: Engine):
    profile = ml100k_engine.make_profile([])
    movie = ml100k_engine.recommend(profile, 1)[0].movie.id
    check = ml100k_engine.removal_check(profile, movie)
    assert check.removed == ()
    assert check.profile_after == profile
    assert check.rank_before == check.rank_after == 1
    assert check.logit_after == check.logit_before


def test_profile_movie_is_checked_as_if_left_out(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    movie = profile.positives[0]
    explanation = ml100k_engine.explain(profile, movie)
    assert explanation.left_out
    check = ml100k_engine.removal_check(profile, movie)
    assert check.left_out
    assert movie not in check.profile_after.movies
    assert check.rank_before == ml100k_engine.rank_of(profile.without_movie(movie), movie)
    assert check.rank_after == ml100k_engine.rank_of(check.profile_after, movie)
    assert check.names == tuple(f.name for f in explanation.positive if f.kind != "genre")[:3]
    reasons, after, rank = _naive(ml100k_engine, profile, movie, 3)
    assert check.rank_after == rank


def test_k_must_be_a_positive_whole_number(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InvalidInputError):
            ml100k_engine.removal_check(profile, 50, bad)


def test_to_dict_is_plain_numbers(ml100k_engine: Engine):
    check = ml100k_engine.removal_check(ml100k_engine.user_profile(1), 50)
    data = check.to_dict()
    assert data["rank_after"] == check.rank_after and len(data["removed"]) == len(check.removed)
    assert all(isinstance(r["relevance"], float) for r in data["removed"])
    assert type(data["logit_after"]) is float and type(data["probability_after"]) is float
