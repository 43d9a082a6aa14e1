"""Forgiving movie-title search for the add-movie type-ahead: ignores case, accents, punctuation and
articles ("The", "A", "An", leading or trailing as in "Usual Suspects, The"), understands a year
("alien 1979", "Alien (1979)") and tolerates small typos (rapidfuzz). Plain Python, no Qt."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from rapidfuzz import fuzz, process

from assistant.conversation.numbers import numbers_as_digits
from engine.api import Movie

ARTICLES = ("the", "a", "an", "les", "la", "le", "l", "il", "el", "das", "der", "die")
_YEAR = re.compile(r"\(?\b(1[89]\d\d|20\d\d)\b\)?")
_NON_WORD = re.compile(r"[^\w]+")
FUZZY_CUTOFF = 72.0  # WRatio below this is a different movie, not a typo
PREFIX_SCORE = 100.0
WORD_PREFIX_SCORE = 97.0
SUBSTRING_SCORE = 94.0
YEAR_BONUS = 4.0
YEAR_PENALTY = 25.0


@dataclass(frozen=True)
class TitleMatch:
    movie: Movie
    score: float  # 0-100, higher is better


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, no leading or trailing article, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = _NON_WORD.sub(" ", plain.replace("'", "").replace("&", " and ")).split()
    if len(words) > 1 and words[-1] in ARTICLES:
        words = words[:-1]
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def title_key(text: str, keep_articles: bool = False) -> str:
    """`normalise`d, with numbers as digits ("Godfather: Part II" and "godfather 2" -> "godfather 2"):
    what two ways of writing one title share. `keep_articles` keeps a leading or trailing article, to
    tell "Fear" from "The Fear"."""
    if keep_articles:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
        words = _NON_WORD.sub(" ", plain.replace("'", "").replace("&", " and ")).split()
    else:
        words = normalise(text).split()
    return " ".join(numbers_as_digits(words))


def split_year(query: str) -> tuple[str, int | None]:
    """The query without a year it mentions, and that year (None when there is none). A title that
    is itself a year ("1941", "2001") keeps it when nothing else is left."""
    found = list(_YEAR.finditer(query))
    if not found:
        return query, None
    last = found[-1]
    rest = (query[: last.start()] + " " + query[last.end():]).strip()
    if not normalise(rest):
        return query, None
    return rest, int(last.group(1))


class TitleIndex:
    """Build once per catalogue (a few ms for 4,000 titles); `search` answers in about a millisecond."""

    def __init__(self, movies: Iterable[Movie]):
        self._movies = list(movies)
        self._keys = [normalise(m.title) for m in self._movies]
        self._number_keys = [title_key(m.title) for m in self._movies]  # "godfather 2" finds "Part II"
        self._whole_keys = set(self._number_keys)

    def __len__(self) -> int:
        return len(self._movies)

    def search(self, query: str, limit: int = 10) -> list[TitleMatch]:
        """The best matches, best first; empty for an empty query."""
        # a title that ends in a number ("Item 1901" on re-indexed data) is not a year
        text, year = (query, None) if title_key(query) in self._whole_keys else split_year(query)
        key = normalise(text)
        if not key or limit <= 0:
            return []
        scores: dict[int, float] = {}
        for index, title in enumerate(self._keys):
            if title.startswith(key):
                scores[index] = PREFIX_SCORE
            elif f" {key}" in f" {title}":
                scores[index] = WORD_PREFIX_SCORE
            elif len(key.replace(" ", "")) >= 3 and key in title:
                scores[index] = SUBSTRING_SCORE
        digits = title_key(text)
        if any(word.isdigit() for word in digits.split()):  # compare with the titles' numbers as digits
            for index, title in enumerate(self._number_keys):
                if title.startswith(digits):
                    scores[index] = PREFIX_SCORE
                elif f" {digits}" in f" {title}":
                    scores[index] = max(scores.get(index, 0.0), WORD_PREFIX_SCORE)
        if len(key) >= 3:
            for index, score in enumerate(self._typo_scores(key)):
                if score >= FUZZY_CUTOFF:
                    scores[index] = max(scores.get(index, 0.0), min(float(score), SUBSTRING_SCORE - 1))
        ranked = []
        for index, score in scores.items():
            movie = self._movies[index]
            if year is not None and movie.year is not None:
                score += YEAR_BONUS if movie.year == year else -YEAR_PENALTY
            ranked.append((score, len(self._keys[index]), movie.title, index))
        ranked.sort(key=lambda entry: (-entry[0], entry[1], entry[2]))
        return [TitleMatch(self._movies[i], max(0.0, min(100.0, s))) for s, _, _, i in ranked[:limit]]

    def _typo_scores(self, key: str) -> np.ndarray:
        """Per title: similarity of the whole title, or (a little less) of its start, for a query still
        being typed. Vectorised in rapidfuzz's C code: about a millisecond for 4,000 titles."""
        whole = process.cdist([key], self._keys, scorer=fuzz.ratio, dtype=np.float32)[0]
        heads = process.cdist([key], [k[: len(key)] for k in self._keys], scorer=fuzz.ratio, dtype=np.float32)[0]
        return np.maximum(whole, heads - 2.0)

    def best(self, query: str) -> Movie | None:
        matches = self.search(query, 1)
        return matches[0].movie if matches else None


__all__ = ["TitleIndex", "TitleMatch", "normalise", "split_year", "title_key"]
