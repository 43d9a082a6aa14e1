"""'How sure are you?' / 'prove it': answered with the numbers of Engine.removal_check, the same the
line under the Sankey shows, on the written and the spoken side."""
import pytest

from assistant.conversation.dialogue import Conversation
from assistant.conversation.intents import Intent
from assistant.conversation.phrasings.relevance import removal_line

SPOKEN_WORD_LIMIT = 45


@pytest.fixture
def talk(app_engine):
    return Conversation(app_engine, app_engine.user_profile(1))


@pytest.mark.parametrize("question", ["How sure are you?", "prove it", "How do you know?", "can I trust this?"])
def test_answer_quotes_the_removal_check_of_the_movie_in_focus(talk, app_engine, question):
    top = app_engine.recommend(talk.profile, 1)[0].movie
    check = app_engine.removal_check(talk.profile, top.id)
    answer = talk.ask(question)
    assert answer.question.intent is Intent.HOW_SURE
    assert answer.movie_id == top.id and answer.lens == "relevance" and answer.rank == check.rank_before
    for said in (answer.text, answer.speech):
        assert f"{check.rank_before}" in said
    assert answer.text.startswith(removal_line(check, "Trainspotting (1996)"))
    assert f"{check.logit_before:.2f}" in answer.text and f"{check.logit_after:.2f}" in answer.text
    if check.rank_after != check.rank_before:
        assert f"to number {check.rank_after}" in answer.speech
    else:
        assert f"{check.logit_after:.2f}" in answer.speech
    for name in ("Swingers", "Chasing Amy", "Pink Floyd"):  # the reasons taken out, as the check names them
        assert any(name in removed for removed in check.names) and name in answer.text
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT
    assert talk.profile == app_engine.user_profile(1)  # the check works on a copy


def test_named_movie_whose_rank_falls(talk, app_engine):
    star_wars = 50
    check = app_engine.removal_check(talk.profile, star_wars)
    assert check.left_out and check.rank_after > check.rank_before
    answer = talk.ask("are you sure about Star Wars?")
    assert answer.movie_id == star_wars
    assert f"would drop from #{check.rank_before} to #{check.rank_after}" in answer.text
    assert f"from number {check.rank_before} to number {check.rank_after}" in answer.speech
    assert "as if you had not watched it" in answer.text


def test_empty_profile_has_nothing_to_check(app_engine):
    talk = Conversation(app_engine, app_engine.make_profile([]))
    answer = talk.ask("prove it")
    assert "nothing to check" in answer.text


def test_the_speech_grammar_templates_hold_the_new_phrasings():
    from assistant.conversation.phrases import load_phrases

    templates = load_phrases().templates[Intent.HOW_SURE]
    assert "how sure are you" in templates and "prove it" in templates
