"""The expert lens's own questions: "which part of my profile decided this?" (the static expert shares
of a recommendation), "why did you think I'd dislike Heat?" (the guess about Heat in a sitting's
expert timeline: who decided it) and, when the Expert attribution tab is asked for ("show the
timeline"), what its timeline shows. Each answer carries the object it was phrased from, so the tab
draws what is said; the dialogue finds these handlers through LENS_QUESTIONS and LENS_SHOWN and never
names the lens."""
from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.conversation.intents import Answer, Intent, Question, plain_answer
from assistant.conversation.phrasings.experts import ExpertPhrasing
from engine.api import ExpertTimeline, Lens, Movie

if TYPE_CHECKING:
    from assistant.conversation.dialogue import Conversation


def expert_decided(talk: "Conversation", question: Question) -> Answer:
    """"Which part of my profile decided this?": the movie's static expert shares."""
    movie = talk.movie_asked(question)
    if isinstance(movie, Answer):
        return movie
    explanation = talk.explained(movie, lens=Lens.EXPERTS)
    said = ExpertPhrasing(talk.movies).decided(movie, explanation)
    return Answer(question, said.text, said.speech, movie.id, Lens.EXPERTS.value, said.shares,
                  talk.engine.rank_of(talk.profile, movie.id), explanation=explanation)


def why_guessed(talk: "Conversation", question: Question) -> Answer:
    """"Why did you think I'd dislike Heat?": Heat's guess in the sitting on screen, else in the
    profile's sittings (latest first), and the expert that decided it."""
    if question.title is None and not question.reference:
        return plain_answer(question, "Which movie? Say for example “why did you think I'd dislike Heat”.")
    movie = talk.movie_asked(question)
    if isinstance(movie, Answer):
        return movie
    phrasing = ExpertPhrasing(talk.movies)
    found, given = _find_guess(talk, movie)
    if found is None:
        said = phrasing.not_guessed(movie, *(given or (None, None)))
        timeline = given[1] if given else None
        return Answer(question, said.text, said.speech, movie.id, Lens.EXPERTS.value, explanation=timeline)
    step, timeline = found
    said = phrasing.guessed(movie, step, timeline)
    return Answer(question, said.text, said.speech, movie.id, Lens.EXPERTS.value, explanation=timeline)


def show_timeline(talk: "Conversation", question: Question) -> Answer | None:
    """"Show the timeline": the tab comes to the front with what its timeline shows; None (a plain
    switch) while the lens's models are not prepared yet or there is no sitting to show."""
    engine = talk.engine
    if not engine.is_prepared(Lens.EXPERTS):
        return None
    explainer = engine.explainer(Lens.EXPERTS)
    reason = explainer.timeline_reason(engine.dataset)
    if reason is not None:
        return Answer(question, f"Here is the expert attribution view. {reason}", "Here is the expert attribution view.",
                      lens=Lens.EXPERTS.value)
    timeline = talk.view_state(Lens.EXPERTS)
    if not isinstance(timeline, ExpertTimeline):
        if not explainer.sittings(talk.profile):
            return None
        timeline = explainer.timeline(talk.profile)
    said = ExpertPhrasing(talk.movies).timeline_summary(timeline)
    return Answer(question, said.text, said.speech, lens=Lens.EXPERTS.value, explanation=timeline)


def _find_guess(talk: "Conversation", movie: Movie):
    """((step, timeline) of the movie's guess, or None; (step, timeline) where it was given, or None)."""
    given = None
    on_screen = talk.view_state(Lens.EXPERTS)
    candidates = [on_screen] if isinstance(on_screen, ExpertTimeline) else []
    for timeline in candidates:
        hit = _step(timeline, movie.id)
        if hit is not None and hit.side == "predicted":
            return (hit, timeline), None
        if hit is not None:
            given = (hit, timeline)
    explainer = talk.engine.explainer(Lens.EXPERTS)
    profile = talk.profile
    for info in reversed(explainer.sittings(profile)):
        for window in range(1, info.windows + 1):
            timeline = explainer.timeline(profile, info.index, window)
            hit = _step(timeline, movie.id)
            if hit is not None and hit.side == "predicted":
                return (hit, timeline), None
            if hit is not None and given is None:
                given = (hit, timeline)
    return None, given


def _step(timeline: ExpertTimeline, movie_id: int):
    return next((s for s in timeline.steps if s.item_id == movie_id), None)


QUESTIONS = {
    Intent.EXPERT_DECIDED: expert_decided,
    Intent.WHY_GUESSED: why_guessed,
}

__all__ = ["QUESTIONS", "expert_decided", "show_timeline", "why_guessed"]
