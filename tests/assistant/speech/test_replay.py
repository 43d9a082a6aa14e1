"""A recording replayed as a microphone: the app's capture hears the whole question (quiet syllables
are not taken for the closing pause) and ends it about half a second after the last word."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.speech.listening import END_OF_SPEECH_S, capture_from_microphone
from assistant.speech.replay import ReplayedMicrophone, speech_end
from assistant.speech.sphinx_recogniser import SAMPLE_RATE
from assistant.speech.synthetic import SPEAKERS, espeak_missing, synthesise

CHUNK_S = ReplayedMicrophone.CHUNK / SAMPLE_RATE


@pytest.fixture(scope="module")
def question(tmp_path_factory):
    assert espeak_missing() is None, espeak_missing()
    return synthesise("why do you recommend this movie", tmp_path_factory.mktemp("replay") / "q.wav", SPEAKERS[0])


def test_speech_end_is_after_the_last_loud_window():
    samples = np.zeros(SAMPLE_RATE)
    samples[1000:8000] = 5000.0
    assert speech_end(samples) == 8000
    assert speech_end(np.zeros(SAMPLE_RATE)) == 0


def test_capture_keeps_the_whole_question_and_ends_after_a_short_pause(question):
    microphone = ReplayedMicrophone(question, lead_s=0.6)
    levels: list[float] = []
    audio = capture_from_microphone(levels.append, lambda: False, source=microphone)
    captured_s = len(audio.frame_data) / (audio.sample_rate * audio.sample_width)
    spoken_s = microphone.speech_end_s - 0.6
    # all of the question is there (a threshold adapting to the speech used to end it early) ...
    assert captured_s >= spoken_s
    # ... and listening stopped one pause after it, not at the end of the room noise that follows
    chunks_read = len(levels) - 1  # the last level is the meter's reset
    heard_until_s = chunks_read * CHUNK_S
    assert microphone.speech_end_s + END_OF_SPEECH_S <= heard_until_s
    assert heard_until_s <= microphone.speech_end_s + END_OF_SPEECH_S + 2 * CHUNK_S
    assert microphone.speech_ended_at is not None
