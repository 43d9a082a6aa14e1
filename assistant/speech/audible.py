"""Whether a recording holds speech at all, before anything is made of it. A grammar-constrained
recogniser always answers with some sentence of its grammar, so silence or a hiss can come out as
"add fear": here a recording with too little speech-like sound is refused, with the reason.

Speech-like sound is measured in 25 ms frames: a frame counts when it is louder than -55 dBFS, at
least 6 dB above the recording's own quiet frames (steady noise, however loud, never is: its
frames differ by a fraction of a dB) and not spectrally flat (white noise has a flatness near
0.56, voiced speech below 0.1). A question needs at least 0.2 s of such frames ("next" said
quickly has about 0.3 s)."""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
FRAME = SAMPLE_RATE // 40  # 25 ms
QUIET_DBFS = -55.0
ABOVE_FLOOR_DB = 6.0
FLAT = 0.3  # spectral flatness (geometric / arithmetic mean of the power spectrum) above this is noise
MIN_SPEECH_S = 0.2
_BAND = slice(3, 160)  # 120 Hz - 4 kHz of a 400-sample frame: where speech has its energy


def speech_seconds(samples: np.ndarray) -> float:
    """Seconds of speech-like frames in 16 kHz samples (any scale of 16-bit audio)."""
    frames = _frames(samples)
    if frames.size == 0:
        return 0.0
    return float(np.count_nonzero(_speech_like(frames))) * FRAME / SAMPLE_RATE


def why_not_speech(samples: np.ndarray) -> str:
    """"" when 16 kHz, 16-bit-scaled `samples` hold enough speech-like sound for a question; otherwise
    what it sounded like, as a few words for "I didn't catch that (...)"."""
    frames = _frames(samples)
    if frames.size == 0:
        return "the recording is too short"
    energy = _dbfs(frames)
    if energy.max() <= QUIET_DBFS:
        return "it was silent" if energy.max() <= -90.0 else "it was too quiet"
    seconds = float(np.count_nonzero(_speech_like(frames))) * FRAME / SAMPLE_RATE
    if seconds >= MIN_SPEECH_S:
        return ""
    loud = (energy > QUIET_DBFS) & (energy >= np.percentile(energy, 10) + ABOVE_FLOOR_DB)
    if float(np.count_nonzero(loud)) * FRAME / SAMPLE_RATE >= MIN_SPEECH_S:
        return "it sounded like noise, not speech"
    if np.count_nonzero(energy > QUIET_DBFS) * FRAME / SAMPLE_RATE >= MIN_SPEECH_S:
        return "it sounded like a steady noise, not speech"
    return "it was too short"


def _frames(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    count = samples.size // FRAME
    return samples[: count * FRAME].reshape(count, FRAME)


def _dbfs(frames: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.mean(frames ** 2, axis=1) / 32768.0 ** 2 + 1e-12)


def _speech_like(frames: np.ndarray) -> np.ndarray:
    energy = _dbfs(frames)
    loud = (energy > QUIET_DBFS) & (energy >= np.percentile(energy, 10) + ABOVE_FLOOR_DB)
    power = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1))[:, _BAND] ** 2 + 1e-12
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    return loud & (flatness < FLAT)


__all__ = ["MIN_SPEECH_S", "speech_seconds", "why_not_speech"]
