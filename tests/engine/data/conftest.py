"""Fixtures for the data tests: small generated MovieLens-shaped folders, and a guard that keeps the
network (urllib and pip) out of every test."""
from __future__ import annotations

import gzip
import subprocess
import urllib.request
from pathlib import Path

import pytest

GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
          "War", "Western")


CHILDRENS = "Children's"


def _flags(*names: str) -> str:
    return "|".join("1" if g in names else "0" for g in GENRES)


# Generated rows in the shape of each MovieLens file (not copied from MovieLens).
ML100K_FILES = {
    "u.data": "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n2\t3\t2\t888551000\n"
              "3\t4\t1\t879000000\n3\t6\t5\t879000100\n9\t2\t4\t880000000\n",
    "u.user": "1|24|M|technician|85711\n2|53|F|other|94043\n3|17|M|student|32067\n9|31|F|writer|02139\n",
    "u.item": (
        f"1|Toy Story (1995)|01-Jan-1995||http://example.org/1|{_flags('Animation', CHILDRENS, 'Comedy')}\n"
        f"2|Usual Suspects, The (1995)|14-Aug-1995||http://example.org/2|{_flags('Crime', 'Thriller')}\n"
        f"3|Horseman on the Roof, The (Hussard sur le toit, Le) (1995)|19-Apr-1996||http://example.org/3|{_flags('Drama')}\n"
        f"4|unknown||||{_flags('unknown')}\n"
        f"5|Heidi Fleiss: Hollywood Madam (1995) |09-Feb-1996||http://example.org/5|{_flags('Documentary')}\n"
        f"6|Misérables, Les (1995)|01-Jan-1995||http://example.org/6|{_flags('Drama', 'Musical')}\n"
        f"7|Untitled Film|01-Jan-1997||http://example.org/7|{_flags('Comedy')}\n"
    ),
    "u.genre": "".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)) + "\n",
}

ML1M_FILES = {
    "ratings.dat": "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n6::3408::4::978236000\n",
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55117\n6::M::35::12::02139\n",
    "movies.dat": "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
                  "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                  "3408::Erin Brockovich (2000)::Drama\n"
                  "11::American President, The (1995)::Comedy|Drama|Romance\n",
}

REINDEXED_FILES = {
    "ratings_reindexed.tsv": "1\t1\t5\n6\t1\t4\n2\t2\t3\n7\t3\t1\n",
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n6::F::50::9::55117\n7::M::18::4::10025\n",
}

RECBOLE_FILES = {
    "ml-100k.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                     "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n",
    "ml-100k.user": "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
                    "1\t24\tM\ttechnician\t85711\n2\t53\tF\tother\t94043\n",
    "ml-100k.item": "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
                    "1\tToy Story\t1995\tAnimation Children's Comedy\n"
                    "2\tUsual Suspects, The\t1995\tCrime Thriller\n"
                    "3\tMisérables, Les\t1995\tDrama Musical\n"
                    "4\tunkonwn\tunkonwn\tunknown\n"
                    "5\tLand Before Time III: The Time of the Great Giving (1995)\tV\tAnimation Children's\n",
}

# RecBole's files are UTF-8; GroupLens's are Latin-1.
ENCODINGS = {"ml-100k.inter": "utf-8", "ml-100k.user": "utf-8", "ml-100k.item": "utf-8"}


def write_files(folder: Path, files: dict[str, str], gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        data = text.encode(ENCODINGS.get(name, "latin-1"))
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


class Fixtures:
    """Writers for each layout, handed to tests by the `movielens` fixture."""

    ML100K = ML100K_FILES
    ML1M = ML1M_FILES
    REINDEXED = REINDEXED_FILES
    RECBOLE = RECBOLE_FILES

    def __init__(self, root: Path):
        self.root = root

    def ml100k(self, folder: str | Path = "ml-100k", gz: bool = False, **overrides: str) -> Path:
        return write_files(self.root / folder, {**ML100K_FILES, **_files(overrides)}, gz)

    def ml1m(self, folder: str | Path = "ml-1m", gz: bool = False, **overrides: str) -> Path:
        return write_files(self.root / folder, {**ML1M_FILES, **_files(overrides)}, gz)

    def reindexed(self, folder: str | Path = "ml-1m-ratings-reindexed", gz: bool = False, **overrides: str) -> Path:
        return write_files(self.root / folder, {**REINDEXED_FILES, **_files(overrides)}, gz)

    def recbole(self, folder: str | Path = "recbole", gz: bool = False, **overrides: str) -> Path:
        return write_files(self.root / folder, {**RECBOLE_FILES, **_files(overrides)}, gz)


def _files(overrides: dict[str, str]) -> dict[str, str]:
    """Keyword names for files: u_data -> u.data, ratings_dat -> ratings.dat, ml_100k_inter -> ml-100k.inter."""
    names = {name.replace(".", "_").replace("-", "_"): name
             for name in (*ML100K_FILES, *ML1M_FILES, *REINDEXED_FILES, *RECBOLE_FILES)}
    return {names[key]: value for key, value in overrides.items()}


@pytest.fixture
def movielens(tmp_path: Path) -> Fixtures:
    return Fixtures(tmp_path)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would reach the network, and keep the user's environment out."""
    real_urlopen = urllib.request.urlopen
    real_popen = subprocess.Popen

    def guarded_urlopen(url, *args, **kwargs):
        target = url if isinstance(url, str) else url.full_url
        if not target.startswith("file:"):
            raise AssertionError(f"a test tried to open {target}")
        return real_urlopen(url, *args, **kwargs)

    def guarded_popen(command, *args, **kwargs):
        if "pip" in [str(part) for part in command]:
            raise AssertionError(f"a test tried to run {command}")
        return real_popen(command, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded_urlopen)
    monkeypatch.setattr(subprocess, "Popen", guarded_popen)
    monkeypatch.delenv("CINEWHY_DATA", raising=False)
    monkeypatch.delenv("CINEWHY_CACHE", raising=False)
