"""The conversation about the Pixel relevance tab's pair: each answer is phrased from the explanation on
screen (its numbers recomputed here from the same object), "why?" and "why not?" follow the tab in
front, a shopper switch explains the same pair again for the other shopper, and without the tab the
answers say what to do in one sentence."""
from __future__ import annotations

import re

import pytest

from assistant.conversation.dialogue import Conversation
from assistant.conversation.intents import Intent
from assistant.conversation.phrasings.pixels import PixelPhrasing, evidence_split
from assistant.views.pixel_state import PixelViewState, decomposition
from engine.api import Lens
from pixel_fakes import FakePixelExplainer


@pytest.fixture(scope="module")
def explainer():
    return FakePixelExplainer()


@pytest.fixture
def talk(app_engine, explainer, monkeypatch):
    """A conversation on the real movie engine whose pixel lens is the fake explainer."""
    lenses = dict(app_engine.lenses())
    lenses[Lens.PIXELS] = None
    monkeypatch.setattr(app_engine, "lenses", lambda: lenses, raising=False)
    monkeypatch.setattr(app_engine, "is_prepared", lambda lens: True, raising=False)
    monkeypatch.setattr(app_engine, "explainer", lambda lens: explainer, raising=False)
    conversation = Conversation(app_engine)
    conversation.set_lens(Lens.PIXELS)
    return conversation


def on_screen(explainer, shopper, query, candidate, view=None):
    x = explainer.explain_pair(shopper, query, candidate)
    related = tuple(explainer.related(shopper, query, k=8))
    return PixelViewState(shopper, x.query, x.candidate, view or x.default_view, x, related)


def percent_in(text: str, value: float) -> bool:
    return f"{100 * value:.0f}%" in text


def test_why_related_reads_the_shared_view_of_the_object_on_screen(talk, explainer):
    # Two items with the same brand mark, explained for the brand shopper: related, the mark shared.
    same = next(i for i in range(1, 40) if explainer.item(i).brand == explainer.item(0).brand
                and explainer.explain_pair("brand", 0, i).related)
    state = on_screen(explainer, "brand", 0, same)
    talk.set_view_state(Lens.PIXELS, state)
    answer = talk.ask("why are these related?")
    x = state.explanation
    assert answer.question.intent is Intent.WHY_RELATED and answer.explanation is x and answer.lens == "pixels"
    assert x.related and f"are related: P(related) = {x.probability:.2f}" in answer.text
    brand = x.query.brand
    assert f"the {brand} mark carries {100 * x.mark_share('why_related'):.0f}% of the shared evidence" in answer.text.lower()
    split = evidence_split(x, "shared")
    assert percent_in(answer.text, split.query) and percent_in(answer.text, split.candidate)
    assert split.query + split.candidate == pytest.approx(1.0)
    assert "#" not in answer.speech and "P(" not in answer.speech


def test_why_not_reads_the_net_view_and_the_exact_decomposition(talk, explainer):
    state = on_screen(explainer, "brand", 0, 5)
    talk.set_view_state(Lens.PIXELS, state)
    answer = talk.ask("why not?")
    x = state.explanation
    assert answer.explanation is x and answer.question.intent is Intent.WHY_NOT
    split = evidence_split(x, "net")
    assert f"mostly the {split.main}'s pixels ({100 * getattr(split, split.main):.0f}% of the evidence against)" in answer.text
    numbers = dict(decomposition(x))
    for label, value in numbers.items():
        assert f"{label} {value:+.3f}" in answer.text
    assert f"logit {x.logit:+.3f}" in answer.text
    assert sum(numbers.values()) == pytest.approx(x.logit, abs=1e-9)
    assert percent_in(answer.text, x.mark_share("why_not"))
    # The evidence against is the positive part of minus the net map: recomputed from the grids.
    against = {image: sum(max(0.0, -v) for row in getattr(x.net, image) for v in row) for image in ("query", "candidate")}
    assert split.query == pytest.approx(against["query"] / sum(against.values()))


def test_why_follows_the_decision_on_screen_and_the_tab_in_front(talk, explainer, app_engine):
    related = on_screen(explainer, "style", 0, 4)  # same garment class: related for the style shopper
    talk.set_view_state(Lens.PIXELS, related)
    assert related.explanation.related
    answer = talk.ask("why?")
    assert answer.explanation is related.explanation and "shared evidence" in answer.text
    talk.set_lens(Lens.RELEVANCE)  # another tab in front: "why?" is about the movie again
    movie_answer = talk.ask("why?")
    assert movie_answer.lens == Lens.RELEVANCE.value and movie_answer.movie_id is not None
    talk.set_lens(Lens.PIXELS)
    titled = talk.ask("why not Fargo?")  # a title: about that movie, whatever tab is in front
    assert titled.movie_id is not None and titled.lens != "pixels"


def test_related_items_names_the_strip(talk, explainer):
    state = on_screen(explainer, "brand", 3, 7)
    talk.set_view_state(Lens.PIXELS, state)
    answer = talk.ask("show me related items")
    assert answer.question.intent is Intent.RELATED_ITEMS and answer.lens == "pixels"
    ids = [int(n) for n in re.findall(r"#(\d+)", answer.text)]
    assert ids[0] == 3  # the query, then the strip best first
    assert ids[1:] == [item.id for item, _ in state.related]
    best, p = state.related[0]
    assert f"P {p:.2f}" in answer.text and f"item {best.id}" in answer.speech


def test_switching_shopper_explains_the_same_pair_again(talk, explainer):
    state = on_screen(explainer, "style", 2, 6)
    talk.set_view_state(Lens.PIXELS, state)
    answer = talk.ask("switch to the brand shopper")
    x = answer.explanation
    assert answer.question.shopper == "brand" and x.shopper == "brand"
    assert (x.query.id, x.candidate.id) == (2, 6)
    assert x == explainer.explain_pair("brand", 2, 6)
    assert f"for the style shopper this pair had P(related) = {state.explanation.probability:.2f}" in answer.text
    assert f"P(related) = {x.probability:.2f}" in answer.text
    same = talk.ask("use the style shopper")
    assert same.explanation is state.explanation  # already on screen: the object drawn, not a twin


def test_without_the_tab_or_its_model_the_answer_says_what_to_do(talk, app_engine, monkeypatch):
    answer = talk.ask("why are these related?")
    assert answer.explanation is None and "Open the Pixel relevance tab first" in answer.text
    monkeypatch.setattr(app_engine, "is_prepared", lambda lens: False, raising=False)
    talk.set_view_state(Lens.PIXELS, on_screen(FakePixelExplainer(), "style", 0, 1))
    switched = talk.ask("switch to the brand shopper")
    assert "not ready yet" in switched.text and switched.explanation is None
    reason = "The pixel lens (image heatmaps of a match) is not available yet."
    monkeypatch.setattr(app_engine, "lenses", lambda: {lens: (reason if lens is Lens.PIXELS else None) for lens in Lens},
                        raising=False)
    assert talk.ask("show me related items").text == reason


def test_phrasing_of_a_pair_whose_marks_differ(explainer):
    x = explainer.explain_pair("brand", 0, 4)  # same garment, other mark: not related for the brand shopper
    assert x.query.brand != x.candidate.brand and not x.related
    said = PixelPhrasing().why_not(x)
    assert f"the {x.query.brand} and {x.candidate.brand} marks carry" in said.text
    related_said = PixelPhrasing().why_related(x)
    assert "share too little" in related_said.text
