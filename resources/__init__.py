"""Small files the app ships with: the style sheet, and later icons, speech grammars and defaults."""
from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """The path of a shipped resource file, e.g. resource_path("style.qss")."""
    return FOLDER / name


def read_text(name: str) -> str:
    return resource_path(name).read_text(encoding="utf-8")
