"""Words every lens's phrasing shares: titles as written and as said, lists, ranks, percentages.
The lens-specific sentences live in assistant/conversation/phrasings/, one module per lens."""
from __future__ import annotations

import re

from engine.api import Movie

TOP_REASONS = 3  # how many reasons (features, ratings) an answer names
TOP_AGAINST = 2

_ARTICLES = ("The", "A", "An", "Les", "La", "Le", "L'", "Il", "El", "Das", "Der", "Die")


def display_title(title: str) -> str:
    """"Usual Suspects, The" -> "The Usual Suspects", as people say it."""
    head, sep, tail = title.rpartition(", ")
    if sep and tail in _ARTICLES:
        return f"{tail}{'' if tail.endswith(chr(39)) else ' '}{head}"
    return title


def written_title(movie: Movie) -> str:
    """The label with the title as people say it: "The Usual Suspects (1995)" (and the id of a movie
    that shares its title and year with another)."""
    return display_title(movie.title) + movie.label[len(movie.title):]


def spoken_title(movie: Movie) -> str:
    """Without the year or a bracketed alternative title ("Seven (Se7en)" -> "Seven")."""
    return re.sub(r"\s*\([^)]*\)", "", display_title(movie.title)).strip() or movie.title


def listing(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def ordinal(rank: int) -> str:
    if 10 <= rank % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
