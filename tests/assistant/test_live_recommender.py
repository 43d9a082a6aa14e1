"""The live recommender: results match the engine, a newer request supersedes older ones, and no
engine call runs on the main (UI) thread."""
from __future__ import annotations

import threading
import time

import pytest

from assistant.live_recommender import LiveRecommender, LiveRequest


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

    def explain(self, profile, movie_id):
        self._record("explain", profile)
        return self._engine.explain(profile, movie_id)

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
    assert result.selected_explanation is None


def test_selected_movie_that_dropped_out_is_explained_with_its_rank(qtbot, service, app_engine):
    live, _ = service()
    profile = app_engine.user_profile(1)
    outside = app_engine.recommend(profile, 60)[45].movie.id  # ranked 46th: not in the top 20
    with qtbot.waitSignal(live.finished, timeout=10_000) as blocker:
        live.request(profile, outside)
    result = blocker.args[0]
    assert result.recommendation_for(outside) is None
    assert result.selected_rank == app_engine.rank_of(profile, outside) == 46
    assert result.selected_explanation.relevances == app_engine.explain(profile, outside).relevances


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
