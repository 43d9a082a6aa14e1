"""The app's voice: a Qt face on `Speaker` (which keeps pyttsx3 in its own process). Events from the
speech process arrive on a background thread and are re-emitted as signals from the UI thread."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot

from assistant.speech.speaker import Speaker, SpeechError


class VoiceOutput(QObject):
    speaking = Signal(bool)
    silent = Signal(str)  # why answers are not heard; sent once per reason
    saved = Signal(str, float)  # path, seconds
    saveFailed = Signal(str)
    _arrived = Signal(object)  # an event of the speech process, handed from its reader thread to ours

    def __init__(self, env: dict | None = None, parent: QObject | None = None, start: bool = True):
        """With `start` False the speech process starts at `start()` (or with the first answer)."""
        super().__init__(parent)
        self._current: int | None = None
        # Emitting from the reader thread lost the silent reason whenever the child was ready before
        # the window had connected to `silent` (half of windowed starts): an event is re-emitted
        # only once the UI thread's event loop runs, after whoever built this object has connected.
        self._arrived.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self.speaker = Speaker(on_event=self._on_event, env=env)
        if start:
            self.start()

    def start(self) -> None:
        self.speaker.start()  # about 80 ms, in the background: the first answer then starts at once

    @property
    def muted(self) -> bool:
        return self.speaker.muted

    def say(self, text: str) -> None:
        if text.strip():
            self._current = self.speaker.say(text)

    def stop(self) -> None:
        self.speaker.stop()

    def set_muted(self, muted: bool) -> None:
        self.speaker.set_muted(muted)

    def save_wav(self, text: str, path: str) -> None:
        """Writes the answer to a WAV file off the UI thread; `saved` or `saveFailed` tells how it went."""
        def work() -> None:
            try:
                self.saved.emit(path, self.speaker.save_wav(text, path))
            except SpeechError as error:
                self.saveFailed.emit(str(error))

        threading.Thread(target=work, name="cinewhy-save-speech", daemon=True).start()

    def close(self) -> None:
        self.speaker.close()

    def _on_event(self, event: dict) -> None:
        self._arrived.emit(event)

    @Slot(object)
    def _dispatch(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "ready" and event.get("silent_reason"):
            self.silent.emit(event["silent_reason"])
        elif kind == "started":
            self.speaking.emit(True)
        elif kind == "finished" and event.get("id") == self._current:
            self.speaking.emit(False)
        elif kind == "error" and event.get("message"):
            self.silent.emit(event["message"])
