"""User data that outlives a run: saved profiles, chat history and small settings, in SQLite.

Plain Python (sqlite3), no Qt, so it can be used from worker threads and tests.
"""
from assistant.storage.profile_store import (
    ProfileAccessError,
    ProfileDataError,
    ProfileNameError,
    ProfileNotFound,
    ProfileOpenError,
    ProfileReadError,
    ProfileSaveError,
    ProfileStore,
    ProfileStoreError,
    StoredMessage,
    StoredProfile,
    default_path,
)
from assistant.storage.schema import LATEST_VERSION

__all__ = [
    "LATEST_VERSION",
    "ProfileAccessError",
    "ProfileDataError",
    "ProfileNameError",
    "ProfileNotFound",
    "ProfileOpenError",
    "ProfileReadError",
    "ProfileSaveError",
    "ProfileStore",
    "ProfileStoreError",
    "StoredMessage",
    "StoredProfile",
    "default_path",
]
