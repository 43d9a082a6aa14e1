"""Which movie a title in a question means. A title is taken as meant only on a confident match: the
whole title (or its main part, its alternative title, a spoken form), forgiving case, articles,
years, numbers written as digits, words or Roman numerals ("Godfather 2" = "The Godfather: Part
II"), and small misspellings of the whole title. Anything weaker -- a few letters that begin a
title, a title with another number -- is no match: the caller asks "did you mean ...?" with the
suggestions, so that "add a" never adds "Anna"."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
from rapidfuzz import fuzz, process

from assistant.title_search import normalise, split_year, title_key
from engine.api import Movie

SUGGEST_SCORE = 50.0
TYPO_SCORE = 85.0  # fuzz.ratio of whole titles from which a difference is a typo, not another movie
TYPO_MIN_LETTERS = 4  # shorter queries must match exactly: "ed" is Ed, "ex" is nothing
TIE_SCORE = 3.0  # typo matches this close to the best are as likely: ask which one
PREFIX_MIN_LETTERS = 5  # "shawshank" names The Shawshank Redemption when no other title starts so
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_PART = re.compile(r"\s*(?::|\s-\s)\s*")


@dataclass(frozen=True)
class TitleLookup:
    """`movie` is the movie meant (None unless the match is confident); otherwise `suggestions` are
    what the asker may have meant, and `ambiguous` says the text fits several titles equally."""

    asked: str
    movie: Movie | None
    suggestions: tuple[Movie, ...] = ()
    ambiguous: bool = False


def _digits(key: str) -> list[str]:
    return sorted(word for word in key.split() if word.isdigit())


class TitleResolver:
    """`aliases` maps other ways of saying a title (normalised text) to movie ids, e.g. the speech
    grammar's spoken forms."""

    def __init__(self, movies: Iterable[Movie], aliases: Mapping[str, Iterable[int]] | None = None):
        self._movies = {m.id: m for m in movies}
        self.aliases = aliases
        self._aliases = {title_key(text): tuple(ids) for text, ids in (aliases or {}).items()}
        self._whole: dict[str, list[int]] = {}  # the title, without its alternative, or the alternative
        self._main: dict[str, list[int]] = {}  # the part before a colon or dash: "star trek 3"
        for movie in self._movies.values():
            alternatives = _PARENTHESES.findall(movie.title)
            bare = _PARENTHESES.sub(" ", movie.title)
            for text in dict.fromkeys([movie.title, bare, *alternatives]):
                if key := title_key(text):
                    self._whole.setdefault(key, []).append(movie.id)
            parts = [p for p in _PART.split(bare) if p.strip()]
            if len(parts) > 1 and (key := title_key(parts[0])):
                self._main.setdefault(key, []).append(movie.id)
        self._whole_keys = list(self._whole)
        # A label that names one of two same-titled movies, "Chasing Amy (1997, #268)" (as a "did you
        # mean" suggestion clicked asks it), means that one.
        self._labels = {title_key(m.label): m.id for m in self._movies.values() if m.shares_label}
        self._by_label = list(self._movies.values())
        labels = [m.label for m in self._by_label]
        # as written, and with numbers as digits: prepared once, compared with a query as it is
        self._suggestable = ((normalise, [normalise(l) for l in labels]), (title_key, [title_key(l) for l in labels]))

    def resolve(self, asked: str) -> TitleLookup:
        whole = title_key(asked)
        if not whole:
            return TitleLookup(asked, None)
        if whole in self._labels:
            return TitleLookup(asked, self._movies[self._labels[whole]])
        # The whole text first: "Item 1901" and "1941" are titles, not years.
        for table in (self._aliases, self._whole):
            if whole in table:
                return self._pick(asked, table[whole], None)
        text, year = split_year(asked)
        key = title_key(text)
        for table in (self._aliases, self._whole, self._main):
            if key in table:
                return self._pick(asked, table[key], year)
        typo = self._typos(key)
        if typo:
            return self._pick(asked, typo, year)
        prefix = self._prefixed(key)
        if prefix:
            return self._pick(asked, prefix, year)
        return TitleLookup(asked, None, self.suggest(asked))

    def _pick(self, asked: str, ids: Iterable[int], year: int | None) -> TitleLookup:
        """The one movie among `ids` the asker means, or the choice to offer."""
        found = [self._movies[i] for i in dict.fromkeys(ids) if i in self._movies]
        if year is not None:
            dated = [m for m in found if m.year == year]
            if not dated:  # "Alien 1986": a title of another year is not it
                return TitleLookup(asked, None, tuple(found[:3]) or self.suggest(asked))
            found = dated
        if len({(m.title, m.year) for m in found}) > 1:
            # "fear" fits "Fear" and "The Fear": the article said, or not, decides
            strict = title_key(split_year(asked)[0], keep_articles=True)
            exact = [m for m in found if title_key(_PARENTHESES.sub(" ", m.title), keep_articles=True) == strict]
            if len({(m.title, m.year) for m in exact}) == 1:
                found = exact
        if len({(m.title, m.year) for m in found}) > 1:
            return TitleLookup(asked, None, tuple(found[:3]), ambiguous=True)
        return TitleLookup(asked, found[0])  # twins (same title and year): the first

    def _typos(self, key: str) -> list[int]:
        """Movies whose whole title is `key` misspelt a little, with the same numbers."""
        if len(key.replace(" ", "")) < TYPO_MIN_LETTERS or not self._whole_keys:
            return []
        scores = process.cdist([key], self._whole_keys, scorer=fuzz.ratio, dtype=np.float32)[0]
        numbers = _digits(key)
        close = [(float(s), k) for s, k in zip(scores, self._whole_keys) if s >= TYPO_SCORE and _digits(k) == numbers]
        if not close:
            return []
        best = max(score for score, _ in close)
        return [i for score, k in close if score >= best - TIE_SCORE for i in self._whole[k]]

    def _prefixed(self, key: str) -> list[int]:
        """Movies whose title begins with the words of `key` (at least a long word's worth)."""
        if len(key.replace(" ", "")) < PREFIX_MIN_LETTERS:
            return []
        return [i for k in self._whole_keys if k.startswith(key + " ") and _digits(k) == _digits(key)
                for i in self._whole[k]]

    def suggest(self, asked: str, limit: int = 3) -> tuple[Movie, ...]:
        """Titles close to `asked`, best first: as written, and with its numbers as digits."""
        best: dict[int, float] = {}
        for prepare, labels in self._suggestable:
            for _, score, index in process.extract(prepare(asked), labels, scorer=fuzz.WRatio, processor=None,
                                                   limit=limit, score_cutoff=SUGGEST_SCORE):
                best[index] = max(best.get(index, 0.0), score)
        ranked = sorted(best, key=lambda index: -best[index])[:limit]
        return tuple(self._by_label[index] for index in ranked)


__all__ = ["TitleLookup", "TitleResolver", "normalise"]
