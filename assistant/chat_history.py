"""The saved conversation, shown again: each time another profile comes into view (at start, on a
switch), the chat panel gets a divider naming it, then the last messages saved about it.

The store keeps a saved profile's messages under its id. What was asked about a dataset user is
kept under no profile, for all dataset users together (the store has no per-user key), so it is
shown under its own heading that says so rather than passed off as that user's conversation.
"""
from __future__ import annotations

from assistant.storage import ProfileStore, ProfileStoreError
from assistant.views.chat_panel import ChatPanel

HISTORY_LIMIT = 30  # messages shown again per profile: the last fifteen questions and answers
DATASET_USERS_HEADING = "Earlier questions about dataset users (kept together, not per user):"


class ChatHistory:
    def __init__(self, chat: ChatPanel, store: ProfileStore, limit: int = HISTORY_LIMIT) -> None:
        self._chat = chat
        self._store = store
        self._limit = limit
        self._source: tuple[str, int] | None = None

    def follow(self, source: tuple[str, int] | None, name: str) -> None:
        """The profile `source` (called `name`) is in view: when it is another one than before, a
        divider naming it and its saved messages go into the chat."""
        if source is None or source == self._source:
            return
        self._source = source
        kind, number = source
        try:
            messages = self._store.messages(number if kind == "saved" else None, limit=self._limit)
        except ProfileStoreError as error:
            self._chat.add_divider(name)
            self._chat.add_note(f"The earlier conversation could not be read: {error}")
            return
        pairs = [(m.speaker, m.text) for m in messages]
        if kind == "saved":
            self._chat.add_divider(name, pairs)
        else:
            self._chat.add_divider(f"{name} (dataset user)", pairs, DATASET_USERS_HEADING if pairs else "")

    def continue_as(self, source: tuple[str, int]) -> None:
        """The profile in view was saved under another source (a dataset user's edits became a
        saved profile): the same conversation goes on, with no divider."""
        self._source = source
