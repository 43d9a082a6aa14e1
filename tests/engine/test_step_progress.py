"""Progress of a long loop: Cancel checked at every step (RecoNet training stops within one batch),
and the message says where the loop is and about how long is left."""
from __future__ import annotations

import pytest

from engine.data.splits import positives_matrix
from engine.data.vocabulary import Vocabulary
from engine.errors import Cancelled
from engine.models.reconet import RecoNetConfig
from engine.models.sampling import ExampleSampler
from engine.models.training import train_reconet
from engine.progress import StepProgress, TaskState, time_left_text


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_is_rounded_to_what_a_person_reads():
    assert time_left_text(1.0) == "about 5 s left"
    assert time_left_text(42.0) == "about 40 s left"
    assert time_left_text(59.0) == "about 60 s left"
    assert time_left_text(84.0) == "about 80 s left"
    assert time_left_text(150.0) == "about 2 min left"
    assert time_left_text(200.0) == "about 3 min left"


def test_the_time_left_comes_from_the_pace_after_the_warm_up_reported_at_most_every_interval():
    reports, clock = [], FakeClock()
    steps = StepProgress(TaskState(lambda f, m: reports.append((f, m))), total=100, interval=0.5, warmup=2.0, clock=clock)
    steps.step(0, "epoch 1 of 4")
    clock.now += 0.1
    steps.step(1, "epoch 1 of 4")  # within the interval: not reported
    clock.now += 1.9
    steps.step(10, "epoch 1 of 4")  # 2 s in, the slow start over: the pace is measured from here
    clock.now += 3.0
    steps.step(40, "epoch 2 of 4")  # 30 steps in 3 s: 6 s for the other 60
    assert reports == [(0.0, "epoch 1 of 4"), (0.1, "epoch 1 of 4"), (0.4, "epoch 2 of 4, about 5 s left")]
    assert steps.seconds_left(40) == pytest.approx(6.0)  # not 7.5 s, as the slow first 2 s would say


def test_a_loop_that_may_stop_early_says_its_time_left_is_an_upper_bound():
    reports, clock = [], FakeClock()
    steps = StepProgress(TaskState(lambda f, m: reports.append(m)), total=1000, warmup=1.0, up_to=True, clock=clock)
    for done in range(0, 200, 10):
        clock.now += 1.0
        steps.step(done, "epoch 1 of at most 10")
    assert reports[-1] == "epoch 1 of at most 10, up to about 80 s left"  # 10 steps a second, 810 to go


def test_every_step_checks_for_cancel():
    cancel = {"now": False}
    steps = StepProgress(TaskState(None, lambda: cancel["now"]), total=10, interval=60.0)
    steps.step(0, "")
    steps.step(1, "")  # not reported (interval), yet checked
    cancel["now"] = True
    with pytest.raises(Cancelled):
        steps.step(2, "")


def test_cancel_stops_reconet_training_before_the_next_batch(tiny_dataset, monkeypatch):
    vocabulary = Vocabulary(tiny_dataset)
    _, positives = positives_matrix(tiny_dataset, vocabulary)
    cancel, batches = {"now": False}, []
    batch = ExampleSampler.batch

    def counted(self, rows):
        batches.append(len(rows))
        if len(batches) == 2:
            cancel["now"] = True  # the user presses Cancel while the second batch trains
        return batch(self, rows)

    monkeypatch.setattr(ExampleSampler, "batch", counted)
    messages = []
    state = TaskState(lambda f, m: messages.append(m), lambda: cancel["now"])
    config = RecoNetConfig(dim=4, batch_size=1, max_epochs=30)
    with pytest.raises(Cancelled):
        train_reconet(vocabulary, positives, None, config, lambda weights: 0.5, state)
    assert len(batches) == 2  # no batch started after the Cancel
    assert messages[0] == "Training RecoNet (item attributes): epoch 1 of at most 30"  # no user attributes given


def test_the_variant_names_only_the_attributes_the_data_has():
    config = RecoNetConfig()
    assert config.variant == "RecoNet (user+item attributes)"
    assert config.variant_on(has_user_attributes=True, has_genres=False) == "RecoNet (user attributes)"
    assert config.variant_on(has_user_attributes=False, has_genres=False) == "RecoNet (no attributes)"
    assert RecoNetConfig(use_item_attributes=False).variant_on(True, True) == "RecoNet (user attributes)"
