"""Start the CineWhy desktop app. Run `python main.py --help` for the options."""
import sys

from assistant.qt_requirements import qt_import_guard

with qt_import_guard():  # a missing system library for Qt: which packages to install, not a traceback
    from assistant.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
