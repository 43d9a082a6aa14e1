"""The profile a command names: a dataset user (--user), or an ad-hoc profile from movie ids
(--items) or rated movies (--ratings), with optional --gender, --age and --occupation."""
from __future__ import annotations

from engine.api import Engine
from engine.errors import InvalidInputError
from engine.profile import STARS, Profile

MAX_ID_DIGITS = 18


def profile_from_args(engine: Engine, args) -> Profile:
    ad_hoc = "--ratings" if hasattr(args, "ratings") else "--items"  # the option this command offers
    if args.user is not None:
        if args.gender or args.age or args.occupation:
            raise InvalidInputError(
                f"--gender, --age and --occupation describe an ad-hoc profile: use them with {ad_hoc}, not --user."
            )
        return engine.user_profile(args.user)
    if ad_hoc == "--ratings":
        movies, stars = parse_ratings(args.ratings)
    else:
        movies, stars = parse_items(args.items), None
    return engine.make_profile(movies, args.gender, parse_age(args.age), args.occupation, ratings=stars)


def is_whole_number(text: str, signed: bool = False) -> bool:
    """Digits 0-9 only (optionally after a '-'): str.isdigit() also passes '²', which int() refuses,
    and int() would read other scripts' digits."""
    text = text.strip()
    if signed and text.startswith("-"):
        text = text[1:]
    return text.isascii() and text.isdigit()


def movie_id(text: str, option: str) -> int:
    """A checked whole number as a movie id; one with more digits than any id is refused here (int()
    gives up past 4,300 digits, and no catalogue comes near 19)."""
    text = text.strip()
    if len(text.lstrip("-").lstrip("0")) > MAX_ID_DIGITS:
        raise InvalidInputError(f"{option}: {text[:20]}... ({len(text)} digits) is longer than any movie id.")
    return int(text)


def parse_age(text: str | None) -> str | int | None:
    """--age: years (digits 0-9) or a group label such as 25-34, passed on for the profile to check."""
    if text is None or not text.strip():
        return None
    if is_whole_number(text):
        if len(text.strip().lstrip("0")) > 3:  # past any age; int() would give up past 4,300 digits
            raise InvalidInputError(f"Age {text.strip()[:12]}... is out of range: give an age in years between 1 and 120.")
        return int(text)
    if any(c.isdigit() and not c.isascii() for c in text):
        raise InvalidInputError(f"--age takes years in digits 0-9 (e.g. 25) or a group such as 25-34, got {text!r}.")
    return text


def parse_items(text: str) -> list[int]:
    """'50,172' -> [50, 172]; one clear sentence for anything else."""
    ids = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not is_whole_number(part, signed=True):
            raise InvalidInputError(f"--items takes comma-separated movie ids (digits 0-9), got {part!r}.")
        ids.append(movie_id(part, "--items"))
    return ids


def parse_ratings(text: str) -> tuple[list[int], list[int]]:
    """'50:5,172:4' -> ([50, 172], [5, 4]); one clear sentence for anything else."""
    movies, stars = [], []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        movie, colon, value = part.partition(":")
        if not colon or not is_whole_number(movie) or not is_whole_number(value, signed=True):
            raise InvalidInputError(f"--ratings takes movie:stars pairs separated by commas (e.g. 50:5,172:4), got {part!r}.")
        if value.strip().lstrip("0") not in {str(s) for s in STARS}:
            raise InvalidInputError(f"Stars are 1 to 5, got {value.strip()[:12]} for movie {movie.strip()[:20]} in --ratings.")
        movies.append(movie_id(movie, "--ratings"))
        stars.append(int(value))
    if not movies:
        raise InvalidInputError("--ratings needs at least one movie:stars pair (e.g. 50:5,172:4).")
    return movies, stars
