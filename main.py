"""Start the CineWhy desktop app. Run `python main.py --help` for the options."""
import sys

from assistant.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
