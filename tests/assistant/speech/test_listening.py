"""The listening path: audio files in any common shape, clear errors for bad ones, the microphone's
status without PyAudio or a device, and capture with a live level and automatic end of speech (run
on an audio file standing in for the microphone)."""
from __future__ import annotations

import sys
import types
import wave
from pathlib import Path

import numpy as np
import pytest
import speech_recognition as sr

from assistant.speech.espeak_engine import engine
from assistant.speech.listening import (
    NO_DEVICE,
    NO_PYAUDIO,
    ListeningError,
    audio_from_file,
    capture_from_microphone,
    level,
    microphone_status,
)
from assistant.speech.synthetic import espeak_missing

RATE = 22050  # espeak-ng's rate
LEAD_S, TAIL_S = 0.6, 3.0  # quiet before and after the question


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as target:
        target.setnchannels(channels), target.setsampwidth(2), target.setframerate(rate)
        target.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return path


def room(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, 20.0, int(seconds * RATE))  # a quiet room, about -65 dBFS


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    if espeak_missing():
        pytest.fail(f"These tests synthesise a question with espeak-ng: {espeak_missing()}")
    assert engine().sample_rate == RATE
    return engine().synthesise("why not fargo", "en-us", 140).astype(np.float64)


@pytest.fixture
def spoken_then_quiet(speech, tmp_path) -> Path:
    rng = np.random.default_rng(0)
    samples = np.concatenate([room(LEAD_S, rng), speech + room(len(speech) / RATE, rng), room(TAIL_S, rng)])
    return write_wav(tmp_path / "spoken-then-quiet.wav", samples)


def seconds(audio: sr.AudioData) -> float:
    return len(audio.frame_data) / (audio.sample_rate * audio.sample_width)


def test_a_file_becomes_16k_16bit_mono(speech, tmp_path):
    stereo = np.repeat(speech, 2)  # the same question on both channels
    audio = audio_from_file(write_wav(tmp_path / "stereo.wav", stereo, channels=2))
    assert (audio.sample_rate, audio.sample_width) == (16000, 2)
    assert seconds(audio) == pytest.approx(len(speech) / RATE, abs=0.01)


def test_a_file_that_is_not_audio_is_a_clear_error(tmp_path):
    path = tmp_path / "question.mp3"
    path.write_bytes(b"ID3 this is no audio this program can read " * 200)
    with pytest.raises(ListeningError) as error:
        audio_from_file(path)
    assert str(error.value) == (f"Could not read {path} as audio: use a PCM WAV, AIFF or FLAC file (convert "
                                "others, e.g. with sox question.mp3 -r 16000 -c 1 -b 16 question.wav).")


def test_a_missing_empty_or_silent_file_is_a_clear_error(tmp_path):
    with pytest.raises(ListeningError, match=r"missing\.wav does not exist"):
        audio_from_file(tmp_path / "missing.wav")
    (tmp_path / "blank.wav").write_bytes(b"")
    with pytest.raises(ListeningError, match=r"blank\.wav is empty"):
        audio_from_file(tmp_path / "blank.wav")
    with pytest.raises(ListeningError, match="holds no sound"):
        audio_from_file(write_wav(tmp_path / "no-frames.wav", np.zeros(0)))


def test_without_pyaudio_the_microphone_is_unavailable_and_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaudio", None)  # import pyaudio raises ImportError
    assert microphone_status() == (False, NO_PYAUDIO)
    assert "pip install pyaudio" in NO_PYAUDIO and "portaudio19-dev" in NO_PYAUDIO
    with pytest.raises(ListeningError, match="needs PyAudio"):
        capture_from_microphone(lambda _: None, lambda: False)


def fake_pyaudio(device: dict | None) -> types.ModuleType:
    class PyAudio:
        def get_default_input_device_info(self) -> dict:
            if device is None:
                raise OSError("No Default Input Device Available")
            return device

        def terminate(self) -> None:
            pass

    module = types.ModuleType("pyaudio")
    module.PyAudio = PyAudio
    return module


def test_with_pyaudio_but_no_input_device_the_microphone_is_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaudio", fake_pyaudio(None))
    assert microphone_status() == (False, NO_DEVICE)
    monkeypatch.setitem(sys.modules, "pyaudio", fake_pyaudio({"name": "Speakers", "maxInputChannels": 0}))
    assert microphone_status() == (False, NO_DEVICE)
    monkeypatch.setitem(sys.modules, "pyaudio", fake_pyaudio({"name": "USB Mic", "maxInputChannels": 1}))
    assert microphone_status() == (True, "Microphone: USB Mic")


def test_a_microphone_that_fails_to_open_is_a_clear_error():
    class Unopenable(sr.AudioSource):
        """Like sr.Microphone when the device cannot be opened: entered, but with no stream."""

        def __init__(self):
            self.stream = None

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            raise AssertionError("a source that never opened is not closed")

    levels: list[float] = []
    with pytest.raises(ListeningError, match="No microphone found"):
        capture_from_microphone(levels.append, lambda: False, source=Unopenable())
    assert levels == [0.0]


def test_capture_reports_the_level_and_ends_after_the_question(spoken_then_quiet, speech):
    levels: list[float] = []
    audio = capture_from_microphone(levels.append, lambda: False, source=sr.AudioFile(str(spoken_then_quiet)))
    speech_s = len(speech) / RATE
    assert (audio.sample_rate, audio.sample_width) == (16000, 2)
    # the question and a little quiet either side; not the three seconds of quiet after it
    assert speech_s <= seconds(audio) <= speech_s + 1.5
    assert all(0.0 <= value <= 1.0 for value in levels) and levels[-1] == 0.0
    assert max(levels) > 0.5 and min(levels[:2]) < 0.25  # loud while speaking, low in the quiet room
    chunk_s = 4096 / RATE  # an AudioFile is read in chunks of 4096 frames
    assert len(levels) < (LEAD_S + speech_s + TAIL_S) / chunk_s, "it stopped before the end of the file"


def test_capture_stops_when_asked(spoken_then_quiet, speech):
    reads = []
    audio = capture_from_microphone(reads.append, lambda: len(reads) >= 5, source=sr.AudioFile(str(spoken_then_quiet)))
    assert seconds(audio) < len(speech) / RATE


def test_capture_gives_up_when_nobody_speaks(tmp_path):
    quiet = write_wav(tmp_path / "quiet.wav", room(4.0, np.random.default_rng(1)))
    with pytest.raises(ListeningError, match="Heard nothing for 1 seconds"):
        capture_from_microphone(lambda _: None, lambda: False, timeout=1.0, source=sr.AudioFile(str(quiet)))


def test_level_is_a_decibel_scale_from_silence_to_full_scale():
    full = np.full(1024, 32767, dtype="<i2").tobytes()
    tenth = np.full(1024, 3277, dtype="<i2").tobytes()  # -20 dBFS
    assert level(bytes(2048), 2) == 0.0
    assert level(full, 2) == pytest.approx(1.0, abs=1e-3)
    assert level(tenth, 2) == pytest.approx(2 / 3, abs=0.01)
