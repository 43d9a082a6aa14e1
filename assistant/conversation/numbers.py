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


def number_words(value: int) -> str:
    """0-999 as words, e.g. 25 -> "twenty five" (how the speech grammar says ages and numbers)."""
    if not 0 <= value < 1000:
        raise ValueError(f"number_words handles 0-999, got {value}")
    names = {v: k for k, v in _UNITS.items()} | {v: k for k, v in _TENS.items()}
    hundreds, rest = divmod(value, 100)
    parts = [f"{names[hundreds]} hundred"] if hundreds else []
    if rest or not parts:
        if rest in names:
            parts.append(names[rest])
        else:
            parts.append(f"{names[rest - rest % 10]} {names[rest % 10]}")
    return " ".join(parts)
