"""The live recommender: results match the engine, a newer request supersedes older ones, and no
engine call runs on the main (UI) thread."""
from __future__ import annotations

import threading
import time

import pytest

from assistant.live_recommender import LiveRecommender, LiveRequest
from engine.api import Lens
from lens_fakes import FAKE_LENS, FakeExplainer, FakeExplanation, fake_lens  # noqa: F401 (a fixture)


class RecordingEngine:
    """The real engine, slowed down and recording which thread each call runs on."""

    def __init__(self, engine, delay: float = 0.0):
        self._engine = engine
        self.delay = delay
        self.calls: list[tuple[str, threading.Thread, object]] = []

    def _record(self, name, profile):
        self.calls.append((name, threading.current_thread(), profile))
        time.sleep(self.delay)

    def recommend(self, profile, k=10, explain=False):
        self._record("recommend", profile)
        return self._engine.recommend(profile, k, explain=explain)

    def explain(self, profile, movie_id, lens=Lens.RELEVANCE):
        self._record("explain", profile)
        return self._engine.explain(profile, movie_id, lens)

    def removal_check(self, profile, movie_id, k=3):
        self._record("removal_check", profile)
        return self._engine.removal_check(profile, movie_id, k)

    def lenses(self):
        return self._engine.lenses()

    def is_prepared(self, lens):
        return self._engine.is_prepared(lens)

    def prepare(self, lens, state):
        self._record("prepare", None)
        return self._engine.prepare(lens, state)

    def rank_of(self, profile, movie_id):
        self._record("rank_of", profile)
        return self._engine.rank_of(profile, movie_id)


@pytest.fixture
def service(qtbot, app_engine):
    created = []

    def make(delay=0.0):
        engine = RecordingEngine(app_engine, delay)
        live = LiveRecommender(engine)
        created.append(live)
        return live, engine

    yield make
    for live in created:
        live.stop()


def test_result_matches_the_engine(qtbot, service, app_engine):
    live, _ = service()
    profile = app_engine.user_profile(1)
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        generation = live.request(profile, None)
    result = blocker.args[0]
    assert result.generation == generation and live.is_current(result)
    assert result.error is None
    expected = app_engine.recommend(profile, 20, explain=True)
    assert [r.movie.id for r in result.recommendations] == [r.movie.id for r in expected]
    assert result.recommendations[0].explanation.relevances == expected[0].explanation.relevances
    assert result.selected == expected[0].movie.id  # no selection: the top recommendation
    assert result.lens is None and result.explanation is None  # no lens asked: the list's own only


def test_selected_movie_that_dropped_out_is_explained_with_its_rank(qtbot, service, app_engine):
    live, _ = service()
    profile = app_engine.user_profile(1)
    outside = app_engine.recommend(profile, 60)[45].movie.id  # ranked 46th: not in the top 20
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, outside, Lens.RELEVANCE)
    result = blocker.args[0]
    assert result.recommendation_for(outside) is None
    assert result.selected_rank == app_engine.rank_of(profile, outside) == 46
    assert result.explanation.lens is Lens.RELEVANCE
    assert result.explanation.relevances == app_engine.explain(profile, outside).relevances
    assert result.explanation_of(outside, Lens.RELEVANCE) is result.explanation


def test_a_listed_movie_reuses_the_lists_explanation_for_its_lens(qtbot, service, app_engine):
    live, engine = service()
    profile = app_engine.user_profile(1)
    third = app_engine.recommend(profile, 20)[2].movie.id
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, third, Lens.RELEVANCE)
    result = blocker.args[0]
    assert result.explanation is result.recommendation_for(third).explanation  # not computed twice
    # the only other calls are the check under the Sankey and its what-if, on the profile it leaves
    assert [name for name, _, _ in engine.calls] == ["recommend", "removal_check", "explain"]
    assert engine.calls[2][2] == result.removal.profile_after != profile


def test_a_request_with_a_lens_returns_that_lenses_explanation(qtbot, service, app_engine, fake_lens):
    fake_lens.append(app_engine)
    live, engine = service()
    profile = app_engine.user_profile(1)
    movie = app_engine.recommend(profile, 20)[4].movie.id
    progress, prepared = [], []
    live.preparing.connect(lambda lens, percent, message: progress.append((lens, percent)))
    live.prepared.connect(lambda lens, note: prepared.append(lens))
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, movie, FAKE_LENS)
    first = blocker.args[0]
    assert first.preparing and first.explanation is None and first.recommendations  # the list is served meanwhile
    qtbot.waitUntil(lambda: prepared == [FAKE_LENS], timeout=10_000)
    assert progress[0] == (FAKE_LENS, 0) and progress[-1] == (FAKE_LENS, 100)
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, movie, FAKE_LENS)
    result = blocker.args[0]
    assert result.lens is FAKE_LENS and not result.preparing
    assert isinstance(result.explanation, FakeExplanation)
    assert result.explanation == app_engine.explain(profile, movie, FAKE_LENS)
    assert result.explanation_of(movie, FAKE_LENS) is result.explanation
    assert result.explanation_of(movie, Lens.RELEVANCE) is result.recommendation_for(movie).explanation
    assert FakeExplainer.preparations == 1


def test_preparing_can_be_cancelled_and_is_not_restarted_unasked(qtbot, service, app_engine, fake_lens):
    fake_lens.append(app_engine)
    FakeExplainer.gate = threading.Event()
    live, _ = service()
    profile = app_engine.user_profile(2)
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, None, FAKE_LENS)
    assert blocker.args[0].preparing and live.is_preparing(FAKE_LENS)
    with qtbot.waitSignal(live.preparationStopped, timeout=10_000) as stopped:
        live.cancel_preparing(FAKE_LENS)
    assert stopped.args[0] is FAKE_LENS and stopped.args[2] == "cancelled"
    assert "Cancelled" in stopped.args[1] and not app_engine.is_prepared(FAKE_LENS)
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, None, FAKE_LENS)  # an edit: the user said no, so no training starts
    assert blocker.args[0].declined and not blocker.args[0].preparing and not live.is_preparing(FAKE_LENS)
    with qtbot.waitSignal(live.prepared, timeout=10_000):
        with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
            live.request(profile, None, FAKE_LENS, retry=True)  # the user asked again
        assert blocker.args[0].preparing
        FakeExplainer.gate.set()
    assert app_engine.is_prepared(FAKE_LENS) and FakeExplainer.preparations == 2


def test_a_lens_that_is_not_built_says_why(qtbot, service, app_engine, monkeypatch):
    from engine import lenses

    monkeypatch.delitem(lenses.EXPLAINERS, Lens.PIXELS)  # as before the pixel lens was built
    live, _ = service()
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(app_engine.user_profile(1), None, Lens.PIXELS)
    result = blocker.args[0]
    assert result.error is None and result.recommendations and result.explanation is None
    assert result.unavailable == app_engine.lenses()[Lens.PIXELS] and "not available" in result.unavailable


def test_newer_request_supersedes_older_ones(qtbot, service, app_engine):
    live, engine = service(delay=0.05)
    base = app_engine.user_profile(1)
    received = []
    live.finished.connect(received.append)
    profiles = [base.without_movie(m) for m in base.movies[:8]]
    for profile in profiles:  # a burst of edits, faster than the engine answers
        live.request(profile, None)
    qtbot.waitUntil(lambda: any(r.generation == live.generation for r in received), timeout=10_000)
    qtbot.wait(200)  # nothing late may arrive after the newest result
    generations = [r.generation for r in received]
    assert generations == sorted(generations) and generations[-1] == live.generation
    assert received[-1].profile == profiles[-1]
    computed = [profile for name, _, profile in engine.calls if name == "recommend"]
    assert len(computed) < len(profiles)  # queued requests were replaced, not all computed


def test_no_engine_call_on_the_main_thread(qtbot, service, app_engine, monkeypatch):
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    live, engine = service()
    profile = app_engine.user_profile(2)
    for movie in app_engine.recommend(profile, 5):
        profile = profile.with_movie(movie.movie.id)
        with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
            live.request(profile, 1)
        assert blocker.args[0].error is None
    assert engine.calls
    assert all(thread is not threading.main_thread() for _, thread, _ in engine.calls)


def test_debug_check_catches_an_engine_call_on_the_main_thread(service, app_engine, monkeypatch, capsys):
    monkeypatch.setattr(LiveRecommender, "check_threads", True)
    live, engine = service()
    result = live._compute(LiveRequest(1, app_engine.user_profile(1), None))
    assert "engine call on the UI thread" in result.error
    assert engine.calls == []


def test_engine_errors_become_messages(qtbot, service, app_engine):
    live, _ = service()
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(app_engine.user_profile(1), 999_999)  # no such movie
    assert "Unknown movie id 999999" in blocker.args[0].error


def test_a_lens_of_other_subjects_is_prepared_but_not_asked_about_the_movie(qtbot, service, app_engine, fake_lens,
                                                                               monkeypatch):
    """The pixel lens explains product pairs: the worker prepares it, then leaves the movie alone."""
    from lens_fakes import FakeExplainer

    fake_lens.append(app_engine)
    monkeypatch.setattr(FakeExplainer, "subjects", "products")
    monkeypatch.setattr(FakeExplainer, "explain", lambda *a: pytest.fail("asked to explain a movie"))
    live, _ = service()
    profile = app_engine.user_profile(1)
    movie = app_engine.recommend(profile, 5)[0].movie.id
    prepared = []
    live.prepared.connect(lambda lens, note: prepared.append(lens))
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, movie, FAKE_LENS)
    assert blocker.args[0].preparing
    qtbot.waitUntil(lambda: prepared == [FAKE_LENS], timeout=10_000)
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, movie, FAKE_LENS)
    result = blocker.args[0]
    assert result.error is None and result.recommendations and not result.preparing
    assert result.explanation is None and result.unavailable is None and app_engine.is_prepared(FAKE_LENS)
