"""Which movie a title in a question means: forgiving (case, articles, years, small misspellings,
spoken forms such as "twelve angry men"), with "did you mean" suggestions when nothing is close."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from rapidfuzz import fuzz, process

from assistant.title_search import TitleIndex, normalise
from engine.api import Movie

ACCEPT_SCORE = 80.0  # TitleIndex score from which a match is taken as meant
SUGGEST_SCORE = 50.0


@dataclass(frozen=True)
class TitleLookup:
    asked: str
    movie: Movie | None
    suggestions: tuple[Movie, ...] = ()


class TitleResolver:
    """`aliases` maps other ways of saying a title (normalised text) to movie ids, e.g. the speech
    grammar's spoken forms."""

    def __init__(self, movies: Iterable[Movie], aliases: Mapping[str, Iterable[int]] | None = None):
        self._movies = {m.id: m for m in movies}
        self._index = TitleIndex(self._movies.values())
        self.aliases = aliases
        self._aliases = {normalise(text): tuple(ids) for text, ids in (aliases or {}).items()}
        self._labels = [m.label for m in self._movies.values()]
        self._by_label = list(self._movies.values())

    def resolve(self, asked: str) -> TitleLookup:
        ids = self._aliases.get(normalise(asked))
        if ids:
            return TitleLookup(asked, self._movies[ids[0]])
        matches = self._index.search(asked, 1)
        if matches and matches[0].score >= ACCEPT_SCORE:
            return TitleLookup(asked, matches[0].movie)
        return TitleLookup(asked, None, self.suggest(asked))

    def suggest(self, asked: str, limit: int = 3) -> tuple[Movie, ...]:
        found = process.extract(asked, self._labels, scorer=fuzz.WRatio, processor=normalise, limit=limit,
                                score_cutoff=SUGGEST_SCORE)
        return tuple(self._by_label[index] for _, _, index in found)
