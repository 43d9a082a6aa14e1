"""`python -m assistant ask`: one question, typed or as an audio file, answered without a screen.

    python -m assistant ask "why this movie?" --user 1 [--lens influence] [--json]
    python -m assistant ask --audio question.wav --user 1 [--reply-audio answer.wav]

Prints what was heard (for audio), the intent with its slots, the lens the answer comes from, and the
answer with its numbers; --json adds the explanation object the answer was phrased from.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.conversation import phrasing
from assistant.conversation.dialogue import Conversation
from assistant.speech.listening import ListeningError
from assistant.speech.recognisers import RECOGNISERS
from assistant.speech.speaker import SpeechError
from assistant.speech.voice import Voice
from engine.api import Engine, EngineError, InvalidInputError, Lens


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant ask", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?", help="the question (or give --audio)")
    parser.add_argument("--audio", metavar="FILE", help="a recorded question: WAV, AIFF or FLAC")
    parser.add_argument("--reply-audio", metavar="FILE", help="also write the spoken answer to this WAV file")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, metavar="ID", help="a dataset user's profile")
    who.add_argument("--profile", metavar="NAME", help="one of your saved profiles")
    parser.add_argument("--recogniser", choices=RECOGNISERS, help="for --audio (default pocketsphinx; "
                        "vosk and faster-whisper need their package and --model-dir)")
    parser.add_argument("--model-dir", metavar="DIR", help="the vosk or faster-whisper model folder")
    parser.add_argument("--lens", choices=[lens.value for lens in Lens], default=Lens.RELEVANCE.value,
                        help="the lens on screen: 'why' is answered through it (default relevance)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--dataset", default="ml-100k", help="ml-100k (default) or ml-1m")
    parser.add_argument("--data", metavar="PATH", help="a folder holding MovieLens files")
    parser.add_argument("--offline", action="store_true", help="never download; local files and the cache only")
    parser.add_argument("--cache-dir", metavar="DIR", help="where data, models and the speech grammar are cached")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.text) == bool(args.audio):
        parser.error("give the question as TEXT or as --audio FILE (one of them)")
    try:
        engine = Engine.load(args.dataset, args.data, offline=args.offline, cache_dir=args.cache_dir,
                             on_first_use=lambda text: print(text, file=sys.stderr))
        profile = _profile(engine, args)
        report = _ask(engine, profile, args)
    except (EngineError, ListeningError, SpeechError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_text(report)
    return 0


def _profile(engine: Engine, args):
    if args.user is not None:
        return engine.user_profile(args.user)
    from assistant.storage import ProfileStore, ProfileStoreError

    try:
        with ProfileStore() as store:
            stored = store.find(engine.info.dataset, args.profile)
            if stored is None:
                names = ", ".join(p.name for p in store.list_profiles(engine.info.dataset)) or "none yet"
                raise InvalidInputError(f"No saved profile called {args.profile!r} for {engine.info.dataset} "
                                        f"(saved profiles: {names}).")
            return stored.to_profile()
    except ProfileStoreError as error:
        raise InvalidInputError(str(error)) from None


def _ask(engine: Engine, profile, args) -> dict:
    voice = Voice(engine.catalogue, args.cache_dir, args.recogniser, args.model_dir) \
        if args.audio or args.reply_audio else None
    try:
        return _answer(engine, profile, args, voice)
    finally:
        if voice is not None:
            voice.close()


def _answer(engine: Engine, profile, args, voice: Voice | None) -> dict:
    conversation = Conversation(engine, profile, aliases=voice.aliases if voice else None)
    conversation.set_lens(Lens(args.lens))
    report: dict = {}
    if args.audio:
        heard = voice.listen_file(Path(args.audio))
        report["heard"] = heard.text
        report["recogniser"] = heard.recogniser
        if args.recogniser and heard.recogniser != args.recogniser:
            report["recogniser_note"] = voice.recogniser_note
        report["recognition_seconds"] = round(heard.seconds, 4)
        text = heard.text
    else:
        text = args.text
    answer = conversation.ask(text)
    report.update(answer.to_dict())
    if args.reply_audio:
        seconds = voice.save_reply(answer.speech or answer.text, Path(args.reply_audio))
        report["reply_audio"] = {"path": args.reply_audio, "seconds": round(seconds, 2)}
    return report


def _print_text(report: dict) -> None:
    if "recogniser_note" in report:
        print(f"note: {report['recogniser_note']}")
    if "heard" in report:
        print(f"heard: {report['heard'] or '(nothing recognised)'}")
    slots = ", ".join(f"{k}={v}" for k, v in report["slots"].items())
    print(f"intent: {report['intent']}" + (f" ({slots})" if slots else ""))
    if report["lens"]:
        print(f"lens: {report['lens']}")
    print(f"answer: {report['answer']}")
    for share in report["shares"]:
        print(f"  {share['name']:<50} {phrasing.percent(share['share']):>5}  relevance {share['relevance']:+.4f}")
    if "reply_audio" in report:
        print(f"reply audio: {report['reply_audio']['path']} ({report['reply_audio']['seconds']:.1f} s)")

