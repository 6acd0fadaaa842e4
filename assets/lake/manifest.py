"""The manifest ``lake_files``: one row per landing of a file, the truth beside raw.

It is an append-only log of small Parquet files under ``raw/_manifest/``; every change of a
landing's status appends a row with the same ``landing_id`` and the newest row wins
(:meth:`Manifest.current`). Appending never rewrites anything, so two writers cannot lose each
other's rows. The log is compacted (:meth:`Manifest.compact`) once it holds many files: every row
is copied into one file, then the files it came from are deleted; a reader in between sees a row
twice, which :meth:`Manifest.history` folds, and never misses one.

Statuses: ``landed`` (in landing, waiting for a run; ``batch`` says which run takes it),
``loaded``, ``duplicate``, ``quarantined``, ``unused``, ``superseded`` (a quarantined landing
ingested again with other options).
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from resources.storage import LakeStorage

MANIFEST_PREFIX = "_manifest/"
COMPACT_AT = 64  # log files; compaction copies every row into one file
STORED = ("loaded", "quarantined", "unused")  # statuses of a landing whose bytes are in raw

MANIFEST_SCHEMA = pa.schema(
    [
        ("landing_id", pa.string()),
        ("sha256", pa.string()),
        ("source", pa.string()),
        ("dataset", pa.string()),
        ("original_name", pa.string()),
        ("size", pa.int64()),
        ("landed_at", pa.timestamp("us", tz="UTC")),
        ("observed_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("rows", pa.int64()),
        ("reason", pa.string()),
        ("raw_key", pa.string()),
        ("parser_version", pa.int64()),
        ("as_of", pa.date32()),
        ("options", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("landing_key", pa.string()),
        ("batch", pa.string()),
    ]
)
ROW_FIELDS = tuple(n for n in MANIFEST_SCHEMA.names if n != "recorded_at")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def clean(row: dict) -> dict:
    """A manifest row with pandas' missing values (NaN, NaT, <NA>) as None."""
    return {k: (None if is_missing(row.get(k)) else row.get(k)) for k in ROW_FIELDS}


class Manifest:
    def __init__(self, storage: LakeStorage):
        self.storage = storage

    def _keys(self) -> list[str]:
        return [o.key for o in self.storage.list("raw", MANIFEST_PREFIX) if o.key.endswith(".parquet")]

    def _read(self, keys: list[str]) -> pa.Table:
        tables = []
        for k in keys:
            try:
                tables.append(pq.read_table(io.BytesIO(self.storage.get("raw", k))))
            except FileNotFoundError:  # compacted away while we listed: its rows are in the compacted file
                continue
        if not tables:
            return MANIFEST_SCHEMA.empty_table()
        return pa.concat_tables([_as_manifest(t) for t in tables])

    def history(self) -> pd.DataFrame:
        """Every row ever recorded (a row seen twice during a compaction once)."""
        df = self._read(self._keys()).to_pandas()
        if df.empty:
            return df
        return df.drop_duplicates(["landing_id", "recorded_at", "status"]).reset_index(drop=True)

    def current(self) -> pd.DataFrame:
        """``lake_files``: the newest row of every landing."""
        hist = self.history()
        if hist.empty:
            return hist
        hist = hist.sort_values(["recorded_at", "landing_id"], kind="stable")
        return hist.drop_duplicates("landing_id", keep="last").reset_index(drop=True)

    def append(self, rows: list[dict]) -> None:
        if not rows:
            return
        now = utcnow()
        table = pa.Table.from_pylist([{**clean(r), "recorded_at": now} for r in rows], schema=MANIFEST_SCHEMA)
        self.storage.put("raw", f"{MANIFEST_PREFIX}{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet",
                         _parquet(table))
        if len(self._keys()) >= COMPACT_AT:
            self.compact()

    def compact(self) -> int:
        """Copy every row into one log file, then delete the files they came from. Returns the
        number of files folded."""
        keys = self._keys()
        if len(keys) < 2:
            return 0
        table = self._read(keys)
        now = utcnow()
        self.storage.put("raw", f"{MANIFEST_PREFIX}{now:%Y%m%dT%H%M%S%f}-compacted-{uuid.uuid4().hex[:8]}.parquet",
                         _parquet(table.sort_by([("recorded_at", "ascending"), ("landing_id", "ascending")])))
        for k in keys:
            self.storage.delete("raw", k)
        return len(keys)


def _as_manifest(table: pa.Table) -> pa.Table:
    """A log file's rows in the manifest schema; columns newer than the file are null."""
    columns = [table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
               for f in MANIFEST_SCHEMA]
    return pa.Table.from_arrays(columns, schema=MANIFEST_SCHEMA)


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()
