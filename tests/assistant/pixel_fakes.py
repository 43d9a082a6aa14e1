"""A small stand-in for the pixel lens's explainer, for the tab's and the dialogue's tests: a catalogue
of synthetic 28 x 28 product images (a garment silhouette per class and a planted 5 x 5 mark in a
corner) and a relation "model" whose explanations are exact by construction: the net maps plus what
was kept back plus the offset add up to the logit, and the shared maps plus theirs to the similarity.
The brand shopper weighs the mark's pixels, the style shopper the garment's; so the heatmaps light
what each shopper looks at, as the real model's do. Not a model of anything: numbers to draw."""
from __future__ import annotations

import math

import numpy as np

from engine.api import Lens
from engine.explain.pixel_explanation import PixelExplanation, PixelHeatmaps, PixelItem

GARMENTS = ("T-shirt/top", "Trouser", "Sneaker", "Bag")
BRANDS = ("plus", "cross")
CORNERS = ((1, 1), (1, 22), (22, 1), (22, 22))
SIZE = 28
PATTERNS = {
    "plus": np.array([[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0]], bool),
    "cross": np.array([[1, 0, 0, 0, 1], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0, 1, 0, 1, 0], [1, 0, 0, 0, 1]], bool),
}
OFFSETS = {"style": 1.5, "brand": 2.0}


def _silhouette(garment: str) -> np.ndarray:
    image = np.zeros((SIZE, SIZE), np.float64)
    if garment == "T-shirt/top":
        image[7:23, 9:19] = 0.7
        image[7:12, 5:23] = 0.7
    elif garment == "Trouser":
        image[6:24, 9:13] = 0.6
        image[6:24, 15:19] = 0.6
        image[6:9, 9:19] = 0.6
    elif garment == "Sneaker":
        image[15:21, 6:22] = 0.8
        image[12:15, 6:13] = 0.8
    else:
        image[10:22, 7:21] = 0.5
        image[7:10, 11:17] = 0.5
    return image


class FakePixelExplainer:
    lens = Lens.PIXELS
    exact = True
    shoppers = ("style", "brand")

    def __init__(self, count: int = 40, seed: int = 0):
        rng = np.random.default_rng(seed)
        self._items: list[PixelItem] = []
        self._floats: list[np.ndarray] = []
        for i in range(count):
            garment = GARMENTS[i % len(GARMENTS)]
            brand = BRANDS[(i // len(GARMENTS)) % len(BRANDS)]
            row, col = CORNERS[int(rng.integers(len(CORNERS)))]
            image = _silhouette(garment) + rng.uniform(0.0, 0.08, (SIZE, SIZE))
            image[row:row + 5, col:col + 5] = np.where(PATTERNS[brand], 1.0, 0.0)
            self._items.append(PixelItem(i, garment, brand, (row, col, 5, 5)))
            self._floats.append(np.clip(image, 0.0, 1.0))
        self.calls = []  # (method, args): what the tab asked, to check it never runs on the UI thread

    @property
    def prepared(self) -> bool:
        return True

    def _check(self, item_id: int) -> int:
        if not 0 <= int(item_id) < len(self._items):
            raise ValueError(f"there is no item #{item_id} in the catalogue's test split (ids 0-{len(self._items) - 1})")
        return int(item_id)

    def item(self, item_id: int) -> PixelItem:
        return self._items[self._check(item_id)]

    def image(self, item_id: int) -> np.ndarray:
        return np.rint(self._floats[self._check(item_id)] * 255).astype(np.uint8)

    def sample_queries(self, n: int, seed: int = 0) -> list[int]:
        order = np.random.default_rng(seed).permutation(len(self._items))
        return [int(i) for i in order[:n]]

    def _weights(self, shopper: str, item: PixelItem) -> np.ndarray:
        weights = np.full((SIZE, SIZE), 0.15 if shopper == "brand" else 1.0)
        if shopper == "style":  # the style shopper looks past every corner's mark
            for row, col in CORNERS:
                weights[row:row + 5, col:col + 5] = 0.02
        row, col, h, w = item.mark_box
        weights[row:row + h, col:col + w] = 3.0 if shopper == "brand" else 0.02
        return weights

    def explain_pair(self, shopper: str, query: int, candidate: int) -> PixelExplanation:
        import threading

        self.calls.append(("explain_pair", threading.current_thread().name))
        if shopper not in self.shoppers:
            raise ValueError(f"no {shopper} shopper")
        q, c = self.item(query), self.item(candidate)
        xq, xc = self._floats[q.id], self._floats[c.id]
        wq, wc = self._weights(shopper, q), self._weights(shopper, c)
        # Marks compared where each image has its own: a brand match lines up as shared evidence.
        mq = _mark_pattern(xq, q)
        mc = _mark_pattern(xc, c)
        same_mark = float(np.sum(mq * mc)) / 9.0
        diff_q = wq * (xq - xc) ** 2 / 8.0 + (_spread(q, (1 - same_mark) * 0.15) if shopper == "brand" else 0)
        diff_c = wc * (xc - xq) ** 2 / 8.0 + (_spread(c, (1 - same_mark) * 0.15) if shopper == "brand" else 0)
        net_q, net_c = -diff_q, -diff_c
        kept_q, kept_c = -0.01, 0.004
        distance = float(diff_q.sum() + diff_c.sum()) - kept_q - kept_c
        offset = OFFSETS[shopper]
        logit = offset - distance
        shared_q = wq * xq * xc / 20.0 + _spread(q, 0.3 * same_mark if shopper == "brand" else 0.0)
        shared_c = wc * xc * xq / 20.0 + _spread(c, 0.3 * same_mark if shopper == "brand" else 0.0)
        shared_q[0, 0] -= 0.01  # a little evidence against, so both signs are drawn
        similarity = float(shared_q.sum()) + 0.02
        shared_c += (similarity - 0.03 - float(shared_c.sum())) / shared_c.size  # both sum with theirs to it
        net = PixelHeatmaps("net", _grid(net_q), _grid(net_c), kept_q, kept_c)
        shared = PixelHeatmaps("shared", _grid(shared_q), _grid(shared_c), 0.02, 0.03)
        mark_q = _in_box(q)
        mark_c = _in_box(c)
        why_not = _positive_share([-net_q, -net_c], [mark_q, mark_c])
        why_related = _positive_share([shared_q, shared_c], [mark_q, mark_c])
        return PixelExplanation(
            q, c, shopper, logit, offset, distance, similarity, net, shared,
            rules={"pixels": "z^B", "conv": "gamma 0.25", "dense": "epsilon 1e-6", "pool": "winner-take-all",
                   "head": "exact closed form"},
            conservation_error=0.0, layer_error=(("head", 0.0),),
            mark_mass=(("why_not", why_not), ("why_related", why_related)),
        )

    def related(self, shopper: str, query: int, k: int = 8) -> list[tuple[PixelItem, float]]:
        import threading

        self.calls.append(("related", threading.current_thread().name))
        scored = []
        for item in self._items:
            if item.id == query:
                continue
            logit = self.explain_pair(shopper, query, item.id).logit
            scored.append((item, 1.0 / (1.0 + math.exp(-logit))))
        scored.sort(key=lambda pair: -pair[1])
        return scored[:k]


def _grid(array: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in array)


def _in_box(item: PixelItem) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), bool)
    row, col, h, w = item.mark_box
    mask[row:row + h, col:col + w] = True
    return mask


def _mark_pattern(image: np.ndarray, item: PixelItem) -> np.ndarray:
    row, col, h, w = item.mark_box
    return (image[row:row + h, col:col + w] > 0.9).astype(np.float64)


def _spread(item: PixelItem, amount: float) -> np.ndarray:
    """`amount` spread over the item's lit mark pixels."""
    out = np.zeros((SIZE, SIZE))
    row, col, h, w = item.mark_box
    out[row:row + h, col:col + w] = np.where(PATTERNS[item.brand], amount / 9.0, 0.0)
    return out


def _positive_share(maps, masks) -> float:
    positive = sum(float(np.clip(m, 0, None).sum()) for m in maps)
    on_mark = sum(float(np.clip(m, 0, None)[mask].sum()) for m, mask in zip(maps, masks))
    return on_mark / positive if positive > 0 else 0.0


class FakePixelEngine:
    """What the tab asks of the engine: whether the pixel lens is prepared, and its explainer."""

    def __init__(self, explainer: FakePixelExplainer | None = None, prepared: bool = True):
        self.pixel_explainer = explainer or FakePixelExplainer()
        self.prepared = prepared

    def is_prepared(self, lens) -> bool:
        return Lens(lens) is Lens.PIXELS and self.prepared

    def explainer(self, lens):
        assert Lens(lens) is Lens.PIXELS
        return self.pixel_explainer
