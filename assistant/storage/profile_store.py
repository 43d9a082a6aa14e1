"""Saved profiles, chat history and small settings in one SQLite file in the user data folder.

Every mutating call is one transaction, so a crash or a kill loses at most the edit in flight and
never leaves a half-written profile. A file that SQLite cannot read, or one written by a newer
version of the app, is moved aside (never deleted) and a fresh database is started; the store's
`recovery_message` then says what happened and where the old file went, for the app to show.

Plain Python sqlite3, no Qt: usable from tests and worker threads. The store holds one connection
(opened with check_same_thread=False) and serialises every call with a lock.

Journal mode: WAL with synchronous=FULL. WAL, because a commit appends to the log instead of
rewriting pages in place, and readers never block the writer. FULL rather than NORMAL, because with
WAL NORMAL keeps the file intact on a power cut but may roll back the last commits; FULL syncs the log
on every commit, so an edit the user saw saved stays saved. Edits are tiny and come at human pace,
so the extra fsync per commit costs nothing anyone notices.
"""
from __future__ import annotations

import operator
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from assistant.storage import schema
from engine.api import AGE_BUCKETS, GENDERS, Profile

DATA_HOME_ENV = "CINEWHY_DATA_HOME"
FILE_NAME = "profiles.sqlite3"
MAX_NAME_LENGTH = 80
SPEAKERS = ("user", "assistant")

# SQLite's result codes for "this is not a readable database"; anything else (locked, busy, no
# permission, disk full) is a problem of the moment, not of the file, and must never move it aside.
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_SIDE_FILES = ("-wal", "-shm", "-journal")


class ProfileStoreError(Exception):
    """Base class of the store's errors; each message is one sentence a user can act on."""


class ProfileAccessError(ProfileStoreError):
    """The database could not be used at this moment: the disk is full, another program holds its
    lock, it or its folder is read-only, ... `reason` says why in plain words ("the disk is full");
    `retryable` is False only where trying again cannot help (the file is damaged)."""

    def __init__(self, message: str, reason: str, retryable: bool = True):
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable


class ProfileSaveError(ProfileAccessError):
    """A change was not written: nothing of it is in the database (the transaction was rolled back)."""


class ProfileReadError(ProfileAccessError):
    """The saved profiles could not be read."""


class ProfileOpenError(ProfileAccessError):
    """The store could not be opened at its path (and nothing was moved aside)."""


class ProfileNotFound(ProfileStoreError, KeyError):
    """No saved profile has this id (it was deleted, or never existed)."""

    def __init__(self, profile_id: int):
        self.profile_id = profile_id
        super().__init__(f"No saved profile has id {profile_id}: it may have been deleted.")

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class ProfileNameError(ProfileStoreError, ValueError):
    """A profile name that is empty, too long, or already taken in its dataset."""


class ProfileDataError(ProfileStoreError, ValueError):
    """Profile content the engine would not accept (unknown gender or age group, a non-integer movie
    id, a rating that is not 1 to 5 whole stars)."""


@dataclass(frozen=True)
class StoredProfile:
    id: int
    name: str
    dataset: str
    movies: tuple[int, ...]
    gender: str | None
    age: str | None
    occupation: str | None
    created: float  # seconds since the epoch
    updated: float
    # Stars per movie, parallel to `movies`; None for a movie without a rating (every movie saved
    # before ratings existed). Left out, no movie has one.
    ratings: tuple[int | None, ...] = ()

    def __post_init__(self) -> None:
        if not self.ratings and self.movies:
            object.__setattr__(self, "ratings", (None,) * len(self.movies))

    def rating(self, movie_id: int) -> int | None:
        return dict(zip(self.movies, self.ratings)).get(movie_id)

    def to_profile(self) -> Profile:
        return Profile(movies=self.movies, ratings=self.ratings, gender=self.gender, age=self.age,
                       occupation=self.occupation)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    profile_id: int | None  # None for a conversation about no saved profile, or one since deleted
    at: float
    speaker: str  # "user" or "assistant"
    text: str
    dataset: str | None = None  # the dataset talked about; None only in rows older than schema 4
    dataset_user: int | None = None  # the dataset user talked about, when it was one


def default_path() -> Path:
    """$CINEWHY_DATA_HOME/profiles.sqlite3 if set, else the platform's user data folder for cinewhy."""
    override = os.environ.get(DATA_HOME_ENV)
    folder = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("cinewhy", appauthor=False))
    return folder / FILE_NAME


def clean_name(name: str) -> str:
    """The name as it will be stored (trimmed, NFC-normalised), or ProfileNameError saying what is wrong."""
    if not isinstance(name, str):
        raise ProfileNameError(f"A profile name must be text, not {type(name).__name__}.")
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        raise ProfileNameError("A profile name cannot be empty.")
    if len(text) > MAX_NAME_LENGTH:
        raise ProfileNameError(f"A profile name can be at most {MAX_NAME_LENGTH} characters; this one has {len(text)}.")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ProfileNameError("A profile name must be on one line, without tabs or control characters.")
    return text


def _name_key(name: str) -> str:
    """Names are unique per dataset regardless of case: "Alice" and "alice" would look the same in a list."""
    return unicodedata.normalize("NFC", name).casefold()


def _sort_key(name: str) -> str:
    """Listing order ignores case and accents, so that "Élan" comes among the E's."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class ProfileStore:
    """The saved profiles of every dataset, in one SQLite file. Use as a context manager or call close()."""

    def __init__(self, path: Path | str | None = None, timeout: float = 5.0):
        """Open (creating, migrating or recovering as needed) the store at `path`, by default
        default_path(). `timeout`: seconds to wait for another process's write lock."""
        self.path = Path(path) if path is not None else default_path()
        self._timeout = timeout
        self.recovery_message: str | None = None
        self.moved_to: Path | None = None  # where a damaged or newer file was moved, if one was
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._prepare_folder()
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            raise self._open_error(access_reason(exc), retryable=not _is_corruption(exc)) from exc
        except OSError as exc:
            raise self._open_error(os_reason(exc)) from exc

    def _open_error(self, reason: str, retryable: bool = True) -> ProfileOpenError:
        return ProfileOpenError(f"Could not open the saved profiles at {self.path}: {reason}.", reason, retryable)

    def _prepare_folder(self) -> None:
        """Create the folder; a path that cannot hold the database is one clear sentence, not a traceback."""
        if self.path.is_dir():
            raise self._open_error("that is a folder, where the database file should be; move the folder away "
                                   f"or choose another data folder with {DATA_HOME_ENV}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            blocker = next((p for p in (self.path.parent, *self.path.parent.parents) if p.exists()), None)
            in_the_way = f"{blocker} is a file, not a folder" if blocker is not None and not blocker.is_dir() \
                else "part of the folder path is a file, not a folder"
            raise self._open_error(f"{in_the_way}; choose another data folder with {DATA_HOME_ENV}") from exc
        except OSError as exc:
            raise self._open_error(f"its folder could not be created ({os_reason(exc)})") from exc

    # ---- opening, checking, recovering ----------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        # First look at the file through a read-only connection, so that a file about to be moved
        # aside is left byte for byte as it was (a read-write connection would checkpoint its WAL
        # into it on close). Where that is not possible (no file yet, a hot rollback journal to
        # replay), the read-write connection runs the same checks.
        checked, problem = False, None
        if self.path.exists() and self.path.stat().st_size > 0:
            try:
                problem, checked = self._inspect_read_only(), True
            except sqlite3.DatabaseError as exc:
                if _is_corruption(exc):
                    problem, checked = ("corrupt", f"it is damaged ({exc})"), True
        if problem is None:
            conn = self._connect()
            try:
                problem = None if checked else self._problem_with(conn)
                if problem is None:
                    self._configure_and_migrate(conn)
                    return conn
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    conn.close()
                    raise self._open_error(access_reason(exc)) from exc
                problem = ("corrupt", f"it is damaged ({exc})")
            conn.close()
        kind, reason = problem
        self.moved_to = self._move_aside(kind)
        conn = self._connect()
        try:
            self._configure_and_migrate(conn)
        except BaseException:
            conn.close()
            raise
        self.recovery_message = (
            f"The saved profiles file could not be used because {reason}, so a new, empty one was started. "
            f"The old file was kept as {self.moved_to}."
        )
        return conn

    def _inspect_read_only(self) -> tuple[str, str] | None:
        uri = self.path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None)
        try:
            return self._problem_with(conn)
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; every transaction below is an explicit BEGIN.
        return sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)

    @staticmethod
    def _problem_with(conn: sqlite3.Connection) -> tuple[str, str] | None:
        """Why this file cannot be used as it is, as (kind, reason), or None. Reads only."""
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            return "corrupt", f"it is damaged (integrity check: {rows[0][0]})"
        if schema.is_foreign(conn):
            return "corrupt", "it is not a CineWhy profiles database"
        version = schema.user_version(conn)
        if version < 0:  # no CineWhy writes one; migrating from it would run a step that does not fit
            return "corrupt", f"its schema version is {version}, which no version of CineWhy writes"
        if version > schema.LATEST_VERSION:
            return "newer-schema", (
                f"a newer version of CineWhy wrote it (schema version {version}; this version reads up to "
                f"{schema.LATEST_VERSION}) - open it with that version, or rename it back after upgrading"
            )
        return None

    @staticmethod
    def _configure_and_migrate(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")  # may stay "delete" where WAL is unsupported: still safe
        conn.execute("PRAGMA synchronous = FULL")  # see the module docstring
        conn.execute("PRAGMA foreign_keys = ON")
        schema.migrate(conn)

    def _move_aside(self, kind: str) -> Path:
        """Rename the file (and its -wal/-shm/-journal companions, which belong to it) to
        `profiles.sqlite3.<kind>-YYYYmmdd-HHMMSS`, never overwriting an earlier one."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.{kind}-{stamp}")
        counter = 2
        while any(Path(f"{target}{suffix}").exists() for suffix in ("", *_SIDE_FILES)):
            target = self.path.with_name(f"{self.path.name}.{kind}-{stamp}-{counter}")
            counter += 1
        try:
            os.replace(self.path, target)
            for suffix in _SIDE_FILES:
                side = Path(f"{self.path}{suffix}")
                if side.exists():
                    os.replace(side, Path(f"{target}{suffix}"))
        except OSError as exc:
            raise ProfileStoreError(
                f"The saved profiles file {self.path} cannot be used and could not be moved aside ({exc}); "
                "move it yourself and start the app again."
            ) from exc
        return target

    # ---- connection plumbing --------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "ProfileStore":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def set_lock_wait(self, seconds: float) -> None:
        """From now on wait at most `seconds` for another program's lock (the timeout given at open)."""
        with self._lock:
            self._timeout = max(0.0, seconds)
            if self._conn is not None:
                self._conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    @contextmanager
    def lock_wait(self, seconds: float) -> Iterator["ProfileStore"]:
        """Within the block, wait at most `seconds` for another program's lock instead of the store's
        timeout: a caller that already knows the database is locked (a retry on the UI thread) need
        not stall for the whole timeout again."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise ProfileStoreError("The profile store is closed.")
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")
            try:
                yield self
            finally:
                if self._conn is conn:
                    conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock: committed when the block ends, rolled back if it raises.
        Reads use one too, so a listing never mixes two states of the file."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise ProfileStoreError("The profile store is closed.")
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                    conn.execute("COMMIT")  # inside the try: a failed commit (disk full) is rolled back too
                except BaseException:
                    _roll_back(conn)
                    raise
            except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
                raise  # content the schema refuses, or a bug: not a problem of the disk or the file
            except sqlite3.DatabaseError as exc:
                reason, retryable = access_reason(exc), not _is_corruption(exc)
                if write:
                    raise ProfileSaveError(f"Could not save to the profile database: {reason}.", reason,
                                           retryable) from exc
                raise ProfileReadError(f"Could not read the saved profiles: {reason}.", reason, retryable) from exc

    # ---- profiles -------------------------------------------------------------------------------

    def list_profiles(self, dataset: str) -> list[StoredProfile]:
        """The dataset's saved profiles, sorted by name regardless of case and accents."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE dataset = ?", (dataset,)).fetchall()
            movies: dict[int, list[tuple[int, int | None]]] = {row[0]: [] for row in rows}
            for profile_id, movie_id, stars in conn.execute(
                "SELECT m.profile_id, m.movie_id, m.stars FROM profile_movies m JOIN profiles p ON p.id = m.profile_id "
                "WHERE p.dataset = ? ORDER BY m.profile_id, m.position",
                (dataset,),
            ):
                movies[profile_id].append((movie_id, stars))
        profiles = [_stored(row, movies[row[0]]) for row in rows]
        return sorted(profiles, key=lambda p: (_sort_key(p.name), _name_key(p.name), p.name, p.id))

    def get(self, profile_id: int) -> StoredProfile:
        with self._transaction(write=False) as conn:
            return self._get(conn, profile_id)

    def name(self, profile_id: int) -> str:
        """The profile's name, without reading its movies (the window names the profile shown in a few
        places at every edit; reading the whole profile each time cost ~0.17 ms at a time)."""
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT name FROM profiles WHERE id = ?", (profile_id,)).fetchone()
        if row is None:
            raise ProfileNotFound(profile_id)
        return row[0]

    def find(self, dataset: str, name: str) -> StoredProfile | None:
        """The dataset's profile with this name (case does not matter), or None."""
        key = _name_key(name.strip())
        with self._transaction(write=False) as conn:
            for profile_id, stored_name in conn.execute("SELECT id, name FROM profiles WHERE dataset = ?", (dataset,)):
                if _name_key(stored_name) == key:
                    return self._get(conn, profile_id)
        return None

    def create(
        self,
        dataset: str,
        name: str,
        movies: Iterable[int] = (),
        gender: str | None = None,
        age: str | None = None,
        occupation: str | None = None,
        ratings: Iterable[int | None] | None = None,
    ) -> StoredProfile:
        """A new profile. `ratings`: stars (1-5, or None for unrated) parallel to `movies`; left out,
        no movie has a rating."""
        if not isinstance(dataset, str) or not dataset.strip():
            raise ProfileDataError("A profile needs the name of its dataset, e.g. 'ml-100k'.")
        name = clean_name(name)
        rated, gender, age, occupation = _content(movies, gender, age, occupation, ratings)
        now = time.time()
        with self._transaction() as conn:
            self._check_name_free(conn, dataset, name)
            cursor = conn.execute(
                "INSERT INTO profiles (name, dataset, gender, age, occupation, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, dataset, gender, age, occupation, now, now),
            )
            profile_id = int(cursor.lastrowid)
            self._write_movies(conn, profile_id, rated)
            return self._get(conn, profile_id)

    def create_from(self, dataset: str, name: str, profile: Profile) -> StoredProfile:
        return self.create(dataset, name, profile.movies, profile.gender, profile.age, profile.occupation,
                           profile.ratings)

    def save(
        self,
        profile_id: int,
        movies: Iterable[int] = (),
        gender: str | None = None,
        age: str | None = None,
        occupation: str | None = None,
        ratings: Iterable[int | None] | None = None,
    ) -> StoredProfile:
        """Replace the profile's whole content (movie order is kept; `ratings` as in create()).
        Duplicate movie ids keep their first place and rating. One transaction: after a crash the
        profile is either all old or all new."""
        rated, *fields = _content(movies, gender, age, occupation, ratings)
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE profiles SET gender = ?, age = ?, occupation = ?, updated = ? WHERE id = ?",
                (*fields, time.time(), profile_id),
            )
            if cursor.rowcount == 0:
                raise ProfileNotFound(profile_id)
            conn.execute("DELETE FROM profile_movies WHERE profile_id = ?", (profile_id,))
            self._write_movies(conn, profile_id, rated)
            return self._get(conn, profile_id)

    def save_profile(self, profile_id: int, profile: Profile) -> StoredProfile:
        return self.save(profile_id, profile.movies, profile.gender, profile.age, profile.occupation, profile.ratings)

    def rename(self, profile_id: int, new_name: str) -> StoredProfile:
        new_name = clean_name(new_name)
        with self._transaction() as conn:
            current = self._get(conn, profile_id)
            self._check_name_free(conn, current.dataset, new_name, except_id=profile_id)
            conn.execute("UPDATE profiles SET name = ?, updated = ? WHERE id = ?", (new_name, time.time(), profile_id))
            return self._get(conn, profile_id)

    def duplicate(self, profile_id: int, new_name: str | None = None) -> StoredProfile:
        """A copy with the same content, named `new_name` or "X (copy)", "X (copy 2)", ..."""
        with self._transaction() as conn:
            source = self._get(conn, profile_id)
            if new_name is None:
                name = self._free_copy_name(conn, source.dataset, source.name)
            else:
                name = clean_name(new_name)
                self._check_name_free(conn, source.dataset, name)
            now = time.time()
            cursor = conn.execute(
                "INSERT INTO profiles (name, dataset, gender, age, occupation, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, source.dataset, source.gender, source.age, source.occupation, now, now),
            )
            copy_id = int(cursor.lastrowid)
            self._write_movies(conn, copy_id, tuple(zip(source.movies, source.ratings)))
            return self._get(conn, copy_id)

    def delete(self, profile_id: int) -> None:
        """Delete the profile and its movies; its chat history is kept, no longer tied to a profile."""
        with self._transaction() as conn:
            if conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,)).rowcount == 0:
                raise ProfileNotFound(profile_id)

    def unique_name(self, dataset: str, base: str) -> str:
        """`base` if no profile of the dataset has it, else "base (2)", "base (3)", ..."""
        base = clean_name(base)
        with self._transaction(write=False) as conn:
            taken = self._taken_names(conn, dataset)
        return _first_free(base, _numbered("", " ({})"), taken)

    # ---- conversation and settings --------------------------------------------------------------

    def add_message(self, profile_id: int | None, speaker: str, text: str, *, dataset: str | None = None,
                    dataset_user: int | None = None) -> StoredMessage:
        """Keep one message of the conversation about the saved profile `profile_id`, or, with
        `profile_id` None, about the dataset user `dataset_user` of `dataset` (or about no one when
        both are None). A saved profile's dataset is its own; a `dataset` that differs is refused."""
        if speaker not in SPEAKERS:
            raise ProfileDataError(f"Unknown speaker {speaker!r}: use 'user' or 'assistant'.")
        if not isinstance(text, str):
            raise ProfileDataError(f"A message must be text, not {type(text).__name__}.")
        _check_conversation_key(profile_id, dataset, dataset_user)
        now = time.time()
        with self._transaction() as conn:
            if profile_id is not None:
                owner = self._get(conn, profile_id)  # a clear ProfileNotFound rather than a foreign-key error
                if dataset is not None and dataset != owner.dataset:
                    raise ProfileDataError(f"Profile {profile_id} belongs to {owner.dataset}, not {dataset}.")
                dataset = owner.dataset
            cursor = conn.execute(
                "INSERT INTO conversation (profile_id, at, speaker, text, dataset, dataset_user) VALUES (?, ?, ?, ?, ?, ?)",
                (profile_id, now, speaker, text, dataset, dataset_user),
            )
            return StoredMessage(int(cursor.lastrowid), profile_id, now, speaker, text, dataset, dataset_user)

    def messages(self, profile_id: int | None, limit: int | None = 100, *, dataset: str | None = None,
                 dataset_user: int | None = None) -> list[StoredMessage]:
        """The last `limit` messages, oldest first, about the saved profile `profile_id`; with
        `profile_id` None, about the dataset user `dataset_user` of `dataset`; with neither, those
        about no one (kept before conversations had a dataset, or of a profile since deleted)."""
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
        _check_conversation_key(profile_id, dataset, dataset_user)
        columns = "id, profile_id, at, speaker, text, dataset, dataset_user"
        if profile_id is not None:
            where, key = "profile_id = ?", (profile_id,)
        elif dataset_user is not None:
            where, key = "profile_id IS NULL AND dataset = ? AND dataset_user = ?", (dataset, dataset_user)
        else:
            where, key = "profile_id IS NULL AND dataset_user IS NULL", ()
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                f"SELECT {columns} FROM conversation WHERE {where} ORDER BY id DESC LIMIT ?",
                (*key, -1 if limit is None else limit),
            ).fetchall()
        return [StoredMessage(*row) for row in reversed(rows)]

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_setting(self, key: str, value: str | None) -> None:
        """Store a text value (serialise anything else, e.g. as JSON); None removes the setting."""
        if value is not None and not isinstance(value, str):
            raise TypeError(f"setting values are text; serialise {type(value).__name__} first (e.g. as JSON)")
        with self._transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # ---- helpers inside a transaction -----------------------------------------------------------

    @staticmethod
    def _get(conn: sqlite3.Connection, profile_id: int) -> StoredProfile:
        row = conn.execute(f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE id = ?", (profile_id,)).fetchone()
        if row is None:
            raise ProfileNotFound(profile_id)
        movies = conn.execute(
            "SELECT movie_id, stars FROM profile_movies WHERE profile_id = ? ORDER BY position", (profile_id,)
        ).fetchall()
        return _stored(row, movies)

    @staticmethod
    def _write_movies(conn: sqlite3.Connection, profile_id: int, rated: tuple[tuple[int, int | None], ...]) -> None:
        conn.executemany(
            "INSERT INTO profile_movies (profile_id, position, movie_id, stars) VALUES (?, ?, ?, ?)",
            [(profile_id, position, movie_id, stars) for position, (movie_id, stars) in enumerate(rated)],
        )

    @staticmethod
    def _taken_names(conn: sqlite3.Connection, dataset: str, except_id: int | None = None) -> set[str]:
        return {
            _name_key(name)
            for profile_id, name in conn.execute("SELECT id, name FROM profiles WHERE dataset = ?", (dataset,))
            if profile_id != except_id
        }

    def _check_name_free(self, conn: sqlite3.Connection, dataset: str, name: str, except_id: int | None = None) -> None:
        if _name_key(name) in self._taken_names(conn, dataset, except_id):
            raise ProfileNameError(f"A profile called '{name}' already exists.")

    def _free_copy_name(self, conn: sqlite3.Connection, dataset: str, name: str) -> str:
        base = _strip_copy_suffix(name)
        taken = self._taken_names(conn, dataset)
        return _first_free(base, _numbered(" (copy)", " (copy {})"), taken)


_PROFILE_COLUMNS = "id, name, dataset, gender, age, occupation, created, updated"


def _check_conversation_key(profile_id: int | None, dataset: str | None, dataset_user: int | None) -> None:
    """A conversation is about a saved profile or a dataset user of a named dataset, never both."""
    if dataset_user is None:
        return
    if profile_id is not None:
        raise ProfileDataError("A message is about a saved profile or a dataset user, not both.")
    if not isinstance(dataset_user, int) or isinstance(dataset_user, bool):
        raise ProfileDataError(f"A dataset user is a whole number, not {dataset_user!r}.")
    if not dataset:
        raise ProfileDataError("A dataset user's message needs the dataset it belongs to.")


def _stored(row: tuple, movies: list[tuple[int, int | None]]) -> StoredProfile:
    profile_id, name, dataset, gender, age, occupation, created, updated = row
    return StoredProfile(profile_id, name, dataset, tuple(m for m, _ in movies), gender, age, occupation,
                         created, updated, ratings=tuple(s for _, s in movies))


def _content(
    movies: Iterable[int], gender, age, occupation, ratings: Iterable[int | None] | None = None
) -> tuple[tuple[tuple[int, int | None], ...], str | None, str | None, str | None]:
    """Checked profile content: (movie id, stars) pairs with ids as plain ints (numpy integers too)
    and duplicates dropped, then the attributes."""
    if isinstance(movies, (str, bytes)):
        raise ProfileDataError("Movies must be a sequence of movie ids, not text.")
    movies = list(movies)
    if ratings is None:
        stars_list: list = [None] * len(movies)
    elif isinstance(ratings, (str, bytes)):
        raise ProfileDataError("Ratings must be a sequence of stars (1 to 5, or None), not text.")
    else:
        stars_list = list(ratings)
        if len(stars_list) != len(movies):
            raise ProfileDataError(
                f"Give one rating (or None) per movie: {len(movies)} movies, {len(stars_list)} ratings."
            )
    ids: dict[int, int | None] = {}
    for movie, stars in zip(movies, stars_list):
        if isinstance(movie, bool):
            raise ProfileDataError(f"Movie ids are integers, not {movie!r}.")
        try:
            movie_id = operator.index(movie)
        except TypeError:
            raise ProfileDataError(f"Movie ids are integers, not {movie!r}.") from None
        ids.setdefault(movie_id, _checked_stars(stars, movie_id))
    if gender is not None and gender not in GENDERS:
        raise ProfileDataError(f"Unknown gender {gender!r}: use 'F', 'M' or None.")
    if age is not None and age not in AGE_BUCKETS:
        raise ProfileDataError(f"Unknown age group {age!r}: use one of {', '.join(AGE_BUCKETS)}, or None.")
    if occupation is not None and not isinstance(occupation, str):
        raise ProfileDataError(f"An occupation is text, not {type(occupation).__name__}.")
    return tuple(ids.items()), gender, age, (occupation or None)


def _checked_stars(stars, movie_id: int) -> int | None:
    """1 to 5 whole stars as a plain int (numpy integers too), or None for "not rated"."""
    if stars is None:
        return None
    try:
        value = None if isinstance(stars, bool) else operator.index(stars)
    except TypeError:
        value = None
    if value is None or not 1 <= value <= 5:
        raise ProfileDataError(f"A rating is 1 to 5 whole stars or none, not {stars!r} (movie {movie_id}).")
    return value


def _strip_copy_suffix(name: str) -> str:
    """"X (copy 3)" -> "X", so that copying a copy gives "X (copy 4)", not "X (copy 3) (copy)"."""
    if name.endswith(")"):
        head, sep, tail = name.rpartition(" (copy")
        if sep and head and (tail == ")" or tail[1:-1].isdigit() and tail.startswith(" ")):
            return head
    return name


def _first_free(base: str, suffixes: Iterator[str], taken: set[str]) -> str:
    """The first of base + suffix not in `taken`; the base is shortened where needed so that the
    name keeps within MAX_NAME_LENGTH."""
    for tail in suffixes:
        candidate = base[: MAX_NAME_LENGTH - len(tail)].rstrip() + tail if tail else base
        if _name_key(candidate) not in taken:
            return candidate
    raise AssertionError("the suffixes are endless")


def _numbered(first: str, template: str) -> Iterator[str]:
    """first, then template.format(2), template.format(3), ..."""
    yield first
    n = 2
    while True:
        yield template.format(n)
        n += 1


# Plain-words reasons for the result codes a user can meet, by primary code; extended codes first.
_EXTENDED_REASONS = {
    8 | (6 << 8): "the profile folder is read-only",  # SQLITE_READONLY_DIRECTORY
}
_REASONS = {
    13: "the disk is full",  # SQLITE_FULL
    5: "another program is using the profile database",  # SQLITE_BUSY
    6: "another program is using the profile database",  # SQLITE_LOCKED
    8: "the profile database is read-only",  # SQLITE_READONLY
    10: "the disk could not be read or written (an input/output error)",  # SQLITE_IOERR
    14: "the profile database cannot be opened or created there (is its folder read-only?)",  # SQLITE_CANTOPEN
    3: "the system does not allow access to the profile database",  # SQLITE_PERM
    23: "the system does not allow access to the profile database",  # SQLITE_AUTH
    11: "the profile database is damaged; restart CineWhy to set it aside and start a new one",  # CORRUPT
    26: "the profile database is damaged; restart CineWhy to set it aside and start a new one",  # NOTADB
}
# Without a result code (an error raised by hand, Python < 3.11): SQLite's messages for the same cases.
_MESSAGE_CODES = (
    ("disk is full", 13), ("database is locked", 5), ("database table is locked", 6), ("busy", 5),
    ("readonly database", 8), ("read-only", 8), ("disk i/o error", 10), ("unable to open", 14),
    ("malformed", 11), ("not a database", 26),
)


def access_reason(exc: sqlite3.Error) -> str:
    """Why SQLite failed, in plain words: "the disk is full", "another program is using ..."."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        text = str(exc).lower()
        code = next((c for fragment, c in _MESSAGE_CODES if fragment in text), None)
    if code is None:
        return str(exc)
    return _EXTENDED_REASONS.get(code) or _REASONS.get(code & 0xFF) or str(exc)


def os_reason(exc: OSError) -> str:
    """An OSError in plain words, without Python's "[Errno 30]" prefix."""
    text = exc.strerror or str(exc)
    return f"{text}: {exc.filename}" if exc.filename else text


def _roll_back(conn: sqlite3.Connection) -> None:
    """Roll back what is left of a failed transaction. SQLite may have rolled it back already (disk
    full, I/O error); a rollback that fails itself must not hide the error that caused it."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _CORRUPT_CODES
    # Python < 3.11 gives no code: fall back on the class (OperationalError is "locked", "busy", ...).
    return type(exc) is sqlite3.DatabaseError
