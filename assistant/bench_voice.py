"""`python -m assistant bench voice`: spoken questions through the app's listening path.

Synthesises questions from the phrase templates with espeak-ng (several voices and speeds, some
with added noise), recognises them with the catalogue's grammar, parses them and prints intent and
slot accuracy; then plays questions into the app's capture in real time and times the end of each
question to the start of its spoken answer (end-of-speech pause + recognition + answer + synthesis of
the first sentence), median and p95. Writes
reports/voice-<dataset>.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.conversation.dialogue import Conversation
from assistant.conversation.occupations import ML100K_OCCUPATIONS
from assistant.conversation.parser import parse
from assistant.conversation.samples import Sample, generate, slots_match
from assistant.speech.listening import END_OF_SPEECH_S, ListeningError
from assistant.speech.replay import ReplayedMicrophone
from assistant.speech.speaker import Speaker
from assistant.speech.synthetic import SPEAKERS, synthesise
from assistant.speech.voice import Voice
from engine.api import Engine, EngineError

STARTED_TIMEOUT_S = 10.0


def spoken_samples(voice: Voice, engine: Engine, per_template: int, seed: int) -> list[Sample]:
    """Questions as a recogniser would return them: titles in their spoken form, ages as words."""
    spoken = voice.grammar.titles.primary
    movies = [m for m in engine.catalogue.movies if m.id in spoken]
    occupations = [o for o in engine.catalogue.occupations if o in ML100K_OCCUPATIONS] or list(engine.catalogue.occupations)
    return generate(movies, occupations, per_template, seed, title_text=lambda m: spoken[m.id], spoken_numbers=True)


def accuracy(voice: Voice, conversation: Conversation, samples: list[Sample], folder: Path) -> dict:
    rows = []
    for index, sample in enumerate(samples):
        who = SPEAKERS[index % len(SPEAKERS)]
        path = synthesise(sample.text, folder / f"q{index:03d}.wav", who)
        heard = voice.listen_file(path)
        question = parse(heard.text)
        intent_ok = question.intent is sample.intent
        slots_ok = intent_ok and slots_match(sample, question, lambda t: conversation.titles.resolve(t).movie)
        rows.append({"said": sample.text, "heard": heard.text, "speaker": who.label, "intent": sample.intent.value,
                     "intent_ok": intent_ok, "slots_ok": slots_ok, "recognition_s": round(heard.seconds, 4)})
    n = len(rows)
    return {
        "questions": n,
        "intent_accuracy": sum(r["intent_ok"] for r in rows) / n,
        "slot_accuracy": sum(r["slots_ok"] for r in rows) / n,
        "exact_transcripts": sum(r["said"] == r["heard"] for r in rows) / n,
        "by_speaker": {
            who.label: sum(r["intent_ok"] for r in rows if r["speaker"] == who.label)
            / max(1, sum(r["speaker"] == who.label for r in rows)) for who in SPEAKERS
        },
        "recognition_s_median": statistics.median(r["recognition_s"] for r in rows),
        "rows": rows,
    }


def latency(voice: Voice, conversation: Conversation, samples: list[Sample], folder: Path) -> dict:
    """From the moment a spoken question ends to the moment its answer starts: each question is played
    into the app's listening in real time (as from a microphone), which decodes while it listens and
    waits for the end-of-speech pause; then the rest of recognition, the answer, and synthesis of
    its first sentence in the speech process."""
    speaker = Speaker()
    speaker.wait_ready(STARTED_TIMEOUT_S)
    rows = []
    try:
        for index, sample in enumerate(samples):
            microphone = ReplayedMicrophone(synthesise(sample.text, folder / f"l{index:03d}.wav", SPEAKERS[0]),
                                            seed=index)
            heard = voice.listen(lambda _: None, lambda: False, source=microphone)
            recognised = time.perf_counter()
            captured = recognised - heard.seconds  # what recognition had left once the pause ended it
            answer = conversation.ask(heard.text)
            answered = time.perf_counter()
            utterance = speaker.say(answer.speech or answer.text)
            deadline = time.monotonic() + STARTED_TIMEOUT_S
            while speaker.last_started_at(utterance) is None and time.monotonic() < deadline:
                time.sleep(0.001)
            started = speaker.last_started_at(utterance)
            if started is not None and microphone.speech_ended_at is not None:
                rows.append({"intent": sample.intent.value, "total_s": started - microphone.speech_ended_at,
                             "pause_s": captured - microphone.speech_ended_at, "recognition_s": recognised - captured,
                             "answer_s": answered - recognised, "speech_s": started - answered})
            speaker.stop()
    finally:
        silent = speaker.silent_reason
        speaker.close()
    timings = [r["total_s"] for r in rows]
    if not timings:
        raise OSError("no spoken answer started: the speech process did not synthesise anything")
    return {
        "questions": len(timings),
        "median_s": statistics.median(timings),
        "p95_s": float(np.percentile(timings, 95)),  # as the app benchmark computes it
        "max_s": max(timings),
        "end_of_speech_pause_s": END_OF_SPEECH_S,
        "median_parts_s": {part: statistics.median(r[part] for r in rows)
                           for part in ("pause_s", "recognition_s", "answer_s", "speech_s")},
        "rows": rows,
        "silent_reason": silent,
        "note": "first sentence synthesised and handed to the audio player" if not silent else
                "no sound device here: the time to the first sentence being synthesised, when playback would start",
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant bench voice", description=__doc__)
    parser.add_argument("--dataset", default="ml-100k", help="a dataset with titles (default ml-100k)")
    parser.add_argument("--data", metavar="PATH")
    parser.add_argument("--cache-dir", metavar="DIR")
    parser.add_argument("--per-template", type=int, default=1, help="questions per phrase template (default 1)")
    parser.add_argument("--latency-questions", type=int, default=30,
                        help="questions played in real time for the latency figures (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="reports", help="report folder (default reports/)")
    args = parser.parse_args(argv)
    try:
        engine = Engine.load(args.dataset, args.data, cache_dir=args.cache_dir)
        started = time.perf_counter()
        voice = Voice(engine.catalogue, args.cache_dir)
        build_s = time.perf_counter() - started
        conversation = Conversation(engine, engine.user_profile(engine.catalogue.user_ids[0]), aliases=voice.aliases)
        samples = spoken_samples(voice, engine, args.per_template, args.seed)
        with tempfile.TemporaryDirectory(prefix="cinewhy-voice-") as scratch:
            spoken = accuracy(voice, conversation, samples, Path(scratch))
            timed = latency(voice, conversation, samples[: args.latency_questions], Path(scratch))
    except (EngineError, ListeningError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    titles, all_titles = voice.grammar.titles.coverage
    report = {
        "dataset": engine.info.dataset, "recogniser": voice.recogniser.name,
        "grammar": {"titles": titles, "all_titles": all_titles, "seconds": round(build_s, 3),
                    "from_cache": voice.grammar.from_cache},
        "spoken": spoken, "latency": timed, "seed": args.seed,
        "command": " ".join(["python -m assistant bench voice", *argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
    }
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"voice-{engine.info.dataset}.json").write_text(json.dumps(report, indent=2), "utf-8")
    print(f"spoken questions: {spoken['questions']} ({len(SPEAKERS)} voice/speed/noise settings)")
    print(f"intent accuracy: {spoken['intent_accuracy']:.3f}   slot accuracy: {spoken['slot_accuracy']:.3f}   "
          f"exact transcripts: {spoken['exact_transcripts']:.3f}")
    for label, value in spoken["by_speaker"].items():
        print(f"  {label:<28} intent accuracy {value:.3f}")
    print(f"grammar: {titles} of {all_titles} titles; recognition median {1000 * spoken['recognition_s_median']:.0f} ms")
    print(f"end of question -> start of answer over {timed['questions']} questions: median "
          f"{1000 * timed['median_s']:.0f} ms, p95 {1000 * timed['p95_s']:.0f} ms, max {1000 * timed['max_s']:.0f} ms")
    parts = timed["median_parts_s"]
    print(f"  medians: end-of-speech pause {1000 * parts['pause_s']:.0f} ms ({1000 * END_OF_SPEECH_S:.0f} ms setting), "
          f"rest of recognition {1000 * parts['recognition_s']:.0f} ms, answer {1000 * parts['answer_s']:.0f} ms, "
          f"first sentence synthesised {1000 * parts['speech_s']:.0f} ms")
    if timed["silent_reason"]:
        print(f"  ({timed['note']})")
    print(f"report: {out / f'voice-{engine.info.dataset}.json'}")
    return 0
