"""Finding a dataset by name. Sources, in order; the first that has the data wins:

1. an explicit folder (`path`, the command line's --data);
2. the folder named by the environment variable CINEWHY_DATA (CI points it at ../shared/data);
3. the user cache, `<cache>/data/<name>/`;
4. the official GroupLens download (not when offline);
5. for ml-100k, the copy inside the PyPI wheel of recbole 1.2.1 (offline: only an already cached wheel).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable

import platformdirs

from engine.data import download
from engine.data.movielens import detect_layout, load_folder
from engine.data.parsed_cache import load_parsed
from engine.data.terms import show_terms_once
from engine.data.types import Dataset
from engine.errors import DataUnavailableError, InvalidInputError
from engine.progress import SILENT, TaskState

KNOWN_DATASETS: tuple[str, ...] = ("ml-100k", "ml-1m")
DATA_ENV = "CINEWHY_DATA"
CACHE_ENV = "CINEWHY_CACHE"

# Subfolders of the CINEWHY_DATA folder that may hold each dataset, best first.
ENV_SUBFOLDERS: dict[str, tuple[str, ...]] = {
    "ml-100k": ("ml-100k",),
    "ml-1m": ("ml-1m", "ml-1m-ratings-reindexed"),
}


def default_cache_dir() -> Path:
    """$CINEWHY_CACHE if set, else the platform's user cache folder for cinewhy."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir("cinewhy"))


def how_to_fix(name: str) -> str:
    return (f"download {name}.zip from https://grouplens.org/datasets/movielens/ , unzip it, "
            "and pass its folder with --data PATH")


def load_dataset(
    name: str,
    path: str | Path | None = None,
    *,
    state: TaskState = SILENT,
    offline: bool = False,
    cache_dir: str | Path | None = None,
    on_first_use: Callable[[str], None] | None = None,
) -> Dataset:
    """Load MovieLens `name` ("ml-100k" or "ml-1m") from the first source that has it.

    Raises InvalidInputError for an unknown name, DataUnavailableError when no source has the data
    (or `path` holds none), DataFormatError when a found file is malformed, Cancelled on cancel.
    `on_first_use` receives the MovieLens terms notice the first time this cache is used.
    """
    if name not in KNOWN_DATASETS:
        raise InvalidInputError(f"Unknown dataset {name!r}; known datasets: {', '.join(KNOWN_DATASETS)}.")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    dataset = _find(name, path, state, offline, cache)
    if on_first_use is not None:
        show_terms_once(cache, on_first_use)
    return dataset


def find_folder(
    name: str,
    *,
    state: TaskState = SILENT,
    offline: bool = False,
    cache_dir: str | Path | None = None,
) -> Path:
    """The folder `load_dataset(name)` would read, found (or fetched into the cache) the same way; for
    callers that hand the folder on, such as the tests. Raises as load_dataset does."""
    if name not in KNOWN_DATASETS:
        raise InvalidInputError(f"Unknown dataset {name!r}; known datasets: {', '.join(KNOWN_DATASETS)}.")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return _locate(name, None, state, offline, cache)[0]


def _find(name: str, path: str | Path | None, state: TaskState, offline: bool, cache: Path) -> Dataset:
    folder, how = _locate(name, path, state, offline, cache)
    return _load(folder, name, how, state, cache)


def _locate(name: str, path: str | Path | None, state: TaskState, offline: bool, cache: Path) -> tuple[Path, str]:
    """(the folder holding `name`, how it was found), from the first source that has it."""
    state.progress(0.0, f"Looking for {name}")
    if path is not None:
        return _explicit_folder(name, Path(path).expanduser()), "given folder"

    tried: list[str] = []
    env_folder = _env_folder(name, tried)
    if env_folder is not None:
        return env_folder, f"${DATA_ENV}"

    cached = cache / "data" / name
    if cached.is_dir() and detect_layout(cached, name) is not None:
        return cached, "cache"
    tried.append(f"the cache folder {cached}: no data there")

    if offline:
        tried.append("the GroupLens download: skipped (offline)")
    else:
        try:
            return download.fetch_grouplens(name, cache / "data", state.sub(0.0, 0.9)), "downloaded from GroupLens"
        except download.FetchFailed as failure:
            tried.append(f"the GroupLens download: {failure}")

    if name == "ml-100k":
        try:
            folder = download.fetch_recbole_ml100k(cache, state.sub(0.0, 0.9), offline=offline)
            return folder, f"the MovieLens copy in the PyPI wheel {download.RECBOLE_REQUIREMENT}"
        except download.FetchFailed as failure:
            tried.append(f"the copy in the PyPI wheel {download.RECBOLE_REQUIREMENT}: {failure}")

    raise DataUnavailableError(
        f"No {name} data found. Tried {'; '.join(tried)}. To fix: {how_to_fix(name)}."
    )


def _explicit_folder(name: str, folder: Path) -> Path:
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataUnavailableError(f"The data folder {folder} {what}. To fix: {how_to_fix(name)}.")
    if detect_layout(folder, name) is None and detect_layout(folder / name, name) is None:
        for other in KNOWN_DATASETS:
            if other != name and detect_layout(folder, other) is not None:
                raise DataUnavailableError(
                    f"The data folder {folder} holds {other}, not {name}; ask for {other} or pass a {name} folder."
                )
    return folder  # load_folder names the files it looked for when none is there


def _env_folder(name: str, tried: list[str]) -> Path | None:
    root = os.environ.get(DATA_ENV)
    if not root:
        tried.append(f"${DATA_ENV}: not set")
        return None
    base = Path(root).expanduser()
    for sub in ENV_SUBFOLDERS[name]:
        candidate = base / sub
        if candidate.is_dir() and detect_layout(candidate, name) is not None:
            return candidate
    tried.append(f"${DATA_ENV}={root}: no {' or '.join(s + '/' for s in ENV_SUBFOLDERS[name])} folder with data")
    return None


def _load(folder: Path, name: str, how: str, state: TaskState, cache: Path) -> Dataset:
    state.progress(0.9, f"Reading {name} from {folder}")
    dataset = load_parsed(folder, name, cache, lambda: load_folder(folder, name))
    state.progress(1.0, f"Loaded {name}")
    return dataclasses.replace(dataset, source=f"{dataset.source} ({how})")
