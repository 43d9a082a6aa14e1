"""Speaking answers aloud, for the app and the command line. No Qt.

pyttsx3 runs only in a child process (assistant.speech.speaker_process, whose docstring describes
the JSON-lines protocol): it hangs or raises "run loop already started" when driven from Qt
threads, and a child that hangs or crashes can be killed and started again without touching the UI.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self

_log = logging.getLogger(__name__)

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# An answer that has neither started nor finished this long after it was sent means a hung child.
_HANG_SECONDS = 5.0
_READY_SECONDS = 15.0
_QUIT_SECONDS = 2.0


class SpeechError(Exception):
    """Saving speech failed; the message says why in words meant for the user."""


class _Save:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.done = threading.Event()
        self.seconds = 0.0
        self.error: str | None = None


class Speaker:
    """Thread-safe client of the speech process. `on_event` receives the process's events (see the
    protocol) on a background thread; the child starts lazily, on start() or the first say()."""

    def __init__(self, on_event: Callable[[dict], None] | None = None, env: Mapping[str, str] | None = None):
        self._on_event = on_event
        environment = dict(os.environ if env is None else env)
        # The child imports this package by module name, wherever the app was started from.
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), environment.get("PYTHONPATH")]))
        self._env = environment
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._launched_at = 0.0
        self._ready = threading.Event()
        self._silent_reason: str | None = None
        self._announced: list[str | None] = []  # silent reasons already told, so each is told once
        self._muted = False
        self._voice: dict | None = None
        # The last answer sent, with when, until it starts or finishes: a child that lets it wait
        # too long is hung.
        self._unanswered: tuple[int, float] | None = None
        # Each child's last answer until it finishes, so that one owed by a dead child is finished.
        self._speaking: dict[subprocess.Popen, int] = {}
        self._started_at: dict[int, float] = {}
        self._saves: dict[int, _Save] = {}

    # Public API

    @property
    def silent_reason(self) -> str | None:
        return self._silent_reason

    @property
    def muted(self) -> bool:
        return self._muted

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process and self._process.poll() is None else None

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        if muted:
            self.stop()

    def start(self) -> None:
        with self._lock:
            self._ensure_running()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once the child has said whether it can speak, or has failed to start (then
        silent_reason says so)."""
        self.start()
        return self._ready.wait(timeout)

    def say(self, text: str) -> int:
        """Speaks `text`, interrupting the answer being spoken; returns the utterance's id."""
        with self._lock:
            utterance = next(self._ids)
            if self._muted:
                return utterance
            if self._send_to_child({"cmd": "say", "id": utterance, "text": text}):
                self._unanswered = (utterance, time.monotonic())
                self._speaking[self._process] = utterance
            return utterance

    def stop(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._send({"cmd": "stop"})

    def set_voice(self, rate: int = 200, voice: str | None = None) -> None:
        """Words per minute, and an espeak-ng voice name or id ("English (America)", "en-us");
        None is the default voice. Kept across restarts of the child."""
        with self._lock:
            self._voice = {"cmd": "voice", "rate": rate, "voice": voice}
            if self._process is not None and self._process.poll() is None:
                self._send(self._voice)

    def save_wav(self, text: str, path: str | os.PathLike, timeout: float = 30.0) -> float:
        """Writes `text` as speech to a WAV file; blocks; returns its duration in seconds."""
        target = os.path.abspath(path)
        with self._lock:  # held until the save is registered, so its outcome cannot come first
            utterance = next(self._ids)
            if not self._send_to_child({"cmd": "save", "id": utterance, "text": text, "path": target}):
                raise SpeechError(self._silent_reason or "Speech is off: the speech process is not running.")
            save = self._saves[utterance] = _Save(self._process)
        if not save.done.wait(timeout):
            with self._lock:
                self._saves.pop(utterance, None)
                if self._process is save.process:
                    self._retire()  # hung: the next call starts a fresh child
            raise SpeechError(f"Saving speech to {target} took longer than {timeout:g} s.")
        if save.error is not None:
            raise SpeechError(save.error)
        return save.seconds

    def last_started_at(self, utterance: int) -> float | None:
        """time.perf_counter() in this process when answer `utterance` was reported started."""
        return self._started_at.get(utterance)

    def close(self) -> None:
        """Quits the child, killing it if it does not quit at once. The events it still owes (the
        interrupted answer's "finished") are delivered before this returns."""
        with self._lock:
            process, reader = self._process, self._reader
            if process is None:
                return
            self._send({"cmd": "quit"})
            self._process = None
        try:
            process.wait(_QUIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if reader is not threading.current_thread():
            reader.join(_QUIT_SECONDS)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # The child process

    def _ensure_running(self, restart: bool = False) -> bool:
        """Starts the child unless a healthy one runs; False when it cannot be started."""
        process = self._process
        if process is not None and process.poll() is None and not restart and not self._hung():
            return True
        if process is not None:
            self._retire()
        self._ready.clear()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "assistant.speech.speaker_process"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self._env,
                text=True, encoding="utf-8", bufsize=1,
            )
        except OSError as error:
            self._not_started(f"Speech is off: the speech process could not start ({error}).")
            return False
        self._process = process
        self._launched_at = time.monotonic()
        self._reader = threading.Thread(target=self._read_events, args=(process,), daemon=True, name="speaker-events")
        self._reader.start()
        if self._voice is not None:
            self._send(self._voice)
        return True

    def _hung(self) -> bool:
        now = time.monotonic()
        if not self._ready.is_set():
            return now - self._launched_at > _READY_SECONDS
        return self._unanswered is not None and now - self._unanswered[1] > _HANG_SECONDS

    def _retire(self) -> None:
        """Kills the current child; its reader thread then sees it was retired, not crashed."""
        process, self._process = self._process, None
        process.kill()

    def _send_to_child(self, command: dict) -> bool:
        """Sends to a healthy child, started first if need be; one found dead on the way is
        replaced once. False when no child can be started."""
        if not self._ensure_running():
            return False
        return self._send(command) or (self._ensure_running(restart=True) and self._send(command))

    def _send(self, command: dict) -> bool:
        process = self._process
        if process is None:
            return False
        try:
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
            return True
        except (OSError, ValueError):  # the child died; its reader thread reports it
            return False

    # Events, on the reader thread

    def _read_events(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                _log.warning("speech process wrote %r", line)
                continue
            if self._record(process, event):
                self._forward(event)
        process.wait()
        process.stdout.close()
        with self._lock, contextlib.suppress(OSError):  # flushing into a dead child's pipe fails
            process.stdin.close()
        for event in self._after_exit(process):
            self._forward(event)

    def _record(self, process: subprocess.Popen, event: dict) -> bool:
        """Updates the state from one event; False when the event is not for on_event."""
        kind, utterance = event.get("event"), event.get("id")
        with self._lock:
            if process is not self._process:
                return False  # a retired child's last words
            if kind == "ready":
                self._ready.set()
                return self._set_silent(event.get("silent_reason"))
            if kind == "started":
                self._started_at[utterance] = time.perf_counter()
            if kind in ("started", "finished") and self._unanswered and self._unanswered[0] == utterance:
                self._unanswered = None
            if kind == "finished" and self._speaking.get(process) == utterance:
                del self._speaking[process]
            save = self._saves.pop(utterance, None) if kind in ("saved", "error") else None
        if save is None:
            return True
        # A save's outcome goes back to its blocked caller, not to on_event.
        save.seconds = float(event.get("seconds", 0.0))
        save.error = event.get("message") if kind == "error" else None
        save.done.set()
        return False

    def _after_exit(self, process: subprocess.Popen) -> list[dict]:
        events = []
        with self._lock:
            crashed = process is self._process
            message = "The speech process was stopped."
            if crashed and not self._ready.is_set():
                self._process = None
                message = (f"Speech is off: the speech process stopped while starting (exit code "
                           f"{process.returncode}); it tries again with the next answer.")
                self._ready.set()
                if self._set_silent(message):
                    events.append({"event": "ready", "silent_reason": message})
            elif crashed:
                self._process = None
                message = (f"Speech is off: the speech process stopped unexpectedly (exit code "
                           f"{process.returncode}); it starts again with the next answer.")
                self._silent_reason = message
                events.append({"event": "error", "id": None, "message": message})
            saves = [(utterance, save) for utterance, save in self._saves.items() if save.process is process]
            for utterance, save in saves:
                del self._saves[utterance]
                save.error = message
                save.done.set()
            if process in self._speaking:
                events.insert(0, {"event": "finished", "id": self._speaking.pop(process), "completed": False})
            if crashed:
                self._unanswered = None
        return events

    def _not_started(self, reason: str) -> None:
        self._ready.set()
        if self._set_silent(reason):
            # Told from a thread of its own, as every event is, never from the caller's.
            ready = {"event": "ready", "silent_reason": reason}
            threading.Thread(target=self._forward, args=(ready,), daemon=True).start()

    def _set_silent(self, reason: str | None) -> bool:
        """Records the reason; True (and forwards a "ready") only the first time it is given."""
        self._silent_reason = reason
        if reason in self._announced:
            return False
        self._announced.append(reason)
        return True

    def _forward(self, event: dict) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a faulty handler must not end event delivery
            _log.exception("speech event handler failed on %r", event)
