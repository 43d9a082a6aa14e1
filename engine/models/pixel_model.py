"""The pixel lens's trained relation model over the product catalogue: Fashion-MNIST found like the
other data, the brand marks planted, both shoppers' pairs drawn afresh every epoch from the training
images, trained once and cached with the catalogue's manifest (files, marks, rules) in the store.

Training imports torch (through engine.models.relation_cnn); import this module only to train,
explain or export, never on the app's start-up path.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from engine.data.product_catalogue import (
    SHOPPERS,
    TRAIN_PAIRS_PER_SHOPPER,
    ProductCatalogue,
    catalogue_manifest,
    load_catalogues,
    sample_pairs,
)
from engine.errors import InvalidInputError
from engine.models import store
from engine.models.relation_cnn import APP_CONFIG, PairArrays, RelationCNN, RelationCNNConfig, obtain_relation_model
from engine.progress import SILENT, TaskState

DATASET = "fashion-mnist"
LOADING_SHARE = 0.1  # of the progress bar: finding and reading the images (training is the rest)


class PixelModel(NamedTuple):
    """The relation model with the catalogues it was trained (train) and is explained (test) on.
    Unpacks as (module, (train, test), cached)."""

    module: RelationCNN
    catalogues: tuple[ProductCatalogue, ProductCatalogue]
    cached: store.CachedModel

    @property
    def note(self) -> str:
        """What the user should know about the cache (e.g. a damaged file replaced); '' when nothing."""
        return self.cached.note

    @property
    def trained_now(self) -> bool:
        return self.cached.trained_now


def epoch_pairs(train: ProductCatalogue, epoch: int, *, seed: int = 0,
                pairs_per_shopper: int = TRAIN_PAIRS_PER_SHOPPER,
                shoppers: tuple[str, ...] = SHOPPERS) -> PairArrays:
    """Epoch `epoch`'s (1-based) training pairs: `pairs_per_shopper` fresh pairs for each shopper,
    concatenated (training shuffles them). Reproducible from (seed, epoch)."""
    parts = [sample_pairs(train, shopper, pairs_per_shopper, seed=seed * 10_000 + epoch) for shopper in shoppers]
    return PairArrays(
        np.concatenate([p.query for p in parts]),
        np.concatenate([p.candidate for p in parts]),
        np.concatenate([np.full(len(p), p.shopper_index, dtype=np.int64) for p in parts]),
        np.concatenate([p.related for p in parts]).astype(np.float32),
    )


def obtain_pixel_model(
    cache_dir: str | Path,
    *,
    data_path: str | Path | None = None,
    config: RelationCNNConfig = APP_CONFIG,
    seed: int | None = None,
    state: TaskState = SILENT,
    retrain: bool = False,
    offline: bool = False,
    pairs_per_shopper: int = TRAIN_PAIRS_PER_SHOPPER,
    shoppers: tuple[str, ...] = SHOPPERS,
    catalogues: tuple[ProductCatalogue, ProductCatalogue] | None = None,
) -> PixelModel:
    """The cached relation model for the product catalogue, else trained now (progress and cancel
    through `state`) and cached.

    Fashion-MNIST is found as engine.data.fashion_mnist finds it (`data_path`, $CINEWHY_DATA, the
    cache, the Debian package, the download unless `offline`), or `catalogues` (train, test) already
    loaded are used. Each epoch draws `pairs_per_shopper` fresh pairs per shopper in `shoppers`
    (seeded by `seed` and the epoch; by default the config's seed, so one model seed decides the
    initial weights, the batch order and the pairs: another seed is another, equally valid model). The manifest records the catalogue (files, marks, rules) and the
    pair sampling, so another catalogue or sampling is another cache entry.
    Raises DataUnavailableError / DataFormatError for the data, Cancelled on cancel.
    """
    unknown = [s for s in shoppers if s not in SHOPPERS]
    if unknown or not shoppers:
        named = repr(unknown[0]) if unknown else "(none given)"
        raise InvalidInputError(f"Unknown shopper {named}; known shoppers: {', '.join(SHOPPERS)}.")
    if catalogues is None:
        catalogues = load_catalogues(data_path, state=state.sub(0.0, LOADING_SHARE), offline=offline,
                                     cache_dir=cache_dir)
    train, test = catalogues
    seed = config.seed if seed is None else seed
    sampling = {"per_shopper_per_epoch": int(pairs_per_shopper), "shoppers": list(shoppers), "seed": int(seed),
                "fresh_each_epoch": True}

    def fresh_pairs(epoch: int) -> PairArrays:
        return epoch_pairs(train, epoch, seed=seed, pairs_per_shopper=pairs_per_shopper, shoppers=shoppers)

    module, cached = obtain_relation_model(
        cache_dir, DATASET, train.fingerprint, train.images, fresh_pairs, config, state.sub(LOADING_SHARE, 1.0), retrain,
        catalogue=catalogue_manifest(train, test), sampling=sampling,
    )
    return PixelModel(module, (train, test), cached)
