"""Questions generated from the phrase templates with known intent and slots: what the typed-accuracy
test and the spoken-question benchmark measure the parser (and the recogniser) against."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from assistant.conversation.intents import FOCUS_INTENTS, Intent, Question
from assistant.conversation.numbers import number_words, star_words
from assistant.conversation.phrases import load_phrases
from engine.api import Movie


@dataclass(frozen=True)
class Sample:
    text: str
    intent: Intent
    movie_id: int | None = None  # the movie a {title} slot names
    movie_title: str | None = None  # its title: two movies can share one (remakes), either counts
    reference: bool = False  # the {title} slot was "this movie", "it", ...
    slots: dict = field(default_factory=dict)  # expected age, gender, occupation, lens, stars


def generate(
    movies: Sequence[Movie],
    occupations: Sequence[str],
    per_template: int = 2,
    seed: int = 0,
    title_text: Callable[[Movie], str] = lambda m: m.title,
    spoken_numbers: bool = False,
) -> list[Sample]:
    """`per_template` questions per template, slots drawn at random (seeded). `title_text` says how a
    title is written or said; `spoken_numbers` writes ages and stars as words, as a recogniser returns them."""
    phrases = load_phrases()
    rng = random.Random(seed)
    out = []
    for intent, templates in phrases.templates.items():
        for template in templates:
            for _ in range(per_template):
                out.append(_fill(template, intent, rng, movies, occupations, title_text, spoken_numbers, phrases))
    return out


def _fill(template, intent, rng, movies, occupations, title_text, spoken_numbers, phrases) -> Sample:
    slots, text, movie = {}, template, None
    reference = intent in FOCUS_INTENTS and "{title}" not in template  # "why this movie"
    if "{title}" in template:
        if (intent in FOCUS_INTENTS or intent is Intent.TELL_ABOUT) and rng.random() < 0.25:
            text, reference = text.replace("{title}", rng.choice(phrases.references)), True
        else:
            movie = rng.choice(movies)
            text = text.replace("{title}", title_text(movie))
    if "{age}" in template:
        age = rng.choice(phrases.ages)
        text, slots["age"] = text.replace("{age}", number_words(age) if spoken_numbers else str(age)), age
    if "{gender}" in template:
        code = rng.choice(sorted(phrases.genders))
        text, slots["gender"] = text.replace("{gender}", rng.choice(phrases.genders[code])), code
    if "{occupation}" in template:
        job = rng.choice([o for o in occupations if o not in ("none", "other")])
        text, slots["occupation"] = text.replace("{occupation}", job), job
    if "{lens}" in template:
        lens = rng.choice(sorted(phrases.lenses))
        text, slots["lens"] = text.replace("{lens}", rng.choice(phrases.lenses[lens])), lens
    if "{stars}" in template:
        stars = rng.choice(phrases.stars)
        text, slots["stars"] = text.replace("{stars}", star_words(stars, spoken_numbers)), stars
    return Sample(text, intent, movie.id if movie else None, movie.title if movie else None, reference, slots)


def slots_match(sample: Sample, question: Question, resolve: Callable[[str], Movie | None]) -> bool:
    """Whether the parsed slots are the sample's: the title resolves to the same movie, the rest equal."""
    if sample.reference != question.reference:
        return False
    if sample.movie_id is not None:
        movie = resolve(question.title) if question.title else None
        if movie is None or movie.id != sample.movie_id and movie.title != sample.movie_title:
            return False
    expected = dict(sample.slots)
    if "occupation" in expected:
        if (question.occupation or "").casefold() != expected.pop("occupation").casefold():
            return False
    return all(getattr(question, name) == value for name, value in expected.items())

