"""The README's command examples run as written on a fresh clone: with the virtual environment's
Python (a bare `python` may be another interpreter, or none), and naming only saved profiles that an
earlier example creates. (Running them all is done by hand: the first trains models.)"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
VENV_PYTHON = ".venv/bin/python"


def example_lines() -> list[str]:
    """Every line of the README's ```sh blocks, in order."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_every_example_uses_the_virtual_environments_python():
    lines = example_lines()
    assert len(lines) > 10
    for line in lines:
        for command in re.split(r"\s*&&\s*", line):
            program = shlex.split(command)[0]
            if program == "python3":  # the system's Python makes the environment, nothing else
                assert command.startswith("python3 -m venv "), line
            else:
                assert program in (VENV_PYTHON, ".venv/bin/pip"), line


def test_every_saved_profile_an_example_names_is_made_by_an_earlier_one():
    made: set[str] = set()
    for line in example_lines():
        words = shlex.split(line)
        if "main.py" in words and "--user" in words and "--ask" in words:
            ask = words[words.index("--ask") + 1]
            if re.match(r"(add|remove) ", ask):  # an edit of a dataset user is saved as "User N (edited)"
                made.add(f"User {words[words.index('--user') + 1]} (edited)")
        if "--profile" in words:
            assert words[words.index("--profile") + 1] in made, line
