"""Errors the engine raises for problems a user can fix. Each message names the problem and the remedy."""
from __future__ import annotations

from pathlib import Path


class EngineError(Exception):
    """Base class: a problem reported to the user as one clear sentence, never a traceback."""


class DataFormatError(EngineError):
    """A data file does not have the shape its loader expects."""

    def __init__(self, path: Path | str, line: int | None, expected: str, found: str = ""):
        self.path = Path(path)
        self.line = line
        self.expected = expected
        self.found = found
        where = f"{self.path.name}" + (f", line {line}" if line is not None else "")
        detail = f": expected {expected}" + (f", found {found}" if found else "")
        super().__init__(f"{where}{detail} ({self.path}). Check that the file is an unmodified MovieLens file.")


class DataUnavailableError(EngineError):
    """No source could provide the dataset."""


class InvalidInputError(EngineError):
    """A call or a command-line argument names something that does not exist or is out of range."""


class LensUnavailableError(EngineError):
    """An explanation lens that this build of the engine does not provide yet."""


class ModelFileError(EngineError):
    """A cached model file is unreadable or does not match its manifest."""


class CacheNotWritableError(EngineError):
    """The cache folder cannot be written, so a model cannot be saved or a damaged one replaced."""

    def __init__(self, folder: Path | str, error: OSError, consequence: str):
        self.folder = Path(folder)
        reason = error.strerror or type(error).__name__
        super().__init__(
            f"The cache folder {self.folder} cannot be written ({reason}), so {consequence}: fix its permissions "
            f"or point CINEWHY_CACHE (or --cache-dir) at a writable folder."
        )


class Cancelled(EngineError):
    """Long work stopped because the user asked for it."""
