"""Finding libespeak-ng, the speech engine behind every voice in the app and its tests.

First the copy in the espeakng-loader wheel (a pip dependency: the library and its espeak-ng-data
arrive with `pip install`, no apt step), else the system's libespeak-ng. It is loaded with ctypes,
never run as the `espeak-ng` program, so a machine without that package still speaks.

The environment variable CINEWHY_ESPEAK=wheel or CINEWHY_ESPEAK=system allows only that source
(for tests, and to prefer a system install); unset, the wheel comes first.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

SOURCE_ENV = "CINEWHY_ESPEAK"
SOURCES = ("wheel", "system")
# Names the system's dynamic loader resolves (Linux, macOS, Windows).
SYSTEM_NAMES = ("libespeak-ng.so.1", "libespeak-ng.1.dylib", "libespeak-ng.dll")
# espeak-ng reads its data from $ESPEAK_DATA_PATH/espeak-ng-data when its caller passes no folder,
# which is what pyttsx3 does.
DATA_PATH_ENV = "ESPEAK_DATA_PATH"

MISSING = ("espeak-ng is needed for speech and was found neither in the espeakng-loader wheel "
           "(reinstall with `.venv/bin/pip install -e .`) nor on the system (apt install espeak-ng)")


class EspeakUnavailable(OSError):
    """No usable libespeak-ng; the message says what was tried."""


@dataclass(frozen=True)
class EspeakLibrary:
    source: str  # "wheel" or "system"
    name: str  # what was handed to the dynamic loader: a file path, or a library name it resolves
    data_parent: str | None  # the folder holding espeak-ng-data; None: the library's built-in default
    handle: ctypes.CDLL


_lock = threading.Lock()
_loaded: EspeakLibrary | None = None


def load() -> EspeakLibrary:
    """The process's libespeak-ng, loaded on the first call. RTLD_GLOBAL, and the wheel's file carries
    the soname libespeak-ng.so.1: pyttsx3's own dlopen("libespeak-ng.so.1") then returns this copy
    instead of looking for a system one. Raises EspeakUnavailable."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _first_loadable(_allowed_sources())
        return _loaded


def missing_reason() -> str | None:
    """Why speech cannot be synthesised here, or None when a library loads."""
    try:
        load()
    except EspeakUnavailable as error:
        return str(error)
    return None


def prepare_for_pyttsx3() -> EspeakLibrary:
    """Loads the library before pyttsx3 does, and tells espeak-ng where its data is (pyttsx3 passes
    no folder). An ESPEAK_DATA_PATH the user set is kept."""
    library = load()
    if library.data_parent is not None:
        os.environ.setdefault(DATA_PATH_ENV, library.data_parent)
    return library


def _allowed_sources() -> tuple[str, ...]:
    chosen = os.environ.get(SOURCE_ENV, "").strip().lower()
    if not chosen:
        return SOURCES
    if chosen not in SOURCES:
        raise EspeakUnavailable(f"{SOURCE_ENV}={chosen!r} is not one of {', '.join(SOURCES)}")
    return (chosen,)


def _first_loadable(sources: tuple[str, ...]) -> EspeakLibrary:
    tried = []
    for source in sources:
        finder = _from_wheel if source == "wheel" else _from_system
        try:
            return finder()
        except OSError as error:
            tried.append(f"{source}: {error}")
    raise EspeakUnavailable(f"{MISSING} ({'; '.join(tried)}).")


def _from_wheel() -> EspeakLibrary:
    try:
        import espeakng_loader
    except ImportError as error:
        raise OSError("the espeakng-loader package is not installed") from error
    library = Path(espeakng_loader.get_library_path())
    data = library.parent / "espeak-ng-data"
    if not (data / "phontab").is_file():
        raise OSError(f"no espeak-ng-data beside {library}")
    handle = ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)  # OSError when it cannot load
    return EspeakLibrary("wheel", str(library), str(data.parent), handle)


def _from_system() -> EspeakLibrary:
    names = [*SYSTEM_NAMES, *filter(None, [ctypes.util.find_library("espeak-ng")])]
    for name in names:
        try:
            return EspeakLibrary("system", name, None, ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL))
        except OSError:
            continue
    raise OSError(f"no libespeak-ng ({', '.join(SYSTEM_NAMES)})")


__all__ = ["EspeakLibrary", "EspeakUnavailable", "MISSING", "SOURCE_ENV", "load", "missing_reason",
           "prepare_for_pyttsx3"]
