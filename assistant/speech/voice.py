"""The assistant's voice for one catalogue: its speech grammar and recogniser (listening) and a
speaker for spoken replies. The app, `python -m assistant ask` and the voice benchmark all listen and
speak through this, so they measure and exercise one path."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import speech_recognition as sr

from assistant.speech.grammar import build_grammar
from assistant.speech.listening import audio_from_file, capture_from_microphone, microphone_status
from assistant.speech.recognisers import choose_recogniser
from assistant.speech.speaker import Speaker
from assistant.speech.sphinx_recogniser import Transcript
from engine.api import Catalogue, default_cache_dir


class Voice:
    """`recogniser` names the one chosen in settings ("pocketsphinx", "vosk", "faster-whisper"; None
    for pocketsphinx) and `model_dir` its model; when it cannot run, pocketsphinx listens and
    `recogniser_note` says why."""

    def __init__(self, catalogue: Catalogue, cache_dir: str | os.PathLike | None = None,
                 recogniser: str | None = None, model_dir: str | os.PathLike | None = None):
        folder = Path(cache_dir) if cache_dir else default_cache_dir()
        titles = {m.id: m.title for m in catalogue.movies}
        self.grammar = build_grammar(titles, catalogue.occupations, folder / "speech")
        self.recogniser, self.recogniser_note = choose_recogniser(
            recogniser, self.grammar, catalogue.occupations, Path(model_dir) if model_dir else None)
        self._speaker: Speaker | None = None

    @property
    def aliases(self) -> dict[str, tuple[int, ...]]:
        """Spoken forms of titles ("twelve angry men") -> movie ids, for the conversation's title matching."""
        return dict(self.grammar.titles.forms)

    # ----- listening -----

    def transcribe(self, audio: sr.AudioData) -> Transcript:
        return self.recogniser.transcribe(audio)

    def listen_file(self, path: str | os.PathLike) -> Transcript:
        return self.transcribe(audio_from_file(path))

    @staticmethod
    def microphone_status() -> tuple[bool, str]:
        return microphone_status()

    def listen(self, on_level: Callable[[float], None], should_stop: Callable[[], bool],
               source: sr.AudioSource | None = None) -> Transcript:
        """One question from the microphone (or from `source`, e.g. a replayed recording), decoded
        while it is spoken when the recogniser can (pocketsphinx), so that little is left to do once
        the pause ends it."""
        if not hasattr(self.recogniser, "utterance"):
            return self.transcribe(capture_from_microphone(on_level, should_stop, source=source))
        utterance = self.recogniser.utterance()
        try:
            capture_from_microphone(on_level, should_stop, source=source, on_audio=utterance.feed)
        except BaseException:
            utterance.close()
            raise
        return utterance.finish()

    # ----- speaking, for the command line (the app speaks through VoiceOutput) -----

    def save_reply(self, text: str, path: str | os.PathLike) -> float:
        """Writes the spoken answer to a WAV file; returns its length in seconds."""
        if self._speaker is None:
            self._speaker = Speaker()
        return self._speaker.save_wav(text, path)

    def close(self) -> None:
        if self._speaker is not None:
            self._speaker.close()
            self._speaker = None
