"""The saved-profiles store: the API, persistence, schema migrations, recovery from damaged or newer
files, and what a crash in the middle of an edit leaves behind."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from assistant.storage import (
    LATEST_VERSION,
    ProfileDataError,
    ProfileNameError,
    ProfileNotFound,
    ProfileOpenError,
    ProfileReadError,
    ProfileSaveError,
    ProfileStore,
    ProfileStoreError,
    StoredProfile,
    default_path,
)
from assistant.storage import profile_store as profile_store_module
from assistant.storage import schema
from engine.profile import Profile

REPO = Path(__file__).resolve().parents[3]
DS = "ml-100k"


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "profiles.sqlite3"


@pytest.fixture
def store(db_path):
    with ProfileStore(db_path) as opened:
        yield opened


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
    )


# ---- opening ---------------------------------------------------------------------------------------


def test_a_fresh_database_runs_every_migration_in_wal_mode(store, db_path):
    conn = store._conn
    assert schema.user_version(conn) == LATEST_VERSION == 4
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert schema.application_id(conn) == schema.APPLICATION_ID
    assert {"profiles", "profile_movies", "conversation", "settings"} <= tables(db_path)
    assert store.recovery_message is None and store.moved_to is None


def test_default_path_is_in_the_data_home_and_the_folder_is_created(tmp_path, monkeypatch):
    monkeypatch.setenv("CINEWHY_DATA_HOME", str(tmp_path / "deep" / "data"))
    assert default_path() == tmp_path / "deep" / "data" / "profiles.sqlite3"
    with ProfileStore() as opened:
        assert opened.path == default_path()
        opened.create(DS, "Mine")
    assert default_path().is_file()


def test_the_store_imports_no_qt():
    result = run_python("""
        import sys, assistant.storage
        bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'))
        print(bad); sys.exit(1 if bad else 0)
    """)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_closed_store_says_so(db_path):
    opened = ProfileStore(db_path)
    opened.close()
    opened.close()  # twice is fine
    with pytest.raises(ProfileStoreError, match="closed"):
        opened.list_profiles(DS)


# ---- the API ---------------------------------------------------------------------------------------


def test_create_and_get_round_trip_and_convert_to_an_engine_profile(store):
    created = store.create(DS, "  Sci-fi night ", movies=[50, 181, 1], gender="F", age="25-34", occupation="writer")
    assert isinstance(created, StoredProfile)
    assert (created.name, created.dataset, created.movies) == ("Sci-fi night", DS, (50, 181, 1))
    assert (created.gender, created.age, created.occupation) == ("F", "25-34", "writer")
    assert created.created == created.updated > 0
    assert store.get(created.id) == created
    assert created.to_profile() == Profile(movies=(50, 181, 1), gender="F", age="25-34", occupation="writer")
    empty = store.create(DS, "Empty")
    assert empty.movies == () and empty.to_profile().is_empty


def test_create_from_an_engine_profile(store):
    profile = Profile(movies=(3, 2), gender="M", age="Under 18", occupation="student", user_id=7)
    stored = store.create_from(DS, "From user 7", profile)
    assert stored.to_profile() == Profile(movies=(3, 2), gender="M", age="Under 18", occupation="student")


def test_list_profiles_is_per_dataset_and_sorted_by_name_regardless_of_case(store):
    for name in ("banana", "Apple", "cherry", "apricot"):
        store.create(DS, name)
    store.create("ml-1m", "Zeta")
    store.create("ml-1m", "apple")  # the same name in another dataset is fine
    assert [p.name for p in store.list_profiles(DS)] == ["Apple", "apricot", "banana", "cherry"]
    assert [p.name for p in store.list_profiles("ml-1m")] == ["apple", "Zeta"]
    assert store.list_profiles("nothing-here") == []


def test_list_profiles_carries_each_profiles_movies_in_order(store):
    a = store.create(DS, "A", movies=[5, 4, 3])
    b = store.create(DS, "B", movies=[9])
    listed = {p.id: p for p in store.list_profiles(DS)}
    assert listed[a.id] == store.get(a.id) and listed[a.id].movies == (5, 4, 3)
    assert listed[b.id].movies == (9,)


def test_get_of_a_missing_profile_raises_a_clear_not_found(store):
    with pytest.raises(ProfileNotFound) as caught:
        store.get(12345)
    assert isinstance(caught.value, KeyError)  # callers may catch the plain KeyError
    assert caught.value.profile_id == 12345
    assert str(caught.value) == "No saved profile has id 12345: it may have been deleted."


def test_save_replaces_the_whole_content_and_keeps_movie_order(store):
    profile = store.create(DS, "Edit me", movies=[1, 2, 3], gender="F", age="18-24", occupation="artist")
    saved = store.save(profile.id, movies=[30, 10, 20], gender=None, age="56+", occupation=None)
    assert saved.movies == (30, 10, 20)
    assert (saved.gender, saved.age, saved.occupation) == (None, "56+", None)
    assert saved.updated >= profile.updated and saved.created == profile.created
    assert store.get(profile.id) == saved
    assert store.save(profile.id).movies == ()  # everything may be removed
    again = store.save_profile(profile.id, Profile(movies=(7, 8), gender="M"))
    assert again.to_profile() == Profile(movies=(7, 8), gender="M")


def test_save_accepts_numpy_ids_and_drops_repeated_movies(store):
    profile = store.create(DS, "P")
    saved = store.save(profile.id, movies=np.array([4, 2, 4, 9], dtype=np.int64))
    assert saved.movies == (4, 2, 9)
    assert all(type(m) is int for m in saved.movies)


def test_ratings_round_trip_through_create_save_duplicate_and_reopen(db_path):
    with ProfileStore(db_path) as opened:
        created = opened.create(DS, "Rated", movies=[50, 181, 1], ratings=[5, None, 2], gender="F")
        assert created.movies == (50, 181, 1) and created.ratings == (5, None, 2)
        assert created.rating(50) == 5 and created.rating(181) is None and created.rating(999) is None
        assert created.to_profile() == Profile(movies=(50, 181, 1), ratings=(5, None, 2), gender="F")
        saved = opened.save_profile(created.id, created.to_profile().with_rating(181, 1).with_movie(7, 4))
        assert (saved.movies, saved.ratings) == ((50, 181, 1, 7), (5, 1, 2, 4))
        copy = opened.duplicate(created.id)
        assert copy.to_profile() == saved.to_profile()
        from_engine = opened.create_from(DS, "From engine", Profile(movies=(3, 2), ratings=(1, 3), user_id=4))
        assert from_engine.ratings == (1, 3)
        listed = {p.name: p for p in opened.list_profiles(DS)}
        assert listed["Rated"].ratings == (5, 1, 2, 4) and listed["From engine"].ratings == (1, 3)
    with ProfileStore(db_path) as reopened:
        assert reopened.get(created.id).ratings == (5, 1, 2, 4)
        assert reopened.get(copy.id).ratings == (5, 1, 2, 4)


def test_ratings_left_out_mean_unrated_and_numpy_stars_are_accepted(store):
    unrated = store.create(DS, "Unrated", movies=[4, 2])
    assert unrated.ratings == (None, None) and unrated.to_profile().positives == (4, 2)
    saved = store.save(unrated.id, movies=np.array([4, 2, 4]), ratings=np.array([3, 5, 1]))
    assert (saved.movies, saved.ratings) == ((4, 2), (3, 5))  # a repeated movie keeps its first rating
    assert all(type(r) is int for r in saved.ratings)
    assert store.save(unrated.id, movies=[4, 2]).ratings == (None, None)  # save replaces everything


@pytest.mark.parametrize(
    "ratings, message",
    [
        ([6, None], r"1 to 5 whole stars or none, not 6 \(movie 1\)"),
        ([None, 0], r"not 0 \(movie 2\)"),
        ([4.5, 1], "not 4.5"),
        (["4", 1], "not '4'"),
        ([True, 1], "not True"),
        ([4], "one rating \\(or None\\) per movie: 2 movies, 1 ratings"),
        ("45", "not text"),
    ],
)
def test_a_bad_rating_is_refused_and_the_profile_is_unchanged(store, ratings, message):
    profile = store.create(DS, "Keep", movies=[1, 2], ratings=[3, None])
    with pytest.raises(ProfileDataError, match=message):
        store.save(profile.id, movies=[1, 2], ratings=ratings)
    assert store.get(profile.id) == profile
    with pytest.raises(ProfileDataError, match=message):
        store.create(DS, "Other", movies=[1, 2], ratings=ratings)
    assert [p.name for p in store.list_profiles(DS)] == ["Keep"]


def test_the_database_itself_refuses_a_rating_out_of_range(store):
    """The CHECK constraint guards the file against writers that skip the store's own checks."""
    profile = store.create(DS, "Guarded", movies=[1])
    for bad in (0, 6, "four", 3.5):  # ("4" would be stored as the integer 4: INTEGER affinity)
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            store._conn.execute("UPDATE profile_movies SET stars = ? WHERE profile_id = ?", (bad, profile.id))
    assert store.get(profile.id).ratings == (None,)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"gender": "X"}, "Unknown gender"),
        ({"age": "30"}, "Unknown age group"),
        ({"movies": ["Alien"]}, "Movie ids are integers"),
        ({"movies": [1.5]}, "Movie ids are integers"),
        ({"movies": "12"}, "not text"),
        ({"occupation": 3}, "occupation is text"),
    ],
)
def test_invalid_content_is_refused_and_the_profile_is_unchanged(store, fields, message):
    profile = store.create(DS, "Keep", movies=[1, 2], gender="F")
    with pytest.raises(ProfileDataError, match=message):
        store.save(profile.id, **fields)
    assert store.get(profile.id) == profile
    with pytest.raises(ProfileDataError, match=message):
        store.create(DS, "Other", **fields)
    assert [p.name for p in store.list_profiles(DS)] == ["Keep"]


def test_save_of_a_missing_profile_raises_not_found(store):
    with pytest.raises(ProfileNotFound):
        store.save(99, movies=[1])
    assert store._conn.execute("SELECT count(*) FROM profile_movies").fetchone()[0] == 0


def test_rename(store):
    profile = store.create(DS, "Old", movies=[1])
    renamed = store.rename(profile.id, " New ")
    assert renamed.name == "New" and renamed.movies == (1,)
    assert store.get(profile.id).name == "New"
    assert store.rename(profile.id, "NEW").name == "NEW"  # a change of case of its own name is fine
    store.create(DS, "Taken")
    with pytest.raises(ProfileNameError, match=r"A profile called 'taken' already exists"):
        store.rename(profile.id, "taken")
    with pytest.raises(ProfileNotFound):
        store.rename(404, "Whatever")


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "cannot be empty"),
        ("   \t ", "cannot be empty"),
        ("x" * 81, "at most 80 characters; this one has 81"),
        ("two\nlines", "on one line"),
        (None, "must be text"),
    ],
)
def test_invalid_names_are_refused_with_a_clear_message(store, name, message):
    with pytest.raises(ProfileNameError, match=message):
        store.create(DS, name)
    assert store.list_profiles(DS) == []


def test_names_are_unique_per_dataset_regardless_of_case(store):
    store.create(DS, "Weekend")
    with pytest.raises(ProfileNameError) as caught:
        store.create(DS, "weekend ")
    assert str(caught.value) == "A profile called 'weekend' already exists."
    assert isinstance(caught.value, ValueError)
    assert store.create(DS, "x" * 80).name == "x" * 80  # the longest allowed name


def test_unicode_names_persist_and_normalised_forms_count_as_one(db_path):
    names = ["Amélie's favourites 🎬", "Кино по выходным", "映画の夜", "Ærø"]
    with ProfileStore(db_path) as opened:
        for name in names:
            opened.create(DS, name, movies=[1])
        decomposed = unicodedata.normalize("NFD", "Amélie's favourites 🎬")
        with pytest.raises(ProfileNameError, match="already exists"):
            opened.create(DS, decomposed)
        assert opened.find(DS, "кино ПО выходным").name == "Кино по выходным"
    with ProfileStore(db_path) as reopened:
        assert sorted(p.name for p in reopened.list_profiles(DS)) == sorted(names)


def test_duplicate_copies_the_content_with_copy_names(store):
    original = store.create(DS, "Noir", movies=[3, 1, 2], gender="M", age="35-44", occupation="lawyer")
    first = store.duplicate(original.id)
    second = store.duplicate(original.id)
    of_a_copy = store.duplicate(first.id)
    assert [first.name, second.name, of_a_copy.name] == ["Noir (copy)", "Noir (copy 2)", "Noir (copy 3)"]
    for copy in (first, second, of_a_copy):
        assert copy.id != original.id
        assert copy.to_profile() == original.to_profile()
    named = store.duplicate(original.id, "Noir for Sam")
    assert named.name == "Noir for Sam" and named.movies == (3, 1, 2)
    with pytest.raises(ProfileNameError, match="already exists"):
        store.duplicate(original.id, "noir")
    # the copy is independent of its original
    store.save(first.id, movies=[9])
    assert store.get(original.id).movies == (3, 1, 2)


def test_duplicate_of_a_long_name_stays_within_the_limit(store):
    original = store.create(DS, "y" * 80)
    copy = store.duplicate(original.id)
    assert copy.name == "y" * 73 + " (copy)" and len(copy.name) == 80


def test_duplicate_of_a_missing_profile_raises_not_found(store):
    with pytest.raises(ProfileNotFound):
        store.duplicate(5)


def test_unique_name(store):
    assert store.unique_name(DS, "New profile") == "New profile"
    store.create(DS, "New profile")
    assert store.unique_name(DS, " New profile ") == "New profile (2)"
    store.create(DS, "new PROFILE (2)")
    assert store.unique_name(DS, "New profile") == "New profile (3)"
    assert store.unique_name("ml-1m", "New profile") == "New profile"
    with pytest.raises(ProfileNameError):
        store.unique_name(DS, " ")


def test_delete_cascades_to_movies_and_keeps_the_chat_unattached(store):
    doomed = store.create(DS, "Doomed", movies=[1, 2, 3])
    kept = store.create(DS, "Kept", movies=[4])
    store.add_message(doomed.id, "user", "why this movie?")
    store.delete(doomed.id)
    with pytest.raises(ProfileNotFound):
        store.get(doomed.id)
    conn = store._conn
    assert conn.execute("SELECT count(*) FROM profile_movies WHERE profile_id = ?", (doomed.id,)).fetchone()[0] == 0
    assert store.get(kept.id).movies == (4,)
    assert [m.text for m in store.messages(None)] == ["why this movie?"]
    with pytest.raises(ProfileNotFound):
        store.delete(doomed.id)
    # the freed name can be used again
    assert store.create(DS, "Doomed").name == "Doomed"


def test_messages_are_kept_per_profile_oldest_first(store):
    profile = store.create(DS, "Chatty")
    other = store.create(DS, "Quiet")
    for i in range(5):
        store.add_message(profile.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    store.add_message(other.id, "user", "elsewhere")
    general = store.add_message(None, "assistant", "hello")
    assert [m.text for m in store.messages(profile.id)] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.text for m in store.messages(profile.id, limit=2)] == ["m3", "m4"]
    assert [m.speaker for m in store.messages(profile.id, limit=2)] == ["assistant", "user"]
    assert store.messages(profile.id, limit=0) == []
    assert store.messages(None) == [general] and general.profile_id is None
    assert [m.text for m in store.messages(other.id, limit=None)] == ["elsewhere"]
    with pytest.raises(ProfileDataError, match="Unknown speaker"):
        store.add_message(profile.id, "narrator", "hi")
    with pytest.raises(ProfileNotFound):
        store.add_message(777, "user", "hi")
    with pytest.raises(ValueError):
        store.messages(profile.id, limit=-1)


def test_settings(store):
    assert store.get_setting("voice") is None
    assert store.get_setting("voice", "en") == "en"
    store.set_setting("voice", "en-gb")
    store.set_setting("voice", "en-us")
    assert store.get_setting("voice") == "en-us"
    store.set_setting("voice", None)
    assert store.get_setting("voice", "gone") == "gone"
    with pytest.raises(TypeError, match="serialise"):
        store.set_setting("volume", 3)


def test_everything_persists_across_close_and_reopen(db_path):
    with ProfileStore(db_path) as first:
        a = first.create(DS, "A", movies=[10, 20])
        b = first.duplicate(a.id)
        first.rename(b.id, "B")
        first.save(a.id, movies=[20, 10, 30], gender="F", age="45-49", occupation="retired")
        gone = first.create(DS, "Gone")
        first.delete(gone.id)
        first.add_message(a.id, "user", "why Fargo?")
        first.add_message(a.id, "assistant", "Because of Alien.")
        first.set_setting("last_profile", str(a.id))
        before = first.list_profiles(DS)
    with ProfileStore(db_path) as second:
        assert second.recovery_message is None
        assert second.list_profiles(DS) == before
        assert [p.name for p in before] == ["A", "B"]
        assert second.get(a.id).movies == (20, 10, 30)
        assert [(m.speaker, m.text) for m in second.messages(a.id)] == [
            ("user", "why Fargo?"), ("assistant", "Because of Alien.")
        ]
        assert second.get_setting("last_profile") == str(a.id)
    assert integrity(db_path) == "ok"


def test_the_store_can_be_used_from_several_threads(store):
    profiles = [store.create(DS, f"T{i}") for i in range(4)]
    errors = []

    def edit(profile_id: int) -> None:
        try:
            for n in range(1, 16):
                store.save(profile_id, movies=range(n))
                store.list_profiles(DS)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(p.id,)) for p in profiles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert all(p.movies == tuple(range(15)) for p in store.list_profiles(DS))


# ---- migrations ------------------------------------------------------------------------------------


def build_v1_database(path: Path) -> None:
    """A file as the first released version left it: only migration 0 -> 1, with two profiles."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert schema.migrate(conn, target=1) == 1
        conn.execute(
            "INSERT INTO profiles (id, name, dataset, gender, age, occupation, created, updated) VALUES "
            "(1, 'Old one', 'ml-100k', 'F', '25-34', 'writer', 100.0, 200.0), "
            "(2, 'Élan', 'ml-100k', NULL, NULL, NULL, 300.0, 300.0)"
        )
        conn.executemany(
            "INSERT INTO profile_movies (profile_id, position, movie_id) VALUES (?, ?, ?)",
            [(1, 0, 50), (1, 1, 7), (1, 2, 181)],
        )
    finally:
        conn.close()


def test_a_version_1_database_is_migrated_to_the_latest_keeping_its_profiles(db_path):
    build_v1_database(db_path)
    assert "conversation" not in tables(db_path)
    with ProfileStore(db_path) as opened:
        assert opened.recovery_message is None
        assert schema.user_version(opened._conn) == LATEST_VERSION
        old = opened.get(1)
        assert (old.name, old.movies, old.gender, old.age, old.occupation) == ("Old one", (50, 7, 181), "F", "25-34", "writer")
        assert (old.created, old.updated) == (100.0, 200.0)
        assert old.ratings == (None, None, None)
        assert [p.name for p in opened.list_profiles(DS)] == ["Élan", "Old one"]
        opened.add_message(1, "user", "still here?")  # the version 2 tables work
        opened.set_setting("k", "v")
    assert not list(db_path.parent.glob("*.corrupt-*")) and not list(db_path.parent.glob("*.newer-schema-*"))
    assert integrity(db_path) == "ok"


# The version 2 schema exactly as it shipped (assistant/storage/schema.py before ratings): the file a
# user of that release has on disk. Written out here, not built with schema.migrate, so that a later
# edit of the migrations cannot change what "a version 2 file" means in this test.
V2_FILE = (
    f"PRAGMA application_id = {schema.APPLICATION_ID}",
    """
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        dataset TEXT NOT NULL,
        gender TEXT CHECK (gender IN ('F', 'M')),
        age TEXT,
        occupation TEXT,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        UNIQUE (dataset, name)
    )
    """,
    """
    CREATE TABLE profile_movies (
        profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        movie_id INTEGER NOT NULL,
        PRIMARY KEY (profile_id, movie_id),
        UNIQUE (profile_id, position)
    )
    """,
    """
    CREATE TABLE conversation (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER REFERENCES profiles (id) ON DELETE SET NULL,
        at REAL NOT NULL,
        speaker TEXT NOT NULL CHECK (speaker IN ('user', 'assistant')),
        text TEXT NOT NULL
    )
    """,
    "CREATE INDEX conversation_by_profile ON conversation (profile_id, id)",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "PRAGMA user_version = 2",
)

V2_PROFILES = {  # id: (name, dataset, gender, age, occupation, created, updated, movies in their order)
    1: ("Sci-fi night", "ml-100k", "F", "25-34", "writer", 100.0, 150.0, (181, 50, 7, 1)),
    2: ("Élan", "ml-100k", None, None, None, 200.0, 200.0, ()),
    3: ("Weekend", "ml-1m", "M", "56+", "retired", 300.0, 320.0, (2858, 260)),
}
V2_MESSAGES = [  # (id, profile_id, at, speaker, text)
    (1, 1, 110.0, "user", "why Fargo?"),
    (2, 1, 111.0, "assistant", "Because of Alien (44% of the evidence)."),
    (3, None, 112.0, "user", "recommend something"),
    (4, 3, 321.0, "user", "add Heat"),
]


def build_v2_database(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for statement in V2_FILE:
            conn.execute(statement)
        for profile_id, (name, dataset, gender, age, occupation, created, updated, movies) in V2_PROFILES.items():
            conn.execute(
                "INSERT INTO profiles (id, name, dataset, gender, age, occupation, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (profile_id, name, dataset, gender, age, occupation, created, updated),
            )
            conn.executemany(
                "INSERT INTO profile_movies (profile_id, position, movie_id) VALUES (?, ?, ?)",
                [(profile_id, position, movie) for position, movie in enumerate(movies)],
            )
        conn.executemany("INSERT INTO conversation (id, profile_id, at, speaker, text) VALUES (?, ?, ?, ?, ?)",
                         V2_MESSAGES)
        conn.execute("INSERT INTO settings (key, value) VALUES ('voice/muted', '1')")
        conn.execute("COMMIT")
    finally:
        conn.close()


def rows(path: Path, query: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def test_a_version_2_database_opens_under_version_3_unchanged_with_no_ratings(db_path):
    build_v2_database(db_path)
    profiles_before = rows(db_path, "SELECT * FROM profiles ORDER BY id")
    movies_before = rows(db_path, "SELECT profile_id, position, movie_id FROM profile_movies ORDER BY profile_id, position")
    with ProfileStore(db_path) as opened:
        assert opened.recovery_message is None and opened.moved_to is None
        assert schema.user_version(opened._conn) == LATEST_VERSION == 4
        for profile_id, (name, dataset, gender, age, occupation, created, updated, movies) in V2_PROFILES.items():
            stored = opened.get(profile_id)
            assert (stored.name, stored.dataset, stored.movies) == (name, dataset, movies)
            assert (stored.gender, stored.age, stored.occupation) == (gender, age, occupation)
            assert (stored.created, stored.updated) == (created, updated)
            assert stored.ratings == (None,) * len(movies)
            assert stored.to_profile() == Profile(movies=movies, gender=gender, age=age, occupation=occupation)
            assert stored.to_profile().positives == movies  # unrated movies still count as liked
        assert [p.name for p in opened.list_profiles("ml-100k")] == ["Élan", "Sci-fi night"]
        assert [(m.id, m.profile_id, m.at, m.speaker, m.text) for m in opened.messages(1)] == V2_MESSAGES[:2]
        assert [(m.id, m.text) for m in opened.messages(None)] == [(3, "recommend something")]
        assert [(m.id, m.text) for m in opened.messages(3)] == [(4, "add Heat")]
        assert opened.get_setting("voice/muted") == "1"
    # Byte for byte the same rows; the only change is the new column, NULL everywhere.
    assert rows(db_path, "SELECT * FROM profiles ORDER BY id") == profiles_before
    assert rows(db_path, "SELECT profile_id, position, movie_id FROM profile_movies ORDER BY profile_id, position") == movies_before
    assert rows(db_path, "SELECT count(*) FROM profile_movies WHERE stars IS NOT NULL") == [(0,)]
    assert not list(db_path.parent.glob("*.corrupt-*")) and not list(db_path.parent.glob("*.newer-schema-*"))
    assert integrity(db_path) == "ok"


def test_a_migrated_version_2_profile_takes_ratings_and_keeps_them(db_path):
    build_v2_database(db_path)
    with ProfileStore(db_path) as opened:
        rated = opened.get(1).to_profile().with_rating(50, 2).with_movie(96, 5)
        opened.save_profile(1, rated)
    with ProfileStore(db_path) as reopened:
        stored = reopened.get(1)
        assert stored.movies == (181, 50, 7, 1, 96) and stored.ratings == (None, 2, None, None, 5)
        assert stored.to_profile().positives == (181, 7, 1, 96)


def test_a_failing_step_3_leaves_a_version_2_file_as_it_was(db_path, monkeypatch):
    build_v2_database(db_path)
    broken = (*schema.MIGRATIONS[2], "CREATE TABLE this is not sql")
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS[:2], broken))
    with pytest.raises(ProfileStoreError):
        ProfileStore(db_path)
    assert rows(db_path, "PRAGMA user_version") == [(2,)]
    assert "stars" not in [col[1] for col in rows(db_path, "PRAGMA table_info(profile_movies)")]  # rolled back
    monkeypatch.undo()
    with ProfileStore(db_path) as opened:
        assert opened.get(1).movies == (181, 50, 7, 1) and opened.get(1).ratings == (None,) * 4


def test_a_failing_migration_step_leaves_the_database_at_its_old_version(db_path, monkeypatch):
    build_v1_database(db_path)
    broken = (schema.MIGRATIONS[1][0], "CREATE TABLE this is not sql")
    monkeypatch.setattr(schema, "MIGRATIONS", (schema.MIGRATIONS[0], broken))
    with pytest.raises(ProfileStoreError):
        ProfileStore(db_path)
    assert "conversation" not in tables(db_path)  # the step's first statement was rolled back too
    monkeypatch.undo()
    with ProfileStore(db_path) as opened:  # and the real migration still works afterwards
        assert opened.get(1).movies == (50, 7, 181)
        assert schema.user_version(opened._conn) == LATEST_VERSION


def test_migrate_refuses_an_unknown_target(db_path):
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        with pytest.raises(ValueError, match="unknown"):
            schema.migrate(conn, target=LATEST_VERSION + 1)
    finally:
        conn.close()


# ---- damaged and newer files -----------------------------------------------------------------------


def fill(path: Path, profiles: int = 60) -> None:
    """A real database spanning many pages."""
    with ProfileStore(path) as opened:
        for i in range(profiles):
            opened.create(DS, f"Profile number {i:03d} with a longish name", movies=range(i, i + 40), gender="F")
    assert not Path(f"{path}-wal").exists()  # closing checkpointed everything into the main file


def assert_moved_aside(opened: ProfileStore, db_path: Path, kind: str, original_bytes: bytes) -> Path:
    moved = opened.moved_to
    assert moved is not None and moved.parent == db_path.parent
    assert re.fullmatch(rf"profiles\.sqlite3\.{kind}-\d{{8}}-\d{{6}}(-\d+)?", moved.name), moved.name
    assert moved.read_bytes() == original_bytes  # kept exactly as it was, never deleted
    assert opened.recovery_message is not None and str(moved) in opened.recovery_message
    # the fresh store works
    assert opened.list_profiles(DS) == []
    assert opened.create(DS, "After recovery", movies=[1]).movies == (1,)
    return moved


def test_a_truncated_database_is_moved_aside_and_a_fresh_one_started(db_path):
    fill(db_path)
    size = db_path.stat().st_size
    with open(db_path, "r+b") as handle:
        handle.truncate(size // 2)
    damaged = db_path.read_bytes()
    with ProfileStore(db_path) as opened:
        assert_moved_aside(opened, db_path, "corrupt", damaged)
        assert "damaged" in opened.recovery_message and "new, empty one" in opened.recovery_message
    with ProfileStore(db_path) as reopened:  # the new file is a normal store from now on
        assert reopened.recovery_message is None
        assert [p.name for p in reopened.list_profiles(DS)] == ["After recovery"]


@pytest.mark.parametrize("damage", ["random bytes", "overwritten header", "half a header"])
def test_a_file_that_is_not_a_database_is_moved_aside(db_path, damage):
    if damage == "random bytes":
        db_path.write_bytes(np.random.default_rng(0).bytes(8192))
    else:
        fill(db_path, profiles=5)
        data = bytearray(db_path.read_bytes())
        if damage == "overwritten header":
            data[:16] = b"NOT SQLITE AT AL"
        else:
            data = data[:50]
        db_path.write_bytes(bytes(data))
    original = db_path.read_bytes()
    with ProfileStore(db_path) as opened:
        assert_moved_aside(opened, db_path, "corrupt", original)


def test_a_foreign_sqlite_file_is_moved_aside_not_migrated_into(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    conn.commit()
    conn.close()
    original = db_path.read_bytes()
    with ProfileStore(db_path) as opened:
        assert_moved_aside(opened, db_path, "corrupt", original)
        assert "not a CineWhy profiles database" in opened.recovery_message


def test_a_newer_schema_is_moved_aside_with_its_wal_files(db_path):
    """A newer app's file, left with an un-checkpointed WAL (as after a crash): the WAL belongs to
    the file and must travel with it, or the data in it would be lost."""
    fill(db_path, profiles=3)
    result = run_python(
        """
        import os, sqlite3, sys
        conn = sqlite3.connect(sys.argv[1], isolation_level=None)
        conn.execute(f"PRAGMA user_version = {int(sys.argv[2])}")
        conn.execute("INSERT INTO settings (key, value) VALUES ('only-in-wal', 'yes')")
        os._exit(0)  # no close: no checkpoint, the -wal file stays
        """,
        str(db_path), str(LATEST_VERSION + 1),
    )
    assert result.returncode == 0, result.stderr
    assert Path(f"{db_path}-wal").exists()
    original = db_path.read_bytes()
    with ProfileStore(db_path) as opened:
        moved = assert_moved_aside(opened, db_path, "newer-schema", original)
        assert "newer version of CineWhy" in opened.recovery_message
        assert f"schema version {LATEST_VERSION + 1}" in opened.recovery_message
    assert Path(f"{moved}-wal").exists()
    old = sqlite3.connect(moved)
    try:
        assert old.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1
        assert old.execute("SELECT value FROM settings WHERE key = 'only-in-wal'").fetchone() == ("yes",)
        assert old.execute("SELECT count(*) FROM profiles").fetchone()[0] == 3
    finally:
        old.close()


def test_moving_aside_never_overwrites_an_earlier_moved_file(db_path, monkeypatch):
    monkeypatch.setattr(profile_store_module.time, "strftime", lambda fmt: "20250101-000000")
    earlier = db_path.with_name("profiles.sqlite3.corrupt-20250101-000000")
    earlier.write_bytes(b"an earlier damaged file")
    db_path.write_bytes(b"garbage" * 100)
    with ProfileStore(db_path) as opened:
        assert opened.moved_to == db_path.with_name("profiles.sqlite3.corrupt-20250101-000000-2")
    assert earlier.read_bytes() == b"an earlier damaged file"


def test_a_locked_database_is_an_error_not_a_reason_to_move_it(db_path):
    fill(db_path, profiles=2)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # the file is at the latest version, so opening needs the write lock only to check that
        with pytest.raises(ProfileOpenError, match="another program is using the profile database"):
            ProfileStore(db_path, timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sorted(p.name for p in db_path.parent.iterdir() if "sqlite3." in p.name) == []
    with ProfileStore(db_path) as opened:
        assert opened.recovery_message is None and len(opened.list_profiles(DS)) == 2


def test_a_schema_version_below_zero_is_moved_aside_as_damaged(db_path):
    """`PRAGMA user_version = -1` made migrate run the last step on the file ("duplicate column"):
    the file could neither be opened nor moved aside."""
    fill(db_path, profiles=2)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA user_version = -1")
    conn.close()
    original = db_path.read_bytes()
    with ProfileStore(db_path) as opened:
        assert_moved_aside(opened, db_path, "corrupt", original)
        assert "schema version is -1" in opened.recovery_message
    bare = sqlite3.connect(db_path.with_name("bare.sqlite3"), isolation_level=None)
    try:
        bare.execute("PRAGMA user_version = -1")
        with pytest.raises(ValueError, match="-1"):
            schema.migrate(bare)
    finally:
        bare.close()


# ---- a disk, lock or permission problem of the moment --------------------------------------------


def test_a_full_disk_is_a_save_error_saying_so_and_changes_nothing(store):
    """SQLite's own SQLITE_FULL: the file may grow by no more pages than it has."""
    profile = store.create(DS, "Full", movies=[1, 2, 3])
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(ProfileSaveError) as caught:
        store.save(profile.id, movies=range(1, 3000))
    assert caught.value.reason == "the disk is full" and caught.value.retryable
    assert str(caught.value) == "Could not save to the profile database: the disk is full."
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert store.get(profile.id) == profile  # rolled back: nothing of the save is in the file
    store._conn.execute("PRAGMA max_page_count = 1073741823")  # space again: the same save lands
    assert store.save(profile.id, movies=range(1, 3000)).movies == tuple(range(1, 3000))


def test_a_database_locked_by_another_program_is_a_save_error_and_reads_still_work(db_path):
    with ProfileStore(db_path, timeout=0.05) as opened:
        profile = opened.create(DS, "Locked", movies=[1])
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            for write in (lambda: opened.save(profile.id, movies=[2]), lambda: opened.create(DS, "Other"),
                          lambda: opened.add_message(profile.id, "user", "hi"),
                          lambda: opened.set_setting("k", "v")):
                with pytest.raises(ProfileSaveError, match="another program is using the profile database") as caught:
                    write()
                assert caught.value.retryable
            assert opened.get(profile.id) == profile  # WAL: reading goes on beside the other writer
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert opened.save(profile.id, movies=[2]).movies == (2,)


def test_lock_wait_bounds_the_wait_for_another_programs_lock_inside_the_block_only(db_path):
    def busy_timeout(store):
        return store._conn.execute("PRAGMA busy_timeout").fetchone()[0]

    with ProfileStore(db_path, timeout=3.0) as opened:
        profile = opened.create(DS, "Waits", movies=[1])
        assert busy_timeout(opened) == 3000
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with opened.lock_wait(0):
                assert busy_timeout(opened) == 0
                with pytest.raises(ProfileSaveError, match="another program"):
                    opened.save(profile.id, movies=[2])
            assert busy_timeout(opened) == 3000
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def read_only_connections(monkeypatch):
    """The store's connection opened through SQLite's read-only URI, as on a read-only file or
    folder (chmod does not stop root, who runs the tests)."""
    def connect(self):
        uri = self.path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False)
    monkeypatch.setattr(ProfileStore, "_connect", connect)


def test_a_read_only_database_opens_for_reading_and_a_save_says_why_it_failed(db_path, monkeypatch):
    with ProfileStore(db_path) as opened:
        opened.create(DS, "Read only", movies=[4, 5])
    read_only_connections(monkeypatch)
    with ProfileStore(db_path) as opened:
        stored = opened.find(DS, "Read only")
        assert stored.movies == (4, 5)
        with pytest.raises(ProfileSaveError, match="the profile database is read-only"):
            opened.save(stored.id, movies=[6])
        assert opened.get(stored.id) == stored


def test_a_fresh_database_in_a_read_only_folder_is_one_clear_sentence(db_path, monkeypatch):
    read_only_connections(monkeypatch)
    with pytest.raises(ProfileOpenError) as caught:
        ProfileStore(db_path)
    assert str(caught.value) == (f"Could not open the saved profiles at {db_path}: the profile database cannot be "
                                 "opened or created there (is its folder read-only?).")
    assert list(db_path.parent.iterdir()) == []


def failing_connection(store, monkeypatch, starts: str, error: sqlite3.Error) -> None:
    """The store's connection, except that statements starting with `starts` raise `error`: SQLite's
    own messages, as a full disk or a lock gives them, at the statement where they would come."""
    real = store._conn

    class Failing:
        @property
        def in_transaction(self):
            return real.in_transaction

        def execute(self, sql, *args):
            if sql.lstrip().startswith(starts):
                raise error
            return real.execute(sql, *args)

        def __getattr__(self, name):  # everything else (executemany, close, ...) as it is
            return getattr(real, name)

    monkeypatch.setattr(store, "_conn", Failing())


@pytest.mark.parametrize("message, code, reason", [
    ("database or disk is full", None, "the disk is full"),
    ("database is locked", None, "another program is using the profile database"),
    ("attempt to write a readonly database", None, "the profile database is read-only"),
    ("attempt to write a readonly database", 8 | (6 << 8), "the profile folder is read-only"),
    ("disk I/O error", None, "the disk could not be read or written (an input/output error)"),
    ("something new", None, "something new"),
])
def test_sqlites_messages_become_plain_reasons(store, monkeypatch, message, code, reason):
    """Also for an error without a result code: a proxy connection raises SQLite's own messages."""
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode = code
    failing_connection(store, monkeypatch, "INSERT", error)
    with pytest.raises(ProfileSaveError) as caught:
        store.create(DS, "Proxy")
    assert caught.value.reason == reason
    monkeypatch.undo()
    assert store.list_profiles(DS) == []


def test_a_read_that_fails_is_a_read_error(store, monkeypatch):
    failing_connection(store, monkeypatch, "SELECT", sqlite3.OperationalError("database is locked"))
    with pytest.raises(ProfileReadError, match="Could not read the saved profiles: another program is using"):
        store.list_profiles(DS)


def test_a_damaged_file_met_while_running_is_a_save_error_that_retrying_cannot_fix(store, monkeypatch):
    profile = store.create(DS, "Damaged")
    failing_connection(store, monkeypatch, "UPDATE", sqlite3.DatabaseError("database disk image is malformed"))
    with pytest.raises(ProfileSaveError, match="damaged; restart CineWhy") as caught:
        store.save(profile.id, movies=[1])
    assert not caught.value.retryable


# ---- a path that cannot hold the database ----------------------------------------------------------


def test_a_profiles_path_under_a_regular_file_is_one_clear_sentence(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ProfileOpenError, match=f"{re.escape(str(blocker))} is a file, not a folder; choose another "
                       "data folder with CINEWHY_DATA_HOME"):
        ProfileStore(blocker / "cinewhy" / "profiles.sqlite3")
    assert blocker.read_text() == "a file, not a folder"


def test_a_folder_where_the_database_file_should_be_is_one_clear_sentence(db_path):
    db_path.mkdir()
    (db_path / "keep.txt").write_text("mine")
    with pytest.raises(ProfileOpenError, match="that is a folder, where the database file should be"):
        ProfileStore(db_path)
    assert (db_path / "keep.txt").read_text() == "mine"  # never moved aside or touched


def test_a_folder_that_cannot_be_created_is_one_clear_sentence(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(Path, "mkdir", refuse)
    target = tmp_path / "locked-down" / "profiles.sqlite3"
    with pytest.raises(ProfileOpenError, match=r"its folder could not be created \(Permission denied: "):
        ProfileStore(target)


# ---- crashes ---------------------------------------------------------------------------------------


def test_an_edit_that_fails_half_way_is_rolled_back(store, monkeypatch):
    profile = store.create(DS, "Stable", movies=[1, 2, 3], gender="F")
    real_write = ProfileStore._write_movies

    def write_half_then_fail(conn, profile_id, movies):
        real_write(conn, profile_id, movies[: len(movies) // 2])
        raise RuntimeError("crash in the middle of the edit")

    monkeypatch.setattr(ProfileStore, "_write_movies", staticmethod(write_half_then_fail))
    with pytest.raises(RuntimeError, match="crash"):
        store.save(profile.id, movies=[7, 8, 9, 10], gender="M")
    with pytest.raises(RuntimeError, match="crash"):
        store.create(DS, "Half made", movies=[1, 2])
    monkeypatch.undo()
    assert store.get(profile.id) == profile
    assert [p.name for p in store.list_profiles(DS)] == ["Stable"]
    assert store.save(profile.id, movies=[4]).movies == (4,)  # the store is still usable


def test_a_process_that_dies_inside_a_save_loses_only_that_save(db_path):
    """The process saves the profile 25 times, then dies (os._exit: no clean-up, no close) with
    the 26th save's transaction open and half its rows written."""
    result = run_python(
        """
        import os, sys
        from assistant.storage import ProfileStore
        store = ProfileStore(sys.argv[1])
        profile = store.create("ml-100k", "Crashy")
        real_write = ProfileStore._write_movies
        saves = 0
        def write(conn, profile_id, movies):
            global saves
            saves += 1
            if saves == 26:  # 25 saves done; this is save 26
                real_write(conn, profile_id, movies[: len(movies) // 2])
                os._exit(3)
            real_write(conn, profile_id, movies)
        ProfileStore._write_movies = staticmethod(write)
        for n in range(1, 100):
            store.save(profile.id, movies=range(100, 100 + 10 * n), gender="F" if n % 2 else "M")
        """,
        str(db_path),
    )
    assert result.returncode == 3, result.stdout + result.stderr
    with ProfileStore(db_path) as opened:
        assert opened.recovery_message is None
        (profile,) = opened.list_profiles(DS)
        assert profile.movies == tuple(range(100, 100 + 10 * 25))  # save 25 whole, nothing of save 26
        assert profile.gender == "F"
        assert opened._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_process_killed_at_any_moment_of_a_save_loop_keeps_every_finished_save(db_path):
    """SIGKILL (TerminateProcess on Windows) while the process is saving as fast as it can: the file
    opens, passes the integrity check, and holds a whole save at least as new as the last reported."""
    script = textwrap.dedent(
        """
        import sys
        from assistant.storage import ProfileStore
        store = ProfileStore(sys.argv[1])
        profile = store.create("ml-100k", "Killed")
        for n in range(1, 5000):
            store.save(profile.id, movies=range(n), age="18-24")
            print(n, flush=True)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db_path)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        last_reported = 0
        for line in proc.stdout:
            last_reported = int(line)
            if last_reported >= 30:
                break
        proc.kill()
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert last_reported >= 30, "the saving process did not get going"
    assert integrity(db_path) == "ok"
    with ProfileStore(db_path) as opened:
        assert opened.recovery_message is None
        (profile,) = opened.list_profiles(DS)
        n = len(profile.movies)
        assert n >= last_reported
        assert profile.movies == tuple(range(n)) and profile.age == "18-24"


def test_a_profiles_name_is_read_alone(store):
    stored = store.create("ml-100k", "Named", [1, 2, 3])
    assert store.name(stored.id) == "Named"
    store.rename(stored.id, "Renamed")
    assert store.name(stored.id) == "Renamed"
    store.delete(stored.id)
    with pytest.raises(ProfileNotFound):
        store.name(stored.id)
