"""The pixel lens's catalogue: planted brand marks (deterministic per seed, exactly inside their
recorded boxes) and the two shoppers' pairs (rules hold, half-negative rules, train/test apart)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.data import brand_marks
from engine.data.brand_marks import BRANDS, CORNERS, MARK_SIZE, PATTERNS, draw_marks, plant_marks
from engine.data.fashion_mnist import CLASS_NAMES, FashionMnist, FashionSplit, has_files, load_folder
from engine.data.product_catalogue import (
    CONFUSABLE, PAIR_KINDS, SHOPPERS, build_catalogue, catalogue_manifest, hold_out, load_catalogues, related_by_rule,
    sample_pairs,
)
from engine.errors import InvalidInputError

REAL_ROOT = os.environ.get("CINEWHY_DATA")  # read before the data conftest clears it


def synthetic(per_class_train=30, per_class_test=8, seed=0) -> FashionMnist:
    """Random 28×28 uint8 images with balanced labels, shaped like Fashion-MNIST."""
    rng = np.random.default_rng(seed)

    def split(per_class):
        labels = np.repeat(np.arange(10, dtype=np.uint8), per_class)
        rng.shuffle(labels)
        return FashionSplit(rng.integers(1, 200, (len(labels), 28, 28), dtype=np.uint8), labels)

    return FashionMnist(split(per_class_train), split(per_class_test), CLASS_NAMES, "f" * 64, False, Path("."), "test")


DATA = synthetic()


def kind(name: str) -> int:
    return PAIR_KINDS.index(name)


# ---------------------------------------------------------------------------------------------
# Marks


def test_patterns_are_a_plus_and_a_cross_of_nine_pixels():
    assert [int(PATTERNS[b].sum()) for b in BRANDS] == [9, 9]
    plus, cross = PATTERNS["plus"], PATTERNS["cross"]
    assert plus[2].all() and plus[:, 2].all() and not plus[0, 0]
    assert np.diag(cross).all() and np.diag(cross[:, ::-1]).all() and not cross[0, 2]
    assert CORNERS == ((1, 1), (1, 22), (22, 1), (22, 22)) and MARK_SIZE == 5


def test_marks_are_deterministic_per_seed_and_split():
    first, again = draw_marks(500, "train", seed=7), draw_marks(500, "train", seed=7)
    np.testing.assert_array_equal(first.brand, again.brand)
    np.testing.assert_array_equal(first.corner, again.corner)
    assert first.layout_digest() == again.layout_digest()
    assert draw_marks(500, "train", seed=8).layout_digest() != first.layout_digest()
    assert draw_marks(500, "test", seed=7).layout_digest() != first.layout_digest()
    # A longer split keeps the marks of its first items: one stream per split, drawn in order.
    assert draw_marks(500, "train", seed=7).brand.tolist() == first.brand.tolist()


def test_brands_and_corners_are_spread_uniformly():
    marks = draw_marks(60_000, "train")
    assert np.all(np.abs(np.bincount(marks.brand) / 60_000 - 0.5) < 0.01)
    assert np.all(np.abs(np.bincount(marks.corner) / 60_000 - 0.25) < 0.01)


def test_a_planted_image_changes_only_inside_its_recorded_box_and_holds_the_pattern():
    catalogue = build_catalogue(DATA, "train", seed=3)
    original = DATA.train.images
    boxes = catalogue.marks.boxes()
    regions = catalogue.marks.region(np.arange(len(catalogue)))
    assert regions.sum(axis=(1, 2)).tolist() == [25] * len(catalogue)
    for item in range(len(catalogue)):
        row, col, height, width = boxes[item]
        assert catalogue.marks.box(item) == (row, col, height, width)
        inside = regions[item]
        np.testing.assert_array_equal(catalogue.images[item][~inside], original[item][~inside])
        box = catalogue.images[item, row:row + height, col:col + width]
        np.testing.assert_array_equal(box, PATTERNS[catalogue.marks.brand_name(item)] * 255)
    assert not np.shares_memory(catalogue.images, original)
    floats = catalogue.floats([0])
    assert floats.dtype == np.float32 and set(np.unique(floats[0][regions[0]])) == {0.0, 1.0}


def test_planting_refuses_a_count_mismatch():
    with pytest.raises(InvalidInputError):
        plant_marks(np.zeros((3, 28, 28), np.uint8), draw_marks(4, "train"))
    with pytest.raises(InvalidInputError, match="Unknown split"):
        draw_marks(4, "validation")


def test_the_manifest_records_seeds_boxes_and_layout_and_is_json():
    train, test = build_catalogue(DATA, "train", seed=5), build_catalogue(DATA, "test", seed=5)
    manifest = json.loads(json.dumps(catalogue_manifest(train, test)))
    marks = manifest["marks"]["train"]
    assert marks["seed"] == 5 and marks["count"] == len(train) and sum(marks["per_brand"]) == len(train)
    assert marks["boxes"]["bottom-right"] == [22, 22, 5, 5]
    assert marks["patterns"]["plus"][2] == "#####"
    assert marks["layout_sha256"] == train.marks.layout_digest() != manifest["marks"]["test"]["layout_sha256"]
    assert manifest["fingerprint"] == DATA.fingerprint
    assert manifest["confusable"]["Bag"] == ["T-shirt/top", "Pullover"]
    assert catalogue_manifest(build_catalogue(DATA, "train", seed=6), test)["marks"]["train"]["layout_sha256"] \
        != marks["layout_sha256"]


def test_describe_gives_the_json_item_record():
    catalogue = build_catalogue(DATA, "test")
    record = catalogue.describe(3)
    assert record["class"] == CLASS_NAMES[DATA.test.labels[3]]
    assert record["brand"] in BRANDS and record["mark_box"] == list(catalogue.marks.box(3))
    assert "rule-made" in catalogue.note and "test" in catalogue.note


# ---------------------------------------------------------------------------------------------
# Shoppers


def test_confusable_classes_follow_the_notes_and_are_symmetric():
    names = {CLASS_NAMES[c]: {CLASS_NAMES[o] for o in others} for c, others in CONFUSABLE.items()}
    assert names["Coat"] == {"T-shirt/top", "Pullover", "Shirt"}
    assert names["T-shirt/top"] == {"Pullover", "Coat", "Shirt", "Bag"}
    assert names["Sneaker"] == {"Sandal", "Ankle boot"} and names["Trouser"] == {"Dress"}
    assert names["Bag"] == {"T-shirt/top", "Pullover"}
    assert all(c in CONFUSABLE[o] for c, others in CONFUSABLE.items() for o in others)


def _check_common(pairs, catalogue, count):
    assert len(pairs) == count and pairs.related.sum() == count // 2
    assert np.all(pairs.query != pairs.candidate)
    np.testing.assert_array_equal(related_by_rule(catalogue, pairs.shopper, pairs.query, pairs.candidate), pairs.related)


def test_style_pairs_follow_the_rule_with_half_the_negatives_confusable():
    catalogue = build_catalogue(DATA, "train")
    pairs = sample_pairs(catalogue, "style", 2_000, seed=1)
    _check_common(pairs, catalogue, 2_000)
    q, c = catalogue.labels[pairs.query], catalogue.labels[pairs.candidate]
    assert np.all(pairs.related == (pairs.kind == kind("same class")))
    hard = pairs.kind == kind("confusable class")
    assert hard.sum() == 500 and (pairs.kind == kind("other class")).sum() == 500
    assert all(int(b) in CONFUSABLE[int(a)] for a, b in zip(q[hard], c[hard]))
    assert np.all(q[~pairs.related] != c[~pairs.related])
    # "Any other class" covers non-confusable classes too.
    other = pairs.kind == kind("other class")
    assert any(int(b) not in CONFUSABLE[int(a)] for a, b in zip(q[other], c[other]))


def test_brand_pairs_follow_the_rule_with_half_the_negatives_of_the_same_class():
    catalogue = build_catalogue(DATA, "train")
    pairs = sample_pairs(catalogue, "brand", 2_000, seed=1)
    _check_common(pairs, catalogue, 2_000)
    same_class = catalogue.labels[pairs.query] == catalogue.labels[pairs.candidate]
    same_mark = catalogue.marks.brand[pairs.query] == catalogue.marks.brand[pairs.candidate]
    hard = pairs.kind == kind("other mark, same class")
    assert hard.sum() == 500 and np.all(same_class[hard]) and not np.any(same_mark[hard])
    assert np.all(~same_mark[pairs.kind == kind("other mark")])
    assert (pairs.kind == kind("same mark, same class")).sum() == 500
    assert np.all(same_class[pairs.kind == kind("same mark, same class")])
    # Positives and negatives share the class mix, so only the mark separates them.
    assert abs(same_class[pairs.related].mean() - same_class[~pairs.related].mean()) < 0.05


def test_an_odd_count_still_splits_related_and_not():
    pairs = sample_pairs(build_catalogue(DATA, "train"), "brand", 7, seed=2)
    assert len(pairs) == 7 and pairs.related.sum() == 3


@pytest.mark.parametrize("shopper", SHOPPERS)
def test_pairs_are_reproducible_per_seed(shopper):
    catalogue = build_catalogue(DATA, "train")
    a, b = sample_pairs(catalogue, shopper, 300, seed=4), sample_pairs(catalogue, shopper, 300, seed=4)
    np.testing.assert_array_equal(a.query, b.query)
    np.testing.assert_array_equal(a.candidate, b.candidate)
    assert not np.array_equal(sample_pairs(catalogue, shopper, 300, seed=5).candidate, a.candidate)
    assert a.shopper_index == SHOPPERS.index(shopper)


@pytest.mark.parametrize("shopper", SHOPPERS)
def test_a_held_out_set_keeps_its_items_out_of_the_pairs(shopper):
    catalogue = build_catalogue(DATA, "train")
    kept = np.arange(0, len(catalogue), 2)
    pairs = sample_pairs(catalogue, shopper, 1_000, seed=3, items=kept)
    assert set(pairs.query) | set(pairs.candidate) <= set(kept.tolist())


def test_hold_out_splits_the_items_in_two_disjoint_reproducible_sets():
    catalogue = build_catalogue(DATA, "train")
    kept, held = hold_out(catalogue, 50, seed=1)
    assert len(held) == 50 and len(kept) == len(catalogue) - 50 and not set(kept) & set(held)
    assert hold_out(catalogue, 50, seed=1)[1].tolist() == held.tolist() != hold_out(catalogue, 50, seed=2)[1].tolist()
    with pytest.raises(InvalidInputError):
        hold_out(catalogue, len(catalogue))


def test_test_pairs_use_test_images_only():
    train, test = build_catalogue(DATA, "train"), build_catalogue(DATA, "test")
    for shopper in SHOPPERS:
        pairs = sample_pairs(test, shopper, 400, seed=0)
        assert pairs.split == "test"
        used = np.union1d(pairs.query, pairs.candidate)
        assert used.max() < len(test) < len(train)
        # The ids name test items: their pixels outside the mark are those of the test images.
        outside = ~test.marks.region(used)
        np.testing.assert_array_equal(test.images[used][outside], DATA.test.images[used][outside])
    assert test.marks.layout_digest() != build_catalogue(DATA, "train").marks.layout_digest()


def test_bad_requests_are_one_sentence():
    catalogue = build_catalogue(DATA, "train")
    with pytest.raises(InvalidInputError, match="Unknown shopper 'colour'"):
        sample_pairs(catalogue, "colour", 10)
    with pytest.raises(InvalidInputError, match="at least 2 pairs"):
        sample_pairs(catalogue, "style", 1)
    with pytest.raises(InvalidInputError, match="too small"):
        sample_pairs(catalogue, "style", 10, items=[0])


REAL = Path(REAL_ROOT) / "fashion-mnist" if REAL_ROOT else None


@pytest.mark.skipif(REAL is None or not has_files(REAL),
                    reason="the real Fashion-MNIST is not under $CINEWHY_DATA/fashion-mnist")
def test_the_real_catalogue_gives_ten_thousand_test_pairs_per_shopper():
    data = load_folder(REAL)
    train, test = load_catalogues(REAL, offline=True)
    assert len(train) == 60_000 and train.fingerprint == data.fingerprint
    assert len(test) == 10_000 and test.marks.seed == brand_marks.MARK_SEED
    for shopper in SHOPPERS:
        pairs = sample_pairs(test, shopper, 10_000)
        _check_common(pairs, test, 10_000)
