"""The profile a command names: a dataset user (--user), or an ad-hoc profile from movie ids
(--items) or rated movies (--ratings), with optional --gender, --age and --occupation."""
from __future__ import annotations

from engine.api import Engine
from engine.errors import InvalidInputError
from engine.profile import STARS, Profile


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
    return engine.make_profile(movies, args.gender, args.age, args.occupation, ratings=stars)


def parse_items(text: str) -> list[int]:
    """'50,172' -> [50, 172]; one clear sentence for anything else."""
    ids = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise InvalidInputError(f"--items takes comma-separated movie ids, got {part!r}")
        ids.append(int(part))
    return ids


def parse_ratings(text: str) -> tuple[list[int], list[int]]:
    """'50:5,172:4' -> ([50, 172], [5, 4]); one clear sentence for anything else."""
    movies, stars = [], []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        movie, colon, value = part.partition(":")
        if not colon or not movie.strip().isdigit() or not value.strip().lstrip("-").isdigit():
            raise InvalidInputError(f"--ratings takes movie:stars pairs separated by commas (e.g. 50:5,172:4), got {part!r}.")
        if int(value) not in STARS:
            raise InvalidInputError(f"Stars are 1 to 5, got {int(value)} for movie {int(movie)} in --ratings.")
        movies.append(int(movie))
        stars.append(int(value))
    if not movies:
        raise InvalidInputError("--ratings needs at least one movie:stars pair (e.g. 50:5,172:4).")
    return movies, stars
