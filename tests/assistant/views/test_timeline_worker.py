"""The expert tab's timeline worker with a stand-in engine: a dataset without rating times gets the
engine's reason instead of a timeline, too few ratings and engine errors get one sentence, and only
the newest request's result is delivered."""
from __future__ import annotations

import threading

from assistant.views.timeline_worker import TOO_FEW, TimelineRequest, TimelineWorker, compute
from engine.api import InvalidInputError, Profile
from tests.assistant.views.expert_examples import make_timeline

NO_TIMES = "ml-1m has no rating times, so it has no sittings to explain."


class StandIn:
    """The parts of the engine and its expert explainer the worker uses."""

    def __init__(self, reason=None, sittings=("one",), error=None, gate=None):
        self.dataset = "a dataset"
        self.reason, self._sittings, self.error, self.gate = reason, sittings, error, gate
        self.asked = []

    def explainer(self, lens):
        return self

    def timeline_reason(self, dataset):
        return self.reason

    def sittings(self, profile):
        return [type("Info", (), {"index": 1, "windows": 1, "length": 6, "start": "", "end": ""})()] \
            if self._sittings else []

    def timeline(self, profile, sitting=None, window=1):
        self.asked.append((profile, sitting, window))
        if self.gate is not None:
            self.gate.wait(5)
        if self.error is not None:
            raise self.error
        return make_timeline(6, user_id=None)


PROFILE = Profile(movies=(1, 2), ratings=(5, 2))


def test_no_rating_times_says_the_engines_reason():
    shown = compute(StandIn(reason=NO_TIMES), TimelineRequest(1, PROFILE, None, 1))
    assert shown.timeline is None and shown.message == NO_TIMES


def test_too_few_ratings_and_engine_errors_are_one_sentence():
    few = compute(StandIn(sittings=()), TimelineRequest(1, Profile(movies=(1,), ratings=(4,)), None, 1))
    assert few.message == TOO_FEW
    bad = compute(StandIn(error=InvalidInputError("User 1 has sittings 1 to 3, not 9.")), TimelineRequest(2, PROFILE, 9, 1))
    assert bad.timeline is None and bad.message == "User 1 has sittings 1 to 3, not 9."


def test_a_timeline_comes_with_its_sittings_and_window():
    engine = StandIn()
    shown = compute(engine, TimelineRequest(3, PROFILE, 1, 1))
    assert shown.timeline == make_timeline(6, user_id=None) and len(shown.sittings) == 1 and shown.window == 1
    assert engine.asked == [(PROFILE, 1, 1)]


def test_only_the_newest_request_is_delivered(qtbot):
    gate = threading.Event()
    engine = StandIn(gate=gate)
    worker = TimelineWorker(engine)
    delivered = []
    worker.finished.connect(delivered.append)
    try:
        worker.request(PROFILE, 1)  # held at the gate while the next two arrive
        qtbot.waitUntil(lambda: len(engine.asked) == 1, timeout=5_000)
        worker.request(PROFILE, 2)
        newest = worker.request(PROFILE, 3)
        gate.set()
        qtbot.waitUntil(lambda: any(s.generation == newest for s in delivered), timeout=5_000)
        assert [s.generation for s in delivered] == [newest]  # the first is stale, the second never ran
        assert [sitting for _, sitting, _ in engine.asked] == [1, 3]
    finally:
        worker.stop()
