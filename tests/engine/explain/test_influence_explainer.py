"""The influence lens on the real MovieLens 100k: FIA on the served MF, for dataset users and for
folded-in profiles."""
import json

import numpy as np
import pytest

from engine.api import Engine, Lens
from engine.data.types import Dataset, Interactions
from engine.errors import InvalidInputError
from engine.explain.influence import OTHER, OWN
from engine.explain.influence_explainer import InfluenceExplainer
from engine.profile import Profile


@pytest.fixture(scope="module")
def engine(ml100k_engine: Engine) -> Engine:
    ml100k_engine.prepare(Lens.INFLUENCE)
    return ml100k_engine


def test_a_dataset_user_is_explained_by_their_ratings_and_the_movies_raters(engine: Engine):
    profile = engine.user_profile(1)
    movie = engine.recommend(profile, 1)[0].movie
    explanation = engine.explain(profile, movie.id, Lens.INFLUENCE)
    assert explanation.lens is Lens.INFLUENCE and explanation.model == "mf"
    assert explanation.item_id == movie.id and explanation.title == movie.label
    assert explanation.user_id == 1 and not explanation.fold_in
    assert {r.item for r in explanation.own} == set(profile.movies)
    assert all(r.user == 1 and r.rating == profile.rating(r.item) for r in explanation.own)
    ratings = engine.dataset.interactions
    raters = set(ratings.users[ratings.items == movie.id].tolist())
    assert {r.user for r in explanation.others} == raters - {1}
    assert all(r.item == movie.id and r.title == movie.label for r in explanation.others)
    magnitudes = [abs(p) for p in explanation.parts]
    assert magnitudes == sorted(magnitudes, reverse=True) and magnitudes[0] > 0.01
    assert 1.0 < explanation.predicted_rating < 6.0
    assert explanation.rank is not None and explanation.rank >= 1


def test_rank_is_by_predicted_rating_among_unrated_movies(engine: Engine):
    profile = engine.user_profile(3)
    unrated = [m.id for m in engine.movies() if m.id not in profile.movies][:40]
    explanations = engine.explain_many(profile, unrated, Lens.INFLUENCE)
    by_prediction = sorted(explanations, key=lambda e: -e.predicted_rating)
    ranks = [e.rank for e in by_prediction]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    held = engine.explain(profile, profile.movies[0], Lens.INFLUENCE)
    assert held.rank is None and "rated this movie itself" in held.note


def test_to_dict_has_the_contract_keys(engine: Engine):
    explanation = engine.explain(engine.user_profile(5), 50, Lens.INFLUENCE)
    data = json.loads(json.dumps(explanation.to_dict(), allow_nan=False))
    assert data["lens"] == "influence" and data["model"] == "mf" and data["item"]["id"] == 50
    assert data["predicted_rating"] == explanation.predicted_rating
    assert len(data["ratings"]) == len(explanation.ratings)
    for row in data["ratings"]:
        assert set(row) >= {"kind", "user", "item", "title", "rating", "influence"}
        assert row["kind"] in (OWN, OTHER)
    again = engine.explain(engine.user_profile(5), 50, Lens.INFLUENCE)
    assert again.to_dict() == explanation.to_dict()


def test_an_unchanged_profile_folded_in_matches_the_trained_user(engine: Engine):
    """Training ends at a stationary point, so fitting user 7's factors to their own ratings with the
    movies frozen gives back their trained factors: same prediction, same influences."""
    profile = engine.user_profile(7)
    movie = engine.recommend(profile, 1)[0].movie.id
    trained = engine.explain(profile, movie, Lens.INFLUENCE)
    copy = Profile(movies=profile.movies, ratings=profile.ratings, gender=profile.gender)
    folded = engine.explain(copy, movie, Lens.INFLUENCE)
    assert folded.fold_in and folded.user_id is None and "folded" in folded.note
    assert folded.predicted_rating == pytest.approx(trained.predicted_rating, abs=1e-6)
    assert all(r.user is None for r in folded.own)
    first = {(r.kind, r.item, r.user if r.kind == OTHER else None): r.influence for r in trained.ratings}
    second = {(r.kind, r.item, r.user): r.influence for r in folded.ratings}
    assert first.keys() == second.keys()
    assert max(abs(first[k] - second[k]) for k in first) < 1e-6


def test_an_ad_hoc_profile_is_a_fold_in_whose_influences_estimate_removing_a_rating(engine: Engine):
    profile = engine.make_profile([50, 172, 181, 1, 121, 300], ratings=[5, 5, 2, 4, 1, 3])
    explanation = engine.explain(profile, 96, Lens.INFLUENCE)
    assert explanation.fold_in and explanation.user_id is None
    assert {r.item for r in explanation.own} == set(profile.movies)
    for rating in explanation.own:
        without = engine.explain(profile.without_movie(rating.item), 96, Lens.INFLUENCE)
        exact = explanation.predicted_rating - without.predicted_rating
        # The local problem is a ridge regression: FIA is the exact change up to the rating's
        # leverage h (first order = exact x (1 - h), 0 < h < 1).
        assert np.sign(rating.influence) == np.sign(exact)
        assert 0.3 * abs(exact) <= abs(rating.influence) <= abs(exact) + 1e-12


def test_an_edited_user_and_unrated_movies_are_folded_in(engine: Engine):
    edited = engine.user_profile(1).with_rating(50, 1)
    assert engine.explain(edited, 98, Lens.INFLUENCE).fold_in
    unrated = engine.make_profile([50, 172, 1])
    explanation = engine.explain(unrated, 98, Lens.INFLUENCE)
    assert "3 movies without stars counted as 4 stars" in explanation.note
    assert {r.rating for r in explanation.own} == {4.0}
    empty = engine.explain(engine.make_profile([]), 98, Lens.INFLUENCE)
    assert not empty.own and empty.others and "no ratings" in empty.note


def test_unknown_movies_are_refused(engine: Engine):
    with pytest.raises(InvalidInputError):
        engine.explain(engine.user_profile(1), 999_999, Lens.INFLUENCE)


def test_unavailable_without_ratings(tiny_dataset: Dataset):
    assert InfluenceExplainer.unavailable_reason(tiny_dataset) is None
    empty = Interactions(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    bare = Dataset("bare", tiny_dataset.movies, tiny_dataset.users, empty)
    assert "no ratings" in InfluenceExplainer.unavailable_reason(bare)


def tiny_context(dataset, cache_dir):
    from engine.data.vocabulary import Vocabulary
    from engine.lenses import LensContext

    return LensContext(dataset, None, cache_dir, None, Vocabulary(dataset))


def test_a_model_short_of_a_stationary_point_is_flagged(tiny_dataset, tmp_path, monkeypatch):
    from engine.models import mf

    explainer = InfluenceExplainer(tiny_context(tiny_dataset, tmp_path))
    explainer.prepare()
    assert explainer.model_note() == ""  # fully trained: nothing to say
    rough = mf.MFConfig(factors=2, sweeps=1, max_newton_steps=0)
    monkeypatch.setattr(mf, "default_config", lambda name: rough)
    hurried = InfluenceExplainer(tiny_context(tiny_dataset, tmp_path))
    hurried.prepare()
    assert "stopped before a stationary point" in hurried.model_note()
    explanation = hurried.explain(Profile(movies=(1, 2, 3), ratings=(5, 4, 3), user_id=1), [4])[0]
    assert explanation.user_id == 1 and not explanation.fold_in
    assert sorted((r.kind, r.user, r.item) for r in explanation.ratings) == [
        ("other", 2, 4), ("own", 1, 1), ("own", 1, 2), ("own", 1, 3)]
