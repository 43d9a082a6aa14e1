"""What the Pixel relevance tab shows, as plain data (no Qt): the pair on screen with its
explanation, the view drawn, and the shopper's related items in the strip. The tab sends it to the
conversation whenever it changes, so that "why are these related?" is answered from the very object
on screen; and the logit decomposition the tab's bar draws, so that the bar and the dialogue read
the same four numbers."""
from __future__ import annotations

from dataclasses import dataclass

from engine.api import PixelExplanation, PixelItem

IMAGES = ("query", "candidate")  # the two images of a pair, in the order they are drawn
DECOMPOSITION_LABELS = ("offset", "query pixels", "candidate pixels", "kept back")


@dataclass(frozen=True)
class PixelViewState:
    shopper: str
    query: PixelItem
    candidate: PixelItem
    view: str  # "net" or "shared": the heatmaps on screen
    explanation: PixelExplanation
    related: tuple[tuple[PixelItem, float], ...] = ()  # the strip: the shopper's related items, best first


def decomposition(explanation: PixelExplanation) -> tuple[tuple[str, float], ...]:
    """The logit's exact parts in the order the bar stacks them: the shopper's offset, the net
    relevance of the query's pixels and of the candidate's, and what the image branches kept back
    (bias and epsilon shares). They add up to the logit."""
    net = explanation.net
    return (
        ("offset", explanation.offset),
        ("query pixels", net.total("query")),
        ("candidate pixels", net.total("candidate")),
        ("kept back", net.query_kept_back + net.candidate_kept_back),
    )
