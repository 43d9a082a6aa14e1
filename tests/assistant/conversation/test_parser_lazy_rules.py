"""The parser compiles its rules at the first question, not when the app imports it (that was
30-80 ms of every start, before the first Sankey); the first parse compiles them once."""
from __future__ import annotations

import subprocess
import sys

from assistant.conversation import parser


def test_importing_the_app_compiles_no_rule():
    code = ("import assistant.app\n"
            "from assistant.conversation import parser\n"
            "print(parser.compiled_rules.cache_info().currsize)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "0"


def test_the_first_question_compiles_the_rules_once():
    parser.parse("why this movie?")
    rules = parser.compiled_rules()
    parser.parse("what if I rated Toy Story 5 stars")
    assert parser.compiled_rules() is rules and len(rules) > 10
