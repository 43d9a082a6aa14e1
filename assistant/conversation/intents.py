"""What a question asks for (its intent and slots) and what the assistant answers: plain data shared
by the parser, the dialogue, the speech grammar, the chat panel and the command line. No Qt."""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # engine.api loads the models' code: the speech process imports this module without it
    from engine.api import Explanation, Profile


class Intent(Enum):
    WHY = "why"  # why this / why <title>
    WHY_NOT = "why_not"  # why not <title>: its rank and what pulls it down
    WHAT_IF_REMOVE = "what_if_remove"  # what if I had not watched <title>
    WHAT_IF_ADD = "what_if_add"  # what if I add <title>
    RECOMMEND = "recommend"  # recommend something: the top recommendation
    NEXT = "next"  # next / another one
    TELL_ABOUT = "tell_about"  # tell me about <title>
    ADD = "add"  # add <title> to my profile
    REMOVE = "remove"  # remove <title> from my profile
    SET_ATTRIBUTES = "set_attributes"  # I am a 30 year old woman / I work as a writer
    WHO_INFLUENCED = "who_influenced"  # who influenced this: the ratings that moved its prediction
    MY_RATINGS = "my_ratings"  # which of my ratings mattered most for <title>
    WHAT_IF_RATE = "what_if_rate"  # what if I rated <title> 2 stars
    HOW_SURE = "how_sure"  # how sure are you / prove it: its rank without its top reasons
    LENS = "lens"  # show the influence graph
    # The expert lens:
    EXPERT_DECIDED = "expert_decided"  # which part of my profile decided this: the deciding expert's share
    WHY_GUESSED = "why_guessed"  # why did you think I'd dislike Heat: its guess in a sitting's timeline
    # The pixel lens's catalogue demo, about the pair on its tab:
    WHY_RELATED = "why_related"  # why are these related: what the two images share
    WHY_UNRELATED = "why_unrelated"  # why are these not related: what differs
    RELATED_ITEMS = "related_items"  # show me related items: the shopper's most related items for the query
    SHOPPER = "shopper"  # switch to the brand shopper
    REPEAT = "repeat"
    YES = "yes"  # yes to "Add Heat (1995) to your profile?" or "did you mean ...?"
    NO = "no"
    STOP = "stop"  # stop talking
    HELP = "help"
    UNKNOWN = "unknown"


# Slot words that point at the movie in focus (the selected or last mentioned one), not a title.
REFERENCES = (
    "it", "this", "that", "this one", "that one", "this movie", "that movie", "this film", "that film",
    "the movie", "the film", "this recommendation", "that recommendation", "the recommendation",
    "this prediction", "that prediction", "the prediction",
)

# Intents whose question without a title is about the movie in focus ("why?", "who influenced this?").
FOCUS_INTENTS = frozenset({Intent.WHY, Intent.WHY_NOT, Intent.WHO_INFLUENCED, Intent.MY_RATINGS, Intent.HOW_SURE,
                           Intent.EXPERT_DECIDED, Intent.WHY_GUESSED})


@dataclass(frozen=True)
class Question:
    """A parsed question. `title` is the title text as asked (before matching); `reference` is True
    when the question points at the movie in focus ("why this movie?")."""

    text: str
    intent: Intent
    title: str | None = None
    reference: bool = False
    age: int | None = None  # years, as said
    gender: str | None = None  # "F" or "M"
    occupation: str | None = None  # as said; matched against the catalogue's occupations later
    lens: str | None = None  # an engine.api.Lens value
    shopper: str | None = None  # the pixel lens's catalogue demo: "style" or "brand"
    stars: float | None = None  # a rating as said ("2 stars"); the dialogue checks it is 1-5 whole stars
    movie_id: int | None = None  # the movie `title` was found to mean (once confirmed), else None
    spoken: bool = False  # recognised from speech: a profile change waits for a yes
    unsure: bool = False  # the recogniser doubts its words: "I heard ..., did you mean ...?"
    confirmed: bool = False  # the asker said yes to doing it

    def slots(self) -> dict:
        names = ("title", "age", "gender", "occupation", "lens", "stars", "shopper")
        found = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.reference:
            found["reference"] = True
        return found


@dataclass(frozen=True)
class Share:
    """One named reason in an answer: a profile feature and its share of the positive evidence."""

    kind: str  # "movie", "gender", "age", "occupation", "genre"
    name: str
    relevance: float  # LRP relevance, as the Sankey draws it
    share: float  # relevance / sum of the positive relevances, 0-1 (negative for evidence against)
    key: str = ""  # the movie id as text, or the attribute value


@dataclass(frozen=True)
class ProfileChange:
    """An edit the answer asks the caller to apply (the window saves it; the command line keeps it in memory)."""

    add: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()
    attributes: tuple[tuple[str, str | None], ...] = ()  # ("gender" | "age" | "occupation", value)


@dataclass(frozen=True)
class Answer:
    """`text` is shown in the chat panel; `speech` is what is spoken (no years in brackets, no
    numbers that read badly); `shares` carries the numbers behind it. `movie_id` is the movie the
    answer is about (the view selects it) and `lens` the lens it comes from (the view switches to it).
    `explanation` is the engine's explanation object the answer was phrased from: the view draws that
    same object, so what is seen is what is heard (None when no explanation was phrased)."""

    question: Question
    text: str
    speech: str
    movie_id: int | None = None
    lens: str | None = None
    shares: tuple[Share, ...] = ()
    rank: int | None = None
    change: ProfileChange | None = None
    stop_speaking: bool = False  # "stop": silence the voice, say nothing new
    suggestions: tuple[str, ...] = ()  # "did you mean ..." titles
    explanation: "Explanation | None" = None
    # Set when `explanation` is of a profile the user does not have (a "what if"): the view says so.
    hypothetical: str = ""

    def to_dict(self) -> dict:
        return {
            "question": self.question.text,
            "intent": self.question.intent.value,
            "slots": self.question.slots(),
            "answer": self.text,
            "speech": self.speech,
            "movie_id": self.movie_id,
            "lens": self.lens,
            "rank": self.rank,
            "shares": [
                {"kind": s.kind, "name": s.name, "relevance": s.relevance, "share": s.share} for s in self.shares
            ],
            "change": None if self.change is None else {
                "add": list(self.change.add), "remove": list(self.change.remove),
                "attributes": dict(self.change.attributes),
            },
            "suggestions": list(self.suggestions),
            "explanation": None if self.explanation is None else json_safe(self.explanation.to_dict()),
        }


def json_safe(value):
    """Plain JSON types all the way down: an explanation's numbers may be numpy scalars."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


def plain_answer(question: Question, text: str, speech: str | None = None) -> Answer:
    """An answer with no movie, lens or numbers; speech without the typographic quotes."""
    return Answer(question, text, (speech if speech is not None else text).replace("“", "").replace("”", ""))


def apply_change(profile: Profile, change: ProfileChange) -> Profile:
    """The profile after an answer's edit."""
    for movie_id in change.add:
        profile = profile.with_movie(movie_id)
    for movie_id in change.remove:
        profile = profile.without_movie(movie_id)
    if change.attributes:
        profile = replace(profile, user_id=None, **dict(change.attributes))
    return profile


__all__ = ["apply_change", "Answer", "FOCUS_INTENTS", "Intent", "json_safe", "ProfileChange", "Question", "REFERENCES",
           "Share"]
