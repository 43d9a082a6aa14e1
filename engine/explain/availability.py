"""Each lens's cheap availability check, apart from its explainer so that asking imports no model code.

The app asks every lens at start-up (Engine.lenses()); these functions look at the dataset or for
files and import nothing heavy. The registry (engine.lenses.AVAILABILITY) names them; each explainer's
`unavailable_reason` answers through the same function, so the two can never disagree.
"""
from __future__ import annotations

import os
from pathlib import Path


def always(dataset=None) -> str | None:
    """A lens that works on every dataset (relevance: it explains the engine's own recommender)."""
    return None


def influence(dataset) -> str | None:
    if len(dataset.interactions) == 0:
        return f"{dataset.name} has no ratings to learn from, so no rating can be traced back."
    return None


def experts(dataset) -> str | None:
    if len(dataset.interactions) == 0:
        return f"{dataset.name} has no ratings to learn from, so no expert can be trained."
    return None


def fashion_mnist_folders(cache_dir: Path | None = None) -> list[Path]:
    """Where the data search looks without downloading ($CINEWHY_DATA, the cache, Debian's package)."""
    from engine.data.fashion_mnist import DATA_ENV, DEBIAN_FOLDER, NAME
    from engine.data.registry import default_cache_dir

    folders = []
    root = os.environ.get(DATA_ENV)
    if root:
        folders.append(Path(root).expanduser() / NAME)
    folders.append(Path(cache_dir or default_cache_dir()) / "data" / NAME)
    folders.append(DEBIAN_FOLDER)
    return folders


def pixels(dataset=None) -> str | None:
    """None when Fashion-MNIST lies in a folder the search reads without downloading; a cheap
    existence check (the app asks at start-up)."""
    from engine.data.fashion_mnist import has_files

    folders = fashion_mnist_folders()
    if any(has_files(folder) for folder in folders):
        return None
    return ("The pixel lens needs Fashion-MNIST, which was not found: put its four files in "
            f"{folders[0]} "
            "or run `python -m engine heatmap` once to download it.")
