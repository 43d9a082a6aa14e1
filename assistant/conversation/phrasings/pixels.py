"""Sentences from the pixel lens's catalogue demo: the same `PixelExplanation` the Pixel relevance tab
draws is phrased here. "Why related?" reads the shared view (what the two images have in common,
as shares of its positive evidence), "why not?" the net view (what pushes the pair apart: the
positive part of the distance's relevance) and the logit's exact decomposition. The planted mark's
share is said when the catalogue knows it ("the plus mark carries 62% of the shared evidence").
The screen gets the numbers; the ear gets the verdict, the main image and the mark, and stays short."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.conversation.phrasing import percent
from assistant.conversation.phrasings.base import Said
from assistant.views.pixel_state import IMAGES
from engine.api import PixelExplanation, PixelItem

CATALOGUE_SPEECH = "This is the product catalogue demo, not your movies."
TOP_RELATED = 3  # related items named in an answer


@dataclass(frozen=True)
class EvidenceSplit:
    """How one view's positive evidence splits between the two images."""

    total: float  # sum of the positive cells over both images
    query: float  # the query's positive cells / total
    candidate: float

    @property
    def main(self) -> str:
        return "query" if self.query >= self.candidate else "candidate"


def evidence_split(explanation: PixelExplanation, view: str) -> EvidenceSplit:
    """The positive evidence of `view`: for "shared" what the two share; for "net" what pushes them
    apart, i.e. the positive part of minus the net map (the distance's relevance)."""
    maps = explanation.heatmaps(view)
    sign = -1.0 if view == "net" else 1.0
    sums = {image: sum(max(0.0, sign * v) for row in getattr(maps, image) for v in row) for image in IMAGES}
    total = sums["query"] + sums["candidate"]
    if total <= 0:
        return EvidenceSplit(0.0, 0.0, 0.0)
    return EvidenceSplit(total, sums["query"] / total, sums["candidate"] / total)


def item_text(item: PixelItem) -> str:
    return f"#{item.id} {item.garment} ({item.brand} mark)"


def item_speech(item: PixelItem) -> str:
    return f"item {item.id}, a {item.garment.split('/')[0].lower()} with the {item.brand} mark"


def marks(explanation: PixelExplanation) -> str:
    """"the plus mark" when both images carry it, else "the plus and cross marks"."""
    q, c = explanation.query.brand, explanation.candidate.brand
    return f"the {q} mark" if q == c else f"the {q} and {c} marks"


def carries(explanation: PixelExplanation) -> str:
    return "carries" if explanation.query.brand == explanation.candidate.brand else "carry"


def likely(explanation: PixelExplanation) -> str:
    return f"P(related) = {explanation.probability:.2f}"


def likely_speech(explanation: PixelExplanation) -> str:
    return f"{percent(explanation.probability).replace('%', ' percent')} likely"


def verdict(explanation: PixelExplanation) -> str:
    relation = "related" if explanation.related else "not related"
    return (f"For the {explanation.shopper} shopper, {item_text(explanation.query)} and "
            f"{item_text(explanation.candidate)} are {relation}: {likely(explanation)}.")


def decomposition_text(explanation: PixelExplanation) -> str:
    from assistant.views.pixel_state import decomposition  # Qt-free: the same four numbers the bar draws

    terms = " + ".join(f"{label} {value:+.3f}" for label, value in decomposition(explanation))
    return f"logit {explanation.logit:+.3f} = {terms}"


class PixelPhrasing:
    """Answers about the pair on the Pixel relevance tab."""

    def why_related(self, explanation: PixelExplanation) -> Said:
        """What the two images share (the shared view), whichever way the decision went."""
        split = evidence_split(explanation, "shared")
        text = verdict(explanation) + " "
        speech = (f"For the {explanation.shopper} shopper these two are {'related' if explanation.related else 'not related'}, "
                  f"{likely_speech(explanation)}.")
        if not explanation.related:
            text += "They share too little to be related for this shopper; what they do share: "
            speech += " They share too little."
        mark = explanation.mark_share("why_related")
        if split.total <= 0:
            text += "the shared view finds nothing in common."
            return Said(text, speech)
        if mark is not None:
            lead = f"{marks(explanation)} {carries(explanation)} {percent(mark)} of the shared evidence"
            text += lead if not text.endswith(". ") else lead[0].upper() + lead[1:]
            speech += f" {marks(explanation).capitalize()} {carries(explanation)} {percent(mark)} of what they share."
            text += f"; the query's pixels hold {percent(split.query)} of it and the candidate's {percent(split.candidate)}."
        else:
            lead = (f"the query's pixels hold {percent(split.query)} of the shared evidence and the candidate's "
                    f"{percent(split.candidate)}.")
            text += lead if not text.endswith(". ") else lead[0].upper() + lead[1:]
            speech += f" Mostly the {split.main}'s pixels."
        text += (f" The shared view spreads the similarity of the two images' features ({explanation.similarity:.3f}) "
                 "over their pixels.")
        return Said(text, speech)

    def why_not(self, explanation: PixelExplanation) -> Said:
        """What pushes the pair apart (the net view) and the logit's exact decomposition."""
        split = evidence_split(explanation, "net")
        text = verdict(explanation) + " "
        speech = (f"For the {explanation.shopper} shopper these two are {'related' if explanation.related else 'not related'}, "
                  f"{likely_speech(explanation)}.")
        if explanation.related:
            text += "They are related; what still differs: "
            speech += " What still differs is"
        else:
            text += "What differs: "
            speech += " What differs is"
        if split.total <= 0:
            text += "nothing; the images look the same to this shopper."
            return Said(text + f" {decomposition_text(explanation)}.", speech + " nothing.")
        text += f"mostly the {split.main}'s pixels ({percent(getattr(split, split.main))} of the evidence against)"
        speech += f" mostly the {split.main}'s pixels"
        mark = explanation.mark_share("why_not")
        if mark is not None:
            text += f"; {marks(explanation)} {carries(explanation)} {percent(mark)} of it"
            speech += f", and {percent(mark)} of it is on {marks(explanation)}"
        text += f". {decomposition_text(explanation)}."
        return Said(text, speech + ".")

    def related_items(self, shopper: str, query: PixelItem, related: tuple[tuple[PixelItem, float], ...]) -> Said:
        if not related:
            return Said(f"The {shopper} shopper finds nothing related to {item_text(query)}.",
                        f"The {shopper} shopper finds nothing related to item {query.id}.")
        named = [f"{item_text(item)} P {p:.2f}" for item, p in related]
        text = (f"The {shopper} shopper's most related items for {item_text(query)}, best first: {'; '.join(named)}. "
                "Click one in the strip to see why.")
        best, p = related[0]
        speech = (f"For the {shopper} shopper the most related is {item_speech(best)}, "
                  f"{percent(p).replace('%', ' percent')} likely; the others are in the strip.")
        return Said(text, speech)

    def shopper_switched(self, before: PixelExplanation | None, after: PixelExplanation) -> Said:
        """The pair on screen through another shopper's eyes: its verdict, and why (the view the
        decision calls for)."""
        said = (self.why_related if after.related else self.why_not)(after)
        text = f"Switched to the {after.shopper} shopper"
        speech = f"Switched to the {after.shopper} shopper."
        if before is not None and before.shopper != after.shopper:
            text += f" (for the {before.shopper} shopper this pair had {likely(before)})"
        return Said(f"{text}. {said.text}", f"{speech} {said.speech}")
