"""Curated: the conformed model, ``<table>/month=<yyyy-mm>/data.parquet`` (or ``<table>/data.parquet``).

Each table is rebuilt from staging through the sources' mappings with snapshot semantics: for a
natural key the newest observation wins and history is never lost, so two overlapping exports of
the same days give each day once. A partition is rewritten only when its bytes change; its
previous version goes to archive first. Rebuilding from raw at any time gives identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from resources.storage import LakeStorage

from ..model import TABLES, CuratedTable
from ..sources import Source
from .archive import archive_curated
from .manifest import Manifest, utcnow
from .staging import conform, loaded_shas, newest_per_key, parquet_bytes, read_staging


@dataclass
class TableResult:
    table: str
    rows: int
    partitions_written: int
    partitions_archived: int
    head: pa.Table | None = None  # the first rows, for previews


def curated_frame(storage: LakeStorage, sources: Mapping[str, Source], table: CuratedTable,
                  loaded: Mapping[tuple[str, str], list[str]]) -> pa.Table:
    """The whole curated table as rebuilt from staging (newest observation per key wins)."""
    parts = []
    for src in sources.values():
        for mapping in src.mappings:
            if mapping.table != table.name:
                continue
            frames = {d: read_staging(storage, src, d, loaded.get((src.name, d), [])) for d in mapping.datasets}
            if not any(len(f) for f in frames.values()):
                continue
            df = mapping.build(frames)
            if len(df):
                df = df.assign(source=src.name)
                parts.append(conform(df, table.schema, table.name))
    combined = pa.concat_tables(parts) if parts else table.schema.empty_table()
    return newest_per_key(combined, table.key, table.schema)


def build(storage: LakeStorage, manifest: Manifest, sources: Mapping[str, Source],
          tables: Iterable[str] | None = None) -> dict[str, TableResult]:
    loaded = loaded_shas(manifest)
    return {name: write_partitions(storage, TABLES[name], curated_frame(storage, sources, TABLES[name], loaded))
            for name in (tables or TABLES)}


def write_partitions(storage: LakeStorage, table: CuratedTable, data: pa.Table) -> TableResult:
    wanted: dict[str, pa.Table] = {}
    if table.partition_by:
        months = pc.strftime(data[table.partition_by].cast(pa.timestamp("s")), format="%Y-%m")
        for month in sorted(set(months.to_pylist())):
            wanted[f"{table.name}/month={month}/data.parquet"] = data.filter(pc.equal(months, month))
    elif data.num_rows:
        wanted[f"{table.name}/data.parquet"] = data
    existing = {o.key for o in storage.list("curated", f"{table.name}/")}
    stamp = f"{utcnow():%Y%m%dT%H%M%S%f}"
    written = archived = 0
    for key, part in wanted.items():
        blob = parquet_bytes(part)
        if key in existing:
            if storage.get("curated", key) == blob:
                continue
            archive_curated(storage, key, stamp)
            archived += 1
        storage.put("curated", key, blob)
        written += 1
    for key in sorted(existing - set(wanted)):
        archive_curated(storage, key, stamp)
        storage.delete("curated", key)
        archived += 1
    return TableResult(table.name, data.num_rows, written, archived, data.slice(0, 10))
