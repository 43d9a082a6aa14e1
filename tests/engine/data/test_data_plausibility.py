"""Plausible but wrong data (issue 12): out-of-range ratings and ids, duplicate or conflicting rows,
ratings for users or movies the catalogue does not list, and text whose encoding must be detected.

Each bad file gives one DataFormatError naming the file, the 1-based line, the bad text and what was
expected; exact duplicate ratings are dropped with one warning that counts them.
"""
import logging

import numpy as np
import pytest

from engine.data import load_ml1m, load_ml1m_reindexed, load_ml100k, load_recbole_atomic
from engine.errors import DataFormatError

INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"

# (loader, fixture writer, file keyword, file name, first data line, row builder)
LAYOUTS = {
    "ml-100k": (load_ml100k, "ml100k", "u_data", "u.data", 1, lambda *f: "\t".join(f)),
    "ml-1m": (load_ml1m, "ml1m", "ratings_dat", "ratings.dat", 1, lambda *f: "::".join(f)),
    "reindexed": (load_ml1m_reindexed, "reindexed", "ratings_reindexed_tsv", "ratings_reindexed.tsv", 1,
                  lambda *f: "\t".join(f[:3])),
    "recbole": (load_recbole_atomic, "recbole", "ml_100k_inter", "ml-100k.inter", 2, lambda *f: "\t".join(f)),
}
# Two good rows every layout's catalogue knows: (user, movie, stars, timestamp).
GOOD = {
    "ml-100k": [("1", "1", "5", "874965758"), ("2", "3", "2", "888551000")],
    "ml-1m": [("1", "1193", "5", "978300760"), ("2", "661", "3", "978302109")],
    "reindexed": [("1", "1", "5", "0"), ("2", "2", "3", "0")],
    "recbole": [("1", "1", "5", "874965758"), ("2", "2", "3", "876893171")],
}


def _ratings(layout: str, *extra: tuple[str, str, str, str]) -> tuple:
    """A folder of `layout` whose ratings file is the two good rows followed by `extra` rows."""
    loader, writer, keyword, name, first, row = LAYOUTS[layout]
    text = "".join(row(*fields) + "\n" for fields in [*GOOD[layout], *extra])
    if layout == "recbole":
        text = INTER_HEADER + text
    return loader, writer, keyword, name, first, text


def _load_bad(movielens, layout: str, *extra) -> tuple[DataFormatError, str, int]:
    loader, writer, keyword, name, first, text = _ratings(layout, *extra)
    folder = getattr(movielens, writer)(**{keyword: text})
    with pytest.raises(DataFormatError) as caught:
        loader(folder)
    return caught.value, name, first


def _assert_points_at(error: DataFormatError, filename: str, line: int, *words: str) -> None:
    message = str(error)
    assert error.path.name == filename, message
    assert error.line == line, message
    assert message.startswith(f"{filename}, line {line}: expected "), message
    for word in words:
        assert word in message, message


ALL_LAYOUTS = list(LAYOUTS)


# --- ratings outside the 1-5 star scale ----------------------------------------------------------


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
@pytest.mark.parametrize("stars", ["7", "-3", "999999", "0", "5.5", "1e300"])
def test_rating_outside_the_scale(movielens, layout, stars):
    user, movie, _, ts = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, (user, movie, stars, ts))
    _assert_points_at(error, name, first + 2, "a rating from 1 to 5", f"found '{stars}'")


def test_fractional_ratings_inside_the_scale_still_load(movielens):
    dataset = load_ml100k(movielens.ml100k(u_data="1\t1\t1.5\t874965758\n2\t3\t4.5\t874965759\n"))
    assert dataset.interactions.ratings.tolist() == [1.5, 4.5]


# --- ids that are not positive, or too large (no silent clamp to 2**63 - 1) -----------------------


BAD_IDS = ["-3", "0", "99999999999999999999", "9223372036854775807", "2147483648"]


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_user_id_out_of_range_in_ratings(movielens, layout, bad):
    _, movie, stars, ts = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, (bad, movie, stars, ts))
    _assert_points_at(error, name, first + 2, "a user id from 1 to 2147483647", f"found '{bad}'")


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_movie_id_out_of_range_in_ratings(movielens, layout, bad):
    user, _, stars, ts = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, (user, bad, stars, ts))
    _assert_points_at(error, name, first + 2, "id from 1 to 2147483647", f"found '{bad}'")


@pytest.mark.parametrize("layout", ["ml-100k", "ml-1m", "recbole"])
@pytest.mark.parametrize("bad", ["-1", "99999999999999999999"])
def test_timestamp_out_of_range(movielens, layout, bad):
    user, movie, stars, _ = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, (user, movie, stars, bad))
    _assert_points_at(error, name, first + 2, "a timestamp", f"found '{bad}'")


@pytest.mark.parametrize(
    ("writer", "keyword", "text", "name", "line", "words"),
    [
        ("ml100k", "u_user", "1|24|M|technician|85711\n-2|53|F|other|94043\n", "u.user", 2, ("user id from 1",)),
        ("ml100k", "u_user", "1|24|M|technician|85711\n99999999999999999999|53|F|other|94043\n", "u.user", 2,
         ("user id from 1",)),
        ("ml100k", "u_user", "1|24|M|technician|85711\n2|999|F|other|94043\n", "u.user", 2, ("age in years",)),
        ("ml100k", "u_item", "-1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join("0" * 19) + "\n", "u.item", 1,
         ("movie id from 1",)),
        ("ml1m", "users_dat", "1::F::1::10::48067\n0::M::56::16::70072\n", "users.dat", 2, ("user id from 1",)),
        ("ml1m", "movies_dat", "1193::Cuckoo (1975)::Drama\n-661::James (1996)::Drama\n", "movies.dat", 2,
         ("movie id from 1",)),
    ],
)
def test_id_out_of_range_in_catalogue_files(movielens, writer, keyword, text, name, line, words):
    loader = {"ml100k": load_ml100k, "ml1m": load_ml1m}[writer]
    with pytest.raises(DataFormatError) as caught:
        loader(getattr(movielens, writer)(**{keyword: text}))
    _assert_points_at(caught.value, name, line, *words)


# --- ratings for users or movies the catalogue does not list -------------------------------------


@pytest.mark.parametrize(
    ("layout", "catalogue"), [("ml-100k", "u.item"), ("ml-1m", "movies.dat"), ("recbole", "ml-100k.item")]
)
def test_rating_for_a_movie_missing_from_the_catalogue(movielens, layout, catalogue):
    user, _, stars, ts = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, (user, "99999", stars, ts))
    _assert_points_at(error, name, first + 2, f"a movie id listed in {catalogue}", "found 99999")


@pytest.mark.parametrize(
    ("layout", "catalogue"),
    [("ml-100k", "u.user"), ("ml-1m", "users.dat"), ("reindexed", "users.dat"), ("recbole", "ml-100k.user")],
)
def test_rating_by_a_user_missing_from_the_user_file(movielens, layout, catalogue):
    _, movie, stars, ts = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, ("4242", movie, stars, ts))
    _assert_points_at(error, name, first + 2, f"a user id listed in {catalogue}", "found 4242")


def test_reindexed_ratings_need_no_catalogue(movielens):
    """The re-indexed ML-1M source has no movies file, so its items are bare "Item N" by design."""
    folder = movielens.reindexed()
    (folder / "users.dat").unlink()
    dataset = load_ml1m_reindexed(folder)
    assert dataset.movies[3].title == "Item 3" and dataset.users[7].gender is None


# --- duplicate and conflicting rows --------------------------------------------------------------


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
def test_conflicting_ratings_for_one_user_and_movie(movielens, layout):
    user, movie, _, ts = GOOD[layout][0]
    error, name, first = _load_bad(movielens, layout, GOOD[layout][1], (user, movie, "1", ts))
    _assert_points_at(error, name, first + 3, "one rating per user and movie",
                      f"user {user} rated movie {movie} again: 1 here, 5 on line {first}")


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
def test_exact_duplicates_are_dropped_with_one_warning(movielens, layout, caplog):
    loader, writer, keyword, name, first, text = _ratings(layout, GOOD[layout][0], GOOD[layout][1], GOOD[layout][0])
    with caplog.at_level(logging.WARNING, logger="engine.data"):
        dataset = loader(getattr(movielens, writer)(**{keyword: text}))
    assert len(dataset.interactions) == 2
    assert dataset.interactions.ratings.tolist() == [float(row[2]) for row in GOOD[layout]]
    note = f"{name}: 3 duplicate ratings (same user, movie and stars as an earlier line, first on line {first + 2}) were ignored"
    assert [note] == [n for n in dataset.notes]
    assert [note] == [r.getMessage() for r in caplog.records]


def test_duplicates_keep_the_first_timestamp(movielens):
    dataset = load_ml100k(movielens.ml100k(u_data="1\t1\t5\t100\n2\t3\t4\t200\n1\t1\t5\t300\n"))
    assert dataset.interactions.timestamps.tolist() == [100, 200]


# --- encodings: detected, not guessed ------------------------------------------------------------


def _u_item(title: str) -> str:
    return f"1|{title}|01-Jan-1995||http://x|" + "|".join("0" * 18 + "1") + "\n"


@pytest.mark.parametrize(
    ("raw", "encoding", "title", "detected"),
    [
        ("Misérables, Les (1995)", "utf-8", "Les Misérables", "utf-8"),
        ("Misérables, Les (1995)", "latin-1", "Les Misérables", "latin-1"),
        ("Schindler’s List (1993)", "cp1252", "Schindler’s List", "cp1252"),
        ("Toy Story (1995)", "ascii", "Toy Story", "ascii"),
    ],
)
def test_u_item_encoding_is_detected(movielens, raw, encoding, title, detected):
    folder = movielens.ml100k(u_data="1\t1\t5\t874965758\n")
    (folder / "u.item").write_bytes(_u_item(raw).encode(encoding))
    dataset = load_ml100k(folder)
    assert dataset.movies[1].title == title
    assert dataset.encodings["u.item"] == detected


def test_utf8_movies_dat_is_read_as_utf8(movielens):
    folder = movielens.ml1m()
    (folder / "movies.dat").write_bytes("1193::Misérables, Les (1995)::Drama\n661::Café au Lait (1993)::Comedy\n"
                                        "3408::Erin Brockovich (2000)::Drama\n".encode("utf-8"))
    dataset = load_ml1m(folder)
    assert dataset.movies[1193].title == "Les Misérables" and dataset.movies[661].title == "Café au Lait"
    assert dataset.encodings["movies.dat"] == "utf-8"


def test_latin1_recbole_items_are_read_as_latin1(movielens):
    folder = movielens.recbole()
    (folder / "ml-100k.item").write_bytes(movielens.RECBOLE["ml-100k.item"].encode("latin-1"))
    dataset = load_recbole_atomic(folder)
    assert dataset.movies[3].title == "Les Misérables"
    assert dataset.encodings["ml-100k.item"] == "latin-1"


def test_good_files_load_without_notes(movielens):
    dataset = load_ml100k(movielens.ml100k())
    assert dataset.notes == ()
    assert dataset.encodings["u.item"] == "latin-1" and dataset.encodings["u.user"] == "ascii"
    assert np.all(dataset.interactions.ratings >= 1)


@pytest.mark.parametrize(
    ("writer", "keyword", "text", "name"),
    [
        ("ml100k", "u_item", "1| |01-Jan-1995||http://x|" + "|".join("0" * 18 + "1") + "\n", "u.item"),
        ("ml1m", "movies_dat", "1193::Cuckoo (1975)::Drama\n661::::Drama\n3408::Erin (2000)::Drama\n", "movies.dat"),
    ],
)
def test_movie_without_a_title(movielens, writer, keyword, text, name):
    """An empty title used to become a made-up "Item N"."""
    loader = {"ml100k": load_ml100k, "ml1m": load_ml1m}[writer]
    with pytest.raises(DataFormatError) as caught:
        loader(getattr(movielens, writer)(**{keyword: text}))
    _assert_points_at(caught.value, name, 1 if writer == "ml100k" else 2, "a movie title", "an empty title field")
