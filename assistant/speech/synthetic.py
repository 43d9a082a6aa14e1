"""Synthetic spoken questions for the voice tests and benchmark: espeak-ng in several voices and
speeds, optionally with white noise mixed in, written as 16 kHz mono WAV files."""
from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    if shutil.which("espeak-ng") is None:
        return "espeak-ng is not installed: apt install espeak-ng"
    return None


def synthesise(text: str, path: Path, speaker: SyntheticSpeaker = SPEAKERS[0], seed: int = 0) -> Path:
    """`text` spoken by `speaker` into `path` (16 kHz, 16-bit mono WAV); returns the path."""
    missing = espeak_missing()
    if missing:
        raise OSError(missing)
    result = subprocess.run(["espeak-ng", "-v", speaker.voice, "-s", str(speaker.speed), "--stdout", text],
                            capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise OSError(f"espeak-ng failed on {text!r}: {result.stderr.decode(errors='replace').strip()}")
    samples, rate = _read_wav_bytes(result.stdout)
    samples = _resample(samples, rate, RATE)
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


def _read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """espeak-ng's --stdout WAV leaves the sizes unset (it streams), so read the header by hand."""
    rate = int.from_bytes(data[24:28], "little")
    start = data.find(b"data") + 8
    return np.frombuffer(data[start: len(data) - (len(data) - start) % 2], dtype="<i2").astype(np.float64), rate


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples
    count = int(round(len(samples) * target / rate))
    return np.interp(np.linspace(0, len(samples) - 1, count), np.arange(len(samples)), samples)
