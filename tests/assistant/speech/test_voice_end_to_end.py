"""Spoken questions through the app's listening path (espeak-ng -> WAV -> grammar recogniser ->
parser -> dialogue), and the headless `ask --audio` command end to end."""
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from assistant.bench_voice import spoken_samples
from assistant.conversation import phrasing
from assistant.conversation.dialogue import Conversation
from assistant.conversation.parser import parse
from assistant.conversation.samples import slots_match
from assistant.speech.listening import ListeningError
from assistant.speech.replay import ReplayedMicrophone
from assistant.speech.synthetic import SPEAKERS, espeak_missing, synthesise
from assistant.speech.voice import Voice

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def voice(app_engine):
    assert espeak_missing() is None, espeak_missing()  # CI installs espeak-ng: a missing one is a failure
    return Voice(app_engine.catalogue, os.environ["CINEWHY_CACHE"])


def test_spoken_questions_in_several_voices_get_their_intent_and_slots(voice, app_engine, tmp_path):
    conversation = Conversation(app_engine, app_engine.user_profile(1), aliases=voice.aliases)
    samples = spoken_samples(voice, app_engine, per_template=1, seed=11)[::3]
    results = []
    for index, sample in enumerate(samples):
        speaker = SPEAKERS[index % len(SPEAKERS)]
        heard = voice.listen_file(synthesise(sample.text, tmp_path / f"q{index}.wav", speaker, seed=index))
        question = parse(heard.text)
        results.append((question.intent is sample.intent,
                        slots_match(sample, question, lambda t: conversation.titles.resolve(t).movie),
                        sample.text, heard.text, speaker.label))
    intent_accuracy = sum(r[0] for r in results) / len(results)
    slot_accuracy = sum(r[1] for r in results) / len(results)
    print(f"spoken: {len(results)} questions, intent {intent_accuracy:.3f}, slots {slot_accuracy:.3f}")
    assert len(results) >= 20 and {r[4] for r in results} == {s.label for s in SPEAKERS}
    assert intent_accuracy >= 0.9, [r for r in results if not r[0]]
    assert slot_accuracy >= 0.8, [r for r in results if not r[1]]


def test_listening_decodes_the_question_while_it_is_spoken(voice, tmp_path):
    question = synthesise("why not fargo", tmp_path / "question.wav")
    levels: list[float] = []
    heard = voice.listen(levels.append, lambda: False, source=ReplayedMicrophone(question))
    assert heard.text == "why not fargo" == voice.listen_file(question).text
    assert max(levels) > 0.3 and levels[-1] == 0.0


def test_a_cancelled_or_failed_listen_frees_the_recogniser(voice, tmp_path):
    question = synthesise("why not fargo", tmp_path / "question.wav")
    reads: list[float] = []
    voice.listen(reads.append, lambda: len(reads) >= 12, source=ReplayedMicrophone(question))  # cut short

    class Unopenable(ReplayedMicrophone):
        def __enter__(self):
            return self  # stream stays None: no device

    with pytest.raises(ListeningError, match="No microphone found"):
        voice.listen(lambda _: None, lambda: False, source=Unopenable(question))
    assert voice.listen_file(question).text == "why not fargo"  # the decoder is free again


def test_ask_with_a_recorded_question_names_the_explanations_top_movies(app_engine, tmp_path):
    question = synthesise("why do you recommend this movie", tmp_path / "question.wav", SPEAKERS[0])
    reply = tmp_path / "answer.wav"
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--audio", str(question), "--user", "1",
         "--reply-audio", str(reply), "--json", "--offline"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["heard"] == "why do you recommend this movie"
    assert report["intent"] == "why" and report["slots"] == {"reference": True}
    profile = app_engine.user_profile(1)
    top = app_engine.recommend(profile, 1)[0].movie
    assert report["movie_id"] == top.id
    explanation = app_engine.explain(profile, top.id)
    top_features = [f for f in explanation.features[: phrasing.TOP_REASONS] if f.relevance > 0]
    named = [s["name"] for s in report["shares"] if s["kind"] == "movie"]
    assert named == [f.name for f in top_features if f.kind == "movie"] and named
    for feature in top_features:
        if feature.kind == "movie":
            assert phrasing.spoken_title(app_engine.movie(int(feature.key))) in report["speech"]
    with wave.open(str(reply)) as audio:
        assert audio.getnframes() > audio.getframerate()  # more than a second of speech
    assert report["reply_audio"]["seconds"] > 1.0
