"""Session-wide test environment: Qt without a screen, MovieLens found the way the app finds it, a
throw-away model cache so that tests never write models into the user's real cache, and a summary of
why tests were skipped at the end of the run."""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from engine.data import registry
from engine.errors import EngineError

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# MovieLens comes from where the app takes it (engine.data.registry): $CINEWHY_DATA, else the app's
# cache, else fetched into that cache (GroupLens, then the copy in the recbole wheel). The cache is
# the caller's $CINEWHY_CACHE or the user's, read before the session's model cache replaces it, so
# that a fresh clone finds what the app has already put there, and the app what the tests fetched.
DATA_CACHE = registry.default_cache_dir()

# One cache for the whole run, so a model trained by one test is reused by the next. Set at import
# (before any test module is collected) and only when the caller has not chosen a cache.
_SESSION_CACHE: str | None = None
if not os.environ.get(registry.CACHE_ENV):
    _SESSION_CACHE = tempfile.mkdtemp(prefix="cinewhy-test-cache-")
    os.environ[registry.CACHE_ENV] = _SESSION_CACHE


@functools.cache
def find_ml100k(offline: bool) -> tuple[Path | None, str]:
    """(the ml-100k folder, how) or (None, why not). Found, it is also exported as $CINEWHY_DATA
    (the folder above it), so that tests and the command-line runs they start read the same copy."""
    try:
        folder = registry.find_folder("ml-100k", offline=offline, cache_dir=DATA_CACHE)
    except EngineError as error:
        return None, str(error)
    if folder.name == "ml-100k":
        os.environ[registry.DATA_ENV] = str(folder.parent)
    return folder, "found"


def pytest_configure(config) -> None:
    # Without the network first (the environment, the cache, an already fetched wheel): instant, and
    # done before test modules are imported, so every module sees the same $CINEWHY_DATA.
    find_ml100k(offline=True)


@pytest.fixture(scope="session")
def ml100k_folder() -> Path:
    """The MovieLens 100k folder; fetched, as the app would, the first time a test needs it and no
    local source has it. Skips, saying why, only when no source at all has it."""
    folder, why = find_ml100k(offline=True)
    if folder is None:
        folder, why = find_ml100k(offline=False)
    if folder is None:
        pytest.skip(f"MovieLens 100k is not available: {why}")
    return folder


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Every skip reason with its count, in the run's last lines, so that a skip is never missed."""
    reasons = Counter(_skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    if not reasons:
        return
    terminalreporter.section(f"{sum(reasons.values())} skipped, by reason", sep="-")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:5d} x {reason}")


def _skip_reason(report) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


def pytest_unconfigure(config) -> None:
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)
