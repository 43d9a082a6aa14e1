"""Catalogue titles as people say them, for the speech grammar: "12 Angry Men (1957)" -> "twelve angry
men", "The Godfather: Part II" -> "the godfather part two" (and "godfather part two"), "Seven (Se7en)"
-> "seven". `SpokenTitles` maps every spoken form back to the movies it names and counts the titles
left out because a word has no pronunciation."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.conversation.numbers import number_words
from assistant.speech.pronunciation import Lexicon

_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
_ROMAN = {"II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9}
# After these names a numeral is a regnal number: "Richard III" is "richard the third".
_MONARCHS = {"richard", "henry", "george", "edward", "louis", "charles", "elizabeth", "william", "james",
             "john", "ivan", "peter", "napoleon"}
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "sgt": "sergeant",
                  "jr": "junior", "vs": "versus", "blvd": "boulevard", "bros": "brothers", "ft": "fort"}
_TRAILING_ARTICLE = re.compile(r"^(.+), (the|a|an)$", re.IGNORECASE)
_LEADING_ARTICLES = ("the", "a", "an")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")  # "L.A.", "E.T.", "S.F.W."
_WORD = re.compile(r"[A-Za-z0-9']+")


def _year_or_number(digits: str) -> str:
    """4-digit numbers read as years ("1992" -> "nineteen ninety two", "1600" -> "sixteen hundred");
    "2001" -> "two thousand and one"; others as cardinals."""
    n = int(digits)
    if len(digits) == 4 and 1100 <= n < 2000:
        head, tail = divmod(n, 100)
        rest = "hundred" if tail == 0 else f"o {number_words(tail)}" if tail < 10 else number_words(tail)
        return f"{number_words(head)} {rest}"
    return number_words(n)


def _ordinal(cardinal: str) -> str:
    """"thirty four" -> "thirty fourth"."""
    *head, last = cardinal.split()
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _plain(text: str) -> str:
    """No accents, straight apostrophes."""
    text = text.replace("’", "'").replace("`", "'")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _main_title(title: str) -> str:
    """Without a year or parenthesised alternative title, its trailing article moved to the front."""
    main = _PARENTHESES.sub("", title).strip() or title.strip("() ")
    if found := _TRAILING_ARTICLE.match(main):
        main = f"{found.group(2)} {found.group(1)}"
    return main


def _words(text: str) -> list[str]:
    """One title segment as spoken words (lower case)."""
    text = re.sub(r"(\d) 1/2\b", r"\1 and a half", text)
    text = re.sub(r"(\d) 1/3\b", r"\1 and a third", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # "20,000"
    text = re.sub(r"(?<![\w.])\.(?=\d)", "", text)  # ".45"
    text = _INITIALISM.sub(lambda m: " ".join(m.group(0).replace(".", " ").split()), text)
    text = re.sub(r"(?<=\w)\*(?=\w)", "", text)  # "M*A*S*H" is said "mash"
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])(?!(?:st|nd|rd|th)\b)", " ", text)  # "D3", "Jungle2Jungle"
    text = text.replace("&", " and ")
    words: list[str] = []
    for match in _WORD.finditer(text):
        token, lower = match.group(0), match.group(0).lower()
        after = text[match.end():].lstrip()
        previous = words[-1] if words else None
        if lower in _ABBREVIATIONS and after.startswith("."):
            words.append(_ABBREVIATIONS[lower])
        elif (ordinal := re.fullmatch(r"(\d+)(st|nd|rd|th)", lower)) is not None:
            words.append(_ordinal(number_words(int(ordinal.group(1)))))
        elif lower.isdigit():
            words.append(_year_or_number(lower))
        elif token in _ROMAN and previous is not None and (token != "V" or not after or after[0] in ":-"):
            value = number_words(_ROMAN[token])  # a lone "V" only at the end: "Henry V", "Star Trek V:"
            words.append(f"the {_ordinal(value)}" if previous in _MONARCHS else value)
        elif lower.strip("'"):
            words.append(lower)
    return " ".join(words).split()


def _roman_alternative(title: str, form: str) -> str | None:
    """"richard three" beside "richard the third": regnal numbers are also said as plain numbers."""
    for token, value in _ROMAN.items():
        ordinal = f"the {_ordinal(number_words(value))}"
        if re.search(rf"\b{token}\b", title) and f" {ordinal}" in f" {form} ":
            return re.sub(rf"\b{ordinal}\b", number_words(value), form)
    return None


def _without_article(forms: list[str]) -> list[str]:
    """Each form, then each form without its leading article ("usual suspects")."""
    bare = [f.partition(" ")[2] for f in forms if f.partition(" ")[0] in _LEADING_ARTICLES and " " in f]
    return forms + bare


def _complete_and_partial(title: str) -> tuple[list[str], list[str]]:
    """Complete forms: the whole title, with a regnal numeral also as a plain number. Partial forms:
    just the part before a colon or dash ("star trek three"). Both also without a leading article."""
    main = _main_title(_plain(title))
    whole = " ".join(_words(main))
    complete = [whole] + [a for a in [_roman_alternative(main, whole)] if a]
    segments = [s for s in re.split(r"\s*(?:\bor:|:|\s-\s)\s*", main) if s.strip()]
    partial = [" ".join(_words(segments[0]))] if len(segments) > 1 else []
    return _without_article(complete), _without_article(partial)


def spoken_forms(title: str) -> tuple[str, ...]:
    """The ways a title is said, the most complete first; empty when nothing sayable is left."""
    complete, partial = _complete_and_partial(title)
    return tuple(dict.fromkeys(f for f in complete + partial if f))


@dataclass(frozen=True)
class SpokenTitles:
    """Spoken forms of a catalogue's titles. `forms` maps each form to the movie ids it names (a form
    can name several: "star trek", remakes); `pronunciations` holds every word of every form."""

    forms: dict[str, tuple[int, ...]]
    primary: dict[int, str]  # movie id -> its most complete spoken form
    pronunciations: dict[str, tuple[str, ...]]
    left_out: dict[int, str]  # movie id -> title, for titles with a word nothing could pronounce

    @classmethod
    def build(cls, titles: dict[int, str], lexicon: Lexicon) -> SpokenTitles:
        """From movie id -> catalogue title. A partial form that is another movie's complete form
        ("the godfather" of "The Godfather: Part II") names only that movie."""
        split = {movie_id: _complete_and_partial(title) for movie_id, title in titles.items()}
        said = lexicon.pronounce(w for parts in split.values() for forms in parts for f in forms for w in f.split())
        complete_forms = {f for complete, _ in split.values() for f in complete}
        forms: dict[str, list[int]] = {}
        primary, left_out = {}, {}
        for movie_id, (complete, partial) in split.items():
            options = dict.fromkeys(complete + [f for f in partial if f not in complete_forms])
            sayable = [f for f in options if f and all(w in said for w in f.split())]
            if not sayable:
                left_out[movie_id] = titles[movie_id]
                continue
            primary[movie_id] = sayable[0]
            for form in sayable:
                forms.setdefault(form, []).append(movie_id)
        used = {w for form in forms for w in form.split()}
        return cls({f: tuple(ids) for f, ids in forms.items()}, primary,
                   {w: said[w] for w in sorted(used)}, left_out)

    @property
    def coverage(self) -> tuple[int, int]:
        """(titles in the grammar, all titles)."""
        return len(self.primary), len(self.primary) + len(self.left_out)

    def movies_for(self, spoken: str) -> tuple[int, ...]:
        """The movies a spoken form names; () for none."""
        return self.forms.get(" ".join(spoken.lower().split()), ())

    def to_json(self) -> dict:
        return {"forms": self.forms, "primary": {str(k): v for k, v in self.primary.items()},
                "pronunciations": self.pronunciations, "left_out": {str(k): v for k, v in self.left_out.items()}}

    @classmethod
    def from_json(cls, data: dict) -> SpokenTitles:
        return cls({f: tuple(ids) for f, ids in data["forms"].items()},
                   {int(k): v for k, v in data["primary"].items()},
                   {w: tuple(p) for w, p in data["pronunciations"].items()},
                   {int(k): v for k, v in data["left_out"].items()})


__all__ = ["SpokenTitles", "spoken_forms"]
