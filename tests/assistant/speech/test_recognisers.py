"""Recognition end to end: questions synthesised with espeak-ng, read from WAV files through the
listening path, decoded by pocketsphinx with the catalogue's grammar. And which recogniser is chosen
when vosk or faster-whisper is asked for (neither is installed here: only their checks are tested)."""
from __future__ import annotations

import importlib.util
import wave

import pytest

from assistant.conversation.phrases import load_phrases
from assistant.speech.grammar import build_grammar, phrase_for
from assistant.speech.listening import audio_from_file
from assistant.speech.recognisers import (
    VoskRecogniser,
    WhisperRecogniser,
    choose_recogniser,
    vosk_phrases,
    whisper_prompt,
)
from assistant.speech.sphinx_recogniser import GrammarRecogniser
from assistant.speech.synthetic import SyntheticSpeaker, espeak_missing, synthesise

# (template, slots, espeak-ng voice, words per minute). The spoken title may come back as another
# spoken form of the same movie ("usual suspects"): that counts as understood.
QUESTIONS = [
    ("why do you recommend {title}", {"title": "this movie"}, "en-us", 130),
    ("why not {title}", {"title": "Fargo"}, "en-us", 140),
    ("tell me about {title}", {"title": "The Usual Suspects"}, "en-us+f2", 130),
    ("what if i had not watched {title}", {"title": "Star Wars"}, "en-us", 130),
    ("i am a {age} year old {gender}", {"age": 25, "gender": "woman"}, "en-us+f2", 140),
    ("why not {title}", {"title": "Fargo"}, "en-gb-x-rp", 140),
]
NOISY = [0, 2, 4]  # these again with white noise 20 dB below the speech
NOISE_SNR_DB = 20.0


@pytest.fixture(scope="module")
def espeak() -> None:
    if espeak_missing():
        pytest.fail(f"These tests synthesise questions with espeak-ng: {espeak_missing()}")


@pytest.fixture(scope="module")
def recogniser(catalogue, espeak, cache) -> GrammarRecogniser:
    titles, occupations = catalogue
    return GrammarRecogniser(build_grammar(titles, occupations, cache))


def understood_as(recogniser: GrammarRecogniser, titles: dict[int, str], template: str, slots: dict) -> set[str]:
    """The sentence, and the same sentence with any other spoken form of its movie."""
    sentences = {phrase_for(template, **slots)}
    movie = next((i for i, t in titles.items() if t == slots.get("title")), None)
    if movie is not None:
        forms = [f for f, ids in recogniser.grammar.titles.forms.items() if movie in ids]
        sentences |= {phrase_for(template, **{**slots, "title": f}) for f in forms}
    return sentences


@pytest.mark.parametrize("index", range(len(QUESTIONS)))
def test_a_synthesised_question_is_understood(recogniser, catalogue, espeak, tmp_path, index):
    template, slots, voice, wpm = QUESTIONS[index]
    wav = synthesise(phrase_for(template, **slots), tmp_path / "question.wav", SyntheticSpeaker(voice, wpm))
    transcript = recogniser.transcribe(audio_from_file(wav))
    assert transcript.text in understood_as(recogniser, catalogue[0], template, slots)
    assert transcript.recogniser == "pocketsphinx" and transcript.seconds > 0


@pytest.mark.parametrize("index", NOISY)
def test_a_question_in_noise_is_understood(recogniser, catalogue, espeak, tmp_path, index):
    template, slots, voice, wpm = QUESTIONS[index]
    wav = synthesise(phrase_for(template, **slots), tmp_path / "q.wav", SyntheticSpeaker(voice, wpm, NOISE_SNR_DB))
    assert recogniser.transcribe(audio_from_file(wav)).text in understood_as(recogniser, catalogue[0], template, slots)


def test_the_decoder_serves_question_after_question(recogniser, espeak, tmp_path):
    """SpeechRecognition's own grammar path fails on its second call with pocketsphinx 5; ours does not."""
    wav = synthesise("why not fargo", tmp_path / "again.wav", SyntheticSpeaker("en-us", 140))
    heard = [recogniser.transcribe(audio_from_file(wav)).text for _ in range(3)]
    assert heard == ["why not fargo"] * 3


def test_silence_is_heard_as_nothing(recogniser, tmp_path):
    quiet = tmp_path / "quiet.wav"
    with wave.open(str(quiet), "wb") as target:
        target.setnchannels(1), target.setsampwidth(2), target.setframerate(16000)
        target.writeframes(bytes(2 * 16000))
    assert recogniser.transcribe(audio_from_file(quiet)).text == ""


@pytest.fixture
def nothing_installed(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name in ("vosk", "faster_whisper") else real(name, *args))


@pytest.fixture
def everything_installed(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: object() if name in ("vosk", "faster_whisper") else real(name, *args))


def test_optional_recognisers_need_their_package(nothing_installed, tmp_path):
    assert VoskRecogniser.available(tmp_path) == (False, "vosk is not installed (pip install vosk).")
    assert WhisperRecogniser.available(tmp_path) == (
        False, "faster_whisper is not installed (pip install faster-whisper).")


def test_optional_recognisers_need_a_local_model(everything_installed, tmp_path):
    ok, why = VoskRecogniser.available(tmp_path)
    assert not ok and str(tmp_path) in why and "alphacephei" in why
    ok, why = WhisperRecogniser.available(None)
    assert not ok and "no model folder" in why
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"")
    (tmp_path / "model.bin").write_bytes(b"")
    assert VoskRecogniser.available(tmp_path)[0] and WhisperRecogniser.available(tmp_path)[0]


@pytest.mark.parametrize("name, reason", [
    (None, "pocketsphinx with the catalogue's grammar"),
    ("pocketsphinx", "pocketsphinx with the catalogue's grammar"),
    ("vosk", "vosk is not installed (pip install vosk). Using pocketsphinx instead."),
    ("whisper", "faster_whisper is not installed (pip install faster-whisper). Using pocketsphinx instead."),
    ("klingon", ("Unknown recogniser 'klingon' (choose one of pocketsphinx, vosk, faster-whisper). "
                 "Using pocketsphinx instead.")),
])
def test_choose_falls_back_to_pocketsphinx_with_the_reason(nothing_installed, catalogue, recogniser, cache, name,
                                                          reason):
    titles, occupations = catalogue
    chosen, why = choose_recogniser(name, build_grammar(titles, occupations, cache), occupations)
    assert isinstance(chosen, GrammarRecogniser) and why == reason


@pytest.mark.parametrize("name", ["vosk", "faster-whisper"])
def test_a_model_that_will_not_load_falls_back_to_pocketsphinx(everything_installed, catalogue, recogniser, cache,
                                                              tmp_path, name):
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"not a model")
    (tmp_path / "model.bin").write_bytes(b"not a model")
    titles, occupations = catalogue
    chosen, why = choose_recogniser(name, build_grammar(titles, occupations, cache), occupations, model_dir=tmp_path)
    assert isinstance(chosen, GrammarRecogniser)
    assert why.startswith(f"{name} could not load the model in {tmp_path}") and why.endswith("Using pocketsphinx instead.")


def test_what_vosk_and_whisper_are_given(catalogue, recogniser, cache):
    titles, occupations = catalogue
    grammar = build_grammar(titles, occupations, cache)
    phrases = vosk_phrases(grammar, load_phrases(), occupations)
    assert {"why not", "to my profile", "the usual suspects", "twenty five", "writer", "this movie"} <= set(phrases)
    assert "" not in phrases and len(phrases) == len(set(phrases))
    prompt = whisper_prompt(load_phrases(), "fargo")
    assert prompt.startswith("Questions to a movie recommender: why do you recommend this movie? why not fargo?")
