"""`python -m assistant`: `bench` times the desktop app (see assistant.bench_app); the headless
conversation commands (`ask ...`) arrive with a later issue."""
import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["bench"]:
        from assistant.bench_app import main as bench

        return bench(argv[1:])
    print("cinewhy assistant: `python -m assistant bench` times the app; the conversation commands "
          "(python -m assistant ask ...) come in a later issue. Start the app with: python main.py", file=sys.stderr)
    return 0 if not argv else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
