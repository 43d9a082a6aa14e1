"""What a lens's phrasing provides to the dialogue: the sentences for a recommended movie, for one
that is not recommended, and for one profile movie's part in an explanation. Each is phrased from
the explanation object the lens's view draws, so what the user hears is what the user sees."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Mapping

from assistant.conversation.intents import Share
from engine.api import Explanation, Lens, Movie


@dataclass(frozen=True)
class Said:
    """A phrased answer: `text` for the screen (numbers welcome), `speech` for the ear (short, no
    numbers that read badly), `shares` the named reasons as the chat panel tabulates them."""

    text: str
    speech: str
    shares: tuple[Share, ...] = ()


class LensPhrasing(ABC):
    """Sentences from one lens's explanations. `movies` maps ids to the catalogue's movies."""

    lens: ClassVar[Lens]

    def __init__(self, movies: Mapping[int, Movie]):
        self.movies = movies

    @abstractmethod
    def recommended(self, movie: Movie, rank: int, explanation: Explanation, lead: str) -> Said:
        """"I recommend <movie>, number <rank> for you, because ..." (`lead` is "I recommend", "Next, I recommend"...)."""

    @abstractmethod
    def not_recommended(self, movie: Movie, rank: int, unseen: int, explanation: Explanation) -> Said:
        """Why <movie> ranks only <rank> of the `unseen` movies: what pulls it down, what helps it."""

    @abstractmethod
    def part_of(self, explanation: Explanation, movie_id: int) -> Said | None:
        """What one movie of the profile contributes to the explanation ("Alien carries 34% of what
        speaks for it"), as a short clause; None when it contributes nothing the explanation lists."""
