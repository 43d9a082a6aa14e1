"""The dialogue answers from the engine's explanation objects, keeps context and never raises."""
import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.conversation import phrasing
from assistant.conversation.dialogue import LIST_LENGTH, Conversation
from assistant.conversation.intents import Intent
from engine.api import Lens, LensUnavailableError
from tests.assistant.expert_lens import serve_ci_experts

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


def test_lens_repeat_stop_help_and_unknown(talk, app_engine, monkeypatch):
    influence = talk.ask("show the influence graph")
    assert influence.lens == "influence" and talk.lens is Lens.INFLUENCE
    assert influence.text == "Here is the training-data influence view."
    expert_explainer = serve_ci_experts(app_engine, monkeypatch)  # the expert lens, CI-sized: its tab says what its timeline shows
    experts = talk.ask("show the expert timeline")
    assert experts.lens == "experts" and talk.lens is Lens.EXPERTS
    assert experts.explanation == expert_explainer.timeline(talk.profile)
    assert experts.text.startswith("Here is the expert timeline of sitting")
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


# ----- the influence lens (real MF on ml-100k) -----

def test_who_influenced_is_phrased_from_the_influence_explanation_it_carries(talk, app_engine):
    top = app_engine.recommend(talk.profile, 1)[0].movie
    answer = talk.ask("who influenced this?")
    assert answer.question.intent is Intent.WHO_INFLUENCED and answer.movie_id == top.id
    assert answer.lens == "influence" and talk.lens is Lens.INFLUENCE
    explanation = app_engine.explain(talk.profile, top.id, Lens.INFLUENCE)
    assert answer.explanation == explanation
    assert f"predicts {explanation.predicted_rating:.2f} stars" in answer.text
    for rating in sorted(explanation.own, key=lambda r: -abs(r.influence))[: phrasing.TOP_REASONS]:
        title = phrasing.display_title(app_engine.movie(rating.item).title)
        verb = "raised" if rating.influence >= 0 else "lowered"
        stars = f"{rating.rating:g} star" + ("" if rating.rating == 1 else "s")
        named = f"your {stars} for {title} {verb} it by {abs(rating.influence):.2f} stars"
        assert named.lower() in answer.text.lower()
    strongest_other = max(explanation.others, key=lambda r: abs(r.influence))
    assert f"User {strongest_other.user}'s" in answer.text
    assert json.loads(json.dumps(answer.to_dict()))["explanation"]["lens"] == "influence"
    assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT


def test_why_is_answered_through_the_lens_on_screen(talk, app_engine, monkeypatch):
    top = app_engine.recommend(talk.profile, 1)[0].movie
    talk.set_lens(Lens.INFLUENCE)
    influence = talk.ask("why this movie?")
    assert influence.lens == "influence" and influence.explanation == app_engine.explain(talk.profile, top.id, Lens.INFLUENCE)
    assert influence.rank == 1 and "number 1 for you" in influence.text
    talk.set_lens(Lens.RELEVANCE)
    relevance = talk.ask("why this movie?")
    assert relevance.lens == "relevance" and relevance.explanation == app_engine.explain(talk.profile, top.id)
    serve_ci_experts(app_engine, monkeypatch)  # the expert lens, CI-sized
    talk.set_lens(Lens.EXPERTS)
    experts = talk.ask("why this movie?")
    assert experts.lens == "experts" and experts.explanation == app_engine.explain(talk.profile, top.id, Lens.EXPERTS)
    assert "number 1 for you" in experts.text and talk.lens is Lens.EXPERTS


def test_my_ratings_names_only_own_ratings_of_an_ad_hoc_profile_and_says_fold_in(app_engine):
    liked = [m.id for m in app_engine.catalogue.movies[:6]]
    profile = app_engine.make_profile(liked, ratings=[5, 4, 1, 5, 2, 3])
    talk = Conversation(app_engine, profile)
    fargo = next(m for m in app_engine.catalogue.movies if m.title == "Fargo")
    answer = talk.ask("which of my ratings mattered most for Fargo?")
    assert answer.question.intent is Intent.MY_RATINGS and answer.movie_id == fargo.id
    explanation = app_engine.explain(profile, fargo.id, Lens.INFLUENCE)
    assert answer.explanation == explanation and explanation.fold_in
    assert explanation.note and explanation.note in answer.text and "User " not in answer.text
    assert answer.speech.endswith("That is estimated for your new profile.")
    first = max(explanation.own, key=lambda r: abs(r.influence))
    assert phrasing.display_title(app_engine.movie(first.item).title) in answer.speech


def test_a_movie_of_the_profile_is_answered_as_a_fit_to_its_own_rating(talk, app_engine):
    rated = talk.profile.movies[0]
    title = phrasing.display_title(app_engine.movie(rated).title)
    for question, intent in ((f"who influenced {title}?", Intent.WHO_INFLUENCED),
                             (f"which of my ratings mattered most for {title}?", Intent.MY_RATINGS)):
        answer = talk.ask(question)
        assert answer.question.intent is intent and answer.movie_id == rated and answer.lens == "influence"
        explanation = app_engine.explain(talk.profile, rated, Lens.INFLUENCE)
        assert answer.explanation == explanation and explanation.rank is None
        assert any(r.item == rated for r in explanation.own)  # its own rating is among the related ones
        assert f"{explanation.predicted_rating:.2f} stars" in answer.text and "predicts" not in answer.text
        stars = phrasing_stars(talk.profile.rating(rated))
        assert answer.text.count(f"{stars} yourself") == (intent is Intent.WHO_INFLUENCED)
        assert "fitted" in answer.text or "fits" in answer.text


def phrasing_stars(value) -> str:
    return f"{value:g} star" + ("" if value == 1 else "s")


def test_what_if_rated_compares_fold_ins_before_and_after_without_changing_the_profile(talk, app_engine):
    profile = talk.profile
    alien = next(m for m in app_engine.catalogue.movies if m.title == "Alien")
    assert profile.rating(alien.id) == 5
    subject = app_engine.recommend(profile, 1)[0].movie
    answer = talk.ask("what if I rated Alien 2 stars?")
    assert answer.question.intent is Intent.WHAT_IF_RATE and answer.movie_id == subject.id
    base = dataclasses.replace(profile, user_id=None)
    before = app_engine.explain(base, subject.id, Lens.INFLUENCE)
    after = app_engine.explain(base.with_rating(alien.id, 2), subject.id, Lens.INFLUENCE)
    assert answer.explanation == after and after.fold_in and answer.rank == after.rank
    assert (f"would go from {before.predicted_rating:.2f} to {after.predicted_rating:.2f} stars "
            f"({after.predicted_rating - before.predicted_rating:+.2f})") in answer.text
    assert f"from {phrasing.ordinal(before.rank)} to {phrasing.ordinal(after.rank)}" in answer.text or \
        before.rank == after.rank
    assert "estimate" in answer.text and "estimate" in answer.speech
    assert talk.profile == profile and answer.change is None


def test_what_if_rated_asks_for_a_rating_it_can_use(talk):
    assert "1 to 5 whole stars" in talk.ask("what if I rated Alien 7 stars").text
    assert "1 to 5 whole stars" in talk.ask("what if I rated Alien 2.5 stars").text
    assert talk.ask("what if I rated Alien").text.startswith("How many stars?")
    assert talk.ask("what if I rated Alien 5 stars").text == "You already rated Alien (1979) 5 stars."


def test_an_unavailable_influence_lens_says_why(app_engine):
    reason = "The influence lens is not available because this dataset has no star ratings."

    class NoInfluence:
        """The real engine, except that its influence lens is unavailable."""

        def __getattr__(self, name):
            return getattr(app_engine, name)

        def explain(self, profile, movie_id, lens=Lens.RELEVANCE):
            if Lens(lens) is Lens.INFLUENCE:
                raise LensUnavailableError(reason)
            return app_engine.explain(profile, movie_id, lens)

    talk = Conversation(NoInfluence(), app_engine.user_profile(1))
    for question in ("who influenced this?", "which of my ratings mattered most for Heat", "what if I rated Alien 2 stars"):
        answer = talk.ask(question)
        assert answer.text == reason and answer.explanation is None, question


def test_influence_answers_stay_short(talk):
    for text in ("who influenced this", "which of my ratings mattered most", "what if i rated alien two stars",
                 "what if i rated star wars one star", "why this movie", "next", "why not toy story 2"):
        answer = talk.ask(text)
        assert len(answer.speech.split()) <= SPOKEN_WORD_LIMIT, answer.speech
