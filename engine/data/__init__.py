"""MovieLens data: typed records, loaders for each file layout, and the registry that finds a dataset."""
from engine.data.movielens import (
    load_folder,
    load_ml1m,
    load_ml1m_reindexed,
    load_ml100k,
    load_recbole_atomic,
)
from engine.data.registry import KNOWN_DATASETS, default_cache_dir, load_dataset
from engine.data.terms import show_terms_once, terms_notice
from engine.data.types import Dataset, Interactions, Movie, User

__all__ = [
    "KNOWN_DATASETS",
    "Dataset",
    "Interactions",
    "Movie",
    "User",
    "default_cache_dir",
    "load_dataset",
    "load_folder",
    "load_ml100k",
    "load_ml1m",
    "load_ml1m_reindexed",
    "load_recbole_atomic",
    "show_terms_once",
    "terms_notice",
]
