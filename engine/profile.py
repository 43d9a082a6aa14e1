"""A movie profile: rated movies (stars optional) plus optional gender, age group and occupation."""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.data.types import AGE_BUCKETS, GENDERS, age_bucket
from engine.errors import InvalidInputError

STARS = (1, 2, 3, 4, 5)
DEFAULT_STARS = 4  # what the app proposes when a movie is added
POSITIVE_STARS = 3  # the relevance lens counts a movie as liked from this many stars (RecoNet paper)


@dataclass(frozen=True)
class Profile:
    movies: tuple[int, ...] = ()  # movie ids, in the order they were added
    gender: str | None = None  # "F" or "M"
    age: str | None = None  # one of AGE_BUCKETS
    occupation: str | None = None
    user_id: int | None = None  # the dataset user it was taken from, if any
    # Stars per movie, parallel to `movies`; None where the profile does not say. Left out, no
    # movie has a rating, so profiles written before ratings existed compare equal to themselves.
    ratings: tuple[int | None, ...] = ()

    def __post_init__(self) -> None:
        if not self.ratings and self.movies:
            object.__setattr__(self, "ratings", (None,) * len(self.movies))
        if len(self.ratings) != len(self.movies):
            raise InvalidInputError(
                f"A profile needs one rating (or none) per movie: {len(self.movies)} movies, {len(self.ratings)} ratings."
            )
        for stars in self.ratings:
            check_stars(stars)

    @property
    def is_empty(self) -> bool:
        return not self.movies and self.gender is None and self.age is None and self.occupation is None

    @property
    def positives(self) -> tuple[int, ...]:
        """The movies the profile likes: rated 3 stars or more, or watched without a rating."""
        return tuple(m for m, r in zip(self.movies, self.ratings) if r is None or r >= POSITIVE_STARS)

    @property
    def rated(self) -> tuple[tuple[int, int], ...]:
        """(movie id, stars) for the movies that carry a rating, in the order they were added."""
        return tuple((m, r) for m, r in zip(self.movies, self.ratings) if r is not None)

    def rating(self, movie_id: int) -> int | None:
        for movie, stars in zip(self.movies, self.ratings):
            if movie == movie_id:
                return stars
        return None

    def with_movie(self, movie_id: int, stars: int | None = None) -> "Profile":
        if movie_id in self.movies:
            return self if stars is None else self.with_rating(movie_id, stars)
        return replace(self, movies=self.movies + (movie_id,), ratings=self.ratings + (check_stars(stars),), user_id=None)

    def with_rating(self, movie_id: int, stars: int | None) -> "Profile":
        """The same profile with `movie_id` rated `stars` (added at the end when it was not there)."""
        if movie_id not in self.movies:
            return self.with_movie(movie_id, stars)
        ratings = tuple(check_stars(stars) if m == movie_id else r for m, r in zip(self.movies, self.ratings))
        return replace(self, ratings=ratings, user_id=None)

    def without_movie(self, movie_id: int) -> "Profile":
        kept = [(m, r) for m, r in zip(self.movies, self.ratings) if m != movie_id]
        return replace(
            self, movies=tuple(m for m, _ in kept), ratings=tuple(r for _, r in kept), user_id=None
        )


def check_stars(stars) -> int | None:
    """A rating of 1 to 5 whole stars, or None for 'watched, not rated'."""
    if stars is None:
        return None
    if isinstance(stars, bool) or not isinstance(stars, int) or stars not in STARS:
        raise InvalidInputError(f"A rating is 1 to 5 whole stars, got {stars!r}.")
    return stars


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
