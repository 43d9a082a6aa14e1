"""The saved conversation, shown again: each time another profile comes into view (at start, on a
switch), the chat panel gets a divider naming it, then the last messages saved about it.

The store keeps a saved profile's messages under its id and a dataset user's under (dataset, user
id), so a window shows only what was said about the profile in view, of its own dataset. What older
versions kept for all dataset users together (no dataset, no user) is shown to none of them.
"""
from __future__ import annotations

from assistant.storage import ProfileStore, ProfileStoreError
from assistant.views.chat_panel import ChatPanel

HISTORY_LIMIT = 30  # messages shown again per profile: the last fifteen questions and answers


class ChatHistory:
    def __init__(self, chat: ChatPanel, store: ProfileStore, dataset: str, limit: int = HISTORY_LIMIT) -> None:
        self._chat = chat
        self._store = store
        self._dataset = dataset
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
            if kind == "saved":
                messages = self._store.messages(number, limit=self._limit)
            else:
                messages = self._store.messages(None, limit=self._limit, dataset=self._dataset, dataset_user=number)
        except ProfileStoreError as error:
            self._chat.add_divider(name)
            self._chat.add_note(f"The earlier conversation could not be read: {error}")
            return
        pairs = [(m.speaker, m.text) for m in messages]
        self._chat.add_divider(name if kind == "saved" else f"{name} (dataset user)", pairs)

    def remember(self, source: tuple[str, int] | None, question: str, answer: str) -> None:
        """Keep a question and its answer about `source` (None: no profile in view) in the store."""
        kind, number = source if source is not None else ("", 0)
        if kind == "saved":
            key = {"profile_id": number}
        elif kind == "user":
            key = {"profile_id": None, "dataset": self._dataset, "dataset_user": number}
        else:
            key = {"profile_id": None, "dataset": self._dataset}
        self._store.add_message(speaker="user", text=question, **key)
        self._store.add_message(speaker="assistant", text=answer, **key)

    def continue_as(self, source: tuple[str, int]) -> None:
        """The profile in view was saved under another source (a dataset user's edits became a
        saved profile): the same conversation goes on, with no divider."""
        self._source = source
