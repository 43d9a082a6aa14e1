"""Each MovieLens layout loads from generated files, plain and gzipped."""
import gzip

import numpy as np
import pytest

from engine.data import load_folder, load_ml1m, load_ml1m_reindexed, load_ml100k, load_recbole_atomic
from engine.data.parsing import read_bytes, read_numeric_table
from engine.data.types import ML1M_OCCUPATIONS, Movie, User
from engine.errors import DataUnavailableError


@pytest.mark.parametrize("gz", [False, True])
def test_ml100k(movielens, gz):
    dataset = load_ml100k(movielens.ml100k(gz=gz))
    assert dataset.name == "ml-100k"
    inter = dataset.interactions
    assert len(inter) == 7
    assert inter.users.dtype == np.int64 and inter.items.dtype == np.int64
    assert inter.ratings.dtype == np.float32 and inter.timestamps.dtype == np.int64
    assert inter.users.tolist() == [1, 1, 2, 2, 3, 3, 9]
    assert inter.ratings.tolist() == [5, 3, 4, 2, 1, 5, 4]
    assert inter.timestamps[0] == 874965758
    movies = dataset.movies
    assert movies[1] == Movie(1, "Toy Story", 1995, ("Animation", "Children's", "Comedy"))
    assert movies[2] == Movie(2, "The Usual Suspects", 1995, ("Crime", "Thriller"))
    assert movies[3].title == "The Horseman on the Roof (Le Hussard sur le toit)"
    assert movies[4] == Movie(4, "unknown", None, ("unknown",))
    assert movies[5].title == "Heidi Fleiss: Hollywood Madam" and movies[5].year == 1995
    assert movies[6].title == "Les Misérables"  # Latin-1 decoded
    assert movies[7] == Movie(7, "Untitled Film", 1997, ("Comedy",))  # year from the release date
    assert dataset.users[1] == User(1, "M", "18-24", "technician", "85711")
    assert dataset.users[2].age == "50-55" and dataset.users[2].gender == "F"
    assert dataset.users[3].age == "Under 18"
    assert dataset.users[9] == User(9, "F", "25-34", "writer", "02139")
    assert "Drama" in dataset.genres


def test_ml100k_without_u_genre_uses_the_standard_names(movielens):
    folder = movielens.ml100k()
    (folder / "u.genre").unlink()
    assert load_ml100k(folder).movies[1].genres == ("Animation", "Children's", "Comedy")


def test_ml100k_takes_genre_names_from_u_genre(movielens):
    names = [f"G{i}" for i in range(19)]
    folder = movielens.ml100k(u_genre="".join(f"{n}|{i}\n" for i, n in enumerate(names)))
    assert load_ml100k(folder).movies[2].genres == ("G6", "G16")


def test_ml100k_rating_files_may_have_crlf_and_fractional_ratings(movielens):
    folder = movielens.ml100k(u_data="1\t1\t4.5\t874965758\r\n2\t3\t3\t874965759\r\n")
    dataset = load_ml100k(folder)
    assert dataset.interactions.ratings.tolist() == [4.5, 3.0]


@pytest.mark.parametrize("gz", [False, True])
def test_ml1m(movielens, gz):
    dataset = load_ml1m(movielens.ml1m(gz=gz))
    assert dataset.name == "ml-1m"
    inter = dataset.interactions
    assert inter.users.tolist() == [1, 1, 2, 6]
    assert inter.items.tolist() == [1193, 661, 1193, 3408]
    assert inter.ratings.tolist() == [5, 3, 4, 4]
    assert inter.timestamps.tolist() == [978300760, 978302109, 978298413, 978236000]
    assert dataset.movies[661] == Movie(661, "James and the Giant Peach", 1996, ("Animation", "Children's", "Musical"))
    assert dataset.movies[11].title == "The American President"  # listed, never rated: kept
    assert dataset.users[1] == User(1, "F", "Under 18", "K-12 student", "48067")
    assert dataset.users[2] == User(2, "M", "56+", ML1M_OCCUPATIONS[16], "70072")
    assert dataset.users[3].occupation == "scientist"
    assert dataset.users[6] == User(6, "M", "35-44", "programmer", "02139")


@pytest.mark.parametrize("gz", [False, True])
def test_ml1m_reindexed(movielens, gz):
    dataset = load_ml1m_reindexed(movielens.reindexed(gz=gz))
    assert dataset.name == "ml-1m"
    assert dataset.interactions.timestamps is None
    assert dataset.interactions.items.tolist() == [1, 1, 2, 3]
    assert dataset.movies == {1: Movie(1, "Item 1"), 2: Movie(2, "Item 2"), 3: Movie(3, "Item 3")}
    assert not dataset.has_titles
    assert "no titles" in dataset.source
    assert dataset.users[6] == User(6, "F", "50-55", "homemaker", "55117")
    assert dataset.users[7] == User(7, "M", "18-24", "college/grad student", "10025")


def test_ml1m_reindexed_without_users_file(movielens):
    folder = movielens.reindexed()
    (folder / "users.dat").unlink()
    dataset = load_ml1m_reindexed(folder)
    assert set(dataset.users) == {1, 2, 6, 7}
    assert all(user.gender is None for user in dataset.users.values())


@pytest.mark.parametrize("gz", [False, True])
def test_recbole_atomic(movielens, gz):
    dataset = load_recbole_atomic(movielens.recbole(gz=gz))
    assert dataset.name == "ml-100k"
    assert dataset.interactions.timestamps.tolist() == [874965758, 876893171, 888550871]
    assert dataset.interactions.ratings.tolist() == [5, 3, 4]
    assert dataset.movies[1] == Movie(1, "Toy Story", 1995, ("Animation", "Children's", "Comedy"))
    assert dataset.movies[2].title == "The Usual Suspects"
    assert dataset.movies[3].title == "Les Misérables"  # UTF-8 in RecBole's copy
    assert dataset.movies[4] == Movie(4, "unknown", None, ("unknown",))
    assert dataset.movies[5].title == "Land Before Time III: The Time of the Great Giving"
    assert dataset.movies[5].year == 1995
    assert dataset.users[2] == User(2, "F", "50-55", "other", "94043")


def test_recbole_and_grouplens_copies_agree(movielens):
    """The same ratings, users and catalogue in both layouts give the same fingerprint."""
    grouplens = movielens.ml100k(
        u_data="1\t1\t5\t874965758\n2\t2\t3\t876893171\n",
        u_item="\n".join(movielens.ML100K["u.item"].split("\n")[:2]) + "\n",
        u_user="1|24|M|technician|85711\n2|53|F|other|94043\n",
    )
    recbole = movielens.recbole(
        ml_100k_inter="user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                      "1\t1\t5\t874965758\n2\t2\t3\t876893171\n",
        ml_100k_item="item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
                     "1\tToy Story\t1995\tAnimation Children's Comedy\n2\tUsual Suspects, The\t1995\tCrime Thriller\n",
    )
    a, b = load_ml100k(grouplens), load_recbole_atomic(recbole)
    assert a.movies == b.movies and a.users == b.users
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize(
    ("writer", "expected"),
    [("ml100k", "MovieLens 100k"), ("ml1m", "MovieLens 1M"), ("reindexed", "re-indexed"), ("recbole", "RecBole")],
)
def test_load_folder_detects_the_layout(movielens, writer, expected):
    folder = getattr(movielens, writer)(gz=True)
    assert expected in load_folder(folder).source


def test_load_folder_looks_one_level_down(movielens, tmp_path):
    movielens.ml100k(folder="unzipped/ml-100k")
    assert load_folder(tmp_path / "unzipped").name == "ml-100k"


def test_load_folder_with_nothing_names_the_files_it_looked_for(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataUnavailableError) as caught:
        load_folder(tmp_path)
    message = str(caught.value)
    for name in ("u.data", "ratings.dat", "ratings_reindexed.tsv", "ml-100k.inter"):
        assert name in message


def test_load_folder_restricted_to_a_dataset_name(movielens):
    folder = movielens.ml100k()
    with pytest.raises(DataUnavailableError, match="ratings.dat"):
        load_folder(folder, "ml-1m")


def test_missing_companion_file_is_named(movielens):
    folder = movielens.ml1m()
    (folder / "movies.dat").unlink()
    with pytest.raises(DataUnavailableError, match="movies.dat"):
        load_folder(folder)


def test_gzip_is_recognised_by_its_magic_bytes_not_its_name(tmp_path):
    plain_named_gz = tmp_path / "a.gz"
    plain_named_gz.write_bytes(b"1\t2\n")
    gz_without_suffix = tmp_path / "b"
    gz_without_suffix.write_bytes(gzip.compress(b"3\t4\n"))
    assert read_bytes(plain_named_gz) == b"1\t2\n"
    assert read_bytes(gz_without_suffix) == b"3\t4\n"


def test_fast_and_line_by_line_parsing_agree(tmp_path):
    rng = np.random.default_rng(0)
    rows = rng.integers(1, 5000, size=(3000, 4))
    text = "\n".join("::".join(str(v) for v in row) for row in rows) + "\n"
    path = tmp_path / "ratings.dat"
    path.write_text(text)
    fast = read_numeric_table(path, "::", ("a", "b", "c", "d"), (True, True, False, True))
    from engine.data.parsing import _scan_numeric
    slow = _scan_numeric(path, text.rstrip().encode(), "::", ("a", "b", "c", "d"), (True, True, False, True), 1)
    for f, s, column in zip(fast, slow, rows.T):
        assert f.dtype == s.dtype
        assert np.array_equal(f, s) and np.array_equal(f, column)
