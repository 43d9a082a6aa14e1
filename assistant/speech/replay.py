"""A recording played into the listening path the way a microphone delivers sound: in real time, in
small chunks, with room noise before and after. The voice benchmark times the end of a spoken
question to the start of its answer through the same capture (and its end-of-speech pause) as the app."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import speech_recognition as sr

from assistant.speech.listening import audio_from_file
from assistant.speech.sphinx_recogniser import NOISE_FLOOR, SAMPLE_RATE

SPEECH_LEVEL = 0.01  # a 10 ms window louder than this (-40 dBFS) is speech; the rest is its silence
WINDOW = SAMPLE_RATE // 100


def speech_end(samples: np.ndarray) -> int:
    """The sample just after the last 10 ms window of speech."""
    windows = samples[: samples.size - samples.size % WINDOW].reshape(-1, WINDOW) / 32768.0
    loud = np.flatnonzero(np.sqrt(np.mean(windows ** 2, axis=1)) > SPEECH_LEVEL)
    return int((loud[-1] + 1) * WINDOW) if loud.size else 0


class _PacedStream:
    def __init__(self, samples: np.ndarray, speech_ends_at: int, seed: int):
        self._samples, self._end, self._position = samples, speech_ends_at, 0
        self._noise = np.random.default_rng(seed)
        self._t0: float | None = None
        self.speech_ended_at: float | None = None  # perf_counter time the last speech sample was "said"

    def read(self, size: int) -> bytes:
        if self._t0 is None:
            self._t0 = time.perf_counter()
        start, stop = self._position, self._position + size
        self._position = stop
        due = self._t0 + stop / SAMPLE_RATE  # a microphone hands over a chunk once it has been heard
        time.sleep(max(0.0, due - time.perf_counter()))
        if self.speech_ended_at is None and stop >= self._end:
            self.speech_ended_at = self._t0 + self._end / SAMPLE_RATE
        chunk = self._samples[start:stop]
        tail = self._noise.normal(0.0, NOISE_FLOOR, size - chunk.size)  # the room after the recording
        return np.clip(np.concatenate([chunk, tail]), -32768, 32767).astype("<i2").tobytes()

    def close(self) -> None:
        pass


class ReplayedMicrophone(sr.AudioSource):
    SAMPLE_RATE = SAMPLE_RATE
    SAMPLE_WIDTH = 2
    CHUNK = 1024  # as sr.Microphone reads

    def __init__(self, path: str | Path, lead_s: float = 0.6, seed: int = 0):
        audio = audio_from_file(path)
        speech = np.frombuffer(audio.get_raw_data(), dtype="<i2").astype(np.float64)
        lead = np.random.default_rng(seed).normal(0.0, NOISE_FLOOR, int(lead_s * SAMPLE_RATE))
        self._samples = np.concatenate([lead, speech])
        self._speech_ends = lead.size + speech_end(speech)
        self._seed = seed
        self._paced: _PacedStream | None = None
        self.stream = None

    @property
    def speech_end_s(self) -> float:
        """Where the speech ends in the replayed sound (lead included), in seconds."""
        return self._speech_ends / SAMPLE_RATE

    @property
    def speech_ended_at(self) -> float | None:
        return self._paced.speech_ended_at if self._paced else None

    def __enter__(self) -> ReplayedMicrophone:
        self._paced = _PacedStream(self._samples, self._speech_ends, self._seed + 1)
        self.stream = self._paced
        return self

    def __exit__(self, *exc) -> None:
        self.stream = None


__all__ = ["ReplayedMicrophone", "speech_end"]
