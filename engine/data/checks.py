"""Checks that span rows or files: one rating per user and movie, and every rated user and movie
listed in the layout's users and movies files. Values inside one field are checked while parsing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from engine.data.types import Interactions
from engine.errors import DataFormatError

# Ids are checked to lie in 1 .. 2**31 - 1 while parsing, so (user, movie) packs into one int64.
_ID_BITS = 31


@dataclass(frozen=True)
class RatingsFile:
    """Where a ratings table came from: row i of its arrays is line `first_line + i` of `path`."""

    path: Path
    first_line: int = 1

    def line(self, row: int) -> int:
        return self.first_line + int(row)


def require_listed(source: RatingsFile, ids: np.ndarray, listed: Iterable[int], what: str, listing: Path) -> None:
    """Raise for the first rating whose `what` ("user", "movie") id the file `listing` does not list."""
    known = np.fromiter(listed, dtype=np.int64)
    missing = np.flatnonzero(~np.isin(ids, known))
    if missing.size:
        row = missing[0]
        raise DataFormatError(source.path, source.line(row), f"a {what} id listed in {listing.name}", str(ids[row]))


def drop_duplicates(source: RatingsFile, interactions: Interactions) -> tuple[Interactions, str | None]:
    """The ratings with exact repeats removed (the first line of each is kept) and a note counting them.

    A user who rated one movie twice with different stars is an error: which one is right cannot be
    known, and keeping either would train on a guess.
    """
    keys = (interactions.users << _ID_BITS) | interactions.items
    plain_sorted = np.sort(keys)  # cheap test first: official files have no repeats
    if not np.any(plain_sorted[1:] == plain_sorted[:-1]):
        return interactions, None
    order = np.argsort(keys, kind="stable")  # stable: within one pair, rows stay in line order
    sorted_keys = keys[order]
    repeat = np.empty(len(keys), dtype=bool)
    repeat[:1] = False
    np.equal(sorted_keys[1:], sorted_keys[:-1], out=repeat[1:])
    # For each sorted position, the position where its (user, movie) group starts.
    positions = np.arange(len(keys))
    group_start = np.maximum.accumulate(np.where(repeat, 0, positions))
    later = order[repeat]
    earlier = order[group_start[repeat]]
    ratings = interactions.ratings
    conflicting = np.flatnonzero(ratings[later] != ratings[earlier])
    if conflicting.size:
        pick = conflicting[np.argmin(later[conflicting])]
        row, first = later[pick], earlier[pick]
        raise DataFormatError(
            source.path, source.line(row), "one rating per user and movie",
            f"user {interactions.users[row]} rated movie {interactions.items[row]} again: "
            f"{ratings[row]:g} here, {ratings[first]:g} on line {source.line(first)}",
        )
    keep = np.ones(len(keys), dtype=bool)
    keep[later] = False
    count = int(later.size)
    ratings_word, verb = ("rating", "was") if count == 1 else ("ratings", "were")
    note = (f"{source.path.name}: {count} duplicate {ratings_word} (same user, movie and stars as an earlier "
            f"line, first on line {source.line(later.min())}) {verb} ignored")
    timestamps = interactions.timestamps[keep] if interactions.timestamps is not None else None
    return Interactions(interactions.users[keep], interactions.items[keep], ratings[keep], timestamps), note
