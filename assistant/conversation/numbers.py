"""Numbers said or typed as words ("twenty five", "twenty-five", "25") -> int. Enough for ages and ranks."""
from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


def parse_number(text: str) -> int | None:
    """The number in `text`, or None when it is not exactly one number below 1000."""
    words = [w for w in re.split(r"[\s-]+", text.strip().casefold()) if w and w != "and"]
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    current = None
    for word in words:
        if word in _UNITS:
            # A unit starts a number, or follows a round hundred ("one hundred five") or ten ("twenty five").
            tens = None if current is None else current % 100
            if current is not None and not (tens == 0 and current >= 100 or tens >= 20 and tens % 10 == 0):
                return None
            current = (current or 0) + _UNITS[word]
        elif word in _TENS:
            if current is not None and current % 100 != 0:
                return None
            current = (current or 0) + _TENS[word]
        elif word == "hundred" and current is not None and current < 10:
            current *= 100
        else:
            return None
    return current


ROMAN_NUMERALS = {
    "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11, "xii": 12,
    "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18, "xix": 19, "xx": 20,
}
# Words that are numerals only after a title's first word: "V for Vendetta", "X: the Unknown".
_ROMAN_NOT_FIRST = {"v", "x"}


def numbers_as_digits(words: list[str]) -> list[str]:
    """Lower-case words with every number as digits, so that a title's "2", "II", "two" and "Part 2"
    read alike: ["godfather", "part", "ii"] -> ["godfather", "2"], ["twelve", "monkeys"] -> ["12",
    "monkeys"]. A lone "i" stays a word (it is far more often the pronoun)."""
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in _UNITS or word in _TENS:
            # the longest run of number words that is one number ("twenty five")
            end = index + 1
            while end < len(words) and (words[end] in _UNITS or words[end] in _TENS or words[end] == "hundred"):
                end += 1
            while end > index + 1 and parse_number(" ".join(words[index:end])) is None:
                end -= 1
            value = parse_number(" ".join(words[index:end]))
            out.append(str(value) if value is not None else word)
            index = max(end, index + 1)
            continue
        if word in ROMAN_NUMERALS and (index > 0 or word not in _ROMAN_NOT_FIRST):
            out.append(str(ROMAN_NUMERALS[word]))
        else:
            out.append(word)
        index += 1
    # "Part 2" is said "2": "Godfather: Part II" is asked for as "Godfather 2"
    return [w for i, w in enumerate(out) if not (w == "part" and i + 1 < len(out) and out[i + 1].isdigit())]


_SCALES = ((1_000_000, "million"), (1000, "thousand"), (100, "hundred"))


def number_words(n: int) -> str:
    """Cardinal number as said: 25 -> "twenty five", 101 -> "one hundred and one" (how the speech
    grammar says ages, ranks and the numbers in titles)."""
    if n < 0:
        raise ValueError(f"no words for the negative number {n}")
    names = {v: k for k, v in _UNITS.items()} | {v: k for k, v in _TENS.items()}
    if n < 20:
        return names[n]
    if n < 100:
        return names[n - n % 10] + ("" if n % 10 == 0 else " " + names[n % 10])
    size, name = next((size, name) for size, name in _SCALES if n >= size)
    head, rest = divmod(n, size)
    tail = "" if rest == 0 else (" and " if rest < 100 else " ") + number_words(rest)
    return f"{number_words(head)} {name}{tail}"


def star_words(stars: int, spoken: bool = False) -> str:
    """A whole-star rating as typed or said: 2 -> "2 stars" or "two stars", 1 -> "1 star"."""
    unit = "star" if stars == 1 else "stars"
    return f"{number_words(stars) if spoken else stars} {unit}"


_STARS = re.compile(r"^(?P<number>\d+(?:\.\d+)?|[a-z -]+?)(?: (?:stars?|out of (?:5|five)))?$")


def parse_stars(text: str) -> float | None:
    """A rating as typed or said ("2 stars", "two stars", "a star", "4.5", "three out of five") ->
    its number, None when it is not one. Whether it is a valid rating is the caller's to check."""
    found = _STARS.match(text.strip().casefold().replace("/5", " out of 5"))
    if found is None:
        return None
    number = found.group("number").strip()
    if number in ("a", "an"):
        return 1.0
    if re.fullmatch(r"\d+\.\d+", number):
        return float(number)
    value = parse_number(number)
    return None if value is None else float(value)
