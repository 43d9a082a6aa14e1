"""Fetching MovieLens into the user cache: the official GroupLens archives, and, for ml-100k, the copy
inside the PyPI wheel of recbole 1.2.1 (fetched with `pip download`, read from the zip, never installed).

Everything is written to a temporary folder next to its destination and moved into place with
os.replace at the end, so a failure or a cancellation leaves nothing half-written.
Failures raise FetchFailed with a short reason; `Cancelled` (from the TaskState) passes through.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from engine.progress import SILENT, TaskState

CONNECT_TIMEOUT_S = 5.0

# GroupLens publishes an .md5 file next to each archive.
GROUPLENS_ARCHIVES: dict[str, tuple[str, str]] = {
    "ml-100k": ("https://files.grouplens.org/datasets/movielens/ml-100k.zip", "0e33842e24a9c977be4e0107933c0723"),
    "ml-1m": ("https://files.grouplens.org/datasets/movielens/ml-1m.zip", "c4d9eecfca2ab87c1945afe126590906"),
}

RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_ML100K_FOLDER = "recbole/dataset_example/ml-100k/"
RECBOLE_ML100K_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")
PIP_TIMEOUT_S = 120.0


class FetchFailed(Exception):
    """One source could not provide the data; the message says why, in a few words."""


# ---------------------------------------------------------------------------------------------
# Network and subprocess: the two functions tests replace


def download_file(url: str, target: Path, state: TaskState = SILENT, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Stream `url` into `target`, reporting progress. Raises FetchFailed on any network problem."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            name = url.rsplit("/", 1)[-1]
            while True:
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                fraction = done / total if total else 0.0
                state.progress(fraction, f"Downloading {name}: {done / 1e6:.1f}" + (f" of {total / 1e6:.1f} MB" if total else " MB"))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:  # timeouts are OSErrors
        reason = getattr(error, "reason", error)
        raise FetchFailed(f"could not download {url} ({reason})") from error


def run_pip_download(requirement: str, dest: Path, state: TaskState = SILENT, timeout: float = PIP_TIMEOUT_S) -> None:
    """`pip download --no-deps` one wheel into `dest`; the user can cancel while it runs."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", requirement, "-d", str(dest)]
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as error:
            raise FetchFailed(f"could not run pip ({error})") from error
        started = time.monotonic()
        try:
            while process.poll() is None:
                state.check_cancelled()
                if time.monotonic() - started > timeout:
                    raise FetchFailed(f"pip download {requirement} took longer than {timeout:.0f} s")
                time.sleep(0.1)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            log.seek(0)
            lines = log.read().decode("utf-8", "replace").strip().splitlines()
            raise FetchFailed(f"pip download {requirement} failed ({lines[-1] if lines else 'no output'})")


# ---------------------------------------------------------------------------------------------
# Helpers


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_folder(staged: Path, final: Path) -> None:
    """Move a fully written folder into place; whatever was at `final` before is removed."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(staged, final)
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _extract(archive: zipfile.ZipFile, members: dict[str, str], folder: Path) -> None:
    """Write archive member -> file name pairs into `folder` (file names only: no paths from the zip)."""
    for member, filename in members.items():
        with archive.open(member) as source, open(folder / filename, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)


# ---------------------------------------------------------------------------------------------
# Sources


def fetch_grouplens(name: str, data_dir: Path, state: TaskState = SILENT) -> Path:
    """Download GroupLens's `<name>.zip`, check its MD5, unpack it into `data_dir/<name>/`."""
    url, md5 = GROUPLENS_ARCHIVES[name]
    data_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".partial-{name}-", dir=data_dir))
    try:
        archive_path = staged / f"{name}.zip"
        download_file(url, archive_path, state.sub(0.0, 0.9))
        if file_digest(archive_path, "md5") != md5:
            raise FetchFailed(f"{url} did not match GroupLens's published MD5 checksum")
        state.progress(0.9, f"Unpacking {name}.zip")
        unpacked = staged / name
        unpacked.mkdir()
        try:
            with zipfile.ZipFile(archive_path) as archive:
                # The archive holds one folder, <name>/, of plain files.
                members = {info.filename: info.filename.rsplit("/", 1)[-1] for info in archive.infolist()
                           if not info.is_dir() and info.filename.count("/") <= 1}
                members = {m: f for m, f in members.items() if f and not f.startswith(".")}
                _extract(archive, members, unpacked)
        except (zipfile.BadZipFile, OSError) as error:
            raise FetchFailed(f"could not unpack {name}.zip ({error})") from error
        state.progress(0.98, f"Unpacked {name}")
        final = data_dir / name
        install_folder(unpacked, final)
        return final
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def fetch_recbole_ml100k(cache_dir: Path, state: TaskState = SILENT, offline: bool = False) -> Path:
    """ml-100k from the recbole 1.2.1 wheel: fetched once into `<cache>/wheels/`, its three atomic
    files unpacked into `<cache>/data/ml-100k/`. Offline, only an already cached wheel is used."""
    wheel = ensure_recbole_wheel(cache_dir, state.sub(0.0, 0.8), offline)
    data_dir = cache_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".partial-ml-100k-", dir=data_dir))
    try:
        state.progress(0.85, "Unpacking MovieLens 100k from the recbole wheel")
        try:
            with zipfile.ZipFile(wheel) as archive:
                _extract(archive, {RECBOLE_ML100K_FOLDER + f: f for f in RECBOLE_ML100K_FILES}, staged)
        except (zipfile.BadZipFile, KeyError, OSError) as error:
            raise FetchFailed(f"could not read MovieLens 100k from {wheel.name} ({error})") from error
        final = data_dir / "ml-100k"
        install_folder(staged, final)
        return final
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def ensure_recbole_wheel(cache_dir: Path, state: TaskState = SILENT, offline: bool = False) -> Path:
    """The verified recbole wheel in `<cache>/wheels/`, fetched with pip unless offline."""
    wheels = cache_dir / "wheels"
    wheel = wheels / RECBOLE_WHEEL
    if wheel.is_file():
        if file_digest(wheel, "sha256") == RECBOLE_WHEEL_SHA256:
            return wheel
        wheel.unlink()  # a damaged or foreign file: fetch it again
    if offline:
        raise FetchFailed(f"offline, and no {RECBOLE_WHEEL} in {wheels}")
    wheels.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".partial-wheel-", dir=wheels))
    try:
        state.progress(0.0, f"Fetching {RECBOLE_REQUIREMENT} from PyPI (for its copy of MovieLens 100k)")
        run_pip_download(RECBOLE_REQUIREMENT, staged, state)
        fetched = staged / RECBOLE_WHEEL
        if not fetched.is_file():
            raise FetchFailed(f"pip download did not produce {RECBOLE_WHEEL}")
        if file_digest(fetched, "sha256") != RECBOLE_WHEEL_SHA256:
            raise FetchFailed(f"{RECBOLE_WHEEL} from PyPI did not match its known SHA-256")
        os.replace(fetched, wheel)
        state.progress(1.0, f"Fetched {RECBOLE_WHEEL}")
        return wheel
    finally:
        shutil.rmtree(staged, ignore_errors=True)
