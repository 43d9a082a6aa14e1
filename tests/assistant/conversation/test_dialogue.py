"""The dialogue answers from the engine's explanation objects, keeps context and never raises."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.conversation import phrasing
from assistant.conversation.dialogue import LIST_LENGTH, Conversation
from assistant.conversation.intents import Intent
from engine.api import Lens

SPOKEN_WORD_LIMIT = 45  # about 15 s at espeak's 175 words a minute


@pytest.fixture
def talk(app_engine):
    return Conversation(app_engine, app_engine.user_profile(1))


def test_why_names_exactly_the_top_features_of_the_explanation(talk, app_engine):
    top = app_engine.recommend(talk.profile, 1)[0]
    answer = talk.ask("why do you recommend this movie?")
    assert answer.movie_id == top.movie.id and answer.rank == 1 and answer.lens == "relevance"
    explanation = app_engine.explain(talk.profile, top.movie.id)
    expected = [f for f in explanation.features[: phrasing.TOP_REASONS] if f.relevance > 0]
    assert [s.name for s in answer.shares] == [f.name for f in expected]
    assert [s.relevance for s in answer.shares] == pytest.approx([f.relevance for f in expected])
    for share in answer.shares:
        title = phrasing.spoken_title(app_engine.movie(int(share.key))) if share.kind == "movie" else None
        if title:
            assert title in answer.speech and title in answer.text
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT


def test_why_not_gives_the_rank_and_what_pulls_it_down(talk, app_engine):
    ranks = {m.id: app_engine.rank_of(talk.profile, m.id) for m in app_engine.catalogue.movies[:400]}
    low = max((m for m, r in ranks.items() if r is not None), key=lambda m: ranks[m])
    movie = app_engine.movie(low)
    answer = talk.ask(f"why not {movie.title}?")
    assert answer.question.intent is Intent.WHY_NOT and answer.movie_id == low
    assert answer.rank == ranks[low] and phrasing.ordinal(ranks[low]) in answer.text
    against = [s for s in answer.shares if s.share < 0]
    negatives = app_engine.explain(talk.profile, low).negative[: len(against)]
    assert [s.name for s in against] == [f.name for f in negatives]
    assert talk.focus == low  # "it" now means this movie
    assert talk.ask("tell me about it").movie_id == low


def test_why_not_a_recommended_movie_says_it_is_recommended(talk, app_engine):
    second = app_engine.recommend(talk.profile, 2)[1].movie
    answer = talk.ask(f"why not {second.title}")
    assert answer.rank == 2 and answer.text.startswith("But I do recommend")


def test_what_if_recomputes_ranks_without_changing_the_profile(talk, app_engine):
    profile = talk.profile
    top = app_engine.recommend(profile, 1)[0].movie
    watched = app_engine.explain(profile, top.id).positive[0]
    answer = talk.ask(f"what if I hadn't seen {app_engine.movie(int(watched.key)).title}?")
    assert answer.question.intent is Intent.WHAT_IF_REMOVE and answer.movie_id == top.id
    assert answer.rank == app_engine.rank_of(profile.without_movie(int(watched.key)), top.id)
    assert talk.profile == profile and answer.change is None
    unseen = next(m for m in app_engine.catalogue.movies if m.id not in profile.movies and m.id != top.id)
    added = talk.ask(f"what if I add {unseen.label}")
    assert added.rank == app_engine.rank_of(profile.with_movie(unseen.id), top.id)


def test_add_remove_and_attributes_change_the_profile(talk, app_engine):
    movie = next(m for m in app_engine.catalogue.movies if m.id not in talk.profile.movies)
    assert talk.ask(f"add {movie.title} to my profile").change.add == (movie.id,)
    assert movie.id in talk.profile.movies
    assert talk.ask(f"remove {movie.title}").change.remove == (movie.id,)
    assert movie.id not in talk.profile.movies
    answer = talk.ask("I am a 30 year old woman and I work as a teacher")
    assert dict(answer.change.attributes) == {"gender": "F", "age": "25-34", "occupation": "educator"}
    assert (talk.profile.gender, talk.profile.age, talk.profile.occupation) == ("F", "25-34", "educator")
    assert "don't know the occupation" in talk.ask("I work as a dragon tamer").text


def test_unknown_title_suggests_close_ones(talk):
    answer = talk.ask("why not Fargoo Returns")
    assert answer.text.startswith("I don't know a movie called “Fargoo Returns”") and answer.movie_id is None
    assert answer.suggestions and all(s in answer.text for s in answer.suggestions)
    assert "Star Wars (1977)" in talk.ask("why not Star Warz episode four").suggestions


def test_misspelt_titles_with_articles_and_years_resolve(talk, app_engine):
    suspects = next(m.id for m in app_engine.catalogue.movies if m.title == "The Usual Suspects")
    for asked in ("the usual suspect", "Usual Suspects, The", "usual suspects 1995", "THE USUAL SUSPECTS (1995)"):
        assert talk.ask(f"tell me about {asked}").movie_id == suspects, asked


def test_next_walks_the_recommendation_list(talk, app_engine):
    top3 = [r.movie.id for r in app_engine.recommend(talk.profile, 3)]
    assert [talk.ask("recommend something").movie_id, talk.ask("next").movie_id, talk.ask("another one").movie_id] == top3


def test_lens_repeat_stop_help_and_unknown(talk):
    influence = talk.ask("show the influence graph")
    assert influence.lens == "influence" and talk.lens is Lens.INFLUENCE
    assert influence.text == "Here is the training-data influence view."
    experts = talk.ask("show the expert timeline")
    assert experts.lens == "experts" and "not available" in experts.text
    assert talk.ask("show the sankey diagram").lens == "relevance" and talk.lens is Lens.RELEVANCE
    said = talk.ask("why this movie").text
    assert talk.ask("say that again").text == said
    stop = talk.ask("stop talking")
    assert stop.stop_speaking and stop.speech == ""
    assert talk.ask("repeat").text == said  # "stop" is not something to repeat
    assert "why not <title>" in talk.ask("help").text
    assert talk.ask("purple monkey dishwasher").text.startswith("Sorry, I didn't understand")


def test_in_profile_movie_is_not_recommended(talk, app_engine):
    owned = app_engine.movie(talk.profile.movies[0])
    assert "is in your profile" in talk.ask(f"why {owned.title}").text


def test_spoken_answers_stay_short(talk, app_engine):
    questions = ["why this movie", "next", "another one", "recommend something", "what if i add star wars",
                 "why not toy story", "tell me about the godfather", "help", "blah"]
    for position in range(LIST_LENGTH):
        questions.append("next")
    for text in questions:
        answer = talk.ask(text)
        assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT, answer.speech


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=120))
def test_conversation_always_answers_arbitrary_text(talk, text):
    answer = talk.ask(text)
    assert answer.text.strip()
