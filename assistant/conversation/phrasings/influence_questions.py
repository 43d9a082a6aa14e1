"""The influence lens's own questions: "who influenced this?", "which of my ratings mattered most for
Fargo?" and "what if I rated Alien 2 stars?". Each handler takes the conversation (its profile, focus
and helpers) and the parsed question, and answers from influence explanations phrased by
InfluencePhrasing; the dialogue finds them through LENS_QUESTIONS and never names the lens."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.conversation import phrasing as say
from assistant.conversation.intents import Answer, Intent, Question, plain_answer
from assistant.conversation.numbers import star_words
from assistant.conversation.phrasings.influence import InfluencePhrasing, RatingChange
from engine.api import STARS, Lens, Movie, Profile

if TYPE_CHECKING:
    from assistant.conversation.dialogue import Conversation


def who_influenced(talk: "Conversation", question: Question) -> Answer:
    return _influence_answer(talk, question, InfluencePhrasing.influencers)


def my_ratings(talk: "Conversation", question: Question) -> Answer:
    return _influence_answer(talk, question, InfluencePhrasing.own_ratings)


def _influence_answer(talk: "Conversation", question: Question, phrase) -> Answer:
    movie = talk.movie_asked(question)
    if isinstance(movie, Answer):
        return movie
    explanation = talk.explained(movie, lens=Lens.INFLUENCE)
    said = phrase(InfluencePhrasing(talk.movies), movie, explanation)
    return Answer(question, said.text, said.speech, movie.id, Lens.INFLUENCE.value,
                  rank=talk.engine.rank_of(talk.profile, movie.id), explanation=explanation)


def what_if_rate(talk: "Conversation", question: Question) -> Answer:
    """A rating changed in thought: the movie in focus explained before and after, both as fold-ins
    of the profile's ratings (no retraining), so the difference is the changed rating's alone."""
    if question.title is None and not question.reference:
        return plain_answer(question, "Which movie? Say for example “what if I rated Alien 2 stars”.")
    changed = talk.movie_asked(question)
    if isinstance(changed, Answer):
        return changed
    stars = question.stars
    if stars is None:
        return plain_answer(question, f"How many stars? Say for example “what if I rated {changed.title} 2 stars”.",
                            "How many stars? Say for example, what if I rated it two stars.")
    if not float(stars).is_integer() or int(stars) not in STARS:
        return plain_answer(question, f"A rating is 1 to 5 whole stars, not {stars:g}.")
    stars = int(stars)
    profile = talk.profile
    old = profile.rating(changed.id) if changed.id in profile.movies else None
    if old == stars:
        return plain_answer(question, f"You already rated {talk.written(changed)} {star_words(stars)}.",
                            f"You already rated {say.spoken_title(changed)} {star_words(stars)}.")
    base = replace(profile, user_id=None)  # a fold-in on both sides: only the rating differs
    after = base.with_rating(changed.id, stars)
    subject = _what_if_subject(talk, changed, after)
    before_explained = talk.explained(subject, base, Lens.INFLUENCE)
    after_explained = talk.explained(subject, after, Lens.INFLUENCE)
    ranks, by_prediction = (before_explained.rank, after_explained.rank), True
    if None in ranks:  # the explainer did not rank it: the recommendation list's rank instead
        ranks, by_prediction = (talk.engine.rank_of(base, subject.id), talk.engine.rank_of(after, subject.id)), False
    change = RatingChange(changed, old, changed.id in profile.movies, stars, subject, before_explained,
                          after_explained, None if None in ranks else ranks, by_prediction)
    said = InfluencePhrasing(talk.movies).rating_change(change)
    return Answer(question, said.text, said.speech, subject.id, Lens.INFLUENCE.value, rank=ranks[1],
                  explanation=after_explained,
                  hypothetical=f"What if you rated {changed.label} {stars}★: not applied to your profile.")


def _what_if_subject(talk: "Conversation", changed: Movie, after: Profile) -> Movie:
    """The movie a what-if is about: the one in focus, unless it is the changed one or in the profile."""
    if talk.focus in talk.movies and talk.focus != changed.id and talk.focus not in after.movies:
        return talk.movies[talk.focus]
    top = talk.top(talk.profile)
    return top if top.id not in after.movies else talk.top(after)


QUESTIONS = {
    Intent.WHO_INFLUENCED: who_influenced,
    Intent.MY_RATINGS: my_ratings,
    Intent.WHAT_IF_RATE: what_if_rate,
}
