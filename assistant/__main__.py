"""`python -m assistant`: `ask` answers one question without a screen (see assistant.ask_cli);
`bench` times the desktop app, `bench voice` the spoken questions (see assistant.bench_app and
assistant.bench_voice). Start the app itself with: python main.py"""
import sys

USAGE = """usage: python -m assistant ask TEXT --user ID [--json]
       python -m assistant ask --audio QUESTION.wav --user ID [--reply-audio ANSWER.wav]
       python -m assistant bench [app|voice] [--dataset ml-100k|ml-1m]
Start the app with: python main.py"""


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "ask":
        from assistant.ask_cli import main as ask

        return ask(rest)
    if command == "bench" and rest[:1] == ["voice"]:
        from assistant.bench_voice import main as bench_voice

        return bench_voice(rest[1:])
    if command == "bench":
        from assistant.bench_app import main as bench

        return bench(rest[1:] if rest[:1] == ["app"] else rest)
    print(USAGE, file=sys.stderr)
    return 0 if command in ("-h", "--help") else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
