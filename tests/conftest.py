"""Session-wide test environment: Qt without a screen, the shared MovieLens data when it is beside the
repository, and a throw-away model cache so that tests never write into the user's real cache."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if not os.environ.get("CINEWHY_DATA") and _SHARED_DATA.is_dir():
    os.environ["CINEWHY_DATA"] = str(_SHARED_DATA)

# One cache for the whole run, so a model trained by one test is reused by the next. Set at import
# (before any test module is collected) and only when the caller has not chosen a cache.
_SESSION_CACHE: str | None = None
if not os.environ.get("CINEWHY_CACHE"):
    _SESSION_CACHE = tempfile.mkdtemp(prefix="cinewhy-test-cache-")
    os.environ["CINEWHY_CACHE"] = _SESSION_CACHE


def pytest_unconfigure(config) -> None:
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)
