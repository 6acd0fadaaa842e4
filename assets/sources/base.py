"""What a platform source module declares.

A source is plain data plus plain functions: parse functions take the file's bytes and a
:class:`ParseContext` and return a table with the dataset's columns; nothing here needs Dagster.
The helpers parsers share are in :mod:`.parsing`, the quality suites in :mod:`assets.quality`,
the demo's sample helpers in :mod:`.samples`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Mapping

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
    parse: Callable[[bytes, ParseContext], pd.DataFrame | pa.Table]
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
    # the product's platforms whose numbers the source brings (`soundlake sources` lists them);
    # empty: the platform is the source's name
    platforms: tuple[str, ...] = ()
    # when several sources report an artist's daily streams, which one v_streams_daily keeps:
    # 1 = the platform's own artist dashboard, 2, 3, ... = distributors (lower wins); None for a
    # source that reports no streams
    stream_precedence: int | None = None

    def __post_init__(self) -> None:
        if not self.platforms:
            object.__setattr__(self, "platforms", (self.name,))

    def dataset(self, name: str) -> Dataset:
        for ds in self.datasets:
            if ds.name == name:
                return ds
        raise KeyError(f"source {self.name!r} has no dataset {name!r}")
