"""Fashion-MNIST (Zalando Research, MIT licence): the product images of the pixel lens's catalogue.

Sources, in order; the first that has the four files wins:

1. an explicit folder (`path`, the command line's --fashion-data);
2. `$CINEWHY_DATA/fashion-mnist/` (CI points CINEWHY_DATA at ../shared/data);
3. the user cache, `<cache>/data/fashion-mnist/`;
4. the Debian package `dataset-fashion-mnist`, `/usr/share/datasets/fashion-mnist/`, where installed
   (its .gz headers differ from upstream's, so it is checked on the decompressed bytes);
5. the official download (Zalando's published files), checked against their known SHA-256 and
   unpacked into the cache. Never committed to the repository.

Each file may be plain or gzip-compressed. The data's fingerprint (SHA-256 over the decompressed
files) keys the model cache.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data import download
from engine.data.idx import IdxFormatError, read_idx
from engine.data.registry import DATA_ENV, default_cache_dir
from engine.errors import DataUnavailableError
from engine.progress import SILENT, TaskState

NAME = "fashion-mnist"
CLASS_NAMES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGE_SIDE = 28
SPLITS: tuple[str, ...] = ("train", "test")
# (images, labels) file names of each split, without ".gz".
FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}.gz"
# SHA-256 of the upstream .gz files (what the download must match) and of their decompressed
# content (what identifies the official data whatever the compression, e.g. Debian's copy).
GZ_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
PAYLOAD_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
HOW_TO_FIX = ("download the four .gz files from https://github.com/zalandoresearch/fashion-mnist "
              "(data/fashion/) or install the Debian package dataset-fashion-mnist, and pass their folder "
              "with --fashion-data PATH")


@dataclass(frozen=True, eq=False)
class FashionSplit:
    """One split: `images` (n, 28, 28) uint8 with 0 = background, `labels` (n,) uint8 class indices."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def floats(self, indices: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Images as float32 in [0, 1] (value / 255), only those asked for: the whole training set
        would take 188 MB as floats."""
        return self.images[indices].astype(np.float32) / np.float32(255)


@dataclass(frozen=True, eq=False)
class FashionMnist:
    train: FashionSplit
    test: FashionSplit
    class_names: tuple[str, ...]
    fingerprint: str  # SHA-256 over the four decompressed files, in FILES order
    official: bool  # the fingerprint is that of Zalando's release
    folder: Path
    source: str  # how the folder was found, for the about box and the manifest

    def split(self, name: str) -> FashionSplit:
        return {"train": self.train, "test": self.test}[name]


def official_fingerprint() -> str:
    return _combine([PAYLOAD_SHA256[name] for split in SPLITS for name in FILES[split]])


def _combine(digests: list[str]) -> str:
    return hashlib.sha256("\n".join(digests).encode("ascii")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Loading one folder


def has_files(folder: Path) -> bool:
    """Whether `folder` holds all four files, plain or .gz."""
    return all(_find(folder, name) is not None for split in SPLITS for name in FILES[split])


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_folder(folder: str | Path, source: str = "given folder") -> FashionMnist:
    """Read and check the four files in `folder`. Raises DataUnavailableError when one is missing,
    IdxFormatError (a DataFormatError) when one is malformed or labels and images disagree."""
    folder = Path(folder)
    missing = [name for split in SPLITS for name in FILES[split] if _find(folder, name) is None]
    if missing:
        raise DataUnavailableError(
            f"The folder {folder} has no Fashion-MNIST file {missing[0]} (or {missing[0]}.gz). To fix: {HOW_TO_FIX}."
        )
    digests: list[str] = []
    splits: dict[str, FashionSplit] = {}
    for split in SPLITS:
        image_path, label_path = (_find(folder, name) for name in FILES[split])
        images = read_idx(image_path, type_code=0x08, shape=(None, IMAGE_SIDE, IMAGE_SIDE))
        labels = read_idx(label_path, type_code=0x08, shape=(None,))
        if len(labels) != len(images):
            raise IdxFormatError(label_path, f"one label per image of {image_path.name} ({len(images):,})",
                                 f"{len(labels):,} labels")
        if labels.size and labels.max() >= len(CLASS_NAMES):
            raise IdxFormatError(label_path, f"class labels from 0 to {len(CLASS_NAMES) - 1}",
                                 f"label {int(labels.max())}")
        digests += [_idx_digest(images), _idx_digest(labels)]
        splits[split] = FashionSplit(images, labels)
    fingerprint = _combine(digests)
    return FashionMnist(splits["train"], splits["test"], CLASS_NAMES, fingerprint,
                        fingerprint == official_fingerprint(), folder, source)


def _idx_digest(array: np.ndarray) -> str:
    """SHA-256 of the decompressed IDX file that holds the uint8 `array`: header, then the values
    (equal to `sha256sum` of the unpacked file, so it can be compared with SOURCE.md)."""
    digest = hashlib.sha256(bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape))
    digest.update(np.ascontiguousarray(array))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Finding the data


def load_fashion_mnist(
    path: str | Path | None = None,
    *,
    state: TaskState = SILENT,
    offline: bool = False,
    cache_dir: str | Path | None = None,
) -> FashionMnist:
    """Fashion-MNIST from the first source that has it (see the module's docstring).

    Raises DataUnavailableError when no source has it (naming each one tried and why), a
    DataFormatError when a found file is malformed, Cancelled on cancel.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    state.progress(0.0, "Looking for Fashion-MNIST")
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            what = "is a file, not a folder" if folder.exists() else "does not exist"
            raise DataUnavailableError(f"The Fashion-MNIST folder {folder} {what}. To fix: {HOW_TO_FIX}.")
        if not has_files(folder) and has_files(folder / NAME):
            folder = folder / NAME
        return _read(folder, "given folder", state)

    tried: list[str] = []
    root = os.environ.get(DATA_ENV)
    if root:
        folder = Path(root).expanduser() / NAME
        if has_files(folder):
            return _read(folder, f"${DATA_ENV}", state)
        tried.append(f"${DATA_ENV}={root}: no {NAME}/ folder with the four files")
    else:
        tried.append(f"${DATA_ENV}: not set")

    cached = cache / "data" / NAME
    if has_files(cached):
        return _read(cached, "cache", state)
    tried.append(f"the cache folder {cached}: no data there")

    debian = DEBIAN_FOLDER
    if has_files(debian):
        dataset = _read(debian, "Debian package dataset-fashion-mnist", state)
        if dataset.official:
            return dataset
        tried.append(f"{debian}: its content is not Zalando's release (checksums differ)")
    else:
        tried.append(f"the Debian package dataset-fashion-mnist ({debian}): not installed")

    if offline:
        tried.append("the official download: skipped (offline)")
    else:
        try:
            folder = fetch_official(cache / "data", state.sub(0.0, 0.9))
            return _read(folder, "downloaded from Zalando Research", state)
        except download.FetchFailed as failure:
            tried.append(f"the official download: {failure}")
    raise DataUnavailableError(f"No Fashion-MNIST data found. Tried {'; '.join(tried)}. To fix: {HOW_TO_FIX}.")


def _read(folder: Path, how: str, state: TaskState) -> FashionMnist:
    state.progress(0.9, f"Reading Fashion-MNIST from {folder}")
    dataset = load_folder(folder, how)
    state.progress(1.0, "Loaded Fashion-MNIST")
    return dataset


def fetch_official(data_dir: Path, state: TaskState = SILENT) -> Path:
    """Download the four upstream .gz files into `data_dir/fashion-mnist/`, each checked against its
    known SHA-256; written to a temporary folder and moved into place only when all four are good."""
    data_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".partial-{NAME}-", dir=data_dir))
    try:
        names = [name for split in SPLITS for name in FILES[split]]
        for number, name in enumerate(names):
            target = staged / f"{name}.gz"
            url = DOWNLOAD_URL.format(name=name)
            download.download_file(url, target, state.sub(number / len(names), (number + 1) / len(names)))
            if download.file_digest(target, "sha256") != GZ_SHA256[name]:
                raise download.FetchFailed(f"{url} did not match the published Fashion-MNIST checksum")
        final = data_dir / NAME
        download.install_folder(staged, final)
        return final
    finally:
        shutil.rmtree(staged, ignore_errors=True)
