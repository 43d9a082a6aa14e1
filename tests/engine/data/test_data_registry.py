"""The registry's order of sources: explicit path, $CINEWHY_DATA, cache, GroupLens download, recbole wheel.

The network is never used: the functions that fetch a URL or run pip are replaced by stubs that
write real archives built from the generated fixture files.
"""
from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine.data import default_cache_dir, load_dataset, show_terms_once, terms_notice
from engine.data import download
from engine.errors import Cancelled, DataUnavailableError, InvalidInputError
from engine.progress import TaskState

U_DATA_2_ROWS = "1\t1\t5\t874965758\n2\t2\t3\t876893171\n"
U_DATA_3_ROWS = U_DATA_2_ROWS + "3\t3\t1\t876893172\n"


# --- stubs ---------------------------------------------------------------------------------------


def _zip(files: dict[str, str], prefix: str, encoding: str = "latin-1") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(prefix), b"")  # the folder entry
        for name, text in files.items():
            archive.writestr(prefix + name, text.encode(encoding))
        archive.writestr("recbole/__init__.py" if "recbole" in prefix else prefix + "README", b"readme")
    return buffer.getvalue()


class FakeGroupLens:
    """Stands in for download_file: serves a zip built from fixture files, counting calls."""

    def __init__(self, monkeypatch, archives: dict[str, bytes], publish_md5: bool = True):
        self.calls: list[str] = []
        self.archives = archives
        for name, data in archives.items():
            url, _ = download.GROUPLENS_ARCHIVES[name]
            md5 = hashlib.md5(data).hexdigest() if publish_md5 else "0" * 32
            monkeypatch.setitem(download.GROUPLENS_ARCHIVES, name, (url, md5))
        monkeypatch.setattr(download, "download_file", self)

    def __call__(self, url, target, state=None, timeout=download.CONNECT_TIMEOUT_S):
        self.calls.append(url)
        name = url.rsplit("/", 1)[-1].removesuffix(".zip")
        data = self.archives[name]
        with open(target, "wb") as out:
            out.write(data[: len(data) // 2])
            state.progress(0.5, "half")
            out.write(data[len(data) // 2:])
            state.progress(1.0, "done")


class FakePip:
    """Stands in for run_pip_download: drops a fake recbole wheel into the destination folder."""

    def __init__(self, monkeypatch, wheel: bytes | None, publish_sha: bool = True):
        self.calls: list[str] = []
        self.wheel = wheel
        if wheel is not None and publish_sha:
            monkeypatch.setattr(download, "RECBOLE_WHEEL_SHA256", hashlib.sha256(wheel).hexdigest())
        monkeypatch.setattr(download, "run_pip_download", self)

    def __call__(self, requirement, dest, state=None, timeout=download.PIP_TIMEOUT_S):
        self.calls.append(requirement)
        state.check_cancelled()
        if self.wheel is None:
            raise download.FetchFailed("pip download failed (no network in tests)")
        (Path(dest) / download.RECBOLE_WHEEL).write_bytes(self.wheel)


def _no_download(monkeypatch) -> list[str]:
    calls: list[str] = []

    def failing(url, target, state=None, timeout=download.CONNECT_TIMEOUT_S):
        calls.append(url)
        raise download.FetchFailed(f"could not download {url} (no network in tests)")

    monkeypatch.setattr(download, "download_file", failing)
    return calls


@pytest.fixture
def fake_wheel(movielens) -> bytes:
    return _zip(movielens.RECBOLE, download.RECBOLE_ML100K_FOLDER, "utf-8")


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.name.startswith((".partial", ".old")))


# --- names and explicit paths --------------------------------------------------------------------


def test_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(InvalidInputError) as caught:
        load_dataset("ml-20m", cache_dir=tmp_path)
    assert "ml-100k" in str(caught.value) and "ml-1m" in str(caught.value)


def test_explicit_path_beats_env_beats_cache(movielens, tmp_path, monkeypatch):
    env_root = tmp_path / "shared"
    movielens.ml100k(folder="shared/ml-100k")  # 7 ratings
    cache = tmp_path / "cache"
    movielens.ml100k(folder="cache/data/ml-100k", u_data=U_DATA_2_ROWS)
    explicit = movielens.ml100k(folder="mine", u_data=U_DATA_3_ROWS)
    monkeypatch.setenv("CINEWHY_DATA", str(env_root))
    _no_download(monkeypatch)

    dataset = load_dataset("ml-100k", explicit, cache_dir=cache)
    assert len(dataset.interactions) == 3 and "given folder" in dataset.source

    dataset = load_dataset("ml-100k", cache_dir=cache)
    assert len(dataset.interactions) == 7 and "$CINEWHY_DATA" in dataset.source

    monkeypatch.delenv("CINEWHY_DATA")
    dataset = load_dataset("ml-100k", cache_dir=cache)
    assert len(dataset.interactions) == 2 and "(cache)" in dataset.source


def test_a_missing_explicit_path_does_not_fall_through(movielens, tmp_path, monkeypatch):
    monkeypatch.setenv("CINEWHY_DATA", str(movielens.ml100k(folder="shared/ml-100k").parent))
    with pytest.raises(DataUnavailableError) as caught:
        load_dataset("ml-100k", tmp_path / "nowhere", cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "nowhere" in message and "does not exist" in message and "--data PATH" in message


def test_an_explicit_path_without_data_names_the_files_looked_for(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataUnavailableError) as caught:
        load_dataset("ml-1m", tmp_path / "empty", cache_dir=tmp_path / "cache")
    assert "ratings.dat" in str(caught.value) and "ratings_reindexed.tsv" in str(caught.value)


def test_an_explicit_path_with_the_other_dataset(movielens, tmp_path):
    with pytest.raises(DataUnavailableError, match="holds ml-100k, not ml-1m"):
        load_dataset("ml-1m", movielens.ml100k(), cache_dir=tmp_path / "cache")


def test_an_explicit_path_may_be_the_folder_above(movielens, tmp_path):
    movielens.ml1m(folder="unzipped/ml-1m", gz=True)
    assert load_dataset("ml-1m", tmp_path / "unzipped", cache_dir=tmp_path / "cache").name == "ml-1m"


# --- the environment variable --------------------------------------------------------------------


def test_env_ml1m_prefers_the_official_files_then_the_reindexed_ones(movielens, tmp_path, monkeypatch):
    monkeypatch.setenv("CINEWHY_DATA", str(tmp_path / "shared"))
    movielens.reindexed(folder="shared/ml-1m-ratings-reindexed")
    assert load_dataset("ml-1m", cache_dir=tmp_path / "cache").interactions.timestamps is None
    movielens.ml1m(folder="shared/ml-1m")
    assert load_dataset("ml-1m", cache_dir=tmp_path / "cache").interactions.timestamps is not None


def test_env_without_the_dataset_falls_through_to_the_cache(movielens, tmp_path, monkeypatch):
    movielens.reindexed(folder="shared/ml-1m-ratings-reindexed")
    monkeypatch.setenv("CINEWHY_DATA", str(tmp_path / "shared"))
    movielens.ml100k(folder="cache/data/ml-100k", u_data=U_DATA_2_ROWS)
    dataset = load_dataset("ml-100k", cache_dir=tmp_path / "cache")
    assert len(dataset.interactions) == 2


def test_default_cache_dir_follows_the_environment(movielens, tmp_path, monkeypatch):
    monkeypatch.setenv("CINEWHY_CACHE", str(tmp_path / "cache"))
    assert default_cache_dir() == tmp_path / "cache"
    movielens.ml100k(folder="cache/data/ml-100k", u_data=U_DATA_3_ROWS)
    assert len(load_dataset("ml-100k").interactions) == 3


def test_default_cache_dir_without_the_environment():
    assert default_cache_dir().name == "cinewhy" or "cinewhy" in str(default_cache_dir())


# --- the GroupLens download ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "files"), [("ml-100k", "ML100K"), ("ml-1m", "ML1M")])
def test_download_unpacks_into_the_cache(movielens, tmp_path, monkeypatch, name, files):
    fake = FakeGroupLens(monkeypatch, {name: _zip(getattr(movielens, files), f"{name}/")})
    FakePip(monkeypatch, None)
    messages = []
    state = TaskState(lambda fraction, message: messages.append((fraction, message)))
    cache = tmp_path / "cache"

    dataset = load_dataset(name, cache_dir=cache, state=state)
    assert dataset.name == name and "downloaded from GroupLens" in dataset.source
    assert len(fake.calls) == 1 and fake.calls[0].endswith(f"{name}.zip")
    assert (cache / "data" / name / "README").is_file()
    assert not (cache / "data" / name / f"{name}.zip").exists()
    assert _leftovers(cache) == []
    fractions = [fraction for fraction, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("Unpacking" in message for _, message in messages)

    # The next run finds the cache and does not download again, even offline.
    again = load_dataset(name, cache_dir=cache, offline=True)
    assert "(cache)" in again.source and len(fake.calls) == 1
    assert again.fingerprint == dataset.fingerprint


def test_a_download_with_the_wrong_checksum_is_not_used(movielens, tmp_path, monkeypatch, fake_wheel):
    FakeGroupLens(monkeypatch, {"ml-100k": _zip(movielens.ML100K, "ml-100k/")}, publish_md5=False)
    FakePip(monkeypatch, fake_wheel)
    dataset = load_dataset("ml-100k", cache_dir=tmp_path / "cache")
    assert "recbole" in dataset.source  # fell through to the next source
    assert _leftovers(tmp_path / "cache") == []


def test_a_failed_download_falls_through_quietly(tmp_path, monkeypatch):
    calls = _no_download(monkeypatch)
    pip = FakePip(monkeypatch, None)
    with pytest.raises(DataUnavailableError) as caught:
        load_dataset("ml-1m", cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert len(calls) == 1 and pip.calls == []  # no recbole step for ml-1m
    assert "no network in tests" in message
    assert "$CINEWHY_DATA: not set" in message and "cache folder" in message
    assert "download ml-1m.zip from https://grouplens.org/datasets/movielens/" in message
    assert "pass its folder with --data PATH" in message


def test_cancelling_a_download_leaves_nothing_behind(movielens, tmp_path, monkeypatch):
    FakeGroupLens(monkeypatch, {"ml-100k": _zip(movielens.ML100K, "ml-100k/")})
    pip = FakePip(monkeypatch, None)
    seen = []
    state = TaskState(lambda fraction, message: seen.append(fraction), lambda: len(seen) >= 1)
    cache = tmp_path / "cache"
    with pytest.raises(Cancelled):
        load_dataset("ml-100k", cache_dir=cache, state=state)
    assert not (cache / "data" / "ml-100k").exists()
    assert _leftovers(cache) == [] and pip.calls == []


def test_download_file_streams_a_url(tmp_path):
    source = tmp_path / "archive.zip"
    source.write_bytes(b"x" * 200_000)
    messages = []
    download.download_file(source.as_uri(), tmp_path / "copy.zip", TaskState(lambda f, m: messages.append(m)))
    assert (tmp_path / "copy.zip").read_bytes() == source.read_bytes()
    assert messages and "archive.zip" in messages[-1]


def test_download_file_turns_failures_into_fetch_failed(tmp_path):
    with pytest.raises(download.FetchFailed, match="could not download"):
        download.download_file((tmp_path / "missing.zip").as_uri(), tmp_path / "copy.zip")


# --- the recbole wheel ---------------------------------------------------------------------------


def test_recbole_wheel_provides_ml100k_and_is_cached(tmp_path, monkeypatch, fake_wheel):
    _no_download(monkeypatch)
    pip = FakePip(monkeypatch, fake_wheel)
    cache = tmp_path / "cache"
    dataset = load_dataset("ml-100k", cache_dir=cache)
    assert "recbole==1.2.1" in dataset.source and pip.calls == ["recbole==1.2.1"]
    assert dataset.movies[2].title == "The Usual Suspects"
    assert (cache / "wheels" / download.RECBOLE_WHEEL).read_bytes() == fake_wheel
    assert sorted(p.name for p in (cache / "data" / "ml-100k").iterdir()) == sorted(download.RECBOLE_ML100K_FILES)
    assert _leftovers(cache) == []

    # Later runs read the cache; without the unpacked files, the cached wheel is used, offline too.
    assert "(cache)" in load_dataset("ml-100k", cache_dir=cache, offline=True).source
    for path in (cache / "data" / "ml-100k").iterdir():
        path.unlink()
    (cache / "data" / "ml-100k").rmdir()
    assert "recbole" in load_dataset("ml-100k", cache_dir=cache, offline=True).source
    assert pip.calls == ["recbole==1.2.1"]


def test_a_wheel_with_the_wrong_checksum_is_rejected(movielens, tmp_path, monkeypatch, fake_wheel):
    _no_download(monkeypatch)
    FakePip(monkeypatch, fake_wheel, publish_sha=False)
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="SHA-256"):
        load_dataset("ml-100k", cache_dir=cache)
    assert not (cache / "wheels" / download.RECBOLE_WHEEL).exists()
    assert _leftovers(cache) == []


def test_a_damaged_cached_wheel_is_fetched_again(tmp_path, monkeypatch, fake_wheel):
    _no_download(monkeypatch)
    pip = FakePip(monkeypatch, fake_wheel)
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    (wheels / download.RECBOLE_WHEEL).write_bytes(b"not a wheel")
    assert load_dataset("ml-100k", cache_dir=tmp_path / "cache").name == "ml-100k"
    assert pip.calls == ["recbole==1.2.1"]


def test_cancelling_while_pip_runs_leaves_nothing_behind(tmp_path, monkeypatch, fake_wheel):
    _no_download(monkeypatch)
    FakePip(monkeypatch, fake_wheel)
    cancel = {"now": False}
    state = TaskState(lambda f, m: cancel.update(now="recbole" in m), lambda: cancel["now"])
    cache = tmp_path / "cache"
    with pytest.raises(Cancelled):
        load_dataset("ml-100k", cache_dir=cache, state=state)
    assert not (cache / "wheels" / download.RECBOLE_WHEEL).exists()
    assert not (cache / "data" / "ml-100k").exists()
    assert _leftovers(cache) == []


def test_offline_skips_the_download_and_pip(tmp_path, monkeypatch):
    calls = _no_download(monkeypatch)
    pip = FakePip(monkeypatch, None)
    with pytest.raises(DataUnavailableError) as caught:
        load_dataset("ml-100k", cache_dir=tmp_path / "cache", offline=True)
    assert calls == [] and pip.calls == []
    message = str(caught.value)
    assert "skipped (offline)" in message and "no recbole-1.2.1-py3-none-any.whl" in message
    assert "download ml-100k.zip from https://grouplens.org/datasets/movielens/" in message


def _swap_pip_for(monkeypatch, code: str) -> list:
    """Run `python -c code` wherever run_pip_download would run pip."""
    started = []
    guarded_popen = subprocess.Popen

    def popen(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
        process = guarded_popen([sys.executable, "-c", code], **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(download.subprocess, "Popen", popen)
    return started


def test_run_pip_download_reports_pip_failures(tmp_path, monkeypatch):
    _swap_pip_for(monkeypatch, "print('ERROR: No matching distribution found'); raise SystemExit(1)")
    with pytest.raises(download.FetchFailed, match="No matching distribution found"):
        download.run_pip_download("recbole==1.2.1", tmp_path)


def test_run_pip_download_can_be_cancelled_and_times_out(tmp_path, monkeypatch):
    started = _swap_pip_for(monkeypatch, "import time; time.sleep(60)")
    with pytest.raises(Cancelled):
        download.run_pip_download("recbole==1.2.1", tmp_path, TaskState(should_cancel=lambda: True))
    with pytest.raises(download.FetchFailed, match="took longer"):
        download.run_pip_download("recbole==1.2.1", tmp_path, timeout=0.2)
    assert [process.poll() is not None for process in started] == [True, True]  # both killed


def test_install_folder_replaces_what_was_there(tmp_path):
    staged, final = tmp_path / "staged", tmp_path / "final"
    staged.mkdir()
    (staged / "new").write_text("new")
    final.mkdir()
    (final / "old").write_text("old")
    download.install_folder(staged, final)
    assert [p.name for p in final.iterdir()] == ["new"] and not staged.exists()
    assert _leftovers(tmp_path) == []


# --- terms ---------------------------------------------------------------------------------------


def test_terms_are_shown_on_first_use_only(movielens, tmp_path):
    shown = []
    folder = movielens.ml100k()
    load_dataset("ml-100k", folder, cache_dir=tmp_path / "cache", on_first_use=shown.append)
    load_dataset("ml-100k", folder, cache_dir=tmp_path / "cache", on_first_use=shown.append)
    assert len(shown) == 1 and shown[0] == terms_notice()
    assert not show_terms_once(tmp_path / "cache", shown.append)


def test_no_callback_means_no_notice_and_no_marker(movielens, tmp_path):
    load_dataset("ml-100k", movielens.ml100k(), cache_dir=tmp_path / "cache")
    assert show_terms_once(tmp_path / "cache", printer=lambda text: None)


def test_terms_notice_cites_the_paper_and_states_the_terms():
    notice = terms_notice()
    assert "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context." in notice
    assert "Article 19" in notice and "redistribute" in notice and "commercial" in notice
