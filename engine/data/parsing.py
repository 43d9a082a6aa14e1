"""Reading MovieLens text files: gzip detection, encoding checks, fast numeric tables, titles.

Every file may be stored plain or gzip-compressed (`u.data` or `u.data.gz`); compression is
recognised by its magic bytes. Problems are reported as one `DataFormatError` naming the file,
the 1-based line and what was expected there.
"""
from __future__ import annotations

import gzip
import io
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from engine.errors import DataFormatError

GZIP_MAGIC = b"\x1f\x8b"
# The most a gzip-compressed file may inflate to: ten times ML-1M's largest file (ratings.dat, 24 MB).
MAX_DECOMPRESSED_BYTES = 256 << 20
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"

_SEPARATOR_NAMES = {"\t": "tabs", "|": "'|'", "::": "'::'", ",": "commas", ";": "semicolons", " ": "spaces"}

# Bytes that may appear in an all-numeric table; anything else sends the table to the slow scan.
_NUMERIC_BYTES = b"0123456789+-.eE\t\n"


# ---------------------------------------------------------------------------------------------
# Files and bytes


def find_file(folder: Path, name: str) -> Path | None:
    """`folder/name` or `folder/name.gz`, whichever exists (the plain one first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip data (recognised by its magic bytes)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise DataFormatError(path, None, "a readable file", str(error)) from error
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        # Read one byte past the limit instead of all of it: a small file can inflate to many GB.
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            data = stream.read(MAX_DECOMPRESSED_BYTES + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error):
        _raise_gzip_error(path, raw)
        raise  # unreachable: _raise_gzip_error always raises
    if len(data) > MAX_DECOMPRESSED_BYTES:
        raise DataFormatError(
            path, None, f"at most {MAX_DECOMPRESSED_BYTES >> 20} MiB once decompressed (MovieLens files are far smaller)",
            f"more from {len(raw):,} compressed bytes, so it was not read (a damaged file or a decompression bomb?)",
        )
    return data


def _raise_gzip_error(path: Path, raw: bytes) -> None:
    """Decompress step by step to say at which line the compressed data breaks off."""
    produced = 0  # newlines decompressed so far
    problem = "the file ends early (truncated gzip data)"
    data = raw
    try:
        while data:
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            for start in range(0, len(data), 1 << 16):
                produced += decompressor.decompress(data[start:start + (1 << 16)]).count(b"\n")
                if decompressor.eof:
                    break
            if not decompressor.eof:
                break
            data = decompressor.unused_data.lstrip(b"\x00")
        else:
            problem = "gzip data that cannot be read"
    except zlib.error as error:
        problem = f"corrupt gzip data ({error})"
    raise DataFormatError(path, produced + 1, "a complete gzip stream", problem)


def check_text(path: Path, data: bytes) -> None:
    """Reject bytes that are not Latin-1/UTF-8 text: UTF-16/32 byte-order marks and NUL bytes."""
    if data.startswith(_UTF16_BOMS):
        raise DataFormatError(path, 1, "Latin-1 text", "a UTF-16 byte-order mark")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataFormatError(path, line, "Latin-1 text", "NUL bytes (a UTF-16 or binary file?)")


def detect_encoding(data: bytes) -> str:
    """The encoding of MovieLens text, read from its bytes rather than assumed.

    Pure ASCII is "ascii"; bytes that form valid UTF-8 with some non-ASCII are "utf-8" (a Latin-1
    title almost never happens to be valid UTF-8); otherwise "cp1252" when the bytes 0x80-0x9F,
    which are control codes in Latin-1 but quotes and dashes in Windows-1252, occur and decode;
    otherwise "latin-1", the encoding GroupLens's own files use.
    """
    if data.startswith(_UTF8_BOM):
        try:
            data.decode("utf-8-sig")
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data.isascii():
        return "ascii"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if re.search(rb"[\x80-\x9f]", data):
        try:
            data.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass  # bytes cp1252 leaves undefined: C1 control codes, which only Latin-1 reads
    return "latin-1"


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """(text, detected encoding) of a MovieLens file: GroupLens's are Latin-1, RecBole's UTF-8."""
    check_text(path, data)
    encoding = detect_encoding(data)
    return data.decode(encoding), encoding


def text_lines(path: Path, encodings: dict[str, str] | None = None) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) for every line of a small text file; trailing blank lines dropped.

    The detected encoding is recorded in `encodings` under the file's name when given.
    """
    text, encoding = decode_text(path, read_bytes(path))
    if encodings is not None:
        encodings[Path(path).name] = encoding
    text = text.rstrip()
    if not text:
        raise DataFormatError(path, 1, "at least one line of data", "an empty file")
    return ((number, line.rstrip("\r")) for number, line in enumerate(text.split("\n"), start=1))


def separator_name(sep: str) -> str:
    return _SEPARATOR_NAMES.get(sep, repr(sep))


def _describe_fields(line: str, sep: str) -> str:
    """What a line that has the wrong number of fields looks like, to put in the error message."""
    if not line.strip():
        return "an empty line"
    count = len(line.split(sep))
    if count == 1:
        for other in ("\t", "::", "|", ",", ";", " "):
            if other != sep and other in line:
                return f"{len(line.split(other))} fields separated by {separator_name(other)}"
    return f"{count} field" + ("" if count == 1 else "s")


def split_fields(path: Path, number: int, line: str, sep: str, columns: Sequence[str],
                 described: str | None = None) -> list[str]:
    """The fields of one line, which must be exactly len(columns); `described` names them in errors."""
    fields = line.split(sep)
    if len(fields) != len(columns):
        expected = f"{len(columns)} fields separated by {separator_name(sep)} ({described or ', '.join(columns)})"
        raise DataFormatError(path, number, expected, _describe_fields(line, sep))
    return fields


def parse_int(path: Path, number: int, token: str, what: str) -> int:
    if token.isascii():  # int() would also take other scripts' digits, which no MovieLens file has
        try:
            return int(token)
        except ValueError:
            pass
        try:
            value = float(token)
        except ValueError:
            value = float("nan")
        if value.is_integer():
            return int(value)
    raise DataFormatError(path, number, f"an integer {what}", repr(token))


def parse_float(path: Path, number: int, token: str, what: str) -> float:
    try:
        value = float(token) if token.isascii() else float("nan")
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise DataFormatError(path, number, f"a number for {what}", repr(token))
    return value


@dataclass(frozen=True)
class Bounds:
    """The values a column may hold, and how an error message says so."""

    low: int | float
    high: int | float
    expected: str  # e.g. "a rating from 1 to 5"

    def holds(self, value: int | float) -> bool:
        return self.low <= value <= self.high


def parse_bounded_int(path: Path, number: int, token: str, what: str, bounds: Bounds) -> int:
    value = parse_int(path, number, token, what)
    if not bounds.holds(value):
        raise DataFormatError(path, number, bounds.expected, repr(token))
    return value


# ---------------------------------------------------------------------------------------------
# Numeric tables (ratings): a vectorised path, and a line-by-line scan that finds the first bad line


def read_numeric_table(
    path: Path,
    sep: str,
    columns: Sequence[str],
    integer: Sequence[bool],
    *,
    header: bool = False,
    bounds: Sequence[Bounds | None] | None = None,
) -> list[np.ndarray]:
    """Columns of a table whose fields are all numbers: int64 where `integer`, else float64.

    `header` skips (without reading) the first line; `bounds` gives each column's allowed values
    (None: any, but an integer must fit int64 -- never silently clamped). Any problem raises
    DataFormatError for the first offending line, quoting its text. Row i is line first + i.
    """
    bounds = tuple(bounds) if bounds is not None else (None,) * len(columns)
    data = read_bytes(path)
    check_text(path, data)
    first_line = 1
    if header:
        end = data.find(b"\n")
        data = b"" if end < 0 else data[end + 1:]
        first_line = 2
    data = data.replace(b"\r\n", b"\n").rstrip(b" \t\r\n")
    if not data:
        if header:
            raise DataFormatError(path, 2, "at least one row of data", "only the header line")
        raise DataFormatError(path, 1, "at least one row of data", "an empty file")
    fast = _fast_numeric(data, sep, len(columns), integer, bounds)
    if fast is not None:
        return fast
    return _scan_numeric(path, data, sep, columns, integer, first_line, bounds)


_INT64_MIN, _INT64_MAX = np.iinfo(np.int64).min, np.iinfo(np.int64).max
# Bounds every integer column has anyway: NumPy clamps an overflowing integer to the int64 limits,
# so a value at either limit is sent to the slow scan, which reads the exact text.
_INT64 = Bounds(_INT64_MIN + 1, _INT64_MAX - 1, "an integer that fits in 64 bits")


def _fast_numeric(data: bytes, sep: str, width: int, integer: Sequence[bool],
                  bounds: Sequence[Bounds | None]) -> list[np.ndarray] | None:
    """Parse with NumPy, or None when anything looks off (then the slow scan decides)."""
    if sep != "\t":
        if b"\t" in data:
            return None
        data = data.replace(sep.encode("latin-1"), b"\t")
    data += b"\n"
    if data.translate(None, _NUMERIC_BYTES):
        return None  # a byte that cannot be part of a number
    # Every field non-empty: no empty lines, no separator at a line's start or end, no doubled one.
    if data.startswith((b"\t", b"\n")) or b"\t\t" in data or b"\n\t" in data or b"\t\n" in data or b"\n\n" in data:
        return None
    # Exactly width-1 separators then a newline on every line.
    buffer = np.frombuffer(data, dtype=np.uint8)
    delimiters = buffer[np.flatnonzero(buffer <= 10)]
    if delimiters.size % width:
        return None
    delimiters = delimiters.reshape(-1, width)
    if not (np.all(delimiters[:, -1] == 10) and np.all(delimiters[:, :-1] == 9)):
        return None
    # Each field is now exactly one token, so the token count says whether all of them parsed.
    expected = delimiters.size
    values = _fromstring(data, np.int64)
    if values is None or values.size != expected:
        values = _fromstring(data, np.float64)
        if values is None or values.size != expected or not np.all(np.isfinite(values)):
            return None
    table = values.reshape(-1, width)
    result = []
    for column, is_int in enumerate(integer):
        array = table[:, column]
        allowed = bounds[column] or (_INT64 if is_int else None)
        if allowed is not None and not np.all((array >= allowed.low) & (array <= allowed.high)):
            return None
        if is_int and array.dtype != np.int64:
            if not np.all(np.mod(array, 1) == 0):
                return None
            array = array.astype(np.int64)
        elif not is_int:
            array = array.astype(np.float64)
        result.append(np.ascontiguousarray(array))
    return result


def _fromstring(data: bytes, dtype) -> np.ndarray | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns when it stops at text it cannot parse
        try:
            # With sep=" ", any run of whitespace (tabs, newlines) separates two numbers.
            return np.fromstring(data, dtype=dtype, sep=" ")
        except ValueError:
            return None


def _scan_numeric(
    path: Path, data: bytes, sep: str, columns: Sequence[str], integer: Sequence[bool], first_line: int,
    bounds: Sequence[Bounds | None] = (),
) -> list[np.ndarray]:
    bounds = tuple(bounds) or (None,) * len(columns)
    values: list[list] = [[] for _ in columns]
    for number, line in enumerate(data.decode("latin-1").split("\n"), start=first_line):
        fields = split_fields(path, number, line, sep, columns)
        for column, (token, name, is_int, allowed) in enumerate(zip(fields, columns, integer, bounds)):
            value = parse_int(path, number, token, name) if is_int else parse_float(path, number, token, name)
            if is_int and allowed is None and not _INT64.holds(value):
                raise DataFormatError(path, number, f"an integer {name} that fits in 64 bits", repr(token))
            if allowed is not None and not allowed.holds(value):
                raise DataFormatError(path, number, allowed.expected, repr(token))
            values[column].append(value)
    return [np.array(v, dtype=np.int64 if is_int else np.float64) for v, is_int in zip(values, integer)]


# ---------------------------------------------------------------------------------------------
# Titles

_YEAR_AT_END = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*(?:\((?:V|TV)\))?$")
# Articles that MovieLens moves to the end of a title ("Usual Suspects, The").
ARTICLES = frozenset({"The", "A", "An", "Les", "Le", "La", "L'", "Il", "El", "Los", "Las", "Lo",
                      "Das", "Der", "Die", "Det", "Den", "O", "Un", "Une"})


def split_title_year(raw: str) -> tuple[str, int | None]:
    """"Toy Story (1995)" -> ("Toy Story", 1995); a title without a year keeps year None."""
    raw = raw.strip()
    match = _YEAR_AT_END.match(raw)
    if match and match.group("title"):
        return match.group("title"), int(match.group("year"))
    return raw, None


def _front_article(segment: str) -> str:
    head, comma, tail = segment.strip().rpartition(", ")
    if comma and head and tail in ARTICLES:
        return f"{tail}{head}" if tail.endswith("'") else f"{tail} {head}"
    return segment.strip()


def readable_title(title: str) -> str:
    """Move trailing articles to the front, also inside alternate titles in parentheses:

    "Usual Suspects, The" -> "The Usual Suspects";
    "Horseman on the Roof, The (Hussard sur le toit, Le)" -> "The Horseman on the Roof (Le Hussard sur le toit)".
    """
    main = title.strip()
    alternates: list[str] = []
    while main.endswith(")"):
        start = main.rfind("(")
        if start <= 0 or ")" in main[start:-1]:
            break
        alternates.insert(0, main[start + 1:-1])
        main = main[:start].rstrip()
    if not main:
        return title.strip()
    return " ".join([_front_article(main)] + [f"({_front_article(alt)})" for alt in alternates])


def parse_title(raw: str) -> tuple[str, int | None]:
    """A MovieLens title field as (readable title, year)."""
    title, year = split_title_year(raw)
    return readable_title(title), year
