"""The relevance lens's own question: "how sure are you?" / "prove it". Answered with the same
removal check the line under the Sankey shows (Engine.removal_check): the movie's rank without the
top reasons its explanation names, re-scored by the same model."""
from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.conversation.intents import Answer, Intent, Question
from assistant.conversation.phrasings.relevance import removal_said
from engine.api import Lens

if TYPE_CHECKING:
    from assistant.conversation.dialogue import Conversation


def how_sure(talk: "Conversation", question: Question) -> Answer:
    movie = talk.movie_asked(question)
    if isinstance(movie, Answer):
        return movie
    check = talk.engine.removal_check(talk.profile, movie.id)
    said = removal_said(check, movie, talk.movies)
    # The view shows the movie's own explanation: the line under it carries these very numbers.
    explanation = talk.explained(movie, lens=Lens.RELEVANCE)
    return Answer(question, said.text, said.speech, movie.id, Lens.RELEVANCE.value, rank=check.rank_before,
                  explanation=explanation)


QUESTIONS = {Intent.HOW_SURE: how_sure}
