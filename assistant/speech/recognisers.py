"""Which recogniser listens. pocketsphinx with the catalogue's grammar always works (its model ships in
its wheel); vosk and faster-whisper hear real voices better but are used only when their package is
installed and a model is already on disk: nothing is ever downloaded. Anything else falls back to
pocketsphinx, with the reason."""
from __future__ import annotations

import importlib.util
import json
import re
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import speech_recognition as sr

from assistant.conversation.phrases import Phrases, load_phrases
from assistant.speech.audible import why_not_speech
from assistant.speech.grammar import Grammar, phrase_for, slot_values
from assistant.speech.listening import Recogniser
from assistant.speech.sphinx_recogniser import (
    SAMPLE_RATE,
    GrammarRecogniser,
    Transcript,
    checked,
    pcm16k,
    samples_of,
)

VOSK_UNSURE_CONFIDENCE = 0.6  # vosk's own per-word confidence (0-1) below which a word may be wrong
WHISPER_UNSURE_LOGPROB = -1.0  # a segment's mean token log-probability below this: the words may be wrong
WHISPER_NO_SPEECH = 0.6  # Whisper's own probability that a segment holds no speech

_SLOT = re.compile(r"\{\w+\}")
_NOT_SPOKEN = re.compile(r"[^a-z0-9' ]+")


def _missing(package: str, model_dir: Path | None, model_file: str, where: str) -> str | None:
    """Why a recogniser cannot run, or None when it can."""
    if importlib.util.find_spec(package) is None:
        return f"{package} is not installed (pip install {package.replace('_', '-')})."
    if model_dir is None or not (Path(model_dir) / model_file).is_file():
        return f"No {package} model in {model_dir or '(no model folder given)'}: {where}"
    return None


def _said(text: str) -> str:
    """Free-form output as the grammar would write it: lower case, no punctuation but apostrophes."""
    return " ".join(_NOT_SPOKEN.sub(" ", text.lower().replace("’", "'")).split())


class VoskRecogniser:
    """Kaldi through vosk, limited to the words and phrases of the grammar (vosk joins its phrases
    freely, so this is looser than pocketsphinx's graph but still keeps out unrelated words)."""

    name = "vosk"

    def __init__(self, model_dir: Path, phrases: Iterable[str]):
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self._model = vosk.Model(str(model_dir))
        self._grammar = json.dumps(sorted(set(phrases)) + ["[unk]"])

    @staticmethod
    def available(model_dir: Path | None) -> tuple[bool, str]:
        why = _missing("vosk", model_dir, "am/final.mdl",
                       "unpack an English model from https://alphacephei.com/vosk/models there.")
        return (False, why) if why else (True, f"vosk with the model in {model_dir}")

    def transcribe(self, audio: sr.AudioData) -> Transcript:
        started = time.perf_counter()
        raw = pcm16k(audio)
        if doubt := why_not_speech(samples_of(raw)):
            return Transcript("", time.perf_counter() - started, self.name, doubt=doubt)
        recogniser = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, self._grammar)
        recogniser.SetWords(True)  # per-word confidences
        recogniser.AcceptWaveform(raw)
        result = json.loads(recogniser.FinalResult())
        text = result.get("text", "")
        unsure = any(word.get("conf", 1.0) < VOSK_UNSURE_CONFIDENCE for word in result.get("result", []))
        heard = Transcript(_said(text.replace("[unk]", " ")), time.perf_counter() - started, self.name, unsure=unsure)
        return checked(heard, samples_of(raw))


class WhisperRecogniser:
    """faster-whisper on the CPU, steered toward the assistant's questions by an initial prompt."""

    name = "faster-whisper"

    def __init__(self, model_dir: Path, prompt: str):
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")
        self._prompt = prompt

    @staticmethod
    def available(model_dir: Path | None) -> tuple[bool, str]:
        why = _missing("faster_whisper", model_dir, "model.bin",
                       "put a CTranslate2 Whisper model there (e.g. Systran/faster-whisper-base.en).")
        return (False, why) if why else (True, f"faster-whisper with the model in {model_dir}")

    def transcribe(self, audio: sr.AudioData) -> Transcript:
        started = time.perf_counter()
        pcm = samples_of(pcm16k(audio))
        if doubt := why_not_speech(pcm):
            return Transcript("", time.perf_counter() - started, self.name, doubt=doubt)
        segments, _ = self._model.transcribe(pcm.astype(np.float32) / 32768.0, language="en",
                                             initial_prompt=self._prompt, beam_size=5)
        spoken = [s for s in segments if s.no_speech_prob < WHISPER_NO_SPEECH]
        text = " ".join(segment.text for segment in spoken)
        unsure = any(segment.avg_logprob < WHISPER_UNSURE_LOGPROB for segment in spoken)
        heard = Transcript(_said(text), time.perf_counter() - started, self.name, unsure=unsure)
        return checked(heard, pcm)


def vosk_phrases(grammar: Grammar, phrases: Phrases, occupations: Iterable[str]) -> list[str]:
    """The templates' fixed stretches ("why not", "to my profile"), every slot value and title."""
    stretches = [part.strip() for ts in phrases.templates.values() for t in ts for part in _SLOT.split(t)]
    values = [v for vs in slot_values(phrases, occupations).values() for v in vs]
    return [p for p in dict.fromkeys([*stretches, *values, *grammar.titles.forms]) if p]


def whisper_prompt(phrases: Phrases, example_title: str) -> str:
    """A few of the questions, as written, so that Whisper expects questions about movies."""
    examples = [phrase_for(ts[0], title=example_title, age=25, gender="woman", occupation="writer", lens="sankey",
                           stars=4)
                for ts in phrases.templates.values()]
    return "Questions to a movie recommender: " + "? ".join(examples[:8]) + "?"


RECOGNISERS = ("pocketsphinx", "vosk", "faster-whisper")


def choose_recogniser(name: str | None, grammar: Grammar, occupations: Iterable[str],
                      model_dir: Path | None = None) -> tuple[Recogniser, str]:
    """(the recogniser to use, why): `name` ("pocketsphinx", "vosk", "faster-whisper" or "whisper";
    None for pocketsphinx) when it can run here, else pocketsphinx with the reason. `grammar` is the
    catalogue's (see `build_grammar`); `model_dir` holds the vosk or faster-whisper model."""
    occupations = list(occupations)
    wanted = (name or "pocketsphinx").lower()
    wanted = "faster-whisper" if wanted == "whisper" else wanted
    if wanted == "pocketsphinx":
        return GrammarRecogniser(grammar), GrammarRecogniser.available()[1]
    if wanted not in RECOGNISERS:
        why = f"Unknown recogniser {name!r} (choose one of {', '.join(RECOGNISERS)})."
    else:
        kind = VoskRecogniser if wanted == "vosk" else WhisperRecogniser
        ok, why = kind.available(model_dir)
        if ok:
            phrases = load_phrases()
            try:
                if kind is VoskRecogniser:
                    return VoskRecogniser(Path(model_dir), vosk_phrases(grammar, phrases, occupations)), why
                example = next(iter(grammar.titles.primary.values()), "this movie")
                return WhisperRecogniser(Path(model_dir), whisper_prompt(phrases, example)), why
            except Exception as error:  # noqa: BLE001 (a damaged model fails in the package's own ways)
                why = f"{wanted} could not load the model in {model_dir} ({error})."
    return GrammarRecogniser(grammar), f"{why} Using pocketsphinx instead."


__all__ = ["RECOGNISERS", "VoskRecogniser", "WhisperRecogniser", "choose_recogniser", "vosk_phrases",
           "whisper_prompt"]
