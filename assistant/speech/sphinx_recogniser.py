"""The always-available recogniser: pocketsphinx's decoder constrained by the catalogue's grammar, so
that it can only hear questions the assistant understands. Uses pocketsphinx.Decoder directly
(SpeechRecognition's `recognize_sphinx(grammar=...)` breaks on its second call with pocketsphinx 5)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pocketsphinx
import speech_recognition as sr

from assistant.speech.grammar import Grammar

ACOUSTIC_MODEL = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us"
SAMPLE_RATE = 16000  # the US English model's rate; audio is converted to 16 kHz, 16-bit mono
PAD_S = 0.3
NOISE_FLOOR = 30.0  # standard deviation in 16-bit units: about -60 dBFS
# Wider search beams than pocketsphinx's defaults (1e-48, 7e-29, 1e-48): with 1,700 titles in one
# bundle the defaults prune the right title early. On 150 held-out synthesised questions intent
# accuracy went from 0.90 to 0.95 (exact transcripts 0.79 to 0.89), at ~150 ms instead of ~85 ms.
BEAMS = {"beam": 1e-60, "wbeam": 1e-45, "pbeam": 1e-60}


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard: `text` in lower case ("" when it heard nothing it could match), the
    seconds it took and the recogniser's name."""

    text: str
    seconds: float
    recogniser: str


def pcm16k(audio: sr.AudioData) -> bytes:
    return audio.get_raw_data(convert_rate=SAMPLE_RATE, convert_width=2)


class Utterance:
    """One question decoded as it arrives: `feed` audio while the user speaks, `finish` once the
    pause ends it; only the last frames are left to decode then. The audio is heard as in a room:
    0.3 s of quiet before and after and a faint noise floor (about -60 dBFS) under all of it. The
    acoustic model was trained on recordings that start and end in room noise: digital silence
    (synthesised speech, gated or trimmed recordings) and speech from the first sample throw it
    off (on 150 synthesised questions: 99 right without this, 123 with it)."""

    def __init__(self, decoder: pocketsphinx.Decoder, lock: threading.Lock, name: str):
        self._decoder, self._lock, self._name = decoder, lock, name
        self._noise = np.random.default_rng(0)
        self._lock.acquire()  # one decoder, one utterance at a time
        self._held = self._open = True
        try:
            decoder.start_utt()
            self._process(np.zeros(int(PAD_S * SAMPLE_RATE)))
        except BaseException:
            self.close()
            raise

    def _process(self, samples: np.ndarray) -> None:
        if samples.size == 0:  # pocketsphinx rejects an empty buffer
            return
        samples = samples + self._noise.normal(0.0, NOISE_FLOOR, samples.size)
        self._decoder.process_raw(np.clip(samples, -32768, 32767).astype("<i2").tobytes(), full_utt=False)

    def feed(self, raw: bytes) -> None:
        """16 kHz, 16-bit mono audio, in pieces of any size."""
        self._process(np.frombuffer(raw[: len(raw) - len(raw) % 2], dtype="<i2").astype(np.float64))

    def finish(self) -> Transcript:
        """The transcript; its seconds are the time spent here, after the end of the audio."""
        started = time.perf_counter()
        try:
            self._process(np.zeros(int(PAD_S * SAMPLE_RATE)))
            self._decoder.end_utt()
            self._open = False
            hypothesis = self._decoder.hyp()
        finally:
            self.close()
        text = " ".join(hypothesis.hypstr.replace("_", " ").split()) if hypothesis is not None else ""
        return Transcript(text, time.perf_counter() - started, self._name)

    def close(self) -> None:
        """Abandons an unfinished utterance (listening cancelled or failed) and frees the decoder."""
        if not self._held:
            return
        try:
            if self._open:
                self._open = False
                self._decoder.end_utt()
        finally:
            self._held = False
            self._lock.release()


class GrammarRecogniser:
    name = "pocketsphinx"

    def __init__(self, grammar: Grammar):
        if not grammar.fsg_path.is_file() or not grammar.dict_path.is_file():  # pocketsphinx would crash
            raise FileNotFoundError(f"The speech grammar in {grammar.folder} is incomplete; delete that folder.")
        # bestpath=False: the lattice rescoring pass doubled the time and did not help on the grammar
        self._decoder = pocketsphinx.Decoder(
            hmm=str(ACOUSTIC_MODEL), dict=str(grammar.dict_path), fsg=str(grammar.fsg_path), bestpath=False,
            samprate=SAMPLE_RATE, logfn=os.devnull, **BEAMS,
        )
        self.grammar = grammar
        self._lock = threading.Lock()

    @staticmethod
    def available() -> tuple[bool, str]:
        if not (ACOUSTIC_MODEL / "mdef").is_file():
            return False, f"pocketsphinx's US English model is missing from {ACOUSTIC_MODEL}; reinstall pocketsphinx."
        return True, "pocketsphinx with the catalogue's grammar"

    def utterance(self) -> Utterance:
        """Start decoding a question as it is heard (see `Utterance`)."""
        return Utterance(self._decoder, self._lock, self.name)

    def transcribe(self, audio: sr.AudioData) -> Transcript:
        started = time.perf_counter()
        utterance = self.utterance()
        utterance.feed(pcm16k(audio))
        heard = utterance.finish()
        return Transcript(heard.text, time.perf_counter() - started, self.name)


__all__ = ["ACOUSTIC_MODEL", "GrammarRecogniser", "NOISE_FLOOR", "SAMPLE_RATE", "Transcript", "Utterance", "pcm16k"]
