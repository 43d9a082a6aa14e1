"""Malformed input raises exactly one DataFormatError naming the file, the line and what was expected."""
import gzip

import pytest

from engine.data import load_folder, load_ml1m, load_ml1m_reindexed, load_ml100k, load_recbole_atomic
from engine.errors import DataFormatError

GOOD_U_DATA = "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n2\t3\t2\t888551000\n"


def _error(load, folder) -> DataFormatError:
    with pytest.raises(DataFormatError) as caught:
        load(folder)
    return caught.value


def _assert_points_at(error: DataFormatError, filename: str, line: int | None, *words: str) -> None:
    message = str(error)
    assert error.path.name == filename, message
    assert error.line == line, message
    assert message.startswith(filename)
    if line is not None:
        assert f"line {line}" in message
    for word in words:
        assert word in message, message


# --- wrong separator -----------------------------------------------------------------------------


def test_ratings_with_commas(movielens):
    folder = movielens.ml100k(u_data=GOOD_U_DATA + "3,4,1,879000000\n")
    error = _error(load_ml100k, folder)
    _assert_points_at(error, "u.data", 5, "4 fields separated by tabs", "found 4 fields separated by commas")


def test_whole_file_with_the_wrong_separator(movielens):
    folder = movielens.ml1m(ratings_dat="1\t1193\t5\t978300760\n")
    _assert_points_at(_error(load_ml1m, folder), "ratings.dat", 1, "'::'", "separated by tabs")


def test_users_with_the_wrong_separator(movielens):
    folder = movielens.ml100k(u_user="1|24|M|technician|85711\n2;53;F;other;94043\n")
    _assert_points_at(_error(load_ml100k, folder), "u.user", 2, "'|'", "semicolons")


# --- missing column ------------------------------------------------------------------------------


def test_ratings_missing_a_column(movielens):
    folder = movielens.ml100k(u_data="1\t1\t5\t874965758\n1\t2\t3\n2\t1\t4\t888550871\n")
    _assert_points_at(_error(load_ml100k, folder), "u.data", 2, "4 fields", "found 3 fields")


def test_reindexed_ratings_missing_a_column(movielens):
    folder = movielens.reindexed(ratings_reindexed_tsv="1\t1\t5\n6\t1\n")
    _assert_points_at(_error(load_ml1m_reindexed, folder), "ratings_reindexed.tsv", 2, "3 fields", "found 2 fields")


def test_movies_missing_a_column(movielens):
    folder = movielens.ml1m(movies_dat="1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James (1996)\n")
    _assert_points_at(_error(load_ml1m, folder), "movies.dat", 2, "3 fields")


def test_item_missing_genre_flags(movielens):
    item = "1|Toy Story (1995)|01-Jan-1995||http://example.org/1|0|0|1\n"
    _assert_points_at(_error(load_ml100k, movielens.ml100k(u_item=item)), "u.item", 1, "24 fields", "found 8 fields")


def test_a_blank_line_in_the_middle(movielens):
    folder = movielens.ml100k(u_data="1\t1\t5\t874965758\n\n2\t1\t4\t888550871\n")
    _assert_points_at(_error(load_ml100k, folder), "u.data", 2, "found an empty line")


def test_an_empty_field(movielens):
    folder = movielens.ml100k(u_data="1\t1\t5\t874965758\n2\t\t4\t888550871\n")
    _assert_points_at(_error(load_ml100k, folder), "u.data", 2, "integer item id", "''")


# --- bad numbers and codes -----------------------------------------------------------------------


def test_rating_that_is_not_a_number(movielens):
    folder = movielens.ml100k(u_data=GOOD_U_DATA + "3\t4\tabc\t879000000\n")
    _assert_points_at(_error(load_ml100k, folder), "u.data", 5, "a number for rating", "'abc'")


def test_bad_number_deep_in_a_large_gzipped_file(movielens):
    rows = [f"{u}::{i}::{1 + (u + i) % 5}::97830{u % 10000:04d}" for u in range(1, 300) for i in range(1, 40)]
    rows[9876] = "12::34::5::97830x760"
    folder = movielens.ml1m(gz=True, ratings_dat="\n".join(rows) + "\n")
    _assert_points_at(_error(load_ml1m, folder), "ratings.dat.gz", 9877, "integer timestamp", "'97830x760'")


def test_fractional_user_id(movielens):
    folder = movielens.reindexed(ratings_reindexed_tsv="1\t1\t5\n1.5\t2\t4\n")
    _assert_points_at(_error(load_ml1m_reindexed, folder), "ratings_reindexed.tsv", 2, "integer user id", "'1.5'")


def test_rating_that_is_not_finite(movielens):
    folder = movielens.reindexed(ratings_reindexed_tsv="1\t1\t5\n2\t2\tnan\n")
    _assert_points_at(_error(load_ml1m_reindexed, folder), "ratings_reindexed.tsv", 2, "a number for rating")


def test_bad_age(movielens):
    folder = movielens.ml100k(u_user="1|24|M|technician|85711\n2|old|F|other|94043\n")
    _assert_points_at(_error(load_ml100k, folder), "u.user", 2, "integer age in years", "'old'")


def test_unknown_ml1m_age_code(movielens):
    folder = movielens.ml1m(users_dat="1::F::1::10::48067\n2::M::57::16::70072\n")
    _assert_points_at(_error(load_ml1m, folder), "users.dat", 2, "age code", "'57'")


def test_unknown_ml1m_occupation_code(movielens):
    folder = movielens.ml1m(users_dat="1::F::1::21::48067\n")
    _assert_points_at(_error(load_ml1m, folder), "users.dat", 1, "occupation code 0..20", "'21'")


def test_unknown_gender(movielens):
    folder = movielens.ml1m(users_dat="1::F::1::10::48067\n2::X::56::16::70072\n")
    _assert_points_at(_error(load_ml1m, folder), "users.dat", 2, "gender M or F", "'X'")


def test_bad_genre_flag(movielens):
    item = "1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(["0"] * 18 + ["2"]) + "\n"
    _assert_points_at(_error(load_ml100k, movielens.ml100k(u_item=item)), "u.item", 1, "genre flags 0 or 1", "'2'")


def test_duplicate_user(movielens):
    folder = movielens.ml100k(u_user="1|24|M|technician|85711\n1|53|F|other|94043\n")
    _assert_points_at(_error(load_ml100k, folder), "u.user", 2, "a new user id", "1 again")


# --- encoding ------------------------------------------------------------------------------------


def test_utf16_ratings(movielens):
    folder = movielens.ml100k()
    (folder / "u.data").write_bytes(GOOD_U_DATA.encode("utf-16"))
    _assert_points_at(_error(load_ml100k, folder), "u.data", 1, "Latin-1 text", "UTF-16")


def test_utf16_without_byte_order_mark(movielens):
    folder = movielens.ml1m()
    (folder / "movies.dat").write_bytes(movielens.ML1M["movies.dat"].encode("utf-16-le"))
    _assert_points_at(_error(load_ml1m, folder), "movies.dat", 1, "Latin-1 text", "NUL bytes")


def test_nul_bytes_on_a_later_line(movielens):
    folder = movielens.ml100k(gz=True)
    (folder / "u.data.gz").write_bytes(gzip.compress(GOOD_U_DATA.encode() + b"3\t4\t1\x00\t879000000\n"))
    _assert_points_at(_error(load_ml100k, folder), "u.data.gz", 5, "Latin-1 text")


def test_utf16_recbole_header(movielens):
    folder = movielens.recbole()
    (folder / "ml-100k.inter").write_bytes(movielens.RECBOLE["ml-100k.inter"].encode("utf-16"))
    _assert_points_at(_error(load_recbole_atomic, folder), "ml-100k.inter", 1, "Latin-1 text")


# --- empty and truncated files -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["u.data", "u.user", "u.item"])
def test_empty_file(movielens, name):
    folder = movielens.ml100k(**{name.replace(".", "_"): ""})
    _assert_points_at(_error(load_ml100k, folder), name, 1, "found an empty file")


def test_empty_gzipped_file(movielens):
    folder = movielens.reindexed(gz=True, ratings_reindexed_tsv="")
    _assert_points_at(_error(load_ml1m_reindexed, folder), "ratings_reindexed.tsv.gz", 1, "an empty file")


def test_recbole_file_with_only_a_header(movielens):
    folder = movielens.recbole(ml_100k_inter="user_id:token\titem_id:token\trating:float\ttimestamp:float\n")
    _assert_points_at(_error(load_recbole_atomic, folder), "ml-100k.inter", 2, "only the header line")


def test_recbole_file_with_other_columns(movielens):
    folder = movielens.recbole(ml_100k_inter="user:token\titem:token\trating:float\n1\t2\t3\n")
    _assert_points_at(_error(load_recbole_atomic, folder), "ml-100k.inter", 1, "user_id item_id rating timestamp")


def test_truncated_gzip(movielens):
    rows = "".join(f"{u}\t{i}\t{1 + (u * i) % 5}\t87{u:04d}{i:04d}\n" for u in range(1, 200) for i in range(1, 50))
    folder = movielens.ml100k(gz=True, u_data=rows)
    compressed = (folder / "u.data.gz").read_bytes()
    (folder / "u.data.gz").write_bytes(compressed[: len(compressed) // 2])
    error = _error(load_ml100k, folder)
    assert error.path.name == "u.data.gz"
    assert 1 < error.line < rows.count("\n")
    assert "a complete gzip stream" in str(error) and "truncated" in str(error)


def test_truncated_gzip_header(movielens):
    folder = movielens.ml1m(gz=True)
    (folder / "users.dat.gz").write_bytes(b"\x1f\x8b\x08")
    _assert_points_at(_error(load_folder, folder), "users.dat.gz", 1, "a complete gzip stream")


def test_corrupt_gzip(movielens):
    folder = movielens.ml1m(gz=True)
    data = bytearray((folder / "movies.dat.gz").read_bytes())
    data[12:40] = b"\xff" * 28
    (folder / "movies.dat.gz").write_bytes(bytes(data))
    _assert_points_at(_error(load_ml1m, folder), "movies.dat.gz", 1, "a complete gzip stream")


def test_extra_and_missing_fields_that_balance_out(movielens):
    """One line with a field too many and a later one with a field too few: the first is reported."""
    folder = movielens.ml100k(u_data="1\t1\t5\t874965758\n1\t2\t3\t876893171\t7\n2\t1\t4\n")
    _assert_points_at(_error(load_ml100k, folder), "u.data", 2, "4 fields", "found 5 fields")
