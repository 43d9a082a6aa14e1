"""The parsed-dataset cache: a second load reads the cached copy; an edited data file, a damaged or
foreign entry, or an unwritable cache each lead back to parsing the files."""
from __future__ import annotations

import os
import pickle

import numpy as np

from engine.data import load_dataset
from engine.data import parsed_cache
from engine.data.parsed_cache import entry_path, load_parsed, source_key

U_DATA_EDITED = "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n"


def _same(a, b) -> bool:
    return (a.fingerprint == b.fingerprint and a.movies == b.movies and a.users == b.users
            and np.array_equal(a.interactions.ratings, b.interactions.ratings))


def _counting_parse(folder, calls):
    from engine.data.movielens import load_folder

    def parse():
        calls.append(1)
        return load_folder(folder, "ml-100k")
    return parse


def test_the_second_load_is_read_from_the_cache_and_equals_the_parse(movielens, tmp_path):
    folder, cache, calls = movielens.ml100k(), tmp_path / "cache", []
    first = load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls))
    second = load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls))
    assert calls == [1] and entry_path(cache, "ml-100k").is_file()
    assert _same(first, second)


def test_an_edited_data_file_is_parsed_again(movielens, tmp_path):
    folder, cache = movielens.ml100k(), tmp_path / "cache"
    before = load_dataset("ml-100k", folder, cache_dir=cache)
    movielens.ml100k(u_data=U_DATA_EDITED)
    stat = (folder / "u.data").stat()
    os.utime(folder / "u.data", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = load_dataset("ml-100k", folder, cache_dir=cache)
    assert len(before.interactions.ratings) == 7 and len(after.interactions.ratings) == 3
    assert before.fingerprint != after.fingerprint


def test_a_damaged_entry_is_parsed_again_and_rewritten(movielens, tmp_path):
    folder, cache, calls = movielens.ml100k(), tmp_path / "cache", []
    reference = load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls))
    path = entry_path(cache, "ml-100k")
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[: len(data) // 2]))  # truncated
    again = load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls))
    assert calls == [1, 1] and _same(reference, again)
    load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls))
    assert calls == [1, 1]  # the rewritten entry is whole again


def test_an_entry_of_other_content_or_format_is_not_served(movielens, tmp_path):
    folder, cache, calls = movielens.ml100k(), tmp_path / "cache", []
    load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls))
    path = entry_path(cache, "ml-100k")
    key = source_key(folder, "ml-100k")
    for foreign in ([], None, {"format": parsed_cache.FORMAT, "key": key, "dataset": "not a dataset"},
                    {"format": parsed_cache.FORMAT + 1, "key": key}):
        path.write_bytes(pickle.dumps(foreign))
        assert load_parsed(folder, "ml-100k", cache, _counting_parse(folder, calls)).name == "ml-100k"
    assert len(calls) == 5


def test_an_unwritable_cache_still_loads(movielens, tmp_path):
    folder, blocker = movielens.ml100k(), tmp_path / "a-file"
    blocker.write_text("not a folder")
    calls = []
    dataset = load_parsed(folder, "ml-100k", blocker / "cache", _counting_parse(folder, calls))
    assert dataset.name == "ml-100k" and calls == [1]
