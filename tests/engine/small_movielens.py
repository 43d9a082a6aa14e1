"""A small MovieLens-100k-shaped folder written by the test itself, for command-line runs that
must train their own models (damaged or unwritable caches) in seconds."""
from pathlib import Path


def write_small_ml100k(folder: Path) -> None:
    """12 users who each liked 6 of 10 movies: enough for a model to train (with validation) in seconds."""
    folder.mkdir()
    (folder / "u.data").write_text("".join(
        f"{u}\t{(u + j) % 10 + 1}\t{4 + j % 2}\t88125{u:02d}{j:02d}\n" for u in range(1, 13) for j in range(6)))
    (folder / "u.user").write_text("".join(f"{u}|{20 + u}|{'MF'[u % 2]}|writer|0000{u}\n" for u in range(1, 13)))
    genres = "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0"
    (folder / "u.item").write_text("".join(f"{m}|Movie {m} (199{m % 10})|01-Jan-1995||http://x{genres}\n"
                                           for m in range(1, 11)))


def tiny_args(tmp_path):
    folder = tmp_path / "ml-100k"
    if not folder.exists():
        write_small_ml100k(folder)
    return ["--data", str(folder), "--offline", "--cache-dir", str(tmp_path / "cache")]
