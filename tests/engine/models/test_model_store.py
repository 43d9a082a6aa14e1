"""The model cache: atomic save, reuse only on a matching manifest, damaged files moved aside."""
import numpy as np
import pytest

from engine.data.splits import positives_matrix
from engine.data.vocabulary import Vocabulary
from engine.errors import ModelFileError
from engine.models import store
from engine.models.builder import obtain_model
from engine.models.profiles import user_attribute_matrix
from engine.models.reconet import RecoNetConfig, RecoNetWeights

TINY = RecoNetConfig(dim=4, max_epochs=2, batch_size=4, patience=1)


def weights(n_features=5, n_items=3, dim=2):
    rng = np.random.default_rng(0)
    return RecoNetWeights(
        rng.normal(size=(n_features, dim)).astype(np.float32),
        rng.normal(size=(n_items, dim)).astype(np.float32),
        rng.normal(size=n_items).astype(np.float32),
    )


def manifest(fingerprint="abc"):
    return store.expected_manifest("tiny", fingerprint, [f"f{i}" for i in range(5)], {"dim": 2})


def test_round_trip(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights(), {"seconds": 1.0})
    loaded, stored = store.load(folder, manifest())
    np.testing.assert_array_equal(loaded.embedding, weights().embedding)
    assert stored["training"] == {"seconds": 1.0}
    assert not list(folder.parent.glob(".staging-*"))  # nothing half-written left behind


def test_stale_model_is_not_used(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights(), {})
    assert store.load(folder, manifest(fingerprint="other data")) is None
    assert store.model_dir(tmp_path, manifest("other data")) != folder


def test_damaged_weights_raise_a_clear_error(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights(), {})
    (folder / store.WEIGHTS_FILE).write_bytes(b"not a torch file")
    with pytest.raises(ModelFileError, match="damaged"):
        store.load(folder, manifest())


def test_obtain_model_trains_caches_and_recovers_from_damage(tmp_path, tiny_dataset):
    vocabulary = Vocabulary(tiny_dataset)
    user_ids, positives = positives_matrix(tiny_dataset, vocabulary)
    attributes = user_attribute_matrix(vocabulary, [[] for _ in user_ids])
    args = (tiny_dataset, vocabulary, user_ids, positives, attributes, TINY, tmp_path)
    first = obtain_model(*args)
    assert first.trained_now
    second = obtain_model(*args)
    assert not second.trained_now
    np.testing.assert_array_equal(first.weights.embedding, second.weights.embedding)

    folder = next((tmp_path / "models").glob("tiny-reconet-*"))
    (folder / store.WEIGHTS_FILE).write_bytes(b"garbage")
    third = obtain_model(*args)
    assert third.trained_now and "moved to" in third.note
    assert list((tmp_path / "models").glob("*.damaged-*"))  # kept for inspection, not deleted
