"""The speech grammar: generated from the intent templates, exactly their language, every word in its
small dictionary, built once per catalogue and then loaded from the cache."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pocketsphinx
import pytest

from assistant.conversation.intents import Intent
from assistant.conversation.phrases import load_phrases
from assistant.speech import pronunciation
from assistant.speech.grammar import (
    Grammar,
    build_grammar,
    fsg_text,
    phrase_for,
    slot_values,
    token,
)

SAMPLE_TITLES = ("The Usual Suspects", "Fargo", "Star Wars", "12 Angry Men", "The Godfather: Part II", "Seven (Se7en)")


@pytest.fixture(scope="module")
def grammar(catalogue, cache) -> Grammar:
    titles, occupations = catalogue
    return build_grammar(titles, occupations, cache)


@pytest.fixture(scope="module")
def graph(grammar) -> pocketsphinx.FsgModel:
    return pocketsphinx.FsgModel.readfile(str(grammar.fsg_path), pocketsphinx.LogMath(), 7.5)


def fsg_words(path: Path) -> set[str]:
    return {line.split()[4] for line in path.read_text("utf-8").splitlines()
            if line.startswith("TRANSITION") and len(line.split()) == 5}


def dict_words(path: Path) -> set[str]:
    return {re.sub(r"\(\d+\)$", "", line.split()[0]) for line in path.read_text("utf-8").splitlines() if line}


def fillings(template: str, occupations: list[str]) -> list[dict]:
    """Slot values to try in a template: every value of its slots, a few titles and every reference."""
    phrases = load_phrases()
    values = {
        "title": [*SAMPLE_TITLES, *phrases.references],
        "age": list(phrases.ages),
        "gender": [w for words in phrases.genders.values() for w in words],
        "occupation": occupations,
        "lens": [w for words in phrases.lenses.values() for w in words],
        "stars": list(phrases.stars),
    }
    names = re.findall(r"\{(\w+)\}", template)
    longest = max((len(values[n]) for n in names), default=1)
    return [{n: values[n][i % len(values[n])] for n in names} for i in range(longest)]


def test_the_grammar_holds_every_template_of_every_intent(grammar, graph, catalogue):
    assert grammar.left_out == ()
    phrases = load_phrases()
    assert set(phrases.templates) == set(Intent) - {Intent.UNKNOWN}
    tried = 0
    for templates in phrases.templates.values():
        for template in templates:
            for slots in fillings(template, catalogue[1]):
                sentence = phrase_for(template, tokens=True, **slots)
                assert graph.accept(sentence), f"{template!r} as {sentence!r}"
                tried += 1
    assert tried > 500


@pytest.mark.parametrize("sentence", [
    "why is fargo",  # "why is {title} recommended" without its ending
    "why not fargo recommended",  # one template's beginning with another's ending
    "tell me about",
    "i am a twenty_five year old",
    "why not fargo fargo",
    "why not the usual suspects",  # a title is one grammar word: "the_usual_suspects"
])
def test_the_grammar_holds_nothing_else(graph, sentence):
    assert not graph.accept(sentence)


def test_every_word_of_the_grammar_and_only_those_are_in_its_dictionary(grammar):
    words = fsg_words(grammar.fsg_path)
    assert words == dict_words(grammar.dict_path)
    assert {"why", "the_usual_suspects", "fargo", "twenty_five", "this_movie", "sankey_diagram"} <= words
    for line in grammar.dict_path.read_text("utf-8").splitlines():
        _, *phones = line.split()
        assert phones and all(re.fullmatch(r"[A-Z]{1,2}", p) for p in phones), line


def test_the_grammar_is_small_and_each_title_ending_has_one_title_bundle(grammar):
    text = grammar.fsg_path.read_text("utf-8")
    states = int(re.search(r"NUM_STATES (\d+)", text).group(1))
    templates = [t for ts in load_phrases().templates.values() for t in ts if "{title}" in t]
    endings = {t.partition("{title}")[2].strip() for t in templates}
    assert states < 400
    assert text.count(" the_usual_suspects\n") == len(endings)


def test_a_second_start_loads_the_cached_grammar(grammar, catalogue, cache):
    titles, occupations = catalogue
    again = build_grammar(titles, occupations, cache)
    assert again.from_cache and not grammar.from_cache
    assert again.folder == grammar.folder and again.titles == grammar.titles
    other = build_grammar({1: "Toy Story", 2: "Fargo"}, occupations, cache)
    assert other.folder != grammar.folder and other.titles.coverage == (2, 2)
    assert not list(cache.glob(".grammar-*")), "no scratch folder is left behind"
    (other.folder / "words.dict").unlink()  # a damaged cache is rebuilt, not used
    rebuilt = build_grammar({1: "Toy Story", 2: "Fargo"}, occupations, cache)
    assert not rebuilt.from_cache and rebuilt.dict_path.is_file()


@pytest.mark.parametrize("template, slots, said", [
    ("why not {title}", {"title": "Fargo"}, "why not fargo"),
    ("tell me about {title}", {"title": "Usual Suspects, The (1995)"}, "tell me about the usual suspects"),
    ("why do you recommend {title}", {"title": "this movie"}, "why do you recommend this movie"),
    ("i am a {age} year old {gender}", {"age": 25, "gender": "woman"}, "i am a twenty five year old woman"),
    ("show the {lens}", {"lens": "Sankey Diagram"}, "show the sankey diagram"),
])
def test_phrase_for_renders_a_template_as_said(template, slots, said):
    assert phrase_for(template, **slots) == said
    assert phrase_for(template, tokens=True, **slots).replace("_", " ") == said


def test_a_template_the_grammar_cannot_hold_is_an_error(catalogue, tmp_path):
    phrases = load_phrases()
    broken = dataclasses.replace(phrases, templates={**phrases.templates, Intent.HELP: ("help me, please!",)})
    with pytest.raises(ValueError, match="help me, please!"):
        build_grammar({1: "Fargo"}, catalogue[1], tmp_path, phrases=broken)


def test_unsayable_slot_values_are_left_out_and_reported(catalogue, tmp_path, monkeypatch):
    monkeypatch.setattr(pronunciation, "espeak_available", lambda: (False, "not installed"))
    phrases = load_phrases()
    odd = dataclasses.replace(phrases, lenses={**phrases.lenses, "relevance": ("zqxw view", "sankey")})
    built = build_grammar({1: "Fargo", 2: "Koyaanisqatsi"}, catalogue[1], tmp_path, phrases=odd)
    assert set(built.left_out) == {"zqxw view", "heatmap", "image heatmap"}  # no espeak-ng for "heatmap"
    assert built.titles.coverage == (1, 2) and 2 in built.titles.left_out
    assert "zqxw_view" not in fsg_words(built.fsg_path)


def test_the_graph_of_a_few_templates(tmp_path):
    slots = {"reference": ("it",), "age": ("twenty five",), "gender": ("woman",), "occupation": (), "lens": ()}
    templates = ["why not {title}", "why is {title} recommended", "why {title}", "i am {age} years old"]
    text = fsg_text(templates, slots, ["fargo", "star wars"])
    (tmp_path / "g.fsg").write_text(text, "utf-8")
    graph = pocketsphinx.FsgModel.readfile(str(tmp_path / "g.fsg"), pocketsphinx.LogMath(), 7.5)
    accepted = ["why not fargo", "why not it", "why is star_wars recommended", "why star_wars",
                "i am twenty_five years old"]
    assert all(graph.accept(s) for s in accepted)
    assert not any(graph.accept(s) for s in ["why is fargo", "why not star_wars recommended", "i am years old"])
    arcs = [line.split() for line in text.splitlines() if line.startswith("TRANSITION")]
    totals: dict[str, float] = {}
    for arc in arcs:
        totals[arc[1]] = totals.get(arc[1], 0.0) + float(arc[3])
    assert all(abs(total - 1.0) < 1e-4 for total in totals.values())  # each state's arcs share probability 1
    assert sum(1 for arc in arcs if arc[4:] == ["star_wars"]) == 2  # "why not" and "why" share one bundle


def test_occupations_and_tokens():
    assert slot_values(load_phrases(), ["academic/educator"])["occupation"] == ("academic", "educator")
    assert token("the usual  suspects") == "the_usual_suspects"
