"""The one listening path shared by the app, the command line and the tests: audio from a file or the
microphone (with a live input level and automatic end of speech), then a recogniser's transcript."""
from __future__ import annotations

import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import speech_recognition as sr

from assistant.speech.sphinx_recogniser import SAMPLE_RATE, Transcript

# A pause this long ends the question. SpeechRecognition's default, 0.8 s, would spend most of the
# 1 s budget from the end of a question to the start of its answer; pauses between words are shorter.
# It counts whole 64 ms microphone chunks and stops one chunk past the threshold: 0.44 s rounds up
# to 7 chunks, so the question ends on the 8th, about half a second after the last word.
END_OF_SPEECH_S = 0.44
CALIBRATION_S = 0.3  # ambient noise sampled before listening: short, so that a quick question is not cut
LEVEL_FLOOR_DB = -60.0  # input level 0 at -60 dBFS, 1 at full scale: speech moves the meter visibly
NO_PYAUDIO = "Microphone input needs PyAudio: pip install pyaudio (build needs portaudio19-dev)."
MIN_RATE, MAX_RATE = 4000, 192000  # sample rates a recording of speech can have
MAX_QUESTION_S = 60.0  # a question file longer than this is not a question (and would take long to decode)
NO_DEVICE = "No microphone found: connect one (and allow access to it), or type the question instead."


class ListeningError(Exception):
    """Audio could not be had: the message says what went wrong and what to do."""


class Recogniser(Protocol):
    name: str

    def transcribe(self, audio: sr.AudioData) -> Transcript: ...


def audio_from_file(path: str | Path) -> sr.AudioData:
    """A WAV, AIFF or FLAC file as 16 kHz, 16-bit mono audio; a damaged or implausible file (a sample
    rate of 0 or 5 GHz, a header that does not fit its data, an hour of sound) is a ListeningError."""
    path = Path(path)
    if not path.is_file():
        raise ListeningError(f"Audio file {path} does not exist.")
    if path.stat().st_size == 0:
        raise ListeningError(f"Audio file {path} is empty: record the question again.")
    unreadable = (f"Could not read {path} as audio: use a PCM WAV, AIFF or FLAC file (convert others, e.g. "
                  f"with sox {path.name} -r 16000 -c 1 -b 16 question.wav).")
    try:
        with sr.AudioFile(str(path)) as source:
            _check_plausible(path, source)
            audio = sr.Recognizer().record(source)
        if not audio.frame_data:
            raise ListeningError(f"Audio file {path} holds no sound: record the question again.")
        return sr.AudioData(audio.get_raw_data(convert_rate=SAMPLE_RATE, convert_width=2), SAMPLE_RATE, 2)
    except ListeningError:
        raise
    except ZeroDivisionError as error:  # SpeechRecognition divides by the header's sample rate
        raise ListeningError(f"Could not read {path} as audio: its header gives a sample rate of 0 Hz. "
                             f"Record it again, or convert it (sox ... -r 16000 question.wav).") from error
    except (ValueError, EOFError, AssertionError, OSError, OverflowError, MemoryError, wave.Error,
            struct.error) as error:
        raise ListeningError(unreadable) from error


def _check_plausible(path: Path, source: sr.AudioFile) -> None:
    rate, width, channels = source.SAMPLE_RATE, source.SAMPLE_WIDTH, getattr(source.audio_reader, "getnchannels", lambda: 1)()
    if not MIN_RATE <= rate <= MAX_RATE:
        raise ListeningError(f"Could not read {path} as audio: its header gives a sample rate of {rate} Hz, "
                             f"not one between {MIN_RATE} and {MAX_RATE} Hz. Record it again, or convert it.")
    # frames the file can hold (a header may claim more than there is)
    frames = min(source.FRAME_COUNT or 0, path.stat().st_size // max(1, width * channels))
    if frames / rate > MAX_QUESTION_S:
        raise ListeningError(f"Audio file {path} is {frames / rate / 60:.1f} minutes long: a question is at most "
                             f"{MAX_QUESTION_S:g} seconds. Cut it to the question.")


def microphone_status() -> tuple[bool, str]:
    """(whether a microphone can be used, why not or which one)."""
    try:
        import pyaudio  # SpeechRecognition's Microphone needs it
    except ImportError:
        return False, NO_PYAUDIO
    audio = pyaudio.PyAudio()
    try:
        device = audio.get_default_input_device_info()  # OSError when there is no input device
    except OSError:
        return False, NO_DEVICE
    finally:
        audio.terminate()
    if not device.get("maxInputChannels"):
        return False, NO_DEVICE
    return True, f"Microphone: {device.get('name', 'default input')}"


def level(chunk: bytes, sample_width: int) -> float:
    """Input level of one chunk, 0-1: its RMS on a -60..0 dBFS scale."""
    whole = chunk[: len(chunk) - len(chunk) % sample_width]
    samples = np.frombuffer(sr.AudioData(whole, SAMPLE_RATE, sample_width).get_raw_data(convert_width=2), dtype="<i2")
    if samples.size == 0:
        return 0.0
    rms = math.sqrt(float(np.mean(samples.astype(np.float64) ** 2))) / 32768.0
    if rms <= 0.0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - 20.0 * math.log10(rms) / LEVEL_FLOOR_DB))


class _MeteredStream:
    """Wraps a source's stream: reports each chunk's level, and ends the stream (an empty read, which
    the recogniser takes as the end of input) as soon as `should_stop` says so."""

    def __init__(self, stream, sample_width: int, on_level: Callable[[float], None], should_stop: Callable[[], bool]):
        self._stream, self._width, self._on_level, self._should_stop = stream, sample_width, on_level, should_stop

    def read(self, size: int) -> bytes:
        if self._should_stop():
            return b""
        chunk = self._stream.read(size)
        self._on_level(level(chunk, self._width))
        return chunk

    def close(self) -> None:
        self._stream.close()


def capture_from_microphone(on_level: Callable[[float], None], should_stop: Callable[[], bool],
                            timeout: float | None = 8.0, phrase_time_limit: float | None = 15.0,
                            source: sr.AudioSource | None = None,
                            on_audio: Callable[[bytes], None] | None = None) -> sr.AudioData:
    """One spoken question: calibrates to the room briefly, waits up to `timeout` seconds for speech,
    and ends after a pause (SpeechRecognition's pause detection) or `phrase_time_limit` seconds.
    `source` defaults to the default microphone; any entered-on-use AudioSource works (the tests
    pass an AudioFile). `on_audio` receives the question as it is heard, in 16 kHz, 16-bit mono
    pieces (a source at another rate hands it over whole at the end). Returns the whole question."""
    if source is None:
        available, reason = microphone_status()
        if not available:
            raise ListeningError(reason)
        source = sr.Microphone(sample_rate=SAMPLE_RATE)  # the recogniser's rate: the sound server converts
    recogniser = sr.Recognizer()
    recogniser.pause_threshold = END_OF_SPEECH_S
    recogniser.non_speaking_duration = min(recogniser.non_speaking_duration, END_OF_SPEECH_S)
    source.__enter__()  # not `with`: Microphone swallows a failure to open the device, and its exit then fails
    if source.stream is None:
        on_level(0.0)
        raise ListeningError(NO_DEVICE)
    as_heard = source.SAMPLE_RATE == SAMPLE_RATE and source.SAMPLE_WIDTH == 2
    pieces: list[bytes] = []
    try:
        source.stream = _MeteredStream(source.stream, source.SAMPLE_WIDTH, on_level, should_stop)
        recogniser.adjust_for_ambient_noise(source, duration=CALIBRATION_S)
        # Keep the room's threshold while listening: adapting it to the speech itself (the default)
        # lifts it above a question's quieter syllables, which then count as the closing pause.
        recogniser.dynamic_energy_threshold = False
        for piece in recogniser.listen(source, timeout=timeout, phrase_time_limit=phrase_time_limit, stream=True):
            pieces.append(piece.get_raw_data())
            if on_audio is not None and as_heard:
                on_audio(pieces[-1])
    except sr.WaitTimeoutError as error:
        raise ListeningError(f"Heard nothing for {timeout:g} seconds: try again, or type the question.") from error
    except OSError as error:
        raise ListeningError(f"The microphone stopped working ({error}).") from error
    finally:
        source.__exit__(None, None, None)
        on_level(0.0)
    audio = sr.AudioData(b"".join(pieces), source.SAMPLE_RATE, source.SAMPLE_WIDTH)
    question = sr.AudioData(audio.get_raw_data(convert_rate=SAMPLE_RATE, convert_width=2), SAMPLE_RATE, 2)
    if on_audio is not None and not as_heard:
        on_audio(question.get_raw_data())
    return question


__all__ = ["END_OF_SPEECH_S", "ListeningError", "NO_DEVICE", "NO_PYAUDIO", "Recogniser", "audio_from_file",
           "capture_from_microphone", "level", "microphone_status"]
