"""The expert lens in the dialogue, on the real expert explainer (CI-sized models on MovieLens 100k,
tests/engine/expert_model_fixture.py): each answer carries the engine's very object (static shares,
or a sitting's timeline), is phrased from it, and switches the view to the expert tab."""
from __future__ import annotations

import pytest

from assistant.conversation.dialogue import Conversation
from assistant.conversation.intents import Intent
from assistant.conversation.phrasing import percent
from engine.api import Lens
from tests.assistant.expert_lens import serve_ci_experts

SPOKEN_WORD_LIMIT = 45


@pytest.fixture
def explainer(app_engine, monkeypatch):
    return serve_ci_experts(app_engine, monkeypatch)


@pytest.fixture
def talk(app_engine, explainer):
    return Conversation(app_engine, app_engine.user_profile(1))


def unique_title(talk, step) -> str | None:
    found = talk.titles.resolve(talk.movies[step.item_id].title)
    return talk.movies[step.item_id].title if found.movie is not None and found.movie.id == step.item_id else None


def test_which_part_decided_is_phrased_from_the_static_shares(talk, app_engine):
    top = app_engine.recommend(talk.profile, 1)[0].movie
    answer = talk.ask("which part of my profile decided this?")
    assert answer.question.intent is Intent.EXPERT_DECIDED and answer.movie_id == top.id
    assert answer.lens == "experts" and talk.lens is Lens.EXPERTS
    shares = app_engine.explain(talk.profile, top.id, Lens.EXPERTS)
    assert answer.explanation == shares
    assert f"{percent(shares.probability)} chance" in answer.text
    if not shares.undecided:
        first = max(shares.votes, key=lambda v: v.share)
        assert percent(first.share) in answer.text
    else:
        assert "no expert was confident" in answer.text
    assert [s.key for s in answer.shares] == [shares.info(v.id).key for v in sorted(shares.votes, key=lambda v: -v.share)]
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT


def test_why_did_you_think_i_would_dislike_names_the_guess_and_its_decider(talk, explainer):
    profile = talk.profile
    latest = explainer.timeline(profile)
    step = next(s for s in latest.predicted if unique_title(talk, s))
    answer = talk.ask(f"why did you think I'd dislike {unique_title(talk, step)}?")
    assert answer.question.intent is Intent.WHY_GUESSED and answer.movie_id == step.item_id
    assert answer.lens == "experts" and answer.explanation == latest
    guess = "like" if step.probability >= 0.5 else "dislike"
    assert f"I guessed you'd {guess}" in answer.text and f"like-probability of {percent(step.probability)}" in answer.text
    assert ("guess was right" if step.correct else "guess was wrong") in answer.text
    if not step.undecided:
        top = max(step.votes, key=lambda v: v.share)
        label = next(e.label for e in latest.experts if e.id == top.id)
        assert f"Mostly because of {label}: {percent(top.share)}" in answer.text
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT

    given = next(s for s in latest.steps if s.side == "given" and unique_title(talk, s)
                 and all(p.item_id != s.item_id for p in latest.predicted))
    told = talk.ask(f"why did you think I'd like {unique_title(talk, given)}")
    assert told.text.startswith("I didn't guess") and "first half" in told.text


def test_the_sitting_on_screen_is_the_one_answered_about(talk, explainer):
    profile = talk.profile
    first = explainer.timeline(profile, 1)  # not the latest: the tab shows it, so the answer uses it
    talk.set_view_state(Lens.EXPERTS, first)
    step = next(s for s in first.predicted if unique_title(talk, s))
    answer = talk.ask(f"why was your guess for {unique_title(talk, step)} wrong")
    assert answer.explanation is first and answer.movie_id == step.item_id
    assert "In sitting 1 of" in answer.text


def test_show_the_timeline_switches_to_the_tab_and_says_what_it_shows(talk, explainer):
    answer = talk.ask("show the timeline")
    assert answer.question.intent is Intent.LENS and answer.lens == "experts" and talk.lens is Lens.EXPERTS
    latest = explainer.timeline(talk.profile)
    assert answer.explanation == latest
    judged = [s for s in latest.predicted if s.correct is not None]
    assert f"got {sum(s.correct for s in judged)} of {len(judged)} right" in answer.text
    assert answer.text.startswith(f"Here is the expert timeline of sitting {latest.sitting} of {latest.sittings}")


def test_adhoc_profile_its_rating_order_is_its_sitting(app_engine, explainer):
    movies = [m.id for m in app_engine.catalogue.movies[:8]]
    profile = app_engine.make_profile(movies, ratings=[5, 4, 2, 5, 1, 4, 2, 5])
    talk = Conversation(app_engine, profile)
    timeline = explainer.timeline(profile)
    step = next(s for s in timeline.predicted if unique_title(talk, s))
    answer = talk.ask(f"why did you guess I wouldn't like {unique_title(talk, step)}")
    assert answer.explanation == timeline and timeline.user_id is None
    assert "your ratings in the order you added them" in answer.text
    shown = talk.ask("show me my sittings")
    assert shown.explanation == timeline and shown.lens == "experts"


def test_why_on_the_expert_tab_is_answered_from_the_static_shares(talk, app_engine):
    top = app_engine.recommend(talk.profile, 1)[0].movie
    talk.set_lens(Lens.EXPERTS)
    answer = talk.ask("why this movie?")
    assert answer.lens == "experts" and answer.explanation == app_engine.explain(talk.profile, top.id, Lens.EXPERTS)
    assert answer.text.startswith(f"I recommend {top.label}, number 1 for you.") or "number 1 for you" in answer.text
