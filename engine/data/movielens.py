"""Loaders for the MovieLens layouts the project meets, and `load_folder`, which tells them apart.

- GroupLens ml-100k (`u.data`, `u.user`, `u.item`, optional `u.genre`)
- GroupLens ml-1m (`ratings.dat`, `users.dat`, `movies.dat`)
- the re-indexed ML-1M ratings (`ratings_reindexed.tsv` + `users.dat`; no titles, no timestamps)
- RecBole's atomic copy of ml-100k (`ml-100k.inter`, `ml-100k.user`, `ml-100k.item`)

Any file may be gzip-compressed (`u.data.gz`).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from engine.data.checks import RatingsFile, drop_duplicates, require_listed
from engine.data.parsing import (
    Bounds,
    check_text,
    find_file,
    parse_bounded_int,
    parse_int,
    parse_title,
    read_bytes,
    read_numeric_table,
    split_fields,
    text_lines,
)
from engine.data.types import (
    GENDERS,
    ML1M_OCCUPATIONS,
    Dataset,
    Interactions,
    Movie,
    User,
    age_bucket,
    age_bucket_from_ml1m_code,
    mark_shared_labels,
)
from engine.errors import DataFormatError, DataUnavailableError

ML100K_GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)

_log = logging.getLogger("engine.data")

# MovieLens ids start at 1; 2**31 - 1 leaves room for every MovieLens release and keeps ids exact
# in int32 and float64 arrays.
MAX_ID = 2**31 - 1
USER_ID = Bounds(1, MAX_ID, f"a user id from 1 to {MAX_ID}")
MOVIE_ID = Bounds(1, MAX_ID, f"a movie id from 1 to {MAX_ID}")
RATING = Bounds(1, 5, "a rating from 1 to 5")
TIMESTAMP = Bounds(0, 253_402_300_799, "a timestamp in seconds since 1970 (0 to 253402300799)")
AGE = Bounds(0, 120, "an age in years from 0 to 120")

_RATING_COLUMNS = ("user id", "item id", "rating", "timestamp")
_RATING_INTEGER = (True, True, False, True)
_RATING_BOUNDS = (USER_ID, MOVIE_ID, RATING, TIMESTAMP)


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _require(folder: Path, name: str, layout: str) -> Path:
    path = find_file(folder, name)
    if path is None:
        raise DataUnavailableError(
            f"{folder} looks like {layout} but has no {name} (or {name}.gz); "
            "unzip the complete MovieLens archive into that folder."
        )
    return path


def _assemble(name: str, movies: dict[int, Movie], users: dict[int, User], ratings: RatingsFile,
              interactions: Interactions, source: str, *, users_file: Path | None, movies_file: Path | None,
              encodings: dict[str, str]) -> Dataset:
    """The Dataset, once every rated user and movie is listed in the layout's users and movies files
    (where it has them; otherwise a bare User/Movie stands in) and exact duplicate ratings are dropped."""
    if users_file is not None:
        require_listed(ratings, interactions.users, users, "user", users_file)
    if movies_file is not None:
        require_listed(ratings, interactions.items, movies, "movie", movies_file)
    interactions, note = drop_duplicates(ratings, interactions)
    notes = (note,) if note else ()
    for text in notes:
        _log.warning(text)
    for user_id in _distinct(interactions.users):
        if user_id not in users:
            users[user_id] = User(user_id)
    for item_id in _distinct(interactions.items):
        if item_id not in movies:
            movies[item_id] = Movie(item_id, f"Item {item_id}")
    return Dataset(name=name, movies=mark_shared_labels(movies), users=users, interactions=interactions,
                   source=source, notes=notes, encodings=encodings)


def _distinct(ids: np.ndarray) -> list[int]:
    """Sorted distinct ids; counting beats sorting for the small non-negative ids MovieLens uses."""
    if ids.size and 0 <= ids.min() and ids.max() < 50_000_000:
        return np.flatnonzero(np.bincount(ids)).tolist()
    return np.unique(ids).tolist()


def _interactions(columns: list[np.ndarray], with_timestamps: bool = True) -> Interactions:
    timestamps = columns[3].astype(np.int64) if with_timestamps else None
    return Interactions(
        users=columns[0].astype(np.int64),
        items=columns[1].astype(np.int64),
        ratings=columns[2].astype(np.float32),
        timestamps=timestamps,
    )


def _check_gender(path: Path, number: int, token: str) -> str:
    if token not in GENDERS:
        raise DataFormatError(path, number, "gender M or F", repr(token))
    return token


def _require_title(path: Path, number: int, raw: str) -> str:
    """GroupLens lists a title for every movie (even "unknown"); an empty one is a damaged line."""
    if not raw.strip():
        raise DataFormatError(path, number, "a movie title", "an empty title field")
    return raw


def _unique_id(path: Path, number: int, key: int, seen: dict, what: str) -> int:
    if key in seen:
        raise DataFormatError(path, number, f"a new {what} id", f"{key} again")
    return key


# ---------------------------------------------------------------------------------------------
# GroupLens ml-100k


def load_ml100k(folder: str | Path) -> Dataset:
    folder = Path(folder)
    layout = "MovieLens 100k"
    ratings_path = _require(folder, "u.data", layout)
    ratings = read_numeric_table(ratings_path, "\t", _RATING_COLUMNS, _RATING_INTEGER, bounds=_RATING_BOUNDS)
    encodings: dict[str, str] = {}
    users_path = _require(folder, "u.user", layout)
    users = _read_ml100k_users(users_path, encodings)
    genre_file = find_file(folder, "u.genre")
    genres = _read_ml100k_genres(genre_file, encodings) if genre_file else ML100K_GENRES
    movies_path = _require(folder, "u.item", layout)
    movies = _read_ml100k_items(movies_path, genres, encodings)
    return _assemble("ml-100k", movies, users, RatingsFile(ratings_path), _interactions(ratings),
                     f"MovieLens 100k files in {folder}", users_file=users_path, movies_file=movies_path,
                     encodings=encodings)


def _read_ml100k_users(path: Path, encodings: dict[str, str]) -> dict[int, User]:
    columns = ("user id", "age", "gender", "occupation", "zip code")
    users: dict[int, User] = {}
    for number, line in text_lines(path, encodings):
        user_id, age, gender, occupation, zip_code = split_fields(path, number, line, "|", columns)
        key = _unique_id(path, number, parse_bounded_int(path, number, user_id, "user id", USER_ID), users, "user")
        years = parse_bounded_int(path, number, age, "age in years", AGE)
        users[key] = User(key, _check_gender(path, number, gender), age_bucket(years),
                          occupation.strip() or None, zip_code.strip() or None)
    return users


def _read_ml100k_genres(path: Path, encodings: dict[str, str]) -> tuple[str, ...]:
    by_index: dict[int, str] = {}
    for number, line in text_lines(path, encodings):
        name, index = split_fields(path, number, line, "|", ("genre", "index"))
        by_index[parse_int(path, number, index, "genre index")] = name
    if sorted(by_index) != list(range(len(by_index))):
        raise DataFormatError(path, None, f"genre indices 0..{len(by_index) - 1}", str(sorted(by_index)))
    return tuple(by_index[i] for i in range(len(by_index)))


def _read_ml100k_items(path: Path, genres: Sequence[str], encodings: dict[str, str]) -> dict[int, Movie]:
    columns = ("movie id", "title", "release date", "video release date", "IMDb URL") + tuple(genres)
    described = f"{', '.join(columns[:5])} and {len(genres)} genre flags"
    movies: dict[int, Movie] = {}
    for number, line in text_lines(path, encodings):
        fields = split_fields(path, number, line, "|", columns, described)
        key = _unique_id(path, number, parse_bounded_int(path, number, fields[0], "movie id", MOVIE_ID), movies, "movie")
        title, year = parse_title(_require_title(path, number, fields[1]))
        if year is None:
            year = _year_of_release_date(fields[2])
        flags = fields[5:]
        for flag in flags:
            if flag not in ("0", "1"):
                raise DataFormatError(path, number, "genre flags 0 or 1", repr(flag))
        movie_genres = tuple(g for g, flag in zip(genres, flags) if flag == "1")
        movies[key] = Movie(key, title, year, movie_genres)
    return movies


def _year_of_release_date(text: str) -> int | None:
    """"01-Jan-1995" -> 1995; anything else -> None."""
    tail = text.strip()[-4:]
    return int(tail) if len(tail) == 4 and tail.isdigit() else None


# ---------------------------------------------------------------------------------------------
# GroupLens ml-1m and the re-indexed ML-1M ratings


def load_ml1m(folder: str | Path) -> Dataset:
    folder = Path(folder)
    layout = "MovieLens 1M"
    ratings_path = _require(folder, "ratings.dat", layout)
    ratings = read_numeric_table(ratings_path, "::", _RATING_COLUMNS, _RATING_INTEGER, bounds=_RATING_BOUNDS)
    encodings: dict[str, str] = {}
    users_path = _require(folder, "users.dat", layout)
    users = _read_ml1m_users(users_path, encodings)
    movies_path = _require(folder, "movies.dat", layout)
    movies = _read_ml1m_movies(movies_path, encodings)
    return _assemble("ml-1m", movies, users, RatingsFile(ratings_path), _interactions(ratings),
                     f"MovieLens 1M files in {folder}", users_file=users_path, movies_file=movies_path,
                     encodings=encodings)


def load_ml1m_reindexed(folder: str | Path) -> Dataset:
    """All ML-1M ratings with re-indexed item ids: no titles and no timestamps exist for this source."""
    folder = Path(folder)
    layout = "the re-indexed MovieLens 1M ratings"
    ratings_path = _require(folder, "ratings_reindexed.tsv", layout)
    ratings = read_numeric_table(ratings_path, "\t", _RATING_COLUMNS[:3], _RATING_INTEGER[:3],
                                 bounds=_RATING_BOUNDS[:3])
    encodings: dict[str, str] = {}
    users_file = find_file(folder, "users.dat")
    users = _read_ml1m_users(users_file, encodings) if users_file else {}
    source = (f"MovieLens 1M ratings with re-indexed item ids in {folder}: "
              "no titles, genres or timestamps exist for this source")
    # No movies file exists for this source: its items stand as bare "Item N" records.
    return _assemble("ml-1m", {}, users, RatingsFile(ratings_path), _interactions(ratings, with_timestamps=False),
                     source, users_file=users_file, movies_file=None, encodings=encodings)


def _read_ml1m_users(path: Path, encodings: dict[str, str]) -> dict[int, User]:
    columns = ("user id", "gender", "age code", "occupation code", "zip code")
    users: dict[int, User] = {}
    for number, line in text_lines(path, encodings):
        user_id, gender, age, occupation, zip_code = split_fields(path, number, line, "::", columns)
        key = _unique_id(path, number, parse_bounded_int(path, number, user_id, "user id", USER_ID), users, "user")
        code = parse_int(path, number, age, "age code")
        try:
            bucket = age_bucket_from_ml1m_code(code)
        except ValueError:
            raise DataFormatError(path, number, "an age code 1, 18, 25, 35, 45, 50 or 56", repr(age)) from None
        job = parse_int(path, number, occupation, "occupation code")
        if not 0 <= job < len(ML1M_OCCUPATIONS):
            raise DataFormatError(path, number, f"an occupation code 0..{len(ML1M_OCCUPATIONS) - 1}", repr(occupation))
        users[key] = User(key, _check_gender(path, number, gender), bucket, ML1M_OCCUPATIONS[job],
                          zip_code.strip() or None)
    return users


def _read_ml1m_movies(path: Path, encodings: dict[str, str]) -> dict[int, Movie]:
    movies: dict[int, Movie] = {}
    for number, line in text_lines(path, encodings):
        movie_id, raw_title, genres = split_fields(path, number, line, "::", ("movie id", "title", "genres"))
        key = _unique_id(path, number, parse_bounded_int(path, number, movie_id, "movie id", MOVIE_ID), movies, "movie")
        title, year = parse_title(_require_title(path, number, raw_title))
        names = tuple(g for g in genres.strip().split("|") if g and g != "(no genres listed)")
        movies[key] = Movie(key, title, year, names)
    return movies


# ---------------------------------------------------------------------------------------------
# RecBole's atomic files (ml-100k as shipped inside the recbole wheel)


def load_recbole_atomic(folder: str | Path) -> Dataset:
    folder = Path(folder)
    layout = "RecBole's atomic ml-100k files"
    inter_path = _require(folder, "ml-100k.inter", layout)
    header = _atomic_header(inter_path)
    wanted = ("user_id", "item_id", "rating", "timestamp")
    if header != list(wanted):
        raise DataFormatError(inter_path, 1, f"the header {' '.join(wanted)} (typed, tab-separated)", " ".join(header))
    ratings = read_numeric_table(inter_path, "\t", _RATING_COLUMNS, _RATING_INTEGER, header=True,
                                 bounds=_RATING_BOUNDS)
    encodings: dict[str, str] = {}
    users_path = _require(folder, "ml-100k.user", layout)
    users = _read_atomic_users(users_path, encodings)
    movies_path = _require(folder, "ml-100k.item", layout)
    movies = _read_atomic_items(movies_path, encodings)
    return _assemble("ml-100k", movies, users, RatingsFile(inter_path, first_line=2), _interactions(ratings),
                     f"RecBole's MovieLens 100k files in {folder}", users_file=users_path, movies_file=movies_path,
                     encodings=encodings)


def _atomic_header(path: Path) -> list[str]:
    """Column names of a RecBole atomic file, without their types: `user_id:token` -> `user_id`."""
    data = read_bytes(path)
    check_text(path, data)
    first = data.split(b"\n", 1)[0].decode("latin-1").rstrip("\r")
    return [field.split(":", 1)[0].strip() for field in first.split("\t")] if first.strip() else []


def _atomic_rows(path: Path, wanted: Sequence[str],
                 encodings: dict[str, str]) -> tuple[list[tuple[int, list[str]]], dict[str, int]]:
    """Data rows (line number, fields) and the index of each wanted column."""
    lines = iter(text_lines(path, encodings))
    _, header_line = next(lines)
    names = [field.split(":", 1)[0].strip() for field in header_line.split("\t")]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise DataFormatError(path, 1, f"a header with the columns {', '.join(wanted)}", f"no {', '.join(missing)}")
    rows = [(number, split_fields(path, number, line, "\t", names)) for number, line in lines]
    if not rows:
        raise DataFormatError(path, 2, "at least one row of data", "only the header line")
    return rows, {name: names.index(name) for name in wanted}


def _read_atomic_users(path: Path, encodings: dict[str, str]) -> dict[int, User]:
    rows, col = _atomic_rows(path, ("user_id", "age", "gender", "occupation", "zip_code"), encodings)
    users: dict[int, User] = {}
    for number, fields in rows:
        user_id = parse_bounded_int(path, number, fields[col["user_id"]], "user id", USER_ID)
        key = _unique_id(path, number, user_id, users, "user")
        years = parse_bounded_int(path, number, fields[col["age"]], "age in years", AGE)
        users[key] = User(key, _check_gender(path, number, fields[col["gender"]]), age_bucket(years),
                          fields[col["occupation"]].strip() or None, fields[col["zip_code"]].strip() or None)
    return users


def _read_atomic_items(path: Path, encodings: dict[str, str]) -> dict[int, Movie]:
    rows, col = _atomic_rows(path, ("item_id", "movie_title", "release_year", "class"), encodings)
    movies: dict[int, Movie] = {}
    for number, fields in rows:
        item_id = parse_bounded_int(path, number, fields[col["item_id"]], "item id", MOVIE_ID)
        key = _unique_id(path, number, item_id, movies, "movie")
        # RecBole strips the last "(...)" off each title into release_year, so item 1412 has year
        # "V" and a title still ending in "(1995)"; the unknown movie 267 has "unkonwn" for both.
        title, year = parse_title(fields[col["movie_title"]])
        year_text = fields[col["release_year"]].strip()
        if year_text.isdigit():
            year = int(year_text)
        title = "unknown" if title == "unkonwn" else title
        genres = tuple(fields[col["class"]].split())
        movies[key] = Movie(key, title or f"Item {key}", year, genres)
    return movies


# ---------------------------------------------------------------------------------------------
# Which layout a folder holds

# (dataset name, file whose presence identifies the layout, loader)
LAYOUTS: tuple[tuple[str, str, Callable[[str | Path], Dataset]], ...] = (
    ("ml-100k", "u.data", load_ml100k),
    ("ml-100k", "ml-100k.inter", load_recbole_atomic),
    ("ml-1m", "ratings.dat", load_ml1m),
    ("ml-1m", "ratings_reindexed.tsv", load_ml1m_reindexed),
)


def detect_layout(folder: str | Path, name: str | None = None) -> Callable[[str | Path], Dataset] | None:
    """The loader for the layout `folder` holds (only layouts of dataset `name` when given)."""
    folder = Path(folder)
    for dataset, marker, loader in LAYOUTS:
        if (name is None or dataset == name) and find_file(folder, marker) is not None:
            return loader
    return None


def expected_files(name: str | None = None) -> list[str]:
    return [marker for dataset, marker, _ in LAYOUTS if name is None or dataset == name]


def load_folder(folder: str | Path, name: str | None = None) -> Dataset:
    """Load whichever MovieLens layout `folder` holds; also looks one level down, in `folder/<name>/`.

    `name` ("ml-100k" or "ml-1m") restricts the layouts accepted.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataUnavailableError(f"{folder} is not a folder.")
    loader = detect_layout(folder, name)
    if loader is None:
        for dataset in sorted({d for d, _, _ in LAYOUTS if name is None or d == name}):
            if (folder / dataset).is_dir() and detect_layout(folder / dataset, name) is not None:
                folder = folder / dataset
                loader = detect_layout(folder, name)
                break
    if loader is None:
        looked_for = ", ".join(f"{marker}[.gz]" for marker in expected_files(name))
        what = f"{name} data" if name else "MovieLens data"
        raise DataUnavailableError(f"{folder} holds no {what}: looked for {looked_for}.")
    return loader(folder)
