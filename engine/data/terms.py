"""The MovieLens terms of use, shown once, the first time this installation uses MovieLens data."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

CITATION = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. "
    "ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19."
)

_MARKER = "movielens-terms-shown"


def terms_notice() -> str:
    return (
        "This program uses the MovieLens data sets of the GroupLens Research Project, University of "
        "Minnesota (https://grouplens.org/datasets/movielens/). GroupLens's terms: use them for research "
        "only; do not state or imply endorsement by the University of Minnesota or GroupLens; do not "
        "redistribute the data without separate permission; no commercial or revenue-bearing use without "
        "permission from a faculty member of the GroupLens Research Project; acknowledge the data in any "
        f"publication, citing: {CITATION}"
    )


def show_terms_once(cache_dir: str | Path, printer: Callable[[str], None] = print) -> bool:
    """Print the notice unless a marker in `cache_dir` says it was shown before; True when printed."""
    marker = Path(cache_dir) / _MARKER
    if marker.exists():
        return False
    printer(terms_notice())
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("The MovieLens terms notice was shown.\n", encoding="utf-8")
    except OSError:
        pass  # a read-only cache only means the notice shows again next time
    return True
