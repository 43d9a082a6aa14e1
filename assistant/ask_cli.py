"""`python -m assistant ask`: one question, typed or as an audio file, answered without a screen.

    python -m assistant ask "why this movie?" --user 1 [--lens influence] [--json]
    python -m assistant ask --audio question.wav --user 1 [--reply-audio answer.wav]

Prints what was heard (for audio), the intent with its slots, the lens the answer comes from, and the
answer with its numbers; --json adds the explanation object the answer was phrased from.

With --profile, what the answer changes ("add Heat", "I am 30") is saved to that profile, and the
question and answer to its conversation, as the window does; a dataset user (--user) is read-only,
so a change there is answered but not kept, and the output says so. Control characters from the
question or the data are printed escaped (\x1b), never sent raw to the terminal.
"""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

from assistant.conversation import phrasing
from assistant.conversation.dialogue import Conversation
from assistant.conversation.intents import apply_change
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
    from assistant.storage import ProfileStoreError

    store = None
    try:
        engine = Engine.load(args.dataset, args.data, offline=args.offline, cache_dir=args.cache_dir,
                             on_first_use=lambda text: _say(text))
        if engine.info.note:  # e.g. a damaged model moved aside and retrained: say so, as `engine` does
            _say(f"note: {engine.info.note}")
        if args.user is not None:
            stored, profile = None, engine.user_profile(args.user)
        else:
            store, stored = _saved_profile(engine.info.dataset, args.profile)
            profile = stored.to_profile()
        report, asked, answer = _ask(engine, profile, args)
    except (EngineError, ListeningError, SpeechError, ProfileStoreError) as error:
        _say(f"error: {error}")
        _close(store)
        return 2
    except KeyboardInterrupt:
        _say("interrupted")
        _close(store)
        return 130
    problem = None
    if stored is not None:
        try:
            report["saved"] = _keep(store, stored, profile, asked, answer)
        except ProfileStoreError as error:
            report["saved"], problem = None, error
        finally:
            _close(store)
    elif answer.change is not None:
        report["not_saved"] = ("dataset users are read-only, so this change was not kept; "
                               "ask with --profile NAME to change one of your saved profiles")
    if args.json:
        print(terminal_safe_json(json.dumps(report, indent=2, ensure_ascii=False)))
    else:
        _print_text(report)
    if problem is not None:
        _say(f"error: nothing was saved, neither the change nor this exchange: {problem}")
        return 2
    return 0


def _say(text: str) -> None:
    print(terminal_safe(text), file=sys.stderr)


def _close(store) -> None:
    if store is not None:
        store.close()


def _saved_profile(dataset: str, name: str):
    """The open store and the saved profile called `name`. Says on stderr what was done with a
    database that could not be used (moved aside, and where to)."""
    from assistant.storage import ProfileStore

    store = ProfileStore()
    try:
        if store.recovery_message:
            _say(f"note: {store.recovery_message}")
        stored = store.find(dataset, name)
        if stored is None:
            names = ", ".join(p.name for p in store.list_profiles(dataset)) or "none yet"
            raise InvalidInputError(f"No saved profile called {name!r} for {dataset} (saved profiles: {names}).")
    except BaseException:
        store.close()
        raise
    return store, stored


def _keep(store, stored, profile, asked: str, answer) -> dict:
    """Save what the answer changed, then the exchange, as the window does; what was saved."""
    changed = apply_change(profile, answer.change) if answer.change is not None else profile
    profile_changed = changed != profile
    if profile_changed:
        stored = store.save_profile(stored.id, changed)
    store.add_message(stored.id, "user", asked)
    store.add_message(stored.id, "assistant", answer.text)
    return {"profile": stored.name, "profile_id": stored.id, "profile_changed": profile_changed,
            "movies": len(stored.movies), "conversation": True}


def _ask(engine: Engine, profile, args):
    voice = Voice(engine.catalogue, args.cache_dir, args.recogniser, args.model_dir) \
        if args.audio or args.reply_audio else None
    try:
        return _answer(engine, profile, args, voice)
    finally:
        if voice is not None:
            voice.close()


def _answer(engine: Engine, profile, args, voice: Voice | None):
    """(the report, the text asked, the Answer)."""
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
        if heard.doubt:
            report["doubt"] = heard.doubt
        # what was heard is not acted on unchecked: nothing caught, "did you mean", an edit asks first
        text = heard.text
        answer = conversation.hear(heard.text, heard.doubt, heard.unsure)
    else:
        text = args.text
        answer = conversation.ask(text)
    report.update(answer.to_dict())
    if args.reply_audio:
        seconds = voice.save_reply(answer.speech or answer.text, Path(args.reply_audio))
        report["reply_audio"] = {"path": args.reply_audio, "seconds": round(seconds, 2)}
    return report, text, answer


def _print_text(report: dict) -> None:
    lines = []
    if "recogniser_note" in report:
        lines.append(f"note: {report['recogniser_note']}")
    if "heard" in report:
        lines.append(f"heard: {report['heard'] or '(nothing recognised)'}")
    slots = ", ".join(f"{k}={v}" for k, v in report["slots"].items())
    lines.append(f"intent: {report['intent']}" + (f" ({slots})" if slots else ""))
    if report["lens"]:
        lines.append(f"lens: {report['lens']}")
    lines.append(f"answer: {report['answer']}")
    for share in report["shares"]:
        lines.append(f"  {share['name']:<50} {phrasing.percent(share['share']):>5}  relevance {share['relevance']:+.4f}")
    if "reply_audio" in report:
        lines.append(f"reply audio: {report['reply_audio']['path']} ({report['reply_audio']['seconds']:.1f} s)")
    saved = report.get("saved")
    if saved:
        what = f"“{saved['profile']}” now has {saved['movies']} movies" if saved["profile_changed"] \
            else f"“{saved['profile']}” is unchanged"
        lines.append(f"saved: {what}; the question and answer are in its conversation")
    if "not_saved" in report:
        lines.append(f"not saved: {report['not_saved']}")
    for line in lines:
        print(terminal_safe(line))


# Characters that steer a terminal or reorder text: C0/C1 controls and DEL (escape sequences, bells,
# screen clears) and the bidirectional overrides and isolates (text that reads differently than it is).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _steers_terminal(ch: str) -> bool:
    return (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in _BIDI_CONTROLS or ch in "\u2028\u2029"


def terminal_safe(text: str) -> str:
    """`text` with every character that could steer the terminal written as an escape (\\x1b,
    \\u202e); line breaks stay."""
    return "".join(ch.encode("unicode_escape").decode("ascii") if _steers_terminal(ch) else ch for ch in text)


def terminal_safe_json(text: str) -> str:
    """JSON text (ensure_ascii=False) with the characters json leaves raw (DEL, C1 controls, bidi
    controls) written as \\u escapes: the same JSON value, nothing raw for the terminal."""
    return "".join(f"\\u{ord(ch):04x}" if _steers_terminal(ch) and ch != "\n" else ch for ch in text)

