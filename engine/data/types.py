"""Typed records of a ratings dataset: catalogue, users and interactions."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

# MovieLens 1M's age groups; MovieLens 100k's exact ages are put into the same groups.
AGE_BUCKETS: tuple[str, ...] = ("Under 18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+")
_ML1M_AGE_CODES = {1: "Under 18", 18: "18-24", 25: "25-34", 35: "35-44", 45: "45-49", 50: "50-55", 56: "56+"}
_BUCKET_LOWER_BOUNDS = (0, 18, 25, 35, 45, 50, 56)

# MovieLens 1M's occupation codes (from its README).
ML1M_OCCUPATIONS: tuple[str, ...] = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)

GENDERS = {"F": "female", "M": "male"}


def age_bucket(age: int) -> str:
    """The MovieLens 1M age group of an age in years."""
    if age < 0:
        raise ValueError(f"age must not be negative, got {age}")
    bucket = 0
    for index, lower in enumerate(_BUCKET_LOWER_BOUNDS):
        if age >= lower:
            bucket = index
    return AGE_BUCKETS[bucket]


def age_bucket_from_ml1m_code(code: int) -> str:
    try:
        return _ML1M_AGE_CODES[code]
    except KeyError:
        raise ValueError(f"unknown MovieLens 1M age code {code}; expected one of {sorted(_ML1M_AGE_CODES)}")


@dataclass(frozen=True)
class Movie:
    id: int
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    # True when another movie of the dataset has the same title and year (18 pairs in ML-100k, with
    # the same genres too): the label then carries the MovieLens id, the one thing that differs, as
    # "#246" (a bare "id" would read as "I'd" to the question parser).
    shares_label: bool = False

    @property
    def label(self) -> str:
        """Title with year, as people write it: "Alien (1979)"; with the id for a movie that shares
        its title and year with another: "Chasing Amy (1997, #246)"."""
        extra = ", ".join(part for part in (str(self.year) if self.year else "",
                                              f"#{self.id}" if self.shares_label else "") if part)
        return f"{self.title} ({extra})" if extra else self.title


def mark_shared_labels(movies: dict[int, Movie]) -> dict[int, Movie]:
    """`movies` with `shares_label` set on every movie whose title and year another one has too."""
    counts = Counter((m.title, m.year) for m in movies.values())
    return {key: replace(m, shares_label=True) if counts[(m.title, m.year)] > 1 else m for key, m in movies.items()}


@dataclass(frozen=True)
class User:
    id: int
    gender: str | None = None  # "F" or "M"
    age: str | None = None  # one of AGE_BUCKETS
    occupation: str | None = None
    zip_code: str | None = None


@dataclass(frozen=True, eq=False)
class Interactions:
    """Parallel arrays, one entry per rating. Timestamps are None when the source has none."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    ratings: np.ndarray  # float32
    timestamps: np.ndarray | None = None  # int64

    def __post_init__(self) -> None:
        n = len(self.users)
        if len(self.items) != n or len(self.ratings) != n or (self.timestamps is not None and len(self.timestamps) != n):
            raise ValueError("interaction arrays must have equal lengths")

    def __len__(self) -> int:
        return len(self.users)

    def positives(self, threshold: float = 3.0) -> "Interactions":
        """Implicit feedback: a rating of at least `threshold` is a positive (the RecoNet paper uses 3)."""
        keep = self.ratings >= threshold
        ts = self.timestamps[keep] if self.timestamps is not None else None
        return Interactions(self.users[keep], self.items[keep], self.ratings[keep], ts)


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    movies: dict[int, Movie]
    users: dict[int, User]
    interactions: Interactions
    source: str = ""  # where the files came from, for messages and the manifest
    notes: tuple[str, ...] = ()  # problems the loader worked around, e.g. duplicate ratings it dropped
    encodings: dict[str, str] = field(default_factory=dict)  # text file name -> encoding detected
    _fingerprint: list[str] = field(default_factory=list, repr=False)

    @property
    def fingerprint(self) -> str:
        """A content hash: a cached model trained on other data is never silently reused."""
        if not self._fingerprint:
            digest = hashlib.sha256()
            for array in (self.interactions.users, self.interactions.items, self.interactions.ratings):
                digest.update(np.ascontiguousarray(array).tobytes())
            for user in sorted(self.users.values(), key=lambda u: u.id):
                digest.update(f"{user.id}|{user.gender}|{user.age}|{user.occupation}\n".encode())
            for movie in sorted(self.movies.values(), key=lambda m: m.id):
                digest.update(f"{movie.id}|{'|'.join(movie.genres)}\n".encode())
            self._fingerprint.append(digest.hexdigest()[:16])
        return self._fingerprint[0]

    @property
    def has_titles(self) -> bool:
        return any(not m.title.startswith("Item ") for m in self.movies.values())

    @property
    def genres(self) -> list[str]:
        return sorted({g for m in self.movies.values() for g in m.genres})
