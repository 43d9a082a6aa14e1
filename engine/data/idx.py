"""Reading IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed.

Layout (big-endian): two zero bytes, a type code, the number of dimensions n, then n 32-bit sizes,
then the values in row-major order. Compression is recognised by its magic bytes. Decompression
is bounded by the size the header declares (and MAX_BYTES overall), so a damaged file or a
decompression bomb is refused instead of filling memory. Every problem is one IdxFormatError
naming the file and what was expected.
"""
from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

from engine.data.parsing import GZIP_MAGIC
from engine.errors import DataFormatError

# Type code -> big-endian dtype, as the IDX format defines them.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# The most an IDX payload may hold: five times Fashion-MNIST's training images (47 MB).
MAX_BYTES = 256 << 20
_MAX_DIMENSIONS = 8


class IdxFormatError(DataFormatError):
    """An IDX file is malformed; the message names the file and what was expected, without the
    MovieLens advice of DataFormatError."""

    def __init__(self, path: Path | str, expected: str, found: str = ""):
        super().__init__(path, None, expected, found)
        where = Path(path)
        detail = f"expected {expected}" + (f", found {found}" if found else "")
        self.args = (f"{where.name}: {detail} ({where}). Check that the file is an unmodified IDX file "
                     "(such as Fashion-MNIST's) and download it again if it is damaged.",)


def read_idx(
    path: str | Path,
    *,
    type_code: int | None = None,
    shape: Sequence[int | None] | None = None,
) -> np.ndarray:
    """The array stored in the IDX file `path` (native byte order).

    `type_code` (e.g. 0x08 for unsigned bytes) and `shape` (None for any size along an axis) say
    what the caller expects; anything else -- a bad magic number, another type or shape, fewer
    or more bytes than the header declares, truncated or corrupt gzip data -- raises IdxFormatError.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise IdxFormatError(path, "a readable IDX file", str(error)) from error
    compressed = raw.startswith(GZIP_MAGIC)
    stream: BinaryIO = gzip.GzipFile(fileobj=io.BytesIO(raw)) if compressed else io.BytesIO(raw)
    try:
        with stream:
            code, dims = _read_header(path, stream)
            dtype = IDX_TYPES[code]
            _check_expected(path, code, dims, type_code, shape)
            size = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
            if size > MAX_BYTES:
                raise IdxFormatError(path, f"at most {MAX_BYTES >> 20} MiB of data",
                                     f"a header declaring {size:,} bytes (shape {dims}); a damaged file?")
            # One byte more than declared: to notice trailing data without reading all of it.
            payload = stream.read(size + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
        if isinstance(error, EOFError):
            found = "the compressed data ends early (a truncated download?)"
        else:
            found = f"corrupt gzip data ({error})"
        raise IdxFormatError(path, "a complete gzip stream", found) from error
    if len(payload) < size:
        raise IdxFormatError(path, f"{size:,} bytes of data for shape {dims}",
                             f"only {len(payload):,} (the file is truncated)")
    if len(payload) > size:
        raise IdxFormatError(path, f"exactly {size:,} bytes of data for shape {dims}",
                             "more data after them (wrong sizes in the header, or another file appended)")
    array = np.frombuffer(payload, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else array


def _read_header(path: Path, stream: BinaryIO) -> tuple[int, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES \
            or not 1 <= magic[3] <= _MAX_DIMENSIONS:
        shown = magic.hex(" ") if magic else "an empty file"
        raise IdxFormatError(path, "an IDX magic number (0x00 0x00, a type code such as 0x08, "
                             "a dimension count from 1 to 8)", shown)
    count = magic[3]
    header = stream.read(4 * count)
    if len(header) < 4 * count:
        raise IdxFormatError(path, f"{count} dimension sizes after the magic number", "the file ends before them")
    dims = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
    return magic[2], dims


def _check_expected(path: Path, code: int, dims: tuple[int, ...], type_code: int | None,
                    shape: Sequence[int | None] | None) -> None:
    if type_code is not None and code != type_code:
        raise IdxFormatError(path, f"values of IDX type 0x{type_code:02x} ({IDX_TYPES[type_code]})",
                             f"type 0x{code:02x} ({IDX_TYPES[code]})")
    if shape is not None:
        wanted = tuple(shape)
        if len(dims) != len(wanted) or any(w is not None and w != d for w, d in zip(wanted, dims)):
            described = "×".join("any" if w is None else str(w) for w in wanted)
            raise IdxFormatError(path, f"an array of shape {described}", "×".join(map(str, dims)))
