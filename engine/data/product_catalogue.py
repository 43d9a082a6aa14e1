"""The pixel lens's product catalogue: Fashion-MNIST images carrying planted brand marks, and the
two synthetic shoppers whose rule-made relations the relation model learns.

* style shopper: related = same garment class; of the negatives, half come from a class that is
  easily confused with the query's (CONFUSABLE), half from any other class ("also viewed"
  substitutes).
* brand shopper: related = same brand mark, whatever the class; half of the positives are also the
  same class, half any class with the same mark; half of the negatives are the same class with the
  other mark (the hard ones), half any image with the other mark. Positives and negatives then
  share the same class mix, so only the mark tells them apart -- the known answer for heatmaps.

Pairs are sampled from one catalogue (one split) only: training pairs from the training images,
test pairs from the test images, so every test pair is made of items never seen in training.
Relations are rule-made, not purchases; say so wherever they are shown.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.brand_marks import MARK_SEED, SPLIT_STREAMS, BrandMarks, draw_marks, plant_marks
from engine.data.fashion_mnist import FashionMnist, load_fashion_mnist
from engine.errors import InvalidInputError

CATALOGUE_NOTE = "fashion-mnist {split} set with planted brand marks; relations are rule-made, not purchases"
SHOPPERS: tuple[str, ...] = ("style", "brand")
SHOPPER_RULES: dict[str, str] = {"style": "related = same garment class", "brand": "related = same brand mark"}
TRAIN_PAIRS_PER_SHOPPER = 60_000  # per epoch; the notes' prototype needed this many to learn the mark
TEST_PAIRS_PER_SHOPPER = 10_000
VALIDATION_ITEMS = 5_000  # training images the notes keep aside when early stopping is used

# Class index -> the classes a shopper could mistake it for (Fashion-MNIST order: 0 T-shirt/top,
# 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot):
# tops among themselves, shoes among themselves, trouser <-> dress, bag <-> T-shirt/pullover.
_GROUPS = ((0, 2, 4, 6), (5, 7, 9), (1, 3))
_EXTRA = ((8, 0), (8, 2))
CONFUSABLE: dict[int, tuple[int, ...]] = {
    label: tuple(sorted({other for group in _GROUPS if label in group for other in group if other != label}
                        | {b for a, b in _EXTRA if a == label} | {a for a, b in _EXTRA if b == label}))
    for label in range(10)
}

# How each pair was made; `PairSample.kind` indexes this.
PAIR_KINDS: tuple[str, ...] = (
    "same class",                 # style positive
    "confusable class",           # style negative, hard half
    "other class",                # style negative, other half
    "same mark, same class",      # brand positive, half
    "same mark",                  # brand positive, other half (any class)
    "other mark, same class",     # brand negative, hard half
    "other mark",                 # brand negative, other half (any class)
)


@dataclass(frozen=True, eq=False)
class ProductCatalogue:
    """One split's items: uint8 images with the marks planted, their garment classes and marks.
    An item's id is its index in the split."""

    split: str
    images: np.ndarray  # (n, 28, 28) uint8, marks planted
    labels: np.ndarray  # (n,) uint8 garment class
    marks: BrandMarks
    class_names: tuple[str, ...]
    fingerprint: str  # of the Fashion-MNIST files the images came from

    def __len__(self) -> int:
        return len(self.labels)

    def floats(self, items: np.ndarray | list[int] | slice = slice(None)) -> np.ndarray:
        """The images asked for as float32 in [0, 1] (background 0, mark ink 1)."""
        return self.images[items].astype(np.float32) / np.float32(255)

    def describe(self, item: int) -> dict:
        """The JSON's item record: {"id", "class", "brand", "mark_box"}."""
        return {"id": int(item), "class": self.class_names[int(self.labels[item])],
                "brand": self.marks.brand_name(item), "mark_box": list(self.marks.box(item))}

    @property
    def note(self) -> str:
        return CATALOGUE_NOTE.format(split=self.split)


def build_catalogue(data: FashionMnist, split: str, seed: int = MARK_SEED) -> ProductCatalogue:
    """The catalogue of `split` ("train" or "test"), its marks drawn from `seed`."""
    if split not in SPLIT_STREAMS:
        raise InvalidInputError(f"Unknown split {split!r}; known splits: {', '.join(SPLIT_STREAMS)}.")
    source = data.split(split)
    marks = draw_marks(len(source), split, seed)
    return ProductCatalogue(split, plant_marks(source.images, marks), source.labels, marks,
                            data.class_names, data.fingerprint)


def load_catalogues(path=None, *, seed: int = MARK_SEED, **find) -> tuple[ProductCatalogue, ProductCatalogue]:
    """(train, test) catalogues of Fashion-MNIST found as load_fashion_mnist finds it (`path`,
    then `find`: state, offline, cache_dir), with marks drawn from `seed`."""
    data = load_fashion_mnist(path, **find)
    return build_catalogue(data, "train", seed), build_catalogue(data, "test", seed)


def hold_out(catalogue: ProductCatalogue, count: int = VALIDATION_ITEMS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(kept item ids, held-out item ids): `count` items drawn uniformly at random (reproducible from `seed`),
    for `sample_pairs(..., items=...)` on each side."""
    if not 0 < count < len(catalogue):
        raise InvalidInputError(f"Hold out between 1 and {len(catalogue) - 1} items, not {count}.")
    held = np.sort(np.random.default_rng([seed, SPLIT_STREAMS[catalogue.split], 99]).permutation(len(catalogue))[:count])
    kept = np.setdiff1d(np.arange(len(catalogue)), held)
    return kept, held


def catalogue_manifest(train: ProductCatalogue, test: ProductCatalogue) -> dict:
    """What the model's manifest records about its data: the files' fingerprint, the marks of both
    splits (seed, boxes, layout digest), the shoppers' rules and the confusable classes."""
    return {
        "dataset": "fashion-mnist",
        "fingerprint": train.fingerprint,
        "marks": {"train": train.marks.manifest(), "test": test.marks.manifest()},
        "shoppers": dict(SHOPPER_RULES),
        "confusable": {train.class_names[label]: [train.class_names[o] for o in others]
                       for label, others in CONFUSABLE.items()},
    }


def related_by_rule(catalogue: ProductCatalogue, shopper: str, query, candidate) -> np.ndarray:
    """Whether each (query, candidate) pair is related for `shopper`, by its rule (bool array)."""
    query, candidate = np.asarray(query), np.asarray(candidate)
    if shopper == "style":
        return catalogue.labels[query] == catalogue.labels[candidate]
    if shopper == "brand":
        return catalogue.marks.brand[query] == catalogue.marks.brand[candidate]
    raise InvalidInputError(f"Unknown shopper {shopper!r}; known shoppers: {', '.join(SHOPPERS)}.")


@dataclass(frozen=True, eq=False)
class PairSample:
    """Pairs of one catalogue for one shopper: item ids, whether related, and how each was drawn."""

    shopper: str
    split: str
    query: np.ndarray  # (n,) int64 item ids
    candidate: np.ndarray  # (n,) int64 item ids
    related: np.ndarray  # (n,) bool
    kind: np.ndarray  # (n,) int8, index into PAIR_KINDS

    def __len__(self) -> int:
        return len(self.related)

    @property
    def shopper_index(self) -> int:
        return SHOPPERS.index(self.shopper)


class _Groups:
    """Items grouped by an integer key, for drawing a uniform member of a group (optionally not a
    given item) or a uniform item outside a group, vectorised over many queries."""

    def __init__(self, items: np.ndarray, keys: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.items = items[order]
        self.sorted_keys = keys[order]
        self.position = np.empty(len(items), dtype=np.int64)  # of each item (by its index in `items`)
        self.position[order] = np.arange(len(items))

    def _span(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = np.searchsorted(self.sorted_keys, keys, side="left")
        return start, np.searchsorted(self.sorted_keys, keys, side="right") - start

    def member(self, rng: np.random.Generator, keys: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """A uniform member of group keys[i] for each i, never the item at local index exclude[i]."""
        start, size = self._span(keys)
        room = size - (1 if exclude is not None else 0)
        if np.any(room < 1):
            raise InvalidInputError("The catalogue is too small for this shopper's rule: a group has no other item.")
        picked = start + rng.integers(0, room)
        if exclude is not None:
            picked += picked >= self.position[exclude]  # skip the query's own slot
        return self.items[picked]

    def outside(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        """A uniform item whose key differs from keys[i], for each i."""
        start, size = self._span(keys)
        room = len(self.items) - size
        if np.any(room < 1):
            raise InvalidInputError("The catalogue is too small for this shopper's rule: every item has one class.")
        picked = rng.integers(0, room)
        return self.items[picked + (picked >= start) * size]


def sample_pairs(
    catalogue: ProductCatalogue,
    shopper: str,
    count: int,
    seed: int = 0,
    items: np.ndarray | None = None,
) -> PairSample:
    """`count` pairs for `shopper` from `catalogue` (half related, in random order), reproducible
    from `seed`; `items` restricts both sides to those item ids (e.g. to hold out a validation set).
    Call it once per epoch with a new seed for fresh training pairs."""
    if shopper not in SHOPPERS:
        raise InvalidInputError(f"Unknown shopper {shopper!r}; known shoppers: {', '.join(SHOPPERS)}.")
    if count < 2:
        raise InvalidInputError(f"Ask for at least 2 pairs (half related, half not), not {count}.")
    pool = np.arange(len(catalogue), dtype=np.int64) if items is None else np.unique(np.asarray(items, dtype=np.int64))
    rng = np.random.default_rng([seed, SPLIT_STREAMS[catalogue.split], SHOPPERS.index(shopper)])
    labels = catalogue.labels[pool].astype(np.int64)
    brands = catalogue.marks.brand[pool].astype(np.int64)
    positives, negatives = count // 2, count - count // 2
    # Queries as local indices into `pool`; the first half of each block is the "hard" or
    # "same class" half of its rule.
    q_pos = rng.integers(0, len(pool), positives)
    q_neg = rng.integers(0, len(pool), negatives)
    pos_a, neg_a = positives // 2, negatives // 2
    if shopper == "style":
        by_class = _Groups(np.arange(len(pool)), labels)
        c_pos = by_class.member(rng, labels[q_pos], exclude=q_pos)
        hard = _confusable_class(rng, labels[q_neg[:neg_a]])
        c_neg = np.concatenate([by_class.member(rng, hard), by_class.outside(rng, labels[q_neg[neg_a:]])])
        k_pos = np.zeros(positives, dtype=np.int8)
        k_neg = np.repeat(np.array([1, 2], dtype=np.int8), [neg_a, negatives - neg_a])
    else:
        by_mark = _Groups(np.arange(len(pool)), brands)
        by_both = _Groups(np.arange(len(pool)), labels * 2 + brands)
        a, b = q_pos[:pos_a], q_pos[pos_a:]
        c_pos = np.concatenate([by_both.member(rng, labels[a] * 2 + brands[a], exclude=a),
                                by_mark.member(rng, brands[b], exclude=b)])
        a, b = q_neg[:neg_a], q_neg[neg_a:]
        c_neg = np.concatenate([by_both.member(rng, labels[a] * 2 + (1 - brands[a])),
                                by_mark.member(rng, 1 - brands[b])])
        k_pos = np.repeat(np.array([3, 4], dtype=np.int8), [pos_a, positives - pos_a])
        k_neg = np.repeat(np.array([5, 6], dtype=np.int8), [neg_a, negatives - neg_a])
    order = rng.permutation(count)
    query = pool[np.concatenate([q_pos, q_neg])][order]
    candidate = pool[np.concatenate([c_pos, c_neg])][order]
    related = np.repeat([True, False], [positives, negatives])[order]
    return PairSample(shopper, catalogue.split, query, candidate, related, np.concatenate([k_pos, k_neg])[order])


_CONFUSABLE_TABLE = np.array([list(CONFUSABLE[c]) + [-1] * (4 - len(CONFUSABLE[c])) for c in range(10)])
_CONFUSABLE_COUNT = np.array([len(CONFUSABLE[c]) for c in range(10)])


def _confusable_class(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """For each class, one of its confusable classes, uniformly."""
    choice = (rng.random(len(labels)) * _CONFUSABLE_COUNT[labels]).astype(np.int64)
    return _CONFUSABLE_TABLE[labels, choice]
