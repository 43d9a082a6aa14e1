"""A gzip-compressed data file is decompressed only up to a bound: a small file that inflates to many
gigabytes (a decompression bomb, or damage) is refused with one sentence instead of filling memory."""
import gzip
import zlib

import pytest

from engine.cli import main
from engine.data import parsing
from engine.errors import DataFormatError
from tests.engine.small_movielens import tiny_args

LINE = b"1\t1\t5\t881250949\n"


def write_gzip(path, content: bytes, members: int = 1):
    path.write_bytes(b"".join(gzip.compress(content) for _ in range(members)))


def test_decompression_stops_at_the_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_DECOMPRESSED_BYTES", 1 << 20)
    bomb = tmp_path / "u.data.gz"
    write_gzip(bomb, LINE * ((8 << 20) // len(LINE)))  # 8 MiB from about 30 KB
    with pytest.raises(DataFormatError, match="decompression bomb") as error:
        parsing.read_bytes(bomb)
    assert "u.data.gz" in str(error.value) and "at most 1 MiB" in str(error.value)


def test_content_up_to_the_bound_is_read_whole_across_gzip_members(tmp_path, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_DECOMPRESSED_BYTES", 3 * 1000 * len(LINE))
    path = tmp_path / "u.data.gz"
    write_gzip(path, LINE * 1000, members=3)  # exactly the bound, in three concatenated members
    assert parsing.read_bytes(path) == LINE * 3000


def test_the_bound_is_far_above_any_movielens_file():
    assert parsing.MAX_DECOMPRESSED_BYTES >= 10 * 24_594_131  # ML-1M's ratings.dat


def test_the_command_line_refuses_a_bomb_in_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_DECOMPRESSED_BYTES", 1 << 20)
    args = tiny_args(tmp_path)
    data = tmp_path / "ml-100k"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = LINE * 4096
    bomb = b"".join(compressor.compress(block) for _ in range((4 << 20) // len(block))) + compressor.flush()
    (data / "u.data").unlink()
    (data / "u.data.gz").write_bytes(bomb)
    code = main(["train", *args, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: u.data.gz") and "decompression bomb" in err and "Traceback" not in err
