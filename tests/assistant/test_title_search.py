"""Forgiving title search: case, punctuation, articles, years and small typos."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.title_search import TitleIndex, normalise, split_year
from engine.data.types import Movie

CATALOGUE = [
    Movie(1, "Toy Story", 1995, ("Animation",)),
    Movie(2, "The Usual Suspects", 1995, ("Crime",)),
    Movie(3, "The Shawshank Redemption", 1994, ("Drama",)),
    Movie(4, "Alien", 1979, ("Sci-Fi",)),
    Movie(5, "Aliens", 1986, ("Sci-Fi",)),
    Movie(6, "Alien 3", 1992, ("Sci-Fi",)),
    Movie(7, "Star Wars", 1977, ("Sci-Fi",)),
    Movie(8, "E.T. the Extra-Terrestrial", 1982, ("Children's",)),
    Movie(9, "Pulp Fiction", 1994, ("Crime",)),
    Movie(10, "The Good, The Bad and The Ugly", 1966, ("Western",)),
    Movie(11, "Amélie", 2001, ("Comedy",)),
    Movie(12, "1941", 1979, ("Comedy",)),
    Movie(13, "The Godfather", 1972, ("Drama",)),
    Movie(14, "The Godfather: Part II", 1974, ("Drama",)),
]


@pytest.fixture(scope="module")
def index() -> TitleIndex:
    return TitleIndex(CATALOGUE)


@pytest.mark.parametrize("query, expected", [
    ("toy story", 1),
    ("TOY STORY", 1),
    ("Usual Suspects, The", 2),
    ("the usual suspects", 2),
    ("usual suspects", 2),
    ("shawshank redemtion", 3),  # typo
    ("shawshank", 3),
    ("alien 1979", 4),
    ("Alien (1986)", 5),
    ("star-wars!", 7),
    ("st4r wars", 7),  # typo
    ("e.t.", 8),
    ("et the extra terrestrial", 8),
    ("pulp ficton", 9),
    ("good the bad and the ugly", 10),
    ("amelie", 11),
    ("1941", 12),
    ("godfathr", 13),
    ("godfather part 2", 14),
])
def test_finds_the_intended_movie_first(index, query, expected):
    matches = index.search(query, 5)
    assert matches, query
    assert matches[0].movie.id == expected, [m.movie.label for m in matches]


def test_prefix_of_a_title_being_typed_finds_it(index):
    assert index.search("shaws")[0].movie.id == 3
    assert {m.movie.id for m in index.search("alie")} >= {4, 5, 6}


def test_empty_and_unrelated_queries(index):
    assert index.search("") == []
    assert index.search("   ") == []
    assert index.search("zzzzqqqq xxyy") == []
    assert index.search("toy", limit=0) == []


def test_results_are_sorted_and_limited(index):
    matches = index.search("alien", 2)
    assert len(matches) == 2
    assert matches[0].score >= matches[1].score
    assert all(0 <= m.score <= 100 for m in index.search("a"))


def test_normalise_drops_case_accents_punctuation_and_articles():
    assert normalise("The Usual Suspects") == normalise("Usual Suspects, The") == "usual suspects"
    assert normalise("Amélie!") == "amelie"
    assert normalise("The") == "the"  # a title that is only an article keeps it


def test_split_year():
    assert split_year("Alien (1979)") == ("Alien", 1979)
    assert split_year("alien 1979") == ("alien", 1979)
    assert split_year("1941") == ("1941", None)
    assert split_year("Alien") == ("Alien", None)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_safe(text):
    index = TitleIndex(CATALOGUE)
    matches = index.search(text, 3)
    assert len(matches) <= 3
    key = normalise(text)
    assert key == key.strip() and "  " not in key
    assert all(ch.isalnum() or ch == " " or ch == "_" for ch in key)


def test_fast_enough_for_a_type_ahead_on_the_real_catalogue(app_engine):
    index = TitleIndex(app_engine.movies())
    start = time.perf_counter()
    for query in ("star wars", "godfathr", "the usual suspects", "pulp ficton", "alien 1979") * 4:
        index.search(query, 8)
    per_query = (time.perf_counter() - start) / 20
    assert index.search("usual suspects, the")[0].movie.title == "The Usual Suspects"
    print(f"title search: {1000 * per_query:.2f} ms per query over {len(index)} titles")
