"""A movie profile: watched movies plus optional gender, age group and occupation."""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.data.types import AGE_BUCKETS, GENDERS, age_bucket
from engine.errors import InvalidInputError


@dataclass(frozen=True)
class Profile:
    movies: tuple[int, ...] = ()  # movie ids, in the order they were added
    gender: str | None = None  # "F" or "M"
    age: str | None = None  # one of AGE_BUCKETS
    occupation: str | None = None
    user_id: int | None = None  # the dataset user it was taken from, if any

    @property
    def is_empty(self) -> bool:
        return not self.movies and self.gender is None and self.age is None and self.occupation is None

    def with_movie(self, movie_id: int) -> "Profile":
        if movie_id in self.movies:
            return self
        return replace(self, movies=self.movies + (movie_id,), user_id=None)

    def without_movie(self, movie_id: int) -> "Profile":
        return replace(self, movies=tuple(m for m in self.movies if m != movie_id), user_id=None)


def normalise_gender(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip().upper()
    for code, word in GENDERS.items():
        if text in (code, word.upper()):
            return code
    raise InvalidInputError(f"Unknown gender {value!r}: use F (female) or M (male).")


def normalise_age(value: str | int | None) -> str | None:
    """An age group label, or an age in years turned into its group."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or str(value).strip().isdigit():
        years = int(value)
        if not 1 <= years <= 120:
            raise InvalidInputError(f"Age {years} is out of range: give an age in years between 1 and 120.")
        return age_bucket(years)
    text = str(value).strip()
    if text in AGE_BUCKETS:
        return text
    raise InvalidInputError(f"Unknown age {value!r}: give years (e.g. 25) or a group: {', '.join(AGE_BUCKETS)}.")


def normalise_occupation(value: str | None, known: list[str]) -> str | None:
    if value is None or value == "":
        return None
    lookup = {k.lower(): k for k in known}
    text = value.strip().lower()
    if text in lookup:
        return lookup[text]
    raise InvalidInputError(f"Unknown occupation {value!r}: known occupations are {', '.join(sorted(known))}.")
