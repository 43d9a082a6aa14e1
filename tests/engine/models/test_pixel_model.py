"""The pixel lens's app model wiring (engine/models/pixel_model.py): fresh, balanced pairs of every
shopper each epoch, the catalogue and the sampling in the cache manifest, cancel leaves nothing
behind, and an unknown shopper is one sentence."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.product_catalogue import related_by_rule
from engine.errors import Cancelled, InvalidInputError
from engine.models.pixel_model import epoch_pairs, obtain_pixel_model
from engine.models.relation_cnn import CI_CONFIG
from engine.progress import TaskState
from tests.engine.pixel_model_fixture import catalogues_or_skip, ci_explainer


def test_each_epoch_draws_fresh_balanced_pairs_for_every_shopper():
    train, _ = catalogues_or_skip()
    first = epoch_pairs(train, 1, pairs_per_shopper=1000)
    assert first.size == 2000 and np.bincount(first.shopper).tolist() == [1000, 1000]
    for index, shopper in enumerate(("style", "brand")):
        rows = first.shopper == index
        assert first.label[rows].mean() == 0.5
        rule = related_by_rule(train, shopper, first.index_a[rows], first.index_b[rows])
        np.testing.assert_array_equal(rule, first.label[rows].astype(bool))
    again, second = epoch_pairs(train, 1, pairs_per_shopper=1000), epoch_pairs(train, 2, pairs_per_shopper=1000)
    np.testing.assert_array_equal(again.index_a, first.index_a)
    assert not np.array_equal(second.index_a, first.index_a)
    assert not np.array_equal(epoch_pairs(train, 1, seed=1, pairs_per_shopper=1000).index_a, first.index_a)


def test_the_manifest_records_the_catalogue_and_the_sampling():
    manifest = ci_explainer().manifest
    assert manifest["lens"] == "pixels" and manifest["dataset"] == "fashion-mnist"
    assert manifest["catalogue"]["marks"]["test"]["layout_sha256"]
    assert manifest["sampling"] == {"per_shopper_per_epoch": 60_000, "shoppers": ["brand"], "seed": 0,
                                    "fresh_each_epoch": True}
    assert len(manifest["training"]["epoch_loss"]) == CI_CONFIG.epochs


def test_cancel_stops_training_and_saves_nothing(tmp_path):
    catalogues = catalogues_or_skip()
    checks = []

    def cancel_after_a_few() -> bool:
        checks.append(1)
        return len(checks) > 5

    with pytest.raises(Cancelled):
        obtain_pixel_model(tmp_path, config=CI_CONFIG, pairs_per_shopper=2000, catalogues=catalogues,
                           state=TaskState(None, cancel_after_a_few))
    assert len(checks) == 6 and not any(tmp_path.rglob("weights.npz"))


def test_an_unknown_shopper_is_one_sentence(tmp_path):
    with pytest.raises(InvalidInputError, match="Unknown shopper 'shoes'"):
        obtain_pixel_model(tmp_path, shoppers=("shoes",), catalogues=catalogues_or_skip())


def test_one_model_seed_decides_the_weights_and_the_training_pairs(monkeypatch, tmp_path):
    """Another training seed is another, equally valid model: its pairs follow the config's seed too
    (an explicit `seed` still wins), and the manifest records both."""
    from dataclasses import replace

    from engine.models import pixel_model

    seen = {}

    def fake_obtain(cache_dir, dataset, fingerprint, images, pairs, config, state, retrain, **extra):
        seen.update(config=config, pairs=pairs(1), sampling=extra["sampling"])
        raise Cancelled("stop before training")

    monkeypatch.setattr(pixel_model, "obtain_relation_model", fake_obtain)
    catalogues = catalogues_or_skip()
    with pytest.raises(Cancelled):
        obtain_pixel_model(tmp_path, config=replace(CI_CONFIG, seed=5), pairs_per_shopper=1000, catalogues=catalogues)
    assert seen["config"].seed == 5 and seen["sampling"]["seed"] == 5
    np.testing.assert_array_equal(seen["pairs"].index_a, epoch_pairs(catalogues[0], 1, seed=5, pairs_per_shopper=1000).index_a)
    with pytest.raises(Cancelled):
        obtain_pixel_model(tmp_path, config=replace(CI_CONFIG, seed=5), seed=0, pairs_per_shopper=1000,
                           catalogues=catalogues)
    assert seen["sampling"]["seed"] == 0
