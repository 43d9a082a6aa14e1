"""Synthetic spoken questions for the voice tests and benchmark: espeak-ng (its library, from the
espeakng-loader wheel or the system) in several voices and speeds, optionally with white noise mixed
in, written as 16 kHz mono WAV files."""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.speech.espeak_engine import engine, unavailable_reason

RATE = 16000


@dataclass(frozen=True)
class SyntheticSpeaker:
    voice: str  # espeak-ng voice, with an optional +variant
    speed: int  # words per minute
    snr_db: float | None = None  # white noise at this signal-to-noise ratio; None for clean

    @property
    def label(self) -> str:
        return f"{self.voice} {self.speed} wpm" + (f" noise {self.snr_db:g} dB" if self.snr_db is not None else "")


SPEAKERS = (
    SyntheticSpeaker("en-us", 160),
    SyntheticSpeaker("en", 140),
    SyntheticSpeaker("en-us+f3", 175),
    SyntheticSpeaker("en+m3", 190),
    SyntheticSpeaker("en-us", 150, snr_db=20.0),
)


def espeak_missing() -> str | None:
    """Why questions cannot be synthesised here, or None."""
    return unavailable_reason()


def synthesise(text: str, path: Path, speaker: SyntheticSpeaker = SPEAKERS[0], seed: int = 0) -> Path:
    """`text` spoken by `speaker` into `path` (16 kHz, 16-bit mono WAV); returns the path. Raises
    OSError when espeak-ng is missing or refuses the text."""
    espeak = engine()
    spoken = espeak.synthesise(text, speaker.voice, speaker.speed)
    if not spoken.size:
        raise OSError(f"espeak-ng produced no audio for {text!r}")
    samples = _resample(spoken.astype(np.float64), espeak.sample_rate, RATE)
    if speaker.snr_db is not None:
        power = float(np.mean(samples ** 2)) or 1.0
        noise = np.random.default_rng(seed).normal(0.0, np.sqrt(power / 10 ** (speaker.snr_db / 10)), samples.shape)
        samples = samples + noise
    pcm = np.clip(samples, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return path


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples
    count = int(round(len(samples) * target / rate))
    return np.interp(np.linspace(0, len(samples) - 1, count), np.arange(len(samples)), samples)
