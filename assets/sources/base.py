"""What a platform source module declares, and the parsing helpers sources share.

A source is plain data plus plain functions: parse functions take the file's bytes and a
:class:`ParseContext` and return a DataFrame with the dataset's columns; nothing here needs Dagster.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pandas as pd
import pyarrow as pa


class ParseError(ValueError):
    """A file that cannot be read as its dataset. The message says what is wrong and where."""


class UnusedContent(Exception):
    """A well-formed file that holds nothing soundlake uses (say, a capture of an API query no
    table needs). It stays in raw with status ``unused`` and this reason; it is not an error, and
    it is parsed again when its source's version goes up."""


@dataclass(frozen=True)
class ParseContext:
    source: str
    dataset: str
    original_name: str
    sha256: str
    landed_at: datetime
    as_of: date | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    """One kind of file a platform hands out."""

    name: str
    description: str
    schema: pa.Schema
    key: tuple[str, ...]
    parse: Callable[[bytes, ParseContext], pd.DataFrame]
    patterns: tuple[str, ...] = ()
    sniff: Callable[[str, bytes], bool] | None = None
    expectations: Callable[[], list] | None = None
    # when the platform produced a file, for files whose name has no ``YYYYMMDD_HHMMSS`` stamp:
    # (original name, bytes) -> datetime or None (TikTok's epoch seconds in the name, the last day
    # in a Spotify for Artists timeline, ...). It must not raise; None falls back to the name
    # stamp, then --as-of, then when the file landed.
    observed_at: Callable[[str, bytes], datetime | None] | None = None

    def matches_name(self, name: str) -> bool:
        return any(re.search(p, name, re.IGNORECASE) for p in self.patterns)


@dataclass(frozen=True)
class CuratedMapping:
    """How staging rows of some datasets become rows of one curated table."""

    table: str
    datasets: tuple[str, ...]
    build: Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame]


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    datasets: tuple[Dataset, ...]
    mappings: tuple[CuratedMapping, ...]
    samples: Callable[[Path, int], list[Path]]
    acquisition: str = "file drop"
    version: int = 1
    # when several sources report an artist's daily streams, which one v_streams_daily keeps:
    # 1 = the platform's own artist dashboard, 2, 3, ... = distributors (lower wins); None for a
    # source that reports no streams
    stream_precedence: int | None = None

    def dataset(self, name: str) -> Dataset:
        for ds in self.datasets:
            if ds.name == name:
                return ds
        raise KeyError(f"source {self.name!r} has no dataset {name!r}")


# --- helpers shared by the sources -------------------------------------------------------------

_STAMP = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})[_-]?(\d{2})(\d{2})(\d{2})(?!\d)")


def timestamp_from_name(name: str) -> datetime | None:
    """The ``YYYYMMDD_HHMMSS`` stamp export tools put in file names, if there is one."""
    m = _STAMP.search(name)
    if not m:
        return None
    try:
        return datetime(*map(int, m.groups()), tzinfo=timezone.utc)
    except ValueError:
        return None


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), falling back to ISO-8859-1; binary content is refused."""
    if not data.strip():
        raise ParseError("the file is empty")
    head = data[:4096]
    if b"\x00" in head:
        raise ParseError("the file is binary, not text (it holds NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t\f")
    if controls > 8:
        raise ParseError("the file is binary, not text (it holds control characters)")
    return text


def normalise_newlines(text: str) -> str:
    """CR-only and CRLF line endings become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def require_columns(df: pd.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ParseError(
            f"{what}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the header has {', '.join(repr(c) for c in df.columns)}"
        )


def to_int(series: pd.Series, column: str, *, line_offset: int = 2) -> pd.Series:
    """Whole numbers, thousands separators allowed; anything else names the line and value."""
    cleaned = series.astype("string").str.strip().str.replace(",", "", regex=False)
    cleaned = cleaned.mask(cleaned.isin(["", "undefined", "null", "None"]))
    numeric = pd.to_numeric(cleaned, errors="coerce")
    bad = numeric.isna() & cleaned.notna()
    bad |= numeric.notna() & (numeric % 1 != 0)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ParseError(
            f"column {column!r}, line {i + line_offset}: {series.iloc[i]!r} is not a whole number"
        )
    return numeric.astype("Int64")


def to_float(series: pd.Series, column: str, *, line_offset: int = 2) -> pd.Series:
    cleaned = series.astype("string").str.strip().str.replace(",", "", regex=False)
    cleaned = cleaned.mask(cleaned.isin(["", "undefined", "null", "None"]))
    numeric = pd.to_numeric(cleaned, errors="coerce")
    bad = numeric.isna() & cleaned.notna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ParseError(f"column {column!r}, line {i + line_offset}: {series.iloc[i]!r} is not a number")
    return numeric.astype("float64")


def to_date(series: pd.Series, column: str, formats: str | Sequence[str], *, line_offset: int = 2) -> pd.Series:
    """Dates in any of ``formats`` (tried in order, e.g. ISO then an Excel re-save's M/D/YYYY)."""
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    cleaned = series.astype("string").str.strip()
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = parsed.isna() & cleaned.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(cleaned[todo], format=fmt, errors="coerce")
    bad = parsed.isna() & cleaned.notna() & (cleaned != "")
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ParseError(
            f"column {column!r}, line {i + line_offset}: {series.iloc[i]!r} is not a date "
            f"(expected {' or '.join(formats)})"
        )
    return parsed.dt.date


def read_delimited(text: str, sep: str, what: str) -> pd.DataFrame:
    """A delimited text table (quoted values allowed), every value a string; a line with a wrong
    field count is an error that names the line."""
    lines = normalise_newlines(text).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ParseError(f"{what}: the file has no header line")
    reader = csv.reader(lines, delimiter=sep)
    header = [h.strip() for h in next(reader)]
    width = len(header)
    rows = []
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != width:
            raise ParseError(
                f"{what}: line {reader.line_num} has {len(fields)} fields, the header has {width} "
                "(a truncated or damaged file?)"
            )
        rows.append(fields)
    return pd.DataFrame(rows, columns=header, dtype="string")
