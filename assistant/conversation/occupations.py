"""Occupations as people say them ("I'm a teacher", "I work as a developer") -> the catalogue's
occupation names, which differ per dataset ("educator" in ML-100k, "academic/educator" in ML-1M)."""
from __future__ import annotations

from typing import Iterable

from rapidfuzz import fuzz, process

from engine.api import ML1M_OCCUPATIONS

ML100K_OCCUPATIONS = (
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive", "healthcare",
    "homemaker", "lawyer", "librarian", "marketing", "none", "other", "programmer", "retired", "salesman",
    "scientist", "student", "technician", "writer",
)
# Everyday words -> words that occur in some dataset's occupation names, tried in order.
SYNONYMS = {
    "developer": ("programmer",), "software developer": ("programmer",), "software engineer": ("programmer",),
    "coder": ("programmer",), "computer programmer": ("programmer",),
    "teacher": ("educator",), "professor": ("educator",), "lecturer": ("educator",), "academic": ("educator",),
    "nurse": ("healthcare", "health care"), "medic": ("healthcare", "health care"),
    "health care": ("healthcare", "health care"), "physician": ("doctor",),
    "attorney": ("lawyer",), "author": ("writer",), "journalist": ("writer",),
    "actor": ("entertainment", "artist"), "actress": ("entertainment", "artist"), "musician": ("artist",),
    "painter": ("artist",), "manager": ("executive", "managerial"), "salesperson": ("salesman", "sales"),
    "sales": ("salesman", "sales"), "clerk": ("administrator", "clerical"), "secretary": ("administrator", "clerical"),
    "admin": ("administrator", "admin"), "pupil": ("student",), "college student": ("student", "college/grad student"),
    "grad student": ("student", "college/grad student"), "housewife": ("homemaker",), "househusband": ("homemaker",),
    "researcher": ("scientist",), "pensioner": ("retired",), "retiree": ("retired",),
    "unemployed": ("none", "unemployed"), "jobless": ("none", "unemployed"), "nothing": ("none", "unemployed"),
    "engineer": ("engineer",), "student": ("student", "college/grad student"), "salesman": ("salesman", "sales"), "craftsman": ("tradesman/craftsman",), "farmer": ("farmer",),
}
_ALL = tuple(dict.fromkeys(ML100K_OCCUPATIONS + ML1M_OCCUPATIONS))


def _parts(name: str) -> list[str]:
    return [p.strip() for p in name.replace("/", "|").split("|") if p.strip()]


def match_occupation(text: str, known: Iterable[str]) -> str | None:
    """The known occupation `text` means, or None."""
    known = list(known)
    said = " ".join(text.casefold().replace("-", " ").split())
    said = said.removeprefix("a ").removeprefix("an ").removeprefix("the ")
    if not said:
        return None
    by_lower = {k.casefold(): k for k in known}
    for candidate in (said, *SYNONYMS.get(said, ()), said.rstrip("s")):
        if candidate in by_lower:
            return by_lower[candidate]
        for name in known:  # "educator" -> "academic/educator", "student" -> "K-12 student" last
            if candidate in [p.casefold() for p in _parts(name)]:
                return name
    choices = {part.casefold(): name for name in known for part in (name, *_parts(name))}
    best = process.extractOne(said, list(choices), scorer=fuzz.ratio, score_cutoff=85)
    return choices[best[0]] if best else None


def is_occupation(text: str) -> bool:
    """Whether `text` names an occupation of any dataset (the parser's test for "I am a <occupation>")."""
    return match_occupation(text, _ALL) is not None
