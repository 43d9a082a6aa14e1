"""The pixel lens's own questions, about the pair on the Pixel relevance tab (the product catalogue
demo): "why are these related?", "why aren't these related?", "show me related items" and "switch
to the brand shopper"; and, while that tab is in front, "why?" and "why not?" without a title. The
tab tells the conversation what it shows (`PixelViewState`), so an answer about the pair on screen
phrases the very object drawn; a shopper switch explains the same pair again for the other shopper
and the tab then draws that answer's object. The dialogue finds these handlers through
LENS_QUESTIONS and SCREEN_QUESTIONS and never names the lens."""
from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.conversation.intents import Answer, Intent, Question, plain_answer
from assistant.conversation.phrasings.pixels import PixelPhrasing
from engine.api import LENS_TITLES, Lens

if TYPE_CHECKING:
    from assistant.conversation.dialogue import Conversation
    from assistant.views.pixel_state import PixelViewState

TAB = LENS_TITLES[Lens.PIXELS]
NO_PAIR = (f"Open the {TAB} tab first: it shows a pair of product images from the catalogue demo, and I answer "
           "about that pair.")
NOT_READY = f"The catalogue demo's model is not ready yet: open the {TAB} tab to prepare it, then ask again."


def _on_screen(talk: "Conversation", question: Question) -> "PixelViewState | Answer":
    """What the tab shows, or the answer that says why there is nothing to talk about."""
    reason = talk.engine.lenses().get(Lens.PIXELS)
    if reason is not None:
        return plain_answer(question, reason)
    state = talk.view_state(Lens.PIXELS)
    if state is None:
        return plain_answer(question, NO_PAIR)
    return state


def _answer(question: Question, said, explanation=None) -> Answer:
    return Answer(question, said.text, said.speech, lens=Lens.PIXELS.value, explanation=explanation)


def why_related(talk: "Conversation", question: Question) -> Answer:
    state = _on_screen(talk, question)
    if isinstance(state, Answer):
        return state
    return _answer(question, PixelPhrasing().why_related(state.explanation), state.explanation)


def why_unrelated(talk: "Conversation", question: Question) -> Answer:
    state = _on_screen(talk, question)
    if isinstance(state, Answer):
        return state
    return _answer(question, PixelPhrasing().why_not(state.explanation), state.explanation)


def why_decided(talk: "Conversation", question: Question) -> Answer:
    """"Why?" with the tab in front: the reason for the decision on screen (shared view when related)."""
    state = _on_screen(talk, question)
    if isinstance(state, Answer):
        return state
    x = state.explanation
    said = PixelPhrasing().why_related(x) if x.related else PixelPhrasing().why_not(x)
    return _answer(question, said, x)


def related_items(talk: "Conversation", question: Question) -> Answer:
    state = _on_screen(talk, question)
    if isinstance(state, Answer):
        return state
    related = state.related
    if not related:  # the strip is still loading: rank them here (on the conversation's thread)
        explainer = _explainer(talk)
        if explainer is None:
            return plain_answer(question, NOT_READY)
        related = tuple(explainer.related(state.shopper, state.query.id, k=8))
    return _answer(question, PixelPhrasing().related_items(state.shopper, state.query, related))


def shopper(talk: "Conversation", question: Question) -> Answer:
    state = _on_screen(talk, question)
    if isinstance(state, Answer):
        return state
    wanted = question.shopper
    explainer = _explainer(talk)
    if explainer is None:
        return plain_answer(question, NOT_READY)
    if wanted not in explainer.shoppers:
        return plain_answer(question, f"Which shopper? The catalogue demo has the {' and '.join(explainer.shoppers)} shoppers.")
    if wanted == state.shopper:
        after = state.explanation
    else:
        after = explainer.explain_pair(wanted, state.query.id, state.candidate.id)
    return _answer(question, PixelPhrasing().shopper_switched(state.explanation, after), after)


def _explainer(talk: "Conversation"):
    """The prepared pixel explainer, or None: preparing it (training) is the tab's job, not an answer's."""
    if not talk.engine.is_prepared(Lens.PIXELS):
        return None
    return talk.engine.explainer(Lens.PIXELS)


QUESTIONS = {
    Intent.WHY_RELATED: why_related,
    Intent.WHY_UNRELATED: why_unrelated,
    Intent.RELATED_ITEMS: related_items,
    Intent.SHOPPER: shopper,
}

# While the tab is in front, "why?" and "why not?" without a title are about its pair.
ON_SCREEN = {
    Intent.WHY: why_decided,
    Intent.WHY_NOT: why_unrelated,
}
