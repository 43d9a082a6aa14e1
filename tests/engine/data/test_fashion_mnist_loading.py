"""Finding and reading Fashion-MNIST: small crafted folders for the rules (sources in order, checks,
fingerprint, the download checked and staged), the real data for shapes and counts when present."""
import gzip
import hashlib
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.data import download, fashion_mnist
from engine.data.fashion_mnist import CLASS_NAMES, FILES, load_fashion_mnist, load_folder
from engine.data.idx import IdxFormatError
from engine.errors import DataUnavailableError

# Read before the data conftest's autouse fixture removes it from the environment.
REAL_ROOT = os.environ.get("CINEWHY_DATA")


def idx(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_folder(folder: Path, n_train=12, n_test=5, gz=True, seed=0, **replace: bytes) -> Path:
    """A Fashion-MNIST-shaped folder of random images; `replace` swaps a file's bytes (by name with _)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        image_name, label_name = FILES[split]
        contents = {image_name: idx(rng.integers(0, 256, (n, 28, 28))), label_name: idx(np.arange(n) % 10)}
        for name, data in contents.items():
            data = replace.get(name.replace("-", "_"), data)
            (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
    return folder


def test_a_folder_reads_with_shapes_labels_and_class_names(tmp_path):
    dataset = load_folder(write_folder(tmp_path / "f"))
    assert dataset.train.images.shape == (12, 28, 28) and dataset.train.images.dtype == np.uint8
    assert dataset.test.labels.tolist() == [0, 1, 2, 3, 4]
    assert dataset.class_names == CLASS_NAMES and len(CLASS_NAMES) == 10
    floats = dataset.test.floats([0, 2])
    assert floats.dtype == np.float32 and floats.shape == (2, 28, 28)
    np.testing.assert_allclose(floats * 255, dataset.test.images[[0, 2]])
    assert not dataset.official


def test_plain_and_gzip_folders_have_the_same_fingerprint_and_a_pixel_changes_it(tmp_path):
    plain = load_folder(write_folder(tmp_path / "plain", gz=False))
    packed = load_folder(write_folder(tmp_path / "gz", gz=True))
    assert plain.fingerprint == packed.fingerprint
    other = load_folder(write_folder(tmp_path / "other", seed=1))
    assert other.fingerprint != plain.fingerprint


def test_the_fingerprint_is_the_digest_of_the_decompressed_files(tmp_path):
    folder = write_folder(tmp_path / "f", gz=True)
    digests = [hashlib.sha256(gzip.decompress((folder / f"{name}.gz").read_bytes())).hexdigest()
               for split in ("train", "test") for name in FILES[split]]
    expected = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    assert load_folder(folder).fingerprint == expected


def test_labels_that_do_not_match_the_images_are_one_clear_error(tmp_path):
    folder = write_folder(tmp_path / "f", t10k_labels_idx1_ubyte=idx(np.arange(4)))
    with pytest.raises(IdxFormatError, match=r"t10k-labels-idx1-ubyte.gz: expected one label per image.*\(5\), found 4"):
        load_folder(folder)
    folder = write_folder(tmp_path / "g", t10k_labels_idx1_ubyte=idx(np.array([0, 1, 2, 3, 10])))
    with pytest.raises(IdxFormatError, match="class labels from 0 to 9, found label 10"):
        load_folder(folder)


def test_images_of_another_size_are_refused(tmp_path):
    folder = write_folder(tmp_path / "f", train_images_idx3_ubyte=idx(np.zeros((12, 32, 32))))
    with pytest.raises(IdxFormatError, match="shape any×28×28, found 12×32×32"):
        load_folder(folder)


def test_a_missing_file_is_named(tmp_path):
    folder = write_folder(tmp_path / "f")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataUnavailableError, match="no Fashion-MNIST file train-labels-idx1-ubyte"):
        load_fashion_mnist(folder, offline=True, cache_dir=tmp_path / "cache")


def test_sources_in_order_explicit_environment_cache_debian(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", tmp_path / "usr-share")
    cache = tmp_path / "cache"
    explicit = write_folder(tmp_path / "explicit", seed=1)
    write_folder(tmp_path / "env" / "fashion-mnist", seed=2)
    write_folder(cache / "data" / "fashion-mnist", seed=3)
    monkeypatch.setenv("CINEWHY_DATA", str(tmp_path / "env"))
    assert load_fashion_mnist(explicit, offline=True, cache_dir=cache).folder == explicit
    assert load_fashion_mnist(tmp_path / "env", offline=True, cache_dir=cache).source == "given folder"
    assert load_fashion_mnist(offline=True, cache_dir=cache).source == "$CINEWHY_DATA"
    monkeypatch.delenv("CINEWHY_DATA")
    assert load_fashion_mnist(offline=True, cache_dir=cache).source == "cache"
    shutil.rmtree(cache)
    debian = write_folder(tmp_path / "usr-share", seed=4)
    fingerprint = load_folder(debian).fingerprint
    monkeypatch.setattr(fashion_mnist, "official_fingerprint", lambda: fingerprint)
    assert load_fashion_mnist(offline=True, cache_dir=cache).source == "Debian package dataset-fashion-mnist"


def test_nothing_found_offline_names_every_source_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", write_folder(tmp_path / "usr-share"))  # not official
    monkeypatch.setenv("CINEWHY_DATA", str(tmp_path / "nothing"))
    with pytest.raises(DataUnavailableError) as caught:
        load_fashion_mnist(offline=True, cache_dir=tmp_path / "cache")
    message = str(caught.value)
    for part in ("$CINEWHY_DATA=", "the cache folder", "not Zalando's release", "download: skipped (offline)",
                 "--fashion-data PATH"):
        assert part in message


def test_an_explicit_path_that_is_no_folder_is_one_sentence(tmp_path):
    with pytest.raises(DataUnavailableError, match="does not exist"):
        load_fashion_mnist(tmp_path / "absent")


def _serve(source: Path):
    def fake_download(url, target, state=None, timeout=None):
        shutil.copyfile(source / url.rsplit("/", 1)[-1], target)
    return fake_download


def test_the_download_is_checked_and_lands_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", tmp_path / "usr-share")
    served = write_folder(tmp_path / "server")
    monkeypatch.setattr(download, "download_file", _serve(served))
    monkeypatch.setattr(fashion_mnist, "GZ_SHA256", {
        name: download.file_digest(served / f"{name}.gz", "sha256") for split in ("train", "test") for name in FILES[split]})
    cache = tmp_path / "cache"
    dataset = load_fashion_mnist(cache_dir=cache)
    assert dataset.source == "downloaded from Zalando Research"
    assert dataset.folder == cache / "data" / "fashion-mnist" and len(dataset.train) == 12
    assert load_fashion_mnist(cache_dir=cache, offline=True).source == "cache"


def test_a_download_with_the_wrong_checksum_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", tmp_path / "usr-share")
    monkeypatch.setattr(download, "download_file", _serve(write_folder(tmp_path / "server")))
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="did not match the published Fashion-MNIST checksum"):
        load_fashion_mnist(cache_dir=cache)
    assert not (cache / "data" / "fashion-mnist").exists()
    assert [p.name for p in (cache / "data").iterdir()] == []


REAL = Path(REAL_ROOT) / "fashion-mnist" if REAL_ROOT else None


@pytest.mark.skipif(REAL is None or not fashion_mnist.has_files(REAL),
                    reason="the real Fashion-MNIST is not under $CINEWHY_DATA/fashion-mnist")
def test_the_real_data_has_its_published_shapes_counts_and_checksums():
    dataset = load_folder(REAL)
    assert dataset.official and dataset.fingerprint == fashion_mnist.official_fingerprint()
    assert dataset.train.images.shape == (60_000, 28, 28) and dataset.test.images.shape == (10_000, 28, 28)
    assert np.bincount(dataset.train.labels).tolist() == [6_000] * 10
    assert np.bincount(dataset.test.labels).tolist() == [1_000] * 10
    assert dataset.test.images.dtype == np.uint8 and dataset.test.images.max() == 255
