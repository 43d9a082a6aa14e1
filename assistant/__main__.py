"""`python -m assistant`: the headless conversation commands (`ask ...`) arrive with a later issue."""
import sys


def main() -> int:
    print("cinewhy assistant: the conversation commands (python -m assistant ask ...) come in a later "
          "issue. Start the app with: python main.py", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
