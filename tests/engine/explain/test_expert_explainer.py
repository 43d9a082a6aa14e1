"""The expert lens's explainer on real MovieLens 100k (CI-sized models: tests/engine/expert_model_fixture.py):
static shares for a dataset user and an ad-hoc profile, equal to the served model's mixture computed
directly, exact and summing to 1; the undecided state; the sitting timeline equal to the session
model's per-position mixture; and the numpy serving equal to the torch Intrp-MLP it was taken from."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from engine.api import Engine, Lens
from engine.data import sessions
from engine.data.types import User
from engine.errors import InvalidInputError, LensUnavailableError
from engine.explain.expert_explainer import ExpertExplainer
from engine.lenses import LensContext
from tests.engine.expert_model_fixture import ci_explainer


@pytest.fixture(scope="module")
def explainer(ml100k_engine: Engine) -> ExpertExplainer:
    return ci_explainer(ml100k_engine)


@pytest.fixture(scope="module")
def ad_hoc(ml100k_engine: Engine):
    return ml100k_engine.make_profile([50, 172, 181, 1, 121, 7], "F", 28, "writer", ratings=[5, 4, 2, 3, 4, 5])


def direct(explainer: ExpertExplainer, profile, movie_ids, history=None):
    """The served static model's mixture for `movie_ids`, computed straight from its arrays."""
    serving = explainer.serving
    if history is None:
        history = serving.columns(profile.movies)
    return serving.mixture(serving.categories_of(profile.gender, profile.age, profile.occupation),
                           np.asarray(history), serving.columns(movie_ids))


def check_invariants(shares) -> None:
    values = [v.share for v in shares.votes]
    assert math.fsum(values) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(v.share * v.prediction for v in shares.votes) == pytest.approx(shares.probability, abs=1e-12)
    assert shares.decided_by == shares.votes[int(np.argmax(values))].id
    assert [v.id for v in shares.votes] == [e.id for e in shares.experts] == ["S1", "S2", "S3", "S4"]
    assert math.fsum(v.alpha for v in shares.votes) == pytest.approx(shares.alpha_total, abs=1e-12)
    assert shares.undecided == (shares.alpha_total < 0.05)


def test_the_lens_is_registered_exact_and_explains_movies(ml100k_engine: Engine, explainer):
    assert ml100k_engine.lenses()[Lens.EXPERTS] is None
    assert ml100k_engine.explainer(Lens.EXPERTS) is explainer
    assert ExpertExplainer.exact and ExpertExplainer.subjects == "movies" and ExpertExplainer.order == "value"


@pytest.mark.parametrize("who", ["user", "ad_hoc"])
def test_shares_equal_the_served_mixture_and_add_up(ml100k_engine: Engine, explainer, ad_hoc, who):
    profile = ml100k_engine.user_profile(1) if who == "user" else ad_hoc
    ids = [r.movie.id for r in ml100k_engine.recommend(profile, 5)]
    explanations = ml100k_engine.explain_many(profile, ids, Lens.EXPERTS)
    mixed = direct(explainer, profile, ids)
    for k, shares in enumerate(explanations):
        check_invariants(shares)
        assert shares.item_id == ids[k] and shares.subject == ids[k]
        assert shares.user_id == profile.user_id
        assert [v.share for v in shares.votes] == pytest.approx(mixed.shares[k], abs=1e-6)
        assert [v.prediction for v in shares.votes] == pytest.approx(mixed.predictions[k], abs=1e-6)
        assert [v.confidence for v in shares.votes] == pytest.approx(mixed.confidences[k], abs=1e-6)
        assert shares.probability == pytest.approx(mixed.prediction[k], abs=1e-6)
        assert str(len(profile.movies)) in shares.user_group


def test_alpha_is_confidence_times_the_children_left_undecided(ml100k_engine: Engine, explainer, ad_hoc):
    shares = ml100k_engine.explain(ad_hoc, 98, Lens.EXPERTS)
    g = {v.id: v.confidence for v in shares.votes}
    children = {"S1": [], "S2": ["S1"], "S3": ["S1"], "S4": ["S1", "S2", "S3"]}
    for vote in shares.votes:
        assert vote.alpha == pytest.approx(g[vote.id] * math.prod(1 - g[c] for c in children[vote.id]), abs=1e-12)


def test_a_rated_movie_is_scored_without_itself_in_the_profile(ml100k_engine: Engine, explainer, ad_hoc):
    held = ad_hoc.movies[2]
    shares = ml100k_engine.explain(ad_hoc, held, Lens.EXPERTS)
    columns = explainer.serving.columns([m for m in ad_hoc.movies if m != held])
    without = direct(explainer, ad_hoc, [held], history=columns)
    assert shares.probability == pytest.approx(without.prediction[0], abs=1e-6)
    assert shares.rank is None and "rated this movie" in shares.note


def test_the_rank_counts_the_better_unrated_movies(ml100k_engine: Engine, explainer, ad_hoc):
    serving = explainer.serving
    everything = direct(explainer, ad_hoc, serving.item_ids.tolist()).prediction
    held = np.isin(serving.item_ids, ad_hoc.movies)
    for movie in (98, 313, 1000):
        column = int(serving.columns([movie])[0])
        rank = ml100k_engine.explain(ad_hoc, movie, Lens.EXPERTS).rank
        assert rank == 1 + int(np.count_nonzero((everything > everything[column]) & ~held))


def test_no_confident_expert_is_a_state_with_even_shares(ml100k_engine: Engine, explainer, ad_hoc):
    static = explainer._static
    strict = dataclasses.replace(static.serving.gate, undecided_below=10.0)  # no mixture reaches it
    serving = dataclasses.replace(static.serving, experts=dataclasses.replace(static.serving.experts, gate=strict))
    doubtful = ExpertExplainer(explainer.context)
    doubtful._static, doubtful._session = dataclasses.replace(static, serving=serving), explainer._session
    doubtful._experts, doubtful._titles = explainer._experts, explainer._titles
    shares = doubtful.explain(ad_hoc, [98])[0]
    assert shares.undecided and shares.alpha_total < 10.0
    check_invariants(dataclasses.replace(shares, undecided=shares.alpha_total < 0.05))  # the rest holds as usual
    spread = [(v.alpha + (10.0 - shares.alpha_total) / 4) / 10.0 for v in shares.votes]
    assert [v.share for v in shares.votes] == pytest.approx(spread, abs=1e-12)
    assert shares.to_dict()["undecided"] is True


def test_a_profile_without_movies_still_gets_shares(ml100k_engine: Engine, explainer):
    empty = ml100k_engine.make_profile([], "M", 40, "engineer")
    shares = ml100k_engine.explain(empty, 50, Lens.EXPERTS)
    check_invariants(shares)
    assert "no rated movies" in shares.user_group


def test_an_unknown_movie_is_one_sentence(ml100k_engine: Engine, explainer, ad_hoc):
    with pytest.raises(InvalidInputError, match="Unknown movie|does not know"):
        ml100k_engine.explain(ad_hoc, 99999, Lens.EXPERTS)


# ----- the sitting timeline -----


def check_timeline(timeline, window, mixed) -> None:
    given = window.given
    assert [s.item_id for s in timeline.steps] == window.items.tolist()
    assert [s.side for s in timeline.steps] == ["given"] * given + ["predicted"] * (len(window) - given)
    assert [s.rating for s in timeline.steps] == [int(r) for r in window.ratings]
    keys = {a.key: a.experts for a in timeline.aggregates}
    for j, step in enumerate(timeline.predicted):
        assert step.probability == pytest.approx(float(mixed.prediction[j]), abs=1e-6)
        assert [v.share for v in step.votes] == pytest.approx(mixed.shares[j], abs=1e-6)
        assert [v.prediction for v in step.votes] == pytest.approx(mixed.predictions[j], abs=1e-6)
        assert math.fsum(v.share for v in step.votes) == pytest.approx(1.0, abs=1e-5)
        assert math.fsum(v.share * v.prediction for v in step.votes) == pytest.approx(step.probability, abs=1e-5)
        shares = {v.id: v.share for v in step.votes}
        for key, total in step.aggregate_shares:
            assert total == pytest.approx(sum(shares[i] for i in keys[key]), abs=1e-12)
        assert step.undecided == bool(mixed.undecided[j])
        assert step.liked == (step.rating >= 4)
    assert all(not s.votes and s.probability is None for s in timeline.steps[:given])
    decided = [s.decided_by for s in timeline.predicted]
    expected = tuple(timeline.predicted[k].position for k in range(1, len(decided)) if decided[k] != decided[k - 1])
    assert timeline.changes == expected


def test_a_dataset_users_sitting_equals_the_session_models_mixture(ml100k_engine: Engine, explainer):
    profile = ml100k_engine.user_profile(1)
    listed = explainer.sittings(profile)
    all_sittings = explainer._session.sittings[1]
    assert [s.index for s in listed] == [s.index + 1 for s in all_sittings if len(s) >= 2]
    chosen = next(s for s in listed if s.windows == 1 and s.length >= 10)
    timeline = explainer.timeline(profile, chosen.index)
    window = sessions.timeline_windows(all_sittings[chosen.index - 1])[0]
    check_timeline(timeline, window, explainer._session.predictor.window(window))
    assert (timeline.sitting, timeline.sittings, timeline.user_id) == (chosen.index, len(all_sittings), 1)
    assert timeline.start == chosen.start and timeline.end <= chosen.end
    assert len(timeline.aggregates) == 5 and len(timeline.experts) == 8


def right_and_guessed(timeline) -> tuple[int, int]:
    """What the timeline's own steps say: guesses judged right, guesses made."""
    return sum(bool(s.correct) for s in timeline.predicted), len(timeline.predicted)


def test_each_window_of_a_sitting_is_scored_as_its_timeline_judges_it(ml100k_engine: Engine, explainer):
    profile = ml100k_engine.user_profile(1)
    listed = explainer.sittings(profile)
    assert all(len(s.right) == s.windows for s in listed)
    for sitting in listed:
        for window in range(1, sitting.windows + 1):
            timeline = explainer.timeline(profile, sitting.index, window)
            assert sitting.right[window - 1] == right_and_guessed(timeline)
    assert any(r < n for s in listed for r, n in s.right) and any(r > 0 for s in listed for r, _ in s.right)
    assert explainer.sittings(profile) == listed  # scored once, the same again


def test_a_long_sitting_has_windows_and_the_default_is_the_latest(ml100k_engine: Engine, explainer):
    profile = ml100k_engine.user_profile(1)
    listed = explainer.sittings(profile)
    long = next(s for s in listed if s.windows > 1)
    second = explainer.timeline(profile, long.index, window=2)
    window = sessions.timeline_windows(explainer._session.sittings[1][long.index - 1])[1]
    check_timeline(second, window, explainer._session.predictor.window(window))
    assert f"Window 2 of {long.windows}" in second.note
    assert explainer.timeline(profile).sitting == listed[-1].index
    with pytest.raises(InvalidInputError, match="windows 1 to"):
        explainer.timeline(profile, long.index, window=long.windows + 1)
    with pytest.raises(InvalidInputError, match="sittings 1 to"):
        explainer.timeline(profile, len(explainer._session.sittings[1]) + 1)


def test_an_ad_hoc_profile_is_its_own_sitting_in_rating_order(explainer, ad_hoc):
    listed = explainer.sittings(ad_hoc)
    assert [tuple(s)[:5] for s in listed] == [(1, "", "", 6, 1)]
    timeline = explainer.timeline(ad_hoc)
    assert listed[0].right == (right_and_guessed(timeline),)
    window = sessions.profile_window(ad_hoc)
    user = User(-1, ad_hoc.gender, ad_hoc.age, ad_hoc.occupation)
    check_timeline(timeline, window, explainer._session.predictor.window(window, user))
    assert [s.item_id for s in timeline.steps] == list(ad_hoc.movies)  # the order they were added
    assert timeline.user_id is None and timeline.start == "" and "order" in timeline.note


def test_an_edited_dataset_user_is_an_ad_hoc_sitting(ml100k_engine: Engine, explainer):
    edited = ml100k_engine.user_profile(1).with_rating(50, 1)
    timeline = explainer.timeline(edited)
    assert timeline.user_id is None and timeline.sittings == 1


def test_too_few_ratings_for_a_sitting_is_one_sentence(ml100k_engine: Engine, explainer):
    one = ml100k_engine.make_profile([50], ratings=[5])
    assert explainer.sittings(one) == []
    with pytest.raises(InvalidInputError, match="at least 2 rated movies"):
        explainer.timeline(one)


def test_without_rating_times_there_is_no_timeline_but_there_are_shares(tiny_dataset, tmp_path):
    assert tiny_dataset.interactions.timestamps is None
    assert ExpertExplainer.unavailable_reason(tiny_dataset) is None
    reason = ExpertExplainer.timeline_reason(tiny_dataset)
    assert "no rating times" in reason and "shares" in reason
    lens = ExpertExplainer(LensContext(tiny_dataset, None, tmp_path, None, None))
    with pytest.raises(LensUnavailableError, match="no rating times"):
        lens.timeline(None)


def test_the_timeline_serialises_in_the_notes_shape(ml100k_engine: Engine, explainer):
    data = explainer.timeline(ml100k_engine.user_profile(1)).to_dict()
    assert data["lens"] == "experts" and data["user"] == 1
    assert data["session"]["given"] + data["session"]["predicted"] == data["session"]["length"]
    predicted = [s for s in data["timeline"] if s["side"] == "predicted"]
    assert predicted and set(predicted[0]["shares"]) == {f"S{k}" for k in range(1, 9)}
    assert set(predicted[0]["aggregate_shares"]) == {"persistence", "session_taste", "film", "profile", "all"}


# ----- the numpy serving is the torch model -----


def test_numpy_serving_equals_the_torch_intrp_mlp(ml100k_engine: Engine, tmp_path):
    import torch

    from engine.evaluation.bench_experts import _first_users
    from engine.models.static_mlp import History, Pairs
    from engine.models.static_model_cache import obtain_static_model
    from tests.engine.expert_model_fixture import ci_settings
    import scipy.sparse as sp

    small = _first_users(ml100k_engine.dataset, 60)
    served = obtain_static_model(small, tmp_path, settings=ci_settings()[0])
    assert served.trained_now and served.module is not None
    serving = served.serving
    rng = np.random.default_rng(3)
    history = np.sort(rng.choice(len(serving.item_ids), 12, replace=False))
    items = np.concatenate([history[:3], rng.choice(len(serving.item_ids), 20)])
    categories = serving.categories_of("M", "35-44", "doctor")
    mine = serving.mixture(categories, history, items)
    row = sp.csr_matrix((np.ones(len(history)), (np.zeros(len(history)), history)), shape=(1, len(serving.item_ids)))
    pairs = Pairs(torch.zeros(len(items), dtype=torch.long), torch.from_numpy(items),
                  torch.from_numpy(np.tile(categories, (len(items), 1))),
                  torch.from_numpy(np.isin(items, history).astype(np.float32)), History.of(row))
    with torch.no_grad():
        theirs = served.module.mixture(pairs)
    for name in ("predictions", "shares", "prediction", "alpha_total"):
        assert np.abs(getattr(mine, name) - getattr(theirs, name).numpy()).max() < 1e-6, name
    again = obtain_static_model(small, tmp_path, settings=ci_settings()[0])  # from the cache, numpy only
    assert not again.trained_now
    assert np.array_equal(again.serving.mixture(categories, history, items).shares, mine.shares)


def test_the_explainer_module_imports_neither_torch_nor_scipy():
    """Registered lenses are imported when first used; the static shares themselves are numpy."""
    from tests.test_serving_imports import imported_after

    modules = imported_after("import engine.explain.expert_explainer")
    assert "torch" not in modules and "scipy" not in modules


def test_the_fast_first_layer_equals_the_plain_inputs(explainer, ad_hoc):
    """StaticServing.logits folds the movie's columns through the first layer once per model; the
    plain path builds every input row and runs the whole network."""
    serving = explainer.serving
    categories = serving.categories_of(ad_hoc.gender, ad_hoc.age, ad_hoc.occupation)
    history = serving.columns(ad_hoc.movies)
    items = np.arange(len(serving.item_ids))
    plain = serving.experts.logits(serving.inputs(categories, history, items))
    assert np.abs(serving.logits(categories, history, items) - plain).max() < 1e-4
