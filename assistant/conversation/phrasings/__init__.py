"""Phrasing per lens: a registry Lens -> phrasing, so that the dialogue reaches each lens's sentences
without switching on the lens, and the lenses' own questions (intent -> handler). Adding a lens's
conversation is its modules here and one entry in each registry below."""
from __future__ import annotations

from typing import Callable, Mapping

from assistant.conversation.phrasings.base import LensPhrasing, Said
from assistant.conversation.phrasings import experts_questions, influence_questions, pixels_questions, relevance_questions
from assistant.conversation.phrasings.experts import ExpertPhrasing
from assistant.conversation.phrasings.influence import InfluencePhrasing
from assistant.conversation.phrasings.relevance import RelevancePhrasing
from engine.api import LENS_TITLES, Lens, LensUnavailableError, Movie

PHRASINGS: dict[Lens, type[LensPhrasing]] = {
    Lens.RELEVANCE: RelevancePhrasing,
    Lens.INFLUENCE: InfluencePhrasing,
    Lens.EXPERTS: ExpertPhrasing,
}

# Questions only one lens answers: handler(conversation, question) -> Answer.
LENS_QUESTIONS: dict[object, Callable] = {**influence_questions.QUESTIONS, **relevance_questions.QUESTIONS,
                                          **pixels_questions.QUESTIONS, **experts_questions.QUESTIONS}

# Questions without a title that a lens answers itself while its tab is in front ("why?" about the
# pixel tab's pair of catalogue images, not about a movie): lens -> intent -> handler.
SCREEN_QUESTIONS: dict[Lens, dict[object, Callable]] = {Lens.PIXELS: pixels_questions.ON_SCREEN}

# What a lens says when its view is asked for ("show the timeline"): handler(conversation, question)
# -> Answer, or None for the plain "Here is the ... view.".
LENS_SHOWN: dict[Lens, Callable] = {Lens.EXPERTS: experts_questions.show_timeline}


def phrasing_for(lens: Lens, movies: Mapping[int, Movie]) -> LensPhrasing:
    """The phrasing of `lens`; LensUnavailableError when the conversation cannot talk about it yet."""
    phrasing = PHRASINGS.get(Lens(lens))
    if phrasing is None:
        raise LensUnavailableError(
            f"I can't talk about the {LENS_TITLES[Lens(lens)].lower()} lens yet: switch to another view to ask why."
        )
    return phrasing(movies)


__all__ = ["LENS_QUESTIONS", "LENS_SHOWN", "LensPhrasing", "PHRASINGS", "SCREEN_QUESTIONS", "Said", "phrasing_for"]
