"""A damaged speech-grammar cache is built again instead of failing every spoken question: each
build is saved with the SHA-256 of its files, and a build that does not match them is not used."""
from __future__ import annotations

import json

import pytest

from assistant.speech.grammar import CHECKSUMS, build_grammar
from assistant.speech.sphinx_recogniser import GrammarRecogniser

TITLES = {1: "Toy Story", 2: "Fargo", 3: "Heat"}


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"\x00\xff garbage \x1f\x8b")


@pytest.mark.parametrize("name, damage", [
    ("titles.json", _truncate), ("titles.json", lambda p: p.write_text("[]")), ("titles.json", _garbage),
    ("grammar.fsg", _truncate), ("grammar.fsg", _garbage),
    ("words.dict", _truncate), ("words.dict", lambda p: p.write_text("")),
    (CHECKSUMS, lambda p: p.write_text("null")), (CHECKSUMS, lambda p: p.write_text("[" * 100_000)),
    (CHECKSUMS, lambda p: p.unlink()),  # a build from before checksums, or one interrupted at its end
])
def test_a_damaged_grammar_cache_is_rebuilt_and_listens_again(catalogue, tmp_path, name, damage):
    occupations = catalogue[1]
    first = build_grammar(TITLES, occupations, tmp_path)
    assert not first.from_cache and build_grammar(TITLES, occupations, tmp_path).from_cache
    damage(first.folder / name)
    rebuilt = build_grammar(TITLES, occupations, tmp_path)
    assert not rebuilt.from_cache and rebuilt.folder == first.folder
    assert rebuilt.titles == first.titles
    GrammarRecogniser(rebuilt)  # pocketsphinx loads the rebuilt grammar and dictionary
    assert build_grammar(TITLES, occupations, tmp_path).from_cache  # and the next start uses it
    assert not list(tmp_path.glob(".grammar-*"))


def test_the_checksums_cover_every_file_of_a_build(catalogue, tmp_path):
    built = build_grammar(TITLES, catalogue[1], tmp_path)
    recorded = json.loads((built.folder / CHECKSUMS).read_text("utf-8"))
    assert set(recorded) == {"grammar.fsg", "words.dict", "titles.json"}
