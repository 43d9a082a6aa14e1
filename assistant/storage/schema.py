"""The saved-profiles database's schema and its migrations.

The schema version is SQLite's `PRAGMA user_version`. `MIGRATIONS[n]` takes a database from version n
to version n + 1; a fresh database is built by running every step from version 0. Each step runs in
one transaction together with the `user_version` bump, so a crash during a migration leaves the file
at the old version, never half-migrated.

Rules for adding a step:
- append to MIGRATIONS, never edit a step that has shipped (users' files were built by it);
- plain SQL statements only, one per string: `executescript` would commit the open transaction;
- a step that rebuilds a table must follow SQLite's "making other kinds of table schema changes"
  procedure; foreign keys stay ON during migrations, so use `PRAGMA defer_foreign_keys = ON` there.

Plain sqlite3, no Qt: the store is used from tests and worker threads.
"""
from __future__ import annotations

import sqlite3

# "CWHY": marks the file as a CineWhy profiles database, so that a foreign SQLite file put at our
# path is recognised and moved aside instead of being migrated into.
APPLICATION_ID = 0x43574859

_V1 = (
    f"PRAGMA application_id = {APPLICATION_ID}",
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
)

_V2 = (
    """
    CREATE TABLE conversation (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER REFERENCES profiles (id) ON DELETE SET NULL,
        at REAL NOT NULL,
        speaker TEXT NOT NULL CHECK (speaker IN ('user', 'assistant')),
        text TEXT NOT NULL
    )
    """,
    # The foreign key's child column needs an index, or every profile delete scans the table.
    "CREATE INDEX conversation_by_profile ON conversation (profile_id, id)",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_V3 = (
    # A star rating per profile movie, NULL for "watched, not rated": what every movie of a file
    # written before ratings existed becomes. ADD COLUMN rewrites no row, so movies, their positions
    # and everything else stay exactly as they were. The CHECK also refuses text and reals, which
    # SQLite's type affinity would otherwise let in.
    """
    ALTER TABLE profile_movies ADD COLUMN stars INTEGER
        CHECK (stars IS NULL OR (typeof(stars) = 'integer' AND stars BETWEEN 1 AND 5))
    """,
)

_V4 = (
    # The conversation is kept per (dataset, profile): a saved profile's rows by its id as before,
    # a dataset user's by (dataset, dataset_user). Until now every dataset user's messages, of every
    # dataset, went under "no profile", so one window showed another dataset's answers.
    "ALTER TABLE conversation ADD COLUMN dataset TEXT",
    """
    ALTER TABLE conversation ADD COLUMN dataset_user INTEGER
        CHECK (dataset_user IS NULL OR (typeof(dataset_user) = 'integer' AND dataset IS NOT NULL))
    """,
    # A saved profile's earlier rows get its dataset, so they stay attributable if it is deleted.
    # The old "no profile" rows cannot be attributed (neither dataset nor user was kept): they stay
    # as they are, dataset and user NULL, shown to no dataset user.
    """
    UPDATE conversation SET dataset = (SELECT p.dataset FROM profiles p WHERE p.id = conversation.profile_id)
    WHERE profile_id IS NOT NULL
    """,
    "CREATE INDEX conversation_by_dataset_user ON conversation (dataset, dataset_user, id)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)
LATEST_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def application_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA application_id").fetchone()[0])


def is_foreign(conn: sqlite3.Connection) -> bool:
    """True for a SQLite file that some other program wrote: a different application id, or tables
    in a file at version 0 (our step 0 -> 1 is atomic, so our own files are never in that state)."""
    app_id = application_id(conn)
    if app_id not in (0, APPLICATION_ID):
        return True
    if user_version(conn) == 0:
        return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    return False


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Apply the steps from the database's version up to `target`, each in its own transaction.

    `conn` must be in autocommit mode (isolation_level=None) so that the explicit BEGIN here is the
    transaction. Returns the version reached. A database newer than `target` is left alone."""
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"schema version {target} is unknown: this code knows versions 0 to {LATEST_VERSION}")
    if conn.isolation_level is not None:
        raise ValueError("migrate() needs a connection opened with isolation_level=None")
    while True:
        # IMMEDIATE takes the write lock before reading the version, so two processes opening the
        # same file at once cannot both run the same step.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version < 0:  # MIGRATIONS[-1] would run the last step on a file it does not fit
                raise ValueError(f"schema version {version} is not one this code writes; the file cannot be migrated")
            if version >= target:
                conn.execute("COMMIT")
                return version
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
