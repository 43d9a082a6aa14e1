"""The IDX loader on small crafted files: plain and gzip read the same array; a bad magic number,
an unexpected type or shape, wrong sizes and truncated data each give one IdxFormatError that
names the file."""
import gzip
import struct

import numpy as np
import pytest

from engine.data import idx
from engine.data.idx import IdxFormatError, read_idx
from engine.errors import DataFormatError


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(idx.IDX_TYPES[code]).tobytes()


IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)


@pytest.mark.parametrize("compressed", [False, True])
def test_plain_and_gzip_files_read_the_same_array(tmp_path, compressed):
    data = idx_bytes(IMAGES)
    path = tmp_path / ("images.gz" if compressed else "images")
    path.write_bytes(gzip.compress(data) if compressed else data)
    array = read_idx(path, type_code=0x08, shape=(None, 4, 5))
    assert array.dtype == np.uint8 and array.shape == (3, 4, 5)
    np.testing.assert_array_equal(array, IMAGES)


def test_wider_types_are_read_big_endian(tmp_path):
    values = np.array([[1.5, -2.25], [3e9, 0.0]])
    path = tmp_path / "floats"
    path.write_bytes(idx_bytes(values, code=0x0E))
    array = read_idx(path)
    assert array.dtype == np.float64 and array.dtype.isnative
    np.testing.assert_array_equal(array, values)
    path.write_bytes(idx_bytes(np.array([-70000, 5]), code=0x0C))
    np.testing.assert_array_equal(read_idx(path), [-70000, 5])


def _error(path) -> str:
    with pytest.raises(DataFormatError) as caught:
        read_idx(path, type_code=0x08, shape=(None, 4, 5))
    assert isinstance(caught.value, IdxFormatError)
    message = str(caught.value)
    assert path.name in message and "\n" not in message and "MovieLens" not in message
    return message


@pytest.mark.parametrize("compressed", [False, True])
def test_a_bad_magic_number_is_one_clear_error(tmp_path, compressed):
    data = b"\x01\x02\x08\x03" + idx_bytes(IMAGES)[4:]
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(data) if compressed else data)
    assert "IDX magic number" in _error(path) and "01 02 08 03" in _error(path)


def test_an_unknown_type_code_or_a_text_file_is_a_bad_magic_number(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(b"\x00\x00\x07\x03" + idx_bytes(IMAGES)[4:])
    assert "IDX magic number" in _error(path)
    path.write_bytes(b"1\t1\t5\t881250949\n")
    assert "IDX magic number" in _error(path)
    path.write_bytes(b"")
    assert "an empty file" in _error(path)


def test_an_unexpected_type_or_shape_is_named(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(3, dtype=np.uint8)))
    assert "shape any×4×5" in _error(path) and "found 3" in _error(path)
    path.write_bytes(idx_bytes(IMAGES, code=0x0C))
    assert "type 0x08" in _error(path) and "0x0c" in _error(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_fewer_bytes_than_the_header_declares(tmp_path, compressed):
    data = idx_bytes(IMAGES)[:-7]
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(data) if compressed else data)
    message = _error(path)
    assert "60 bytes of data" in message and "only 53" in message and "truncated" in message


def test_more_bytes_than_the_header_declares(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(IMAGES) + b"\x00")
    assert "exactly 60 bytes" in _error(path) and "more data" in _error(path)


def test_a_header_cut_before_its_sizes(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(IMAGES)[:9])
    assert "3 dimension sizes" in _error(path)


def test_truncated_gzip_data_is_one_clear_error(tmp_path):
    compressed = gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 255, (30, 4, 5), dtype=np.uint8)))
    path = tmp_path / "images.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(IdxFormatError, match="complete gzip stream.*ends early"):
        read_idx(path)


def test_corrupt_gzip_data_is_one_clear_error(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(IMAGES)))
    compressed[-6] ^= 0xFF  # the CRC of the payload
    path = tmp_path / "images.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(IdxFormatError, match="corrupt gzip data"):
        read_idx(path)


def test_a_header_declaring_more_than_the_bound_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(idx, "MAX_BYTES", 1 << 20)
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 100_000, 28, 28)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(header + bytes(2 << 20)))  # 2 MiB of zeros inflate from ~2 KB
    with pytest.raises(IdxFormatError, match="at most 1 MiB"):
        read_idx(path)


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(IdxFormatError, match="a readable IDX file"):
        read_idx(tmp_path / "absent.gz")
