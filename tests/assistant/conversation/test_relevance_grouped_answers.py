"""Answers follow the Sankey: a profile movie is explained as if left out ("why not Fargo?"), and with
the grouped view on, "why this movie?" names the genre groups the view draws (issue 13.2, 13.3)."""
import math

import pytest

from assistant.conversation.dialogue import Conversation
from engine.api import GROUP_KIND, group_by_genre

SPOKEN_WORD_LIMIT = 45


@pytest.fixture
def talk(app_engine):
    return Conversation(app_engine, app_engine.user_profile(1))


def fargo(app_engine):
    return next(m for m in app_engine.movies() if m.title == "Fargo")


def test_why_not_a_profile_movie_explains_it_as_if_left_out(talk, app_engine):
    movie = fargo(app_engine)
    assert movie.id in talk.profile.movies

    answer = talk.ask("why not Fargo?")

    explanation = answer.explanation
    assert explanation is not None and explanation.left_out
    assert "is in your profile, so I explain it as if you had not watched it" in answer.text
    rest = talk.profile.without_movie(movie.id)
    assert answer.rank == app_engine.rank_of(rest, movie.id) == explanation.rank
    assert f"number {answer.rank} for you" in answer.text
    assert all(s.key != str(movie.id) for s in answer.shares)  # never its own evidence
    assert [s.name for s in answer.shares] == [f.name for f in explanation.positive[: len(answer.shares)]]
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT
    assert talk.ask("why Fargo").explanation.left_out


def test_grouped_view_answers_name_the_genre_groups(talk, app_engine):
    top = app_engine.recommend(talk.profile, 1)[0]
    talk.set_grouped(True)

    answer = talk.ask("why do you recommend this movie?")

    grouped = group_by_genre(app_engine.explain(talk.profile, top.movie.id))
    assert answer.explanation.groups == grouped.groups  # what the view draws
    expected = [f for f in grouped.positive[: len(answer.shares)]]
    assert [s.name for s in answer.shares] == [f.name for f in expected]
    assert answer.shares[0].kind == GROUP_KIND
    biggest = max(grouped.groups, key=lambda g: g.relevance)
    assert f"your {len(biggest.members)} {biggest.genre} movies" in answer.text
    positive = math.fsum(f.relevance for f in grouped.positive)
    assert answer.shares[0].share == pytest.approx(biggest.relevance / positive)
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT

    talk.set_grouped(False)
    assert talk.ask("why this movie").shares[0].kind == "movie"


def test_what_if_still_names_the_movie_share_in_the_grouped_view(talk, app_engine):
    talk.set_grouped(True)
    profile = talk.profile
    top = app_engine.recommend(profile, 1)[0].movie
    watched = app_engine.explain(profile, top.id).positive[0]
    answer = talk.ask(f"what if I hadn't seen {app_engine.movie(int(watched.key)).title}?")
    assert "of what speaks for it" in answer.text
