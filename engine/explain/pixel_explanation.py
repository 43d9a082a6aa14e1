"""The pixel lens's explanation: why the relation model finds two catalogue images related (or not)
for one shopper, as exact LRP heatmaps of both images. Plain frozen data; no numpy, no torch.

The logit decomposes exactly: logit = offset - distance, and the distance into the relevance of the
query's pixels, the candidate's pixels, and what the image branch kept back (bias and epsilon shares).
So in the "net" view each pixel's value is its share of the logit (positive: pushes towards related),
and parts + remainder == logit. The "shared" view decomposes the two images' similarity <s_q, s_c>
(what they have in common); the notes explain why related pairs are read there.

Items are ids in the product catalogue's test split (images the model never trained on).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.lenses import Lens

VIEWS = ("net", "shared")
IMAGES = ("query", "candidate")
CATALOGUE_NOTE = (
    "Product catalogue demo: Fashion-MNIST images with planted brand marks; the relations are made by "
    "rule, not from purchases, and MovieLens has no images."
)

Grid = tuple[tuple[float, ...], ...]  # rows of a 28 x 28 heatmap


@dataclass(frozen=True)
class PixelItem:
    """One catalogue image as the view and the dialogue name it."""

    id: int
    garment: str  # Fashion-MNIST class name, e.g. "Sneaker"
    brand: str  # the planted mark's brand, e.g. "plus"
    mark_box: tuple[int, int, int, int]  # (row, col, height, width) of the planted mark

    def to_dict(self) -> dict:
        return {"id": self.id, "class": self.garment, "brand": self.brand, "mark_box": list(self.mark_box)}


@dataclass(frozen=True)
class PixelHeatmaps:
    """One view's relevance maps for both images, with what the image branch kept back per image.
    For each image: sum(map) + kept_back == that image's share of what the view explains."""

    view: str  # "net" or "shared"
    query: Grid
    candidate: Grid
    query_kept_back: float  # bias + epsilon shares of the query's branch
    candidate_kept_back: float

    def total(self, image: str) -> float:
        grid = self.query if image == "query" else self.candidate
        return float(sum(sum(row) for row in grid))

    def to_dict(self) -> dict:
        return {
            "view": self.view,
            "query": [list(row) for row in self.query],
            "candidate": [list(row) for row in self.candidate],
            "totals": {"query": self.total("query"), "candidate": self.total("candidate")},
            "kept_back": {"query": self.query_kept_back, "candidate": self.candidate_kept_back},
        }


@dataclass(frozen=True)
class PixelExplanation:
    """Why `query` and `candidate` are related or not for `shopper`."""

    query: PixelItem
    candidate: PixelItem
    shopper: str  # "style" or "brand"
    logit: float  # offset - distance
    offset: float  # the shopper's offset q_u
    distance: float  # the shopper's weighted distance d_u between the two images' features
    similarity: float  # <s_q, s_c>, what the shared view explains
    net: PixelHeatmaps  # relevance of the logit (what differs pushes towards "not related")
    shared: PixelHeatmaps  # relevance of the similarity (what the two have in common)
    rules: dict[str, str] = field(default_factory=dict)  # layer group -> rule, e.g. {"pixels": "z^B", ...}
    conservation_error: float = 0.0  # |parts + remainder - logit| measured in float32
    layer_error: tuple[tuple[str, float], ...] = ()  # per layer, largest conservation error
    # Share of the positive evidence on the planted marks' pixels (both images), when marks are known:
    # "why_not" = positive part of -net (relevance of the distance), "why_related" = positive part of shared.
    mark_mass: tuple[tuple[str, float], ...] = ()

    lens = Lens.PIXELS

    @property
    def probability(self) -> float:
        """P(related) = sigmoid(logit)."""
        import math

        return 1.0 / (1.0 + math.exp(-self.logit)) if self.logit > -700 else 0.0

    @property
    def related(self) -> bool:
        return self.logit >= 0.0

    @property
    def default_view(self) -> str:
        """The view the decision calls for: shared when related (what they share), net when not."""
        return "shared" if self.related else "net"

    def heatmaps(self, view: str) -> PixelHeatmaps:
        return self.shared if view == "shared" else self.net

    # ----- the lens contract (engine.lenses.Explanation) -----

    @property
    def subject(self) -> int:
        return self.candidate.id

    @property
    def explained(self) -> float:
        return self.logit

    @property
    def parts(self) -> tuple[float, ...]:
        """The logit's pixel shares: each image's net relevance, largest first."""
        return tuple(sorted((self.net.total("query"), self.net.total("candidate")), reverse=True))

    @property
    def remainder(self) -> float:
        """The offset plus what both branches kept back (bias and epsilon shares of the distance)."""
        return self.offset + self.net.query_kept_back + self.net.candidate_kept_back

    def mark_share(self, kind: str) -> float | None:
        """The planted-mark mass for "why_not" or "why_related", None when marks are not known."""
        return dict(self.mark_mass).get(kind)

    def to_dict(self) -> dict:
        return {
            "lens": self.lens.value,
            "note": CATALOGUE_NOTE,
            "shopper": self.shopper,
            "query": self.query.to_dict(),
            "candidate": self.candidate.to_dict(),
            "probability": self.probability,
            "logit": self.logit,
            "decomposition": {
                "offset": self.offset,
                "distance": self.distance,
                "query_pixels": self.net.total("query"),
                "candidate_pixels": self.net.total("candidate"),
                "kept_back": self.net.query_kept_back + self.net.candidate_kept_back,
            },
            "similarity": self.similarity,
            "default_view": self.default_view,
            "views": {"net": self.net.to_dict(), "shared": self.shared.to_dict()},
            "rules": dict(self.rules),
            "conservation_error": self.conservation_error,
            "layer_error": dict(self.layer_error),
            "mark_mass": dict(self.mark_mass) or None,
        }
