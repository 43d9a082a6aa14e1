"""Numbers as words, both ways: the speech grammar says them, the parser reads them back."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from assistant.conversation.numbers import number_words, parse_number


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (25, "twenty five"), (40, "forty"), (101, "one hundred and one"),
    (1000, "one thousand"), (20000, "twenty thousand"),
])
def test_number_words(n, words):
    assert number_words(n) == words


@pytest.mark.parametrize("text, value", [
    ("25", 25), ("twenty five", 25), ("Twenty-Five", 25), ("one hundred and five", 105), ("seven", 7),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "twenty twenty", "five twenty", "many", "hundred"])
def test_not_a_number(text):
    assert parse_number(text) is None


@given(st.integers(min_value=0, max_value=999))
def test_words_read_back(n):
    assert parse_number(number_words(n)) == n


def test_negative_numbers_have_no_words():
    with pytest.raises(ValueError):
        number_words(-1)
