"""The expert lens's sentences, phrased from constructed ExpertShares and ExpertTimeline objects: they
name the deciding expert with its exact share, say the guess, whether it was right and the
probability, and say "no expert was confident" as a state, never as a share."""
from __future__ import annotations

import pytest

from assistant.conversation.phrasing import percent
from assistant.conversation.phrasings import PHRASINGS, phrasing_for
from assistant.conversation.phrasings.experts import ExpertPhrasing, plain_label, shares_of
from engine.api import Lens, Movie
from tests.assistant.views.expert_examples import make_shares, make_timeline

HEAT = Movie(42, "Heat", 1995, ("Action", "Crime", "Thriller"))
SPOKEN_WORD_LIMIT = 45


def movie_of(step) -> Movie:
    return Movie(step.item_id, step.title.rsplit(" (", 1)[0], int(step.title[-5:-1]), ())


def test_registry_phrases_the_expert_lens():
    assert PHRASINGS[Lens.EXPERTS] is ExpertPhrasing
    assert isinstance(phrasing_for(Lens.EXPERTS, {}), ExpertPhrasing)


@pytest.mark.parametrize("seed", [1, 5])  # seed 5: a runner-up over 15% is named in the decision sentence
def test_decided_names_the_deciding_expert_with_its_share_then_the_others(seed):
    shares = make_shares(seed)
    said = ExpertPhrasing({}).decided(HEAT, shares)
    ranked = sorted(shares.votes, key=lambda v: -v.share)
    top = plain_label(shares.info(ranked[0].id).label)
    assert f"mostly {top}: {percent(ranked[0].share)}" in said.text
    assert f"{percent(shares.probability)} chance" in said.text
    for vote in ranked[1:]:  # each other expert named once, with its share ("then X: 30%" or "X 30%")
        label = plain_label(shares.info(vote.id).label)
        assert said.text.count(label) == 1, said.text
        assert f"{label} {percent(vote.share)}" in said.text or f"{label}: {percent(vote.share)}" in said.text
    assert said.speech == f"Heat: mostly {top}, {percent(ranked[0].share)}."
    assert [s.key for s in said.shares] == [shares.info(v.id).key for v in ranked]
    assert sum(s.relevance for s in said.shares) == pytest.approx(shares.probability)
    assert sum(s.share for s in said.shares) == pytest.approx(1.0)
    assert not top.startswith("...")


def test_undecided_recommendation_is_said_as_a_state():
    shares = make_shares(undecided=True)
    said = ExpertPhrasing({}).decided(HEAT, shares)
    assert "no expert was confident" in said.text and "decided it" in said.text
    assert "mostly" not in said.text and said.speech == "Heat: no expert was confident about it."


def test_recommended_and_not_recommended_carry_the_rank_and_the_decision():
    shares = make_shares()
    phrasing = ExpertPhrasing({})
    said = phrasing.recommended(HEAT, 3, shares, "I recommend")
    assert said.text.startswith("I recommend Heat (1995), number 3 for you.")
    low = phrasing.not_recommended(HEAT, 250, 1500, shares)
    assert low.text.startswith("Heat (1995) ranks 250th of the 1500 movies")
    assert phrasing.part_of(shares, 42) is None


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_guessed_says_the_guess_right_or_wrong_and_who_decided(seed):
    timeline = make_timeline(12, seed=seed)
    for step in timeline.predicted:
        said = ExpertPhrasing({}).guessed(movie_of(step), step, timeline)
        guess = "like" if step.probability >= 0.5 else "dislike"
        assert f"I guessed you'd {guess} {step.title}: a like-probability of {percent(step.probability)}" in said.text
        assert f"so the guess was {'right' if step.correct else 'wrong'}" in said.text
        top = max(step.votes, key=lambda v: v.share)
        label = next(e.label for e in timeline.experts if e.id == top.id)
        assert f"Mostly because of {label}: {percent(top.share)}" in said.text
        aggregate = next(a for a in timeline.aggregates if top.id in a.experts)
        assert f"“{aggregate.label}”: {percent(dict(step.aggregate_shares)[aggregate.key])}" in said.text
        assert "sitting 2 of 4, 1997-10-05" in said.text
        assert len(said.speech.split()) <= SPOKEN_WORD_LIMIT


def test_undecided_guess_and_a_given_movie():
    timeline = make_timeline(10, undecided_at=8)
    step = timeline.steps[8]
    said = ExpertPhrasing({}).guessed(movie_of(step), step, timeline)
    assert "No expert was confident about it" in said.text and "Mostly" not in said.text
    given = timeline.steps[0]
    told = ExpertPhrasing({}).not_guessed(movie_of(given), given, timeline)
    assert "in the first half" in told.text and f"your {given.rating} star" in told.text


def test_timeline_summary_counts_the_guesses_and_the_deciders():
    timeline = make_timeline(12, seed=5)
    said = ExpertPhrasing({}).timeline_summary(timeline)
    judged = [s for s in timeline.predicted if s.correct is not None]
    assert f"I guessed the last {len(timeline.predicted)} and got {sum(s.correct for s in judged)} of {len(judged)} right" \
        in said.text
    assert f"changed {len(timeline.changes)} time" in said.text
    adhoc = ExpertPhrasing({}).timeline_summary(make_timeline(6, user_id=None))
    assert "your ratings in the order you added them" in adhoc.text


def test_shares_of_is_the_chat_table():
    shares = make_shares()
    rows = shares_of(shares)
    assert [r.share for r in rows] == sorted((v.share for v in shares.votes), reverse=True)
    assert all(r.kind == "expert" for r in rows)


def test_chat_table_shows_each_expert_in_its_tab_colour():
    from assistant.views.chat_panel import _shares_html
    from assistant.views.expert_palette import expert_colour

    shares = make_shares()
    html = _shares_html(shares_of(shares))
    assert "part of p" in html and "relevance" not in html
    for info in shares.experts:
        assert f"color:{expert_colour(info.key)};" in html
