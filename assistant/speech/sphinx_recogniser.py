"""The always-available recogniser: pocketsphinx's decoder constrained by the catalogue's grammar, so
that it can only hear questions the assistant understands. Uses pocketsphinx.Decoder directly
(SpeechRecognition's `recognize_sphinx(grammar=...)` breaks on its second call with pocketsphinx 5)."""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pocketsphinx
import speech_recognition as sr

from assistant.speech.audible import speech_seconds, why_not_speech
from assistant.speech.grammar import Grammar

ACOUSTIC_MODEL = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us"
SAMPLE_RATE = 16000  # the US English model's rate; audio is converted to 16 kHz, 16-bit mono
# Quiet added before and after a question (see Utterance). 0.15 s rather than 0.3 s, probably because
# the decoder's cepstral mean is the whole utterance's and a long pad drags it toward the noise floor;
# short questions gained most ("help" heard as "nope"). `bench voice --per-template 6`, 780 questions each,
# intent / slot accuracy 0.3 s -> 0.15 s: seed 5 (chosen on, with 0.05-0.2 s) 0.963 / 0.894 -> 0.977 /
# 0.908; seeds 11 and 23, not tuned on: 0.958 / 0.903 -> 0.972 / 0.919 and 0.956 / 0.895 -> 0.965 / 0.904.
PAD_S = 0.15
NOISE_FLOOR = 30.0  # standard deviation in 16-bit units: about -60 dBFS
# Wider search beams than pocketsphinx's defaults (1e-48, 7e-29, 1e-48): with 1,700 titles in one
# bundle the defaults prune the right title early. On 150 held-out synthesised questions intent
# accuracy went from 0.90 to 0.95 (exact transcripts 0.79 to 0.89), at ~150 ms instead of ~85 ms.
BEAMS = {"beam": 1e-60, "wbeam": 1e-45, "pbeam": 1e-60}
# The decoder's acoustic score of its least well-matched word, as a natural log per 10 ms frame.
# On 110 synthesised questions in five voices (seed 29) 90 were heard right and 20 wrong: below this
# score were 6 of the 20 wrong ones and 9 of the 90 right ones. Below it the words are offered
# ("did you mean ...?"), not acted on: a needless "yes" costs less than an answer about another movie.
UNSURE_WORD_SCORE = -0.0085
# Letters of the transcript per second of speech-like sound: questions said at 140-190 words a
# minute give 10-25. Far outside, the transcript is not what was said (a blip heard as a long title,
# minutes of sound heard as "next").
LETTERS_PER_SECOND = (2.5, 50.0)


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard: `text` in lower case ("" when it heard nothing it could match), the
    seconds it took and the recogniser's name. `doubt` says why nothing it heard can be vouched for
    (silence, noise, too short: the text is then ""); `unsure` that the words may be wrong."""

    text: str
    seconds: float
    recogniser: str
    doubt: str = ""
    unsure: bool = False


def checked(transcript: Transcript, samples: np.ndarray) -> Transcript:
    """`transcript` of 16 kHz `samples`, doubted when the sound was no question or does not fit the words."""
    doubt = why_not_speech(samples)
    if not doubt and transcript.text:
        rate = len(transcript.text.replace(" ", "")) / max(speech_seconds(samples), 1e-3)
        if not LETTERS_PER_SECOND[0] <= rate <= LETTERS_PER_SECOND[1]:
            doubt = "what I made of it does not fit the sound"
    return replace(transcript, text="", doubt=doubt) if doubt else transcript


def samples_of(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw[: len(raw) - len(raw) % 2], dtype="<i2")


def pcm16k(audio: sr.AudioData) -> bytes:
    return audio.get_raw_data(convert_rate=SAMPLE_RATE, convert_width=2)


class Utterance:
    """One question decoded as it arrives: `feed` audio while the user speaks, `finish` once the
    pause ends it; only the last frames are left to decode then. The audio is heard as in a room:
    a little quiet (PAD_S) before and after and a faint noise floor (about -60 dBFS) under all of it. The
    acoustic model was trained on recordings that start and end in room noise: digital silence
    (synthesised speech, gated or trimmed recordings) and speech from the first sample throw it
    off (on 150 synthesised questions: 99 right without this, 123 with it)."""

    def __init__(self, decoder: pocketsphinx.Decoder, lock: threading.Lock, name: str, whole: bytes | None = None):
        """`whole`: the complete question at once (a file), decoded in one pass whose cepstral mean is
        the question's own; the live estimate a stream starts from is far off on a first question
        (a fresh decoder heard "add the fear" as "add the fugitive")."""
        self._decoder, self._lock, self._name = decoder, lock, name
        self._noise = np.random.default_rng(0)
        self._heard: list[np.ndarray] = []  # the audio as fed, to judge whether it held speech
        self._lock.acquire()  # one decoder, one utterance at a time
        self._held = self._open = True
        try:
            decoder.start_utt()
            if whole is not None:
                samples = samples_of(whole)
                self._heard.append(samples)
                pad = np.zeros(int(PAD_S * SAMPLE_RATE))
                self._process(np.concatenate([pad, samples.astype(np.float64), pad]), full_utt=True)
                self._padded = True
                return
            self._padded = False
            self._process(np.zeros(int(PAD_S * SAMPLE_RATE)))
        except BaseException:
            self.close()
            raise

    def _process(self, samples: np.ndarray, full_utt: bool = False) -> None:
        if samples.size == 0:  # pocketsphinx rejects an empty buffer
            return
        samples = samples + self._noise.normal(0.0, NOISE_FLOOR, samples.size)
        self._decoder.process_raw(np.clip(samples, -32768, 32767).astype("<i2").tobytes(), full_utt=full_utt)

    def feed(self, raw: bytes) -> None:
        """16 kHz, 16-bit mono audio, in pieces of any size."""
        samples = samples_of(raw)
        self._heard.append(samples)
        self._process(samples.astype(np.float64))

    def finish(self) -> Transcript:
        """The transcript; its seconds are the time spent here, after the end of the audio."""
        started = time.perf_counter()
        try:
            if not self._padded:
                self._process(np.zeros(int(PAD_S * SAMPLE_RATE)))
            self._decoder.end_utt()
            self._open = False
            hypothesis = self._decoder.hyp()
            weakest = _weakest_word(self._decoder) if hypothesis is not None else 0.0
        finally:
            self.close()
        text = " ".join(hypothesis.hypstr.replace("_", " ").split()) if hypothesis is not None else ""
        heard = Transcript(text, time.perf_counter() - started, self._name, unsure=weakest < UNSURE_WORD_SCORE)
        samples = np.concatenate(self._heard) if self._heard else np.zeros(0, dtype="<i2")
        return replace(checked(heard, samples), seconds=time.perf_counter() - started)

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


def _weakest_word(decoder: pocketsphinx.Decoder) -> float:
    """The lowest acoustic score per frame (natural log) of a word of the hypothesis; 0.0 for none."""
    scores = [math.log(max(segment.ascore, 1e-300)) / (segment.end_frame - segment.start_frame + 1)
              for segment in decoder.seg() or ()
              if not segment.word.startswith(("<", "[", "(")) and segment.end_frame >= segment.start_frame]
    return min(scores, default=0.0)


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
        raw = pcm16k(audio)
        doubt = why_not_speech(samples_of(raw))
        if doubt:  # no speech to decode: the grammar would still make a sentence of it
            return Transcript("", time.perf_counter() - started, self.name, doubt=doubt)
        heard = Utterance(self._decoder, self._lock, self.name, whole=raw).finish()
        return replace(heard, seconds=time.perf_counter() - started)


__all__ = ["ACOUSTIC_MODEL", "GrammarRecogniser", "NOISE_FLOOR", "SAMPLE_RATE", "Transcript", "Utterance", "checked",
           "pcm16k", "samples_of"]
