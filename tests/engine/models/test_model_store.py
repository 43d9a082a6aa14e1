"""The model cache: one entry per (dataset, lens, model, settings), atomic save, reuse only on a
matching manifest, damaged or ill-fitting files moved aside."""
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
    return store.expected_manifest("tiny", fingerprint, "relevance", "reconet", {"dim": 2}, n_features=5)


def test_round_trip(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights().to_arrays(), {"seconds": 1.0})
    loaded, stored = store.load(folder, manifest())
    np.testing.assert_array_equal(RecoNetWeights.from_arrays(loaded).embedding, weights().embedding)
    assert stored["training"] == {"seconds": 1.0}
    assert not list(folder.parent.glob(".staging-*"))  # nothing half-written left behind


def test_stale_model_is_not_used(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights().to_arrays(), {})
    assert store.load(folder, manifest(fingerprint="other data")) is None
    assert store.model_dir(tmp_path, manifest("other data")) != folder


def test_damaged_weights_raise_a_clear_error(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights().to_arrays(), {})
    (folder / store.WEIGHTS_FILE).write_bytes(b"not a torch file")
    with pytest.raises(ModelFileError, match="damaged"):
        store.load(folder, manifest())


def test_one_entry_per_lens_and_model(tmp_path):
    base = manifest()
    other_lens = store.expected_manifest("tiny", "abc", "influence", "mf", {"dim": 2}, n_features=5)
    other_model = store.expected_manifest("tiny", "abc", "influence", "ncf", {"dim": 2}, n_features=5)
    folders = {store.model_dir(tmp_path, m) for m in (base, other_lens, other_model)}
    assert len(folders) == 3
    assert store.model_dir(tmp_path, other_lens).name.startswith("tiny-influence-mf-")


def test_non_finite_weights_are_refused(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    broken = weights().to_arrays()
    broken["output_bias"] = broken["output_bias"].copy()
    broken["output_bias"][0] = np.nan
    store.save(folder, manifest(), broken, {})
    with pytest.raises(ModelFileError, match="non-finite"):
        store.load(folder, manifest())


def test_obtain_retrains_what_does_not_fit(tmp_path):
    calls = []

    def train(state):
        calls.append(1)
        return {"w": np.ones(3, dtype=np.float32)}, {"seconds": 0}

    def check(arrays):
        if arrays["w"].shape != (3,):
            raise ValueError("wrong shape")

    first = store.obtain(tmp_path, manifest(), train, check=check)
    assert first.trained_now and not first.note
    assert not store.obtain(tmp_path, manifest(), train, check=check).trained_now
    store.save(store.model_dir(tmp_path, manifest()), manifest(), {"w": np.ones(4, dtype=np.float32)}, {})
    again = store.obtain(tmp_path, manifest(), train, check=check)
    assert again.trained_now and "moved to" in again.note and len(calls) == 2


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

    folder = next((tmp_path / "models").glob("tiny-relevance-reconet-*"))
    (folder / store.WEIGHTS_FILE).write_bytes(b"garbage")
    third = obtain_model(*args)
    assert third.trained_now and "moved to" in third.note
    assert list((tmp_path / "models").glob("*.damaged-*"))  # kept for inspection, not deleted
