"""The saved conversation is kept per (dataset, profile): a saved profile's by its id, a dataset
user's by (dataset, user id). Before schema 4 every dataset user of every dataset shared one
"no profile" conversation, so an ml-1m window showed ml-100k answers."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.storage import ProfileDataError, ProfileStore
from assistant.storage import schema


@pytest.fixture
def store(tmp_path):
    with ProfileStore(tmp_path / "profiles.sqlite3") as opened:
        yield opened


def texts(messages) -> list[str]:
    return [m.text for m in messages]


def test_each_dataset_user_of_each_dataset_has_a_conversation_of_its_own(store):
    store.add_message(None, "user", "why Fargo?", dataset="ml-100k", dataset_user=1)
    store.add_message(None, "assistant", "Because of Alien.", dataset="ml-100k", dataset_user=1)
    store.add_message(None, "user", "recommend something", dataset="ml-100k", dataset_user=2)
    store.add_message(None, "user", "why item 7?", dataset="ml-1m", dataset_user=1)
    assert texts(store.messages(None, dataset="ml-100k", dataset_user=1)) == ["why Fargo?", "Because of Alien."]
    assert texts(store.messages(None, dataset="ml-100k", dataset_user=2)) == ["recommend something"]
    ml1m = store.messages(None, dataset="ml-1m", dataset_user=1)
    assert texts(ml1m) == ["why item 7?"] and (ml1m[0].dataset, ml1m[0].dataset_user) == ("ml-1m", 1)
    assert store.messages(None, dataset="ml-1m", dataset_user=2) == []
    assert store.messages(None) == []  # none of them is about no one


def test_a_saved_profiles_messages_carry_its_dataset_and_stay_apart_from_dataset_users(store):
    alice = store.create("ml-1m", "Alice")
    store.add_message(alice.id, "user", "add Heat")
    store.add_message(None, "user", "why Fargo?", dataset="ml-1m", dataset_user=alice.id)  # same number
    [mine] = store.messages(alice.id)
    assert (mine.text, mine.dataset, mine.dataset_user) == ("add Heat", "ml-1m", None)
    assert texts(store.messages(None, dataset="ml-1m", dataset_user=alice.id)) == ["why Fargo?"]
    with pytest.raises(ProfileDataError, match="belongs to ml-1m"):
        store.add_message(alice.id, "user", "hi", dataset="ml-100k")


def test_a_message_is_about_a_saved_profile_or_a_dataset_user_never_both(store):
    alice = store.create("ml-100k", "Alice")
    with pytest.raises(ProfileDataError, match="not both"):
        store.add_message(alice.id, "user", "hi", dataset="ml-100k", dataset_user=3)
    with pytest.raises(ProfileDataError, match="needs the dataset"):
        store.add_message(None, "user", "hi", dataset_user=3)
    with pytest.raises(ProfileDataError, match="whole number"):
        store.add_message(None, "user", "hi", dataset="ml-100k", dataset_user="3")
    assert store.messages(alice.id) == [] and store.messages(None) == []


def build_v3_database(path: Path) -> None:
    """A file as version 3 wrote it: a saved profile's messages and dataset users' under no profile."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        schema.migrate(conn, target=3)
        conn.execute("INSERT INTO profiles (id, name, dataset, created, updated) VALUES (1, 'Weekend', 'ml-1m', 1, 1)")
        conn.execute("INSERT INTO profile_movies (profile_id, position, movie_id, stars) VALUES (1, 0, 2858, 5)")
        conn.executemany(
            "INSERT INTO conversation (id, profile_id, at, speaker, text) VALUES (?, ?, ?, ?, ?)",
            [(1, 1, 10.0, "user", "add Heat"), (2, 1, 11.0, "assistant", "Added Heat."),
             (3, None, 12.0, "user", "why Fargo? (asked of an ml-100k dataset user)")],
        )
    finally:
        conn.close()


def test_a_version_3_file_keeps_its_profiles_history_and_shows_the_old_shared_history_to_no_user(tmp_path):
    path = tmp_path / "profiles.sqlite3"
    build_v3_database(path)
    with ProfileStore(path) as opened:
        assert schema.user_version(opened._conn) == schema.LATEST_VERSION == 4
        assert opened.recovery_message is None
        weekend = opened.get(1)
        assert (weekend.name, weekend.dataset, weekend.movies, weekend.ratings) == ("Weekend", "ml-1m", (2858,), (5,))
        kept = opened.messages(1)
        assert [(m.id, m.speaker, m.text, m.dataset) for m in kept] == [
            (1, "user", "add Heat", "ml-1m"), (2, "assistant", "Added Heat.", "ml-1m")]
        # Neither its dataset nor its user was kept: it is not passed off as any dataset user's.
        for dataset in ("ml-100k", "ml-1m"):
            assert opened.messages(None, dataset=dataset, dataset_user=1) == []
        assert [(m.id, m.dataset, m.dataset_user) for m in opened.messages(None)] == [(3, None, None)]
        opened.delete(1)  # a deleted profile's history is kept, and still knows its dataset
        assert [(m.id, m.dataset) for m in opened.messages(None)] == [(1, "ml-1m"), (2, "ml-1m"), (3, None)]
