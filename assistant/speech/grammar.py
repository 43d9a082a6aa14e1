"""The speech grammar: a word graph generated from the intent templates (resources/
conversation_phrases.json) with their slots filled by the catalogue's spoken titles, references
("this movie"), ages said as numbers, gender words, occupations and lens names; and the small
pronunciation dictionary of exactly the words it uses, so that the decoder loads in a blink.
Built once per catalogue and cached on disk, keyed by a hash of everything it is made from."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.conversation.intents import REFERENCES
from assistant.conversation.numbers import number_words, star_words
from assistant.conversation.phrases import Phrases, load_phrases
from assistant.speech.pronunciation import Lexicon, espeak_available, write_dict
from assistant.speech.spoken_titles import SpokenTitles, spoken_forms

GRAMMAR_NAME = "cinewhy"
FORMAT = 3  # bump when the generated grammar changes shape, so that cached builds are rebuilt
AGES = range(5, 100)  # years a user may say
_SLOT = re.compile(r"\{(\w+)\}")
_TEMPLATE_WORD = re.compile(r"[a-z']+")
_FILES = ("grammar.fsg", "words.dict", "titles.json")
CHECKSUMS = "checksums.json"  # SHA-256 of each of _FILES, written last: a build without it is incomplete


def slot_values(phrases: Phrases, occupations: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The spoken alternatives of every slot except the titles (which `SpokenTitles` supplies)."""
    # "academic/educator" (MovieLens 1M) is said as either word
    occupation_forms = [forms[0] for o in occupations for part in o.split("/") if (forms := spoken_forms(part))]
    return {
        "reference": tuple(dict.fromkeys(phrases.references + REFERENCES)),
        "age": tuple(number_words(a) for a in AGES),
        "gender": tuple(dict.fromkeys(w for words in phrases.genders.values() for w in words)),
        "occupation": tuple(dict.fromkeys(occupation_forms)),
        "lens": tuple(dict.fromkeys(w for words in phrases.lenses.values() for w in words)),
        "stars": tuple(star_words(n, spoken=True) for n in phrases.stars),
    }


def phrase_for(template: str, *, tokens: bool = False, **slots: str | int) -> str:
    """A template with its slots filled, as it would be said: phrase_for("why not {title}",
    title="Fargo (1996)") -> "why not fargo"; an int age is said as words ("twenty five"), an int
    {stars} with its unit ("two stars"). With `tokens`, each slot value is one grammar word
    ("the_usual_suspects"), as the grammar holds it."""
    def said(match: re.Match) -> str:
        name = match.group(1)
        value = slots[name]
        if isinstance(value, int):
            text = star_words(value, spoken=True) if name == "stars" else number_words(value)
        else:
            text = spoken_forms(value)[0] if name == "title" else " ".join(str(value).lower().split())
        return token(text) if tokens else text
    return " ".join(_SLOT.sub(said, template).split())


def token(phrase: str) -> str:
    """A multi-word slot value as one dictionary word, "the_usual_suspects", "twenty_five": the
    grammar then needs no state inside a title (see `fsg_text`); transcripts turn "_" into spaces."""
    return "_".join(phrase.split())


def fsg_text(templates: Iterable[str], slots: dict[str, tuple[str, ...]], titles: Iterable[str]) -> str:
    """The grammar as a word graph in pocketsphinx's FSG format. Templates share their beginnings (a
    tree from the start state); a slot is a bundle of parallel arcs, one per value token; {title}
    (any title or reference) is one bundle per distinct ending after it, which templates ending the
    same way reach through a null arc ("why not {title}" and "tell me about {title}" share one). The
    language is exactly the filled templates. Not JSGF: pocketsphinx compiles each JSGF alternative
    into its own states, and its search visits every state on every frame: with 1,700 titles that
    is 16,000 states and about a second per question, against under 200 states and ~60 ms here."""
    bundles = {name: [token(v) for v in values] for name, values in slots.items()}
    bundles["title"] = [token(t) for t in sorted(titles)] + bundles.get("reference", [])
    arcs: dict[tuple[int, int, str | None], None] = {}  # ordered set
    children: dict[tuple[int, str], int] = {}
    states = [2]  # 0 is the start, 1 the final state

    def step(state: int, symbol: str) -> int:
        """The state after `symbol` (a word or a {slot}) from `state`, made on first use."""
        if (state, symbol) not in children:
            children[(state, symbol)] = target = states[0]
            states[0] += 1
            slot = _SLOT.fullmatch(symbol)
            for word in bundles[slot.group(1)] if slot else [symbol]:
                arcs[(state, target, word)] = None
        return children[(state, symbol)]

    def walk(state: int, text: str) -> int:
        for symbol in text.split():
            state = step(state, symbol)
        return state

    title_entries: dict[str, int] = {}  # what follows {title} -> the state before its title bundle
    for template in dict.fromkeys(templates):
        before, title, after = template.partition("{title}")
        end = walk(0, before)
        if not title:
            arcs[(end, 1, None)] = None
            continue
        ending = " ".join(after.split())
        if ending not in title_entries:
            title_entries[ending] = entry = states[0]
            states[0] += 1
            arcs[(walk(step(entry, "{title}"), ending), 1, None)] = None
        arcs[(end, title_entries[ending], None)] = None
    fan_out = Counter(source for source, _, _ in arcs)
    lines = [f"FSG_BEGIN {GRAMMAR_NAME}", f"NUM_STATES {states[0]}", "START_STATE 0", "FINAL_STATE 1"]
    for source, target, word in arcs:  # each state's arcs share its probability evenly
        lines.append(f"TRANSITION {source} {target} {1.0 / fan_out[source]:.6g}" + (f" {word}" if word else ""))
    return "\n".join(lines + ["FSG_END"]) + "\n"


@dataclass(frozen=True)
class Grammar:
    """A built grammar on disk. `left_out` lists template and slot phrases dropped because a word
    has no pronunciation (empty when espeak-ng is installed); titles left out are in `titles`."""

    folder: Path
    titles: SpokenTitles
    left_out: tuple[str, ...]
    seconds: float  # time this process spent building or loading it
    from_cache: bool

    @property
    def fsg_path(self) -> Path:
        return self.folder / "grammar.fsg"

    @property
    def dict_path(self) -> Path:
        return self.folder / "words.dict"


def _cache_key(titles: dict[int, str], occupations: list[str], phrases: Phrases) -> str:
    source = {
        "format": FORMAT, "titles": sorted(titles.items()), "occupations": occupations,
        "templates": {i.value: t for i, t in phrases.templates.items()}, "genders": phrases.genders,
        "lenses": phrases.lenses, "references": phrases.references, "stars": phrases.stars, "espeak": espeak_available()[0],
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()[:16]


def _sayable(options: Iterable[str], said: dict[str, tuple[str, ...]], dropped: list[str]) -> tuple[str, ...]:
    kept = []
    for option in options:
        words = [w for w in option.split() if not _SLOT.fullmatch(w)]
        (kept if all(w in said for w in words) else dropped).append(option)
    return tuple(kept)


def _build(folder: Path, titles: dict[int, str], occupations: list[str], phrases: Phrases,
           lexicon: Lexicon) -> tuple[SpokenTitles, tuple[str, ...]]:
    spoken = SpokenTitles.build(titles, lexicon)
    templates = [t for ts in phrases.templates.values() for t in ts]
    slots = slot_values(phrases, occupations)
    for template in templates:
        bad = [w for w in template.split() if not _SLOT.fullmatch(w) and not _TEMPLATE_WORD.fullmatch(w)]
        if bad:
            raise ValueError(f"Template {template!r} has words the grammar cannot hold: {bad}")
    said = lexicon.pronounce(w for options in [templates, *slots.values()] for o in options
                             for w in o.split() if not _SLOT.fullmatch(w))
    dropped: list[str] = []
    templates = _sayable(templates, said, dropped)
    slots = {name: _sayable(values, said, dropped) for name, values in slots.items()}
    (folder / "grammar.fsg").write_text(fsg_text(templates, slots, spoken.forms), "utf-8")
    known = {**said, **spoken.pronunciations}
    used = {w: known[w] for t in templates for w in t.split() if not _SLOT.fullmatch(w)}
    for phrase in [*spoken.forms, *(v for values in slots.values() for v in values)]:
        # a phrase as one word: its words' first pronunciations run together (their variants in
        # combination made loading three times slower and recognition no better)
        used[token(phrase)] = known[phrase] if phrase in known else (" ".join(known[w][0] for w in phrase.split()),)
    write_dict(folder / "words.dict", used)
    (folder / "titles.json").write_text(json.dumps({"titles": spoken.to_json(), "left_out": dropped}), "utf-8")
    (folder / CHECKSUMS).write_text(json.dumps({name: _sha256(folder / name) for name in _FILES}), "utf-8")
    return spoken, tuple(dropped)


def _load_cached(folder: Path) -> tuple[SpokenTitles, tuple[str, ...]] | None:
    """A build saved in `folder` when all its files are there and match the checksums written with
    them; None for an absent, damaged or pre-checksum build, which is then built again (a damaged
    grammar or dictionary would make the decoder fail on every question)."""
    try:
        recorded = json.loads((folder / CHECKSUMS).read_text("utf-8"))
        if not isinstance(recorded, dict) or any(recorded.get(name) != _sha256(folder / name) for name in _FILES):
            return None
        saved = json.loads((folder / "titles.json").read_text("utf-8"))
        return SpokenTitles.from_json(saved["titles"]), tuple(saved["left_out"])
    except (OSError, ValueError, LookupError, TypeError, AttributeError, RecursionError):
        return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_grammar(titles: dict[int, str], occupations: Iterable[str], cache_dir: Path,
                  phrases: Phrases | None = None, lexicon: Lexicon | None = None) -> Grammar:
    """The grammar of a catalogue (movie id -> title) and its occupations: loaded from
    `cache_dir` when built before, else built there (written to a temporary folder first, so that
    a crash never leaves half a grammar)."""
    started = time.perf_counter()
    phrases = phrases or load_phrases()
    occupations = sorted(set(occupations))
    folder = Path(cache_dir) / f"grammar-{_cache_key(titles, occupations, phrases)}"
    cached = _load_cached(folder)
    if cached is not None:
        return Grammar(folder, *cached, time.perf_counter() - started, True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".grammar-", dir=folder.parent))
    try:
        spoken, dropped = _build(scratch, titles, occupations, phrases, lexicon or Lexicon())
        shutil.rmtree(folder, ignore_errors=True)  # what an interrupted older build left
        try:
            os.replace(scratch, folder)
        except OSError:  # another process built it meanwhile: theirs is the same
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Grammar(folder, spoken, dropped, time.perf_counter() - started, False)


__all__ = ["AGES", "GRAMMAR_NAME", "Grammar", "build_grammar", "fsg_text", "phrase_for", "slot_values",
           "token"]
