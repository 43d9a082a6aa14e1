"""The window with a second lens registered the way a real one is (tests/assistant/lens_fakes.py):
switching tabs asks the worker for that lens, its model is prepared with progress and can be
cancelled, a stale tab switch never overwrites, and an answer's explanation is drawn as it is;
with the real influence lens, "why this movie?" is asked through the tab in front."""
from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from assistant.conversation.intents import Answer, Intent, Question
from assistant.conversation_service import Asked
from engine.api import Lens
from lens_fakes import FAKE_LENS, FakeExplainer, fake_lens  # noqa: F401 (a fixture)
from test_main_window import open_window, sankey, shown_ids, wait_fresh  # noqa: F401 (a fixture)


def test_another_lens_is_prepared_with_progress_then_drawn(qtbot, open_window, app_engine, fake_lens):
    fake_lens.append(app_engine)
    FakeExplainer.gate = threading.Event()  # training waits until the test lets it go on
    window = open_window(("user", 1))
    selected = window.selected
    panel = window.tabs.panel(FAKE_LENS)
    window.show_lens(FAKE_LENS)
    # a progress report has arrived: the bar has a range (the text leaves the percentage to the bar)
    qtbot.waitUntil(lambda: panel.state == "busy" and panel.progress.maximum() == 100, timeout=10_000)
    assert "Preparing the expert attribution model" in panel.message.text() and panel.cancel_button.isVisible()
    assert panel.progress.value() == 0 and "%" not in panel.message.text()
    FakeExplainer.gate.set()
    qtbot.waitUntil(lambda: panel.state == "drawing", timeout=10_000)
    assert window.selected == selected
    assert panel.explanation == app_engine.explain(window.profile, selected, FAKE_LENS)

    other = shown_ids(window)[5]
    window.select_recommendation(other)  # not in the list's own lens: computed on the worker
    qtbot.waitUntil(lambda: panel.explanation is not None and panel.explanation.subject == other, timeout=10_000)
    assert panel.explanation == app_engine.explain(window.profile, other, FAKE_LENS)
    window.show_lens(Lens.RELEVANCE)  # the list came with this lens's explanation: drawn at once
    assert sankey(window).explanation.item_id == other
    assert FakeExplainer.preparations == 1


def test_cancelling_the_preparation_from_the_busy_view(qtbot, open_window, app_engine, fake_lens):
    fake_lens.append(app_engine)
    FakeExplainer.gate = threading.Event()
    window = open_window(("user", 2))
    panel = window.tabs.panel(FAKE_LENS)
    window.show_lens(FAKE_LENS)
    qtbot.waitUntil(lambda: panel.state == "busy", timeout=10_000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.state == "empty", timeout=10_000)
    assert "was cancelled" in panel.message.text() and not window.live.is_preparing(FAKE_LENS)
    window.add_movie(shown_ids(window)[0])  # an edit does not start the training again
    wait_fresh(qtbot, window)
    assert window.last_result.declined and panel.state == "empty" and not window.live.is_preparing(FAKE_LENS)
    window.show_lens(Lens.RELEVANCE)
    window.show_lens(FAKE_LENS)  # coming back to the tab does
    qtbot.waitUntil(lambda: panel.state == "busy", timeout=10_000)
    FakeExplainer.gate.set()
    qtbot.waitUntil(lambda: panel.state == "drawing", timeout=10_000)
    assert panel.explanation == app_engine.explain(window.profile, window.selected, FAKE_LENS)


def test_a_stale_tab_switch_does_not_overwrite(qtbot, open_window, app_engine, fake_lens):
    fake_lens.append(app_engine)
    app_engine.prepare(FAKE_LENS)
    FakeExplainer.explain_delay = 0.5  # the fake lens's answer is still being computed ...
    window = open_window(("user", 3))
    fake_panel = window.tabs.panel(FAKE_LENS)
    window.show_lens(FAKE_LENS)
    window.show_lens(Lens.RELEVANCE)  # ... when the user is back on the first tab
    added = shown_ids(window)[0]
    window.add_movie(added)  # and edits: the fake lens's result is now stale
    wait_fresh(qtbot, window)
    qtbot.wait(700)  # long enough for the slow, stale result to have come back
    assert window.last_result.generation == window.live.generation and window.last_result.lens is Lens.RELEVANCE
    assert fake_panel.drawn == [] and window.tabs.current_lens() is Lens.RELEVANCE
    explanation = sankey(window).explanation
    assert added in window.profile.movies and explanation.item_id == window.selected
    assert explanation.relevances == app_engine.explain(window.profile, window.selected).relevances


def test_an_answers_explanation_is_drawn_as_it_is(qtbot, open_window, app_engine):
    window = open_window(("user", 1))
    window.show_lens(FAKE_LENS)  # another tab in front: the answer switches to its own lens
    movie = app_engine.recommend(window.profile, 40)[29].movie  # rank 30: not in the list
    phrased = app_engine.explain(window.profile, movie.id)
    answer = Answer(Question(f"why {movie.title}", Intent.WHY), "Because …", "Because",
                    movie_id=movie.id, lens=Lens.RELEVANCE.value, explanation=phrased)
    window._on_answer(Asked(f"why {movie.title}", "typed", answer))
    assert window.tabs.current_lens() is Lens.RELEVANCE and window.selected == movie.id
    assert sankey(window).explanation is phrased  # the very object the answer was phrased from
    qtbot.waitUntil(lambda: window.last_result.selected == movie.id
                    and window.last_result.generation == window.live.generation, timeout=10_000)
    assert window.last_result.explanation is None  # the rank was asked for, not a second explanation
    assert sankey(window).explanation is phrased
    assert "dropped to rank 30" in sankey(window).notice.text()
    window.select_recommendation(shown_ids(window)[1])  # the user moves on: the list's explanation
    assert sankey(window).explanation is window.last_result.recommendations[1].explanation


def test_why_is_asked_through_the_lens_in_front_and_its_answer_drawn(qtbot, open_window, app_engine):
    window = open_window(("user", 1))
    influence = window.tabs.panel(Lens.INFLUENCE)
    window.show_lens(Lens.INFLUENCE)
    # The MF model is loaded from the cache, or trained once (about a minute) on a fresh cache.
    qtbot.waitUntil(lambda: influence.state == "drawing", timeout=300_000)
    qtbot.keyClicks(window.chat.input, "why this movie?")
    qtbot.keyClick(window.chat.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.last_answer is not None, timeout=20_000)
    answer = window.last_answer
    assert answer.lens == Lens.INFLUENCE.value and answer.movie_id == window.selected
    assert answer.explanation.lens is Lens.INFLUENCE
    assert influence.explanation is answer.explanation  # what is heard is what is seen
    assert answer.explanation == app_engine.explain(window.profile, window.selected, Lens.INFLUENCE)


def test_a_what_if_answer_is_drawn_labelled_as_not_applied(qtbot, open_window, app_engine):
    window = open_window(("user", 1))
    influence = window.tabs.panel(Lens.INFLUENCE)
    qtbot.keyClicks(window.chat.input, "what if I rated Alien 2 stars?")
    qtbot.keyClick(window.chat.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.last_answer is not None, timeout=300_000)
    answer = window.last_answer
    assert answer.hypothetical and influence.explanation is answer.explanation
    assert window.tabs.current_lens() is Lens.INFLUENCE
    assert influence.notice.isVisible() and "not applied to your profile" in influence.notice.text()
    assert window.profile.rating(next(m.id for m in app_engine.catalogue.movies if m.title == "Alien")) == 5
