"""A CI-sized pixel lens model on the real Fashion-MNIST catalogue, shared by the pixel lens's test
files: the brand shopper only, 60k fresh pairs, one epoch (the notes: ~30 s on one core; fewer pairs
did not learn the 5x5 mark). Trained once into the run's model cache ($CINEWHY_CACHE), so a test
process trains it at most once and later runs load it. Skips when Fashion-MNIST is not on disk."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from engine.errors import DataUnavailableError

CI_SHOPPERS = ("brand",)


@functools.cache
def _catalogues():
    from engine.data.product_catalogue import load_catalogues

    try:
        return load_catalogues(offline=True, cache_dir=cache_dir()), ""
    except DataUnavailableError as error:
        return None, str(error)


def cache_dir() -> Path:
    from engine.data.registry import default_cache_dir

    return Path(os.environ.get("CINEWHY_CACHE") or default_cache_dir())


def catalogues_or_skip():
    found, why = _catalogues()
    if found is None:
        pytest.skip(f"Fashion-MNIST is not on this machine (set CINEWHY_DATA to a folder holding fashion-mnist/): {why}")
    return found


def model_options() -> dict:
    """obtain_pixel_model / PixelExplainer options of the CI model (catalogues already loaded)."""
    from engine.models.relation_cnn import CI_CONFIG

    return {"config": CI_CONFIG, "shoppers": CI_SHOPPERS, "catalogues": catalogues_or_skip()}


@functools.cache
def _prepared():
    from engine.explain.pixel_explainer import PixelExplainer

    explainer = PixelExplainer(cache_dir=cache_dir(), offline=True, **model_options())
    explainer.prepare()
    return explainer


def ci_explainer():
    """The prepared PixelExplainer of the CI model (one per test process)."""
    catalogues_or_skip()
    return _prepared()
