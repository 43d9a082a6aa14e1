"""The model cache: one entry per (dataset, lens, model, settings), atomic save, reuse only on a
matching manifest, damaged or ill-fitting files moved aside."""
import errno
import hashlib
import json
import os

import numpy as np
import pytest

from engine.data.splits import positives_matrix
from engine.data.vocabulary import Vocabulary
from engine.errors import CacheNotWritableError, ModelFileError
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


# ----- every load is checked against what the manifest recorded and what the settings imply -----

def counting_trainer(arrays=None):
    calls = []

    def train(state):
        calls.append(1)
        return (arrays or weights().to_arrays()), {"seconds": 0}

    return train, calls


def test_manifest_records_the_weights_checksum_and_shapes(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights().to_arrays(), {})
    recorded = store.read_manifest(folder / store.MANIFEST_FILE)
    assert recorded[store.CHECKSUM_KEY] == hashlib.sha256((folder / store.WEIGHTS_FILE).read_bytes()).hexdigest()
    assert recorded[store.ARRAYS_KEY]["embedding"] == {"shape": [5, 2], "dtype": "<f4"}


def flip_middle_bytes(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    path.write_bytes(bytes(data))


def rewrite_arrays(path, change):
    with np.load(path) as archive:
        arrays = {name: archive[name].copy() for name in archive.files}
    change(arrays)
    np.savez(path, **arrays)


def _nan(arrays):
    arrays["embedding"][1, 1] = np.nan


def _other_values(arrays):
    arrays["embedding"] = arrays["embedding"][::-1].copy()  # valid, finite, same shape: only the hash tells


def _short_bias(arrays):
    arrays["output_bias"] = arrays["output_bias"][:2]


@pytest.mark.parametrize("damage", [
    flip_middle_bytes,
    lambda path: rewrite_arrays(path, _nan),
    lambda path: rewrite_arrays(path, _other_values),
    lambda path: rewrite_arrays(path, _short_bias),
], ids=["64 flipped bytes", "NaN weights", "other values", "wrong shape"])
def test_a_changed_weights_file_is_moved_aside_and_retrained(tmp_path, damage):
    train, calls = counting_trainer()
    store.obtain(tmp_path, manifest(), train)
    folder = store.model_dir(tmp_path, manifest())
    damage(folder / store.WEIGHTS_FILE)
    with pytest.raises(ModelFileError):
        store.load(folder, manifest())
    again = store.obtain(tmp_path, manifest(), train)
    assert again.trained_now and len(calls) == 2
    assert "moved to" in again.note and "retrained" in again.note
    assert len(list((tmp_path / "models").glob("*.damaged-*"))) == 1
    assert not store.obtain(tmp_path, manifest(), train).trained_now  # the retrained one is served next time


def test_shapes_the_settings_imply_are_enforced(tmp_path):
    shapes = {"embedding": (5, 2), "output_weight": (3, 2), "output_bias": (3,)}
    folder = store.model_dir(tmp_path, manifest())
    wrong = dict(weights().to_arrays(), output_bias=np.zeros(2, dtype=np.float32))
    store.save(folder, manifest(), wrong, {})  # a consistent checksum, but not what the settings imply
    with pytest.raises(ModelFileError, match="shapes"):
        store.load(folder, manifest(), shapes)
    assert store.load(store.model_dir(tmp_path, manifest()), manifest()) is not None  # without shapes: readable
    train, calls = counting_trainer()
    assert store.obtain(tmp_path, manifest(), train, shapes=shapes).trained_now and calls


def test_reconet_shapes_follow_its_settings(tmp_path, tiny_dataset):
    vocabulary = Vocabulary(tiny_dataset)
    user_ids, positives = positives_matrix(tiny_dataset, vocabulary)
    attributes = user_attribute_matrix(vocabulary, [[] for _ in user_ids])
    args = (tiny_dataset, vocabulary, user_ids, positives, attributes, TINY, tmp_path)
    first = obtain_model(*args)
    folder = next((tmp_path / "models").glob("tiny-relevance-reconet-*"))
    recorded = store.read_manifest(folder / store.MANIFEST_FILE)
    expected = {k: v for k, v in recorded.items() if k not in ("training", "created", store.CHECKSUM_KEY, store.ARRAYS_KEY)}
    short = dict(first.weights.to_arrays(), output_bias=first.weights.output_bias[:2])
    store.save(folder, expected, short, {})  # wrong shape with a matching checksum
    second = obtain_model(*args)
    assert second.trained_now and "shapes" in second.note
    assert second.weights.output_bias.shape == (vocabulary.n_items,)


@pytest.mark.parametrize("text", ["[]", "null", "7", "[" * 100_000 + "]" * 100_000, '{"format": '],
                         ids=["list", "null", "number", "deeply nested", "truncated"])
def test_a_damaged_manifest_is_rebuilt(tmp_path, text):
    train, calls = counting_trainer()
    store.obtain(tmp_path, manifest(), train)
    folder = store.model_dir(tmp_path, manifest())
    (folder / store.MANIFEST_FILE).write_text(text)
    again = store.obtain(tmp_path, manifest(), train)
    assert again.trained_now and "moved to" in again.note and len(calls) == 2


def test_a_cache_from_before_checksums_is_served_and_its_hash_recorded(tmp_path):
    folder = store.model_dir(tmp_path, manifest())
    store.save(folder, manifest(), weights().to_arrays(), {})
    path = folder / store.MANIFEST_FILE
    old = {k: v for k, v in json.loads(path.read_text()).items() if k not in (store.CHECKSUM_KEY, store.ARRAYS_KEY)}
    path.write_text(json.dumps(old))
    train, calls = counting_trainer()
    assert not store.obtain(tmp_path, manifest(), train).trained_now and not calls
    assert store.CHECKSUM_KEY in json.loads(path.read_text())
    rewrite_arrays(folder / store.WEIGHTS_FILE, _other_values)
    assert store.obtain(tmp_path, manifest(), train).trained_now  # from now on a change is caught


# ----- an unwritable cache is reported before training, in one sentence -----

def test_an_unwritable_cache_is_reported_before_training(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    train, calls = counting_trainer()
    with pytest.raises(CacheNotWritableError, match="cannot be written") as error:
        store.obtain(blocker / "cache", manifest(), train)
    assert not calls  # no training whose result could not be kept
    assert "CINEWHY_CACHE" in str(error.value) and str(blocker / "cache") in str(error.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write a read-only folder")
def test_a_read_only_cache_is_reported_before_training(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models").chmod(0o555)
    try:
        train, calls = counting_trainer()
        with pytest.raises(CacheNotWritableError):
            store.obtain(tmp_path, manifest(), train)
        assert not calls
    finally:
        (tmp_path / "models").chmod(0o755)


def test_a_damaged_model_in_a_read_only_cache_is_one_clear_error(tmp_path, monkeypatch):
    train, calls = counting_trainer()
    store.obtain(tmp_path, manifest(), train)
    (store.model_dir(tmp_path, manifest()) / store.MANIFEST_FILE).write_text("[]")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(store.os, "replace", read_only)  # as on a read-only file system
    with pytest.raises(CacheNotWritableError, match="Read-only file system"):
        store.obtain(tmp_path, manifest(), train)
    assert len(calls) == 1
