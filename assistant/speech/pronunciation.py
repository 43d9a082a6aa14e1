"""Pronunciations in the phone set of pocketsphinx's US English model (ARPAbet, no stress): from the
CMU dictionary its wheel carries, from a possessive's stem ("widows'"), and, for words the
dictionary lacks (foreign titles, names), from espeak-ng's IPA (its library, through ctypes) mapped to
ARPAbet."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pocketsphinx

from assistant.speech.espeak_engine import engine, unavailable_reason

CMU_DICT = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"

# IPA (as espeak-ng writes it for en-us, stress and length marks removed) -> ARPAbet. Longest match
# first, so that diphthongs and affricates win over their parts.
_IPA = {
    "eɪ": "EY", "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "oʊ": "OW", "əʊ": "OW", "tʃ": "CH", "dʒ": "JH",
    "æ": "AE", "a": "AE", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "ə": "AH", "ʌ": "AH", "ɐ": "AH",
    "ɚ": "ER", "ɜ": "ER", "ɝ": "ER", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "y": "IY",
    "o": "OW", "ø": "ER", "œ": "ER", "ʊ": "UH", "u": "UW", "ɯ": "UW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "q": "K", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɫ": "L", "ɬ": "L", "ɹ": "R", "r": "R", "ɻ": "R", "ʁ": "R", "j": "Y", "w": "W",
    "ʍ": "W", "ɾ": "T", "ʔ": "T", "x": "K", "ç": "HH", "ɣ": "G", "β": "B", "ɲ": "N Y", "ʎ": "L Y",
}
_IPA_KEYS = sorted(_IPA, key=len, reverse=True)
_IPA_IGNORED = set("ˈˌːˑ‿͡-'")
_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
_VOICELESS = {"P", "T", "K", "F", "TH"}


def ipa_to_arpabet(ipa: str) -> str | None:
    """ARPAbet phones for espeak-ng's IPA of one word; None when a symbol has no counterpart."""
    plain = "".join(ch for ch in unicodedata.normalize("NFD", ipa) if not unicodedata.combining(ch))
    plain = "".join(ch for ch in plain if ch not in _IPA_IGNORED and not ch.isspace())
    phones, at = [], 0
    while at < len(plain):
        key = next((k for k in _IPA_KEYS if plain.startswith(k, at)), None)
        if key is None:
            return None
        if not (key == "ɹ" and phones and phones[-1] == "ER"):  # espeak writes "ɚɹ" where ARPAbet has ER
            phones.append(_IPA[key])
        at += len(key)
    return " ".join(phones) or None


def espeak_available() -> tuple[bool, str]:
    missing = unavailable_reason()
    if missing is not None:
        return False, f"{missing}: words outside the dictionary are left out."
    return True, f"espeak-ng found ({engine().library.source})"


def espeak_pronunciations(words: list[str]) -> dict[str, str]:
    """ARPAbet for each word, from espeak-ng's US English IPA. Words it cannot say, or all when it is
    missing, are absent from the result."""
    if not words or not espeak_available()[0]:
        return {}
    espeak = engine()
    found = {}
    for word in words:
        try:
            ipa = espeak.ipa(word)
        except OSError:
            continue
        if phones := ipa_to_arpabet(ipa):
            found[word] = phones
    return found


class Lexicon:
    """Word -> its pronunciations (the dictionary's variants in order). Load once; `pronounce` asks
    espeak-ng only for the words the dictionary lacks, each once per lexicon."""

    def __init__(self, dict_path: Path = CMU_DICT):
        self._entries: dict[str, list[str]] = {}
        with open(dict_path, encoding="utf-8") as lines:
            for line in lines:
                word, _, phones = line.strip().partition(" ")
                if phones:
                    self._entries.setdefault(re.sub(r"\(\d+\)$", "", word), []).append(phones.strip())
        self._guessed: dict[str, str | None] = {}  # espeak-ng's answers (None: it could not say it)

    def pronounce(self, words: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Pronunciations of the words that have one; a word missing from the result cannot be said."""
        wanted = sorted(set(words))
        found = {w: tuple(self._entries[w]) for w in wanted if w in self._entries}
        for word in wanted:
            if word not in found and (stem := self._possessive(word)) is not None:
                found[word] = stem
        unknown = [w for w in wanted if w not in found and w not in self._guessed]
        guessed = espeak_pronunciations(unknown)
        self._guessed.update({w: guessed.get(w) for w in unknown})
        found.update({w: (self._guessed[w],) for w in wanted if w not in found and self._guessed.get(w)})
        return found

    def _possessive(self, word: str) -> tuple[str, ...] | None:
        """"heinlein's" from "heinlein" (+Z, +S or +IH Z by the last sound); "widows'" as "widows"."""
        if word.endswith("'") and word[:-1] in self._entries:
            return tuple(self._entries[word[:-1]])
        if not word.endswith("'s") or word[:-2] not in self._entries:
            return None
        variants = []
        for phones in self._entries[word[:-2]]:
            last = phones.split()[-1]
            ending = "IH Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
            variants.append(f"{phones} {ending}")
        return tuple(variants)


def write_dict(path: Path, pronunciations: dict[str, tuple[str, ...]]) -> None:
    """A pocketsphinx dictionary file: "word PHONES", variants as "word(2) PHONES"."""
    lines = []
    for word in sorted(pronunciations):
        for index, phones in enumerate(pronunciations[word]):
            lines.append(f"{word if index == 0 else f'{word}({index + 1})'} {phones}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


__all__ = ["CMU_DICT", "Lexicon", "espeak_available", "espeak_pronunciations", "ipa_to_arpabet", "write_dict"]
