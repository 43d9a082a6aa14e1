"""The Pixel relevance tab's engine work, on one thread of its own, never the UI thread: the sample
queries for the picker, the shopper's related items for a query (ranking the catalogue), and the
explanation of the pair on screen with the images it needs.

Requests take the latest-request slot of `LatestRequestWorker`. Related lists are kept per (shopper, query): clicking through the strip
explains pairs without ranking the catalogue again.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject

from assistant.latest_request_worker import LatestRequestWorker

from engine.api import EngineError, PixelExplanation, PixelItem

QUERY_SAMPLES = 12  # queries offered in the picker
RELATED_K = 8  # thumbnails in the strip


@dataclass(frozen=True)
class PairRequest:
    generation: int
    shopper: str | None  # None: the explainer's first shopper
    query: int | None  # None: the first sample query
    candidate: int | None  # None: the shopper's most related item for the query


@dataclass(frozen=True)
class PairShown:
    generation: int
    shopper: str = ""
    shoppers: tuple[str, ...] = ()
    queries: tuple[PixelItem, ...] = ()  # the picker's sample queries
    explanation: PixelExplanation | None = None
    related: tuple[tuple[PixelItem, float], ...] = ()
    images: dict[int, np.ndarray] = field(default_factory=dict)  # by catalogue id: query, candidate, strip
    error: str | None = None


class PixelWorker(LatestRequestWorker):
    """`request()` from the UI thread; results through `finished(PairShown)`. `explainer` returns
    the engine's prepared pixel explainer (called on the worker thread)."""

    def __init__(self, explainer: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__("cinewhy-pixel-worker", parent)
        self._explainer = explainer
        self._queries: tuple[PixelItem, ...] = ()
        self._related: dict[tuple[str, int], tuple[tuple[PixelItem, float], ...]] = {}

    def request(self, shopper: str | None, query: int | None, candidate: int | None = None) -> int:
        return self._submit(lambda generation: PairRequest(generation, shopper, query, candidate))

    def _compute(self, request: PairRequest) -> PairShown:
        try:
            explainer = self._explainer()
            shoppers = tuple(explainer.shoppers)
            shopper = request.shopper or shoppers[0]
            if shopper not in shoppers:
                raise ValueError(f"There is no {shopper!r} shopper; the shoppers are {', '.join(shoppers)}.")
            if not self._queries:
                self._queries = tuple(explainer.item(i) for i in explainer.sample_queries(QUERY_SAMPLES, 0))
            query = self._queries[0].id if request.query is None else int(request.query)
            related = self._related_items(explainer, shopper, query)
            candidate = request.candidate
            if candidate is None:
                candidate = related[0][0].id if related else query
            explanation = explainer.explain_pair(shopper, query, int(candidate))
            ids = {query, int(candidate), *(item.id for item, _ in related)}
            images = {i: np.asarray(explainer.image(i)) for i in ids}
        except EngineError as error:
            return PairShown(request.generation, error=str(error))
        except (ValueError, KeyError, IndexError) as error:  # a catalogue id that does not exist
            return PairShown(request.generation, error=_one_sentence(error))
        except Exception as error:  # a bug: keep the trace on the console, show one sentence
            traceback.print_exc()
            return PairShown(request.generation, error=f"Unexpected error while explaining the pair "
                                                       f"({type(error).__name__}): {error}")
        return PairShown(request.generation, shopper, shoppers, self._queries, explanation, related, images)

    def _related_items(self, explainer, shopper: str, query: int) -> tuple[tuple[PixelItem, float], ...]:
        key = (shopper, query)
        if key not in self._related:
            self._related[key] = tuple((item, float(p)) for item, p in explainer.related(shopper, query, k=RELATED_K))
        return self._related[key]


def _one_sentence(error: Exception) -> str:
    text = str(error.args[0]) if error.args else type(error).__name__
    text = text.strip().rstrip(".")
    return (text[0].upper() + text[1:] + ".") if text else "That item is not in the catalogue."
