"""Audio that holds no question changes nothing (issue 12): silence, white noise, a blip and broken
WAV files, generated here with numpy and wave. Before, a silent WAV was heard as "add fear" and added
The Fear (1995), three minutes of white noise as a remove command, and a WAV with sample rate 0
gave a ZeroDivisionError traceback."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import speech_recognition as sr

from assistant.speech.audible import speech_seconds, why_not_speech
from assistant.speech.listening import ListeningError, audio_from_file
from assistant.speech.sphinx_recogniser import GrammarRecogniser
from assistant.speech.synthetic import synthesise
from assistant.speech.voice import Voice

ROOT = Path(__file__).resolve().parents[3]
RATE = 16000


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return path


def white_noise(seconds: float, level: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, level, int(seconds * RATE))


def as_audio(samples: np.ndarray) -> sr.AudioData:
    return sr.AudioData(np.clip(samples, -32768, 32767).astype("<i2").tobytes(), RATE, 2)


@pytest.fixture(scope="module")
def voice(app_engine):
    return Voice(app_engine.catalogue, os.environ["CINEWHY_CACHE"])


def test_silence_noise_and_blips_are_not_speech():
    assert why_not_speech(np.zeros(10 * RATE)) == "it was silent"
    assert why_not_speech(white_noise(3, 10)) == "it was too quiet"
    for level in (300, 3000, 10000):  # steady hiss, quiet to loud
        assert why_not_speech(white_noise(3, level)) == "it sounded like a steady noise, not speech"
    bursts = white_noise(3, 3000) * np.repeat(np.random.default_rng(1).uniform(0.05, 1, 30), RATE // 10)
    assert why_not_speech(bursts) == "it sounded like noise, not speech"
    click = np.zeros(RATE)
    click[8000:8040] = 20000
    assert why_not_speech(click) == "it was too short"
    assert why_not_speech(np.zeros(100)) == "the recording is too short"


def test_a_spoken_question_is_speech(tmp_path):
    samples = np.frombuffer(audio_from_file(synthesise("next", tmp_path / "next.wav")).get_raw_data(), "<i2")
    assert why_not_speech(samples) == "" and speech_seconds(samples) >= 0.2
    noisy = samples + white_noise(samples.size / RATE, 100, seed=2)[: samples.size]
    assert why_not_speech(noisy) == ""


@pytest.mark.parametrize("name, samples, rate", [
    ("ten seconds of digital silence", np.zeros(10 * 44100), 44100),  # was heard as "add fear"
    ("faint hiss", white_noise(10, 10), RATE),  # was "add fear" too
    ("hiss at -40 dBFS", white_noise(3, 300), RATE),  # was "add fluke"
    ("a tone", 8000 * np.sin(2 * np.pi * 440 * np.arange(2 * RATE) / RATE), RATE),  # was "add unknown"
])
def test_a_fresh_recogniser_hears_nothing_in_what_is_not_speech(voice, tmp_path, name, samples, rate):
    recogniser = GrammarRecogniser(voice.grammar)  # a fresh decoder: its first utterance was the weakest
    heard = recogniser.transcribe(audio_from_file(write_wav(tmp_path / "junk.wav", samples, rate)))
    assert heard.text == "" and heard.doubt, name


def test_three_minutes_of_white_noise_is_no_command(voice, talk_engine_profile):
    engine, profile = talk_engine_profile
    heard = voice.transcribe(as_audio(white_noise(180, 3000)))
    assert heard.text == "" and heard.doubt == "it sounded like a steady noise, not speech"
    from assistant.conversation.dialogue import Conversation

    talk = Conversation(engine, profile, aliases=voice.aliases)
    answer = talk.hear(heard.text, heard.doubt, heard.unsure)
    assert answer.text == ("I didn't catch that (it sounded like a steady noise, not speech). Please say it again, "
                           "or type it.")
    assert answer.change is None and talk.profile == profile


@pytest.fixture
def talk_engine_profile(app_engine):
    return app_engine, app_engine.user_profile(1)


def _ask_audio(path: Path) -> dict:
    run = subprocess.run([sys.executable, "-m", "assistant", "ask", "--audio", str(path), "--user", "1", "--json",
                          "--offline"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_ask_with_a_silent_recording_says_it_did_not_catch_it(tmp_path):
    report = _ask_audio(write_wav(tmp_path / "silence.wav", np.zeros(10 * 44100), 44100))
    assert report["heard"] == "" and report["change"] is None
    assert report["answer"] == "I didn't catch that (it was silent). Please say it again, or type it."


def test_ask_with_a_spoken_edit_asks_before_making_it(tmp_path):
    report = _ask_audio(synthesise("add the fear", tmp_path / "add.wav"))
    assert report["heard"] == "add the fear" and report["change"] is None
    assert report["answer"] == "Add The Fear (1995) to your profile? Say yes or no."


def _wav_bytes(rate: int = RATE, channels: int = 1, width: int = 2, kind: int = 1, data: bytes = b"\0\0" * 1600,
               claimed: int | None = None) -> bytes:
    """A WAV file written by hand, so that its header can say what a broken one says."""
    fmt = struct.pack("<HHIIHH", kind, channels, rate, (rate * channels * width) % 2 ** 32, channels * width, width * 8)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data) if claimed is None else claimed) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("name, blob, message", [
    ("rate 0", _wav_bytes(rate=0), "sample rate of 0 Hz"),
    ("rate 4 GHz", _wav_bytes(rate=4_000_000_000), "sample rate of 4000000000 Hz"),
    ("rate 1 Hz", _wav_bytes(rate=1), "sample rate of 1 Hz"),
    ("no channels", _wav_bytes(channels=0), "use a PCM WAV"),
    ("no sample width", _wav_bytes(width=0), "use a PCM WAV"),
    ("float samples", _wav_bytes(kind=3, width=4), "use a PCM WAV"),
    ("cut-off header", _wav_bytes()[:30], "use a PCM WAV"),
    ("no samples", _wav_bytes(data=b""), "holds no sound"),
    ("ten minutes", _wav_bytes(rate=8000, width=1, data=b"\x80" * 8000 * 600), "10.0 minutes long"),
])
def test_a_broken_wav_is_one_clear_sentence(tmp_path, name, blob, message):
    path = tmp_path / "broken.wav"
    path.write_bytes(blob)
    with pytest.raises(ListeningError, match=message):
        audio_from_file(path)


def test_a_header_that_claims_more_data_than_there_is_reads_what_there_is(tmp_path):
    path = tmp_path / "claims.wav"
    path.write_bytes(_wav_bytes(claimed=10 ** 9))
    assert len(audio_from_file(path).get_raw_data()) == 3200


def test_ask_with_a_broken_wav_prints_no_traceback(tmp_path):
    path = tmp_path / "rate0.wav"
    path.write_bytes(_wav_bytes(rate=0))
    run = subprocess.run([sys.executable, "-m", "assistant", "ask", "--audio", str(path), "--user", "1", "--offline"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "its header gives a sample rate of 0 Hz" in run.stderr


def test_noise_at_the_microphone_is_not_heard_as_a_question(voice, tmp_path):
    """The app's path: sound replayed as a microphone delivers it, decoded while it plays."""
    from assistant.speech.replay import ReplayedMicrophone

    bursts = white_noise(2, 4000, seed=3) * np.repeat(np.random.default_rng(4).uniform(0.05, 1, 20), RATE // 10)
    path = write_wav(tmp_path / "bursts.wav", bursts)
    try:
        heard = voice.listen(lambda _: None, lambda: False, source=ReplayedMicrophone(path))
    except ListeningError as error:  # nothing loud enough to start a question: also nothing done
        assert "Heard nothing" in str(error)
    else:
        assert heard.text == "" and heard.doubt == "it sounded like noise, not speech"
