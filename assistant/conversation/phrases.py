"""The phrasing templates of every intent (resources/conversation_phrases.json): the speech grammar
is generated from them, the help answer quotes them and the tests synthesise questions from them."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from assistant.conversation.intents import Intent


@dataclass(frozen=True)
class Phrases:
    templates: dict[Intent, tuple[str, ...]]  # lower case, slots as {title} {age} {gender} {occupation} {lens} {stars}
    genders: dict[str, tuple[str, ...]]  # "F" -> ("woman", ...)
    lenses: dict[str, tuple[str, ...]]  # lens value -> spoken names
    references: tuple[str, ...]  # "this movie", "it", ...
    ages: tuple[int, ...]  # sample ages for generated questions
    stars: tuple[int, ...]  # the ratings a {stars} slot may say ("two stars")


@lru_cache(maxsize=1)
def load_phrases() -> Phrases:
    raw = json.loads(resources.files("resources").joinpath("conversation_phrases.json").read_text("utf-8"))
    slots = raw["_slots"]
    return Phrases(
        templates={Intent(key): tuple(values) for key, values in raw.items() if not key.startswith("_")},
        genders={code: tuple(words) for code, words in slots["gender"].items()},
        lenses={lens: tuple(words) for lens, words in slots["lens"].items()},
        references=tuple(slots["references"]),
        ages=tuple(slots["ages"]),
        stars=tuple(slots["stars"]),
    )
