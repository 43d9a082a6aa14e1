"""The conversation behind the chat panel, off the UI thread: questions (typed, or recorded and then
recognised) are answered in the order asked on one worker thread; results come back as signals.

The worker also builds the voice (speech grammar for the catalogue, recogniser) once at start, so
the window opens at once and the talk button lights up when listening is ready.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal

from assistant.conversation.dialogue import Conversation
from assistant.conversation.intents import Answer
from engine.api import Engine, Profile

if TYPE_CHECKING:  # the speech modules load pocketsphinx: not at start-up
    from assistant.speech.sphinx_recogniser import Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """One answered question: what was asked (or heard), how, and the answer."""

    text: str
    source: str  # "typed" or "voice"
    answer: Answer
    seconds: float = 0.0  # recognition + answering, for the status bar


class ConversationService(QObject):
    answered = Signal(object)  # Asked
    heard = Signal(str)  # the recognised text of a spoken question, before its answer
    failed = Signal(str)  # a readable problem (recording unreadable, recogniser failed)
    voiceReady = Signal(object)  # the Voice, or None when listening is unavailable
    voiceStatus = Signal(bool, str)  # listening available, and why not
    recogniserChosen = Signal(str, str)  # the recogniser listening, and why (a fallback says what failed)
    level = Signal(float)  # microphone input level 0-1 while listening
    listening = Signal(bool)

    def __init__(self, engine: Engine, voice_factory: Callable[..., object] | None = None,
                 recogniser: tuple[str | None, str | None] = (None, None), parent: QObject | None = None):
        """`voice_factory(engine, recogniser_name, model_dir)` builds the voice; `recogniser` is the
        settings' choice (name, model folder)."""
        super().__init__(parent)
        self._engine = engine
        self._voice_factory = voice_factory
        self._recogniser = recogniser
        self._voice = None
        self._jobs: queue.Queue = queue.Queue()
        self._stop_listening = threading.Event()
        self._conversation: Conversation | None = None
        self._thread = threading.Thread(target=self._run, name="cinewhy-conversation", daemon=True)

    def start(self) -> None:
        """Start the worker, once the signals are connected (the voice's status is its first word)."""
        self._thread.start()

    # ----- UI thread -----

    def ask(self, text: str, profile: Profile, focus: int | None, source: str = "typed") -> None:
        self._jobs.put(("ask", text, profile, focus, source))

    def ask_audio(self, audio, profile: Profile, focus: int | None) -> None:
        """Recognise a recording (speech_recognition AudioData) and answer it."""
        self._jobs.put(("audio", audio, profile, focus))

    def listen(self, profile: Profile, focus: int | None) -> None:
        """Capture one question from the microphone (ends by itself after a pause), then answer it."""
        self._stop_listening.clear()
        self._jobs.put(("listen", profile, focus))

    def set_lens(self, lens) -> None:
        """The lens the window shows: "why this movie?" is answered through it."""
        self._jobs.put(("lens", lens))

    def set_grouped(self, grouped: bool) -> None:
        """The Sankey's grouped view turned on or off: "why this movie?" names its genre groups."""
        self._jobs.put(("grouped", bool(grouped)))

    def set_view_state(self, lens, state) -> None:
        """What a tab whose subject is not a movie shows (the pixel tab's pair): its questions are about it."""
        self._jobs.put(("view_state", lens, state))

    def use_recogniser(self, name: str | None, model_dir: str | None) -> None:
        """Rebuild the voice with another recogniser, after the questions already asked."""
        self._jobs.put(("voice", name, model_dir))

    def stop_listening(self) -> None:
        self._stop_listening.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_listening.set()
        self._jobs.put(None)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # ----- worker thread -----

    def _run(self) -> None:
        self._conversation = Conversation(self._engine, aliases=None)
        self._do_voice(*self._recogniser)
        while True:
            job = self._jobs.get()
            if job is None:  # the voice is closed here, on the thread that uses it
                if self._voice is not None:
                    self._voice.close()
                return
            try:
                getattr(self, f"_do_{job[0]}")(*job[1:])
            except Exception as error:  # a bug must not kill the worker: report it, keep serving
                log.exception("conversation job failed")
                self.failed.emit(f"Something went wrong ({type(error).__name__}: {error}).")

    def _do_lens(self, lens) -> None:
        self._conversation.set_lens(lens)

    def _do_grouped(self, grouped: bool) -> None:
        self._conversation.set_grouped(grouped)

    def _do_view_state(self, lens, state) -> None:
        self._conversation.set_view_state(lens, state)

    def _do_voice(self, name: str | None, model_dir: str | None) -> None:
        if self._voice_factory is None:
            self.voiceStatus.emit(False, "Listening is not set up in this window.")
            return
        if self._voice is not None:
            self._voice.close()
            self._voice = None
        try:
            self._voice = self._voice_factory(self._engine, name, model_dir)
        except Exception as error:  # no recogniser: typing still works
            log.warning("voice unavailable: %s", error)
            self.voiceStatus.emit(False, f"Listening is unavailable: {error}")
            self.voiceReady.emit(None)
            return
        if self._conversation.titles.aliases is None:  # spoken titles, the same for every recogniser
            lens = self._conversation.lens  # the new conversation answers through the tab still in front
            grouped = self._conversation.grouped
            states = dict(self._conversation.view_states)
            self._conversation = Conversation(self._engine, aliases=self._voice.aliases)
            self._conversation.set_lens(lens)
            self._conversation.set_grouped(grouped)
            self._conversation.view_states.update(states)
        self.recogniserChosen.emit(self._voice.recogniser.name, self._voice.recogniser_note)
        available, reason = self._voice.microphone_status()
        self.voiceStatus.emit(available, reason)
        self.voiceReady.emit(self._voice)

    def _answer(self, text: str, profile: Profile, focus: int | None, source: str, seconds: float = 0.0,
                heard: Transcript | None = None) -> None:
        start = time.perf_counter()
        self._conversation.set_profile(profile)
        self._conversation.set_focus(focus)
        if heard is None:
            answer = self._conversation.ask(text)
        else:  # nothing caught, "I heard ..., did you mean ...?", or an edit that waits for a yes
            answer = self._conversation.hear(heard.text, heard.doubt, heard.unsure)
        self.answered.emit(Asked(text, source, answer, seconds + time.perf_counter() - start))

    def _do_ask(self, text: str, profile: Profile, focus: int | None, source: str) -> None:
        self._answer(text, profile, focus, source)

    def _do_audio(self, audio, profile: Profile, focus: int | None) -> None:
        if self._voice is None:
            self.failed.emit("Listening is unavailable, so the recording cannot be understood; type the question.")
            return
        self._understood(self._voice.transcribe(audio), profile, focus)

    def _do_listen(self, profile: Profile, focus: int | None) -> None:
        if self._voice is None:
            self.failed.emit("Listening is unavailable; type the question instead.")
            return
        self.listening.emit(True)
        try:
            heard = self._voice.listen(self.level.emit, self._stop_listening.is_set)
        except Exception as error:
            self.failed.emit(str(error))
            return
        finally:
            self.listening.emit(False)
        if not self._stop_listening.is_set():
            self._understood(heard, profile, focus)

    def _understood(self, heard: Transcript, profile: Profile, focus: int | None) -> None:
        if heard.text:
            self.heard.emit(heard.text)
        self._answer(heard.text or "(nothing caught)", profile, focus, "voice", heard.seconds, heard)
