"""Curated: the conformed model, ``<table>/month=<yyyy-mm>/part-<hash>.parquet`` (or
``<table>/part-<hash>.parquet``), one file per partition named by its content.

Each table is rebuilt from staging through the sources' mappings with snapshot semantics: for a
natural key the newest observation wins and history is never lost, so two overlapping exports of
the same days give each day once. A table version is written new, then switched: partitions whose
bytes change get new files beside the old ones, then the table's state document
(``_state/<table>.json``, :mod:`.state`) is replaced to list the new version's files. The
superseded files stay until the warehouse reads the new version; then they go to archive and are
removed (:func:`collect_garbage`). Rebuilding from raw at any time gives identical bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from resources.faults import checkpoint
from resources.storage import LakeStorage

from ..model import TABLES, CuratedTable
from ..sources import Source
from . import state
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
    out = {}
    for name in (tables or TABLES):
        table = TABLES[name]
        fingerprint = state.table_fingerprint(sources, table, loaded)
        out[name] = write_partitions(storage, table, curated_frame(storage, sources, table, loaded), fingerprint)
    return out


def part_key(folder: str, blob: bytes) -> str:
    return f"{folder}/part-{hashlib.sha256(blob).hexdigest()[:16]}.parquet"


def write_partitions(storage: LakeStorage, table: CuratedTable, data: pa.Table, fingerprint: str) -> TableResult:
    """Write the partitions whose content is new, then switch the table to this version."""
    folders: dict[str, pa.Table] = {}
    if table.partition_by:
        months = pc.strftime(data[table.partition_by].cast(pa.timestamp("s")), format="%Y-%m")
        for month in sorted(set(months.to_pylist())):
            folders[f"{table.name}/month={month}"] = data.filter(pc.equal(months, month))
    elif data.num_rows:
        folders[table.name] = data
    existing = {o.key for o in storage.list("curated", f"{table.name}/")}
    previous = state.table_state(storage, table.name)
    files, written = [], 0
    for folder, part in folders.items():
        blob = parquet_bytes(part)
        key = part_key(folder, blob)
        if key not in existing:
            storage.put("curated", key, blob)
            checkpoint("curated")
            written += 1
        files.append(key)
    before = set((previous or {}).get("files", []))
    state.commit_table(storage, table.name, fingerprint, files, data.num_rows)
    return TableResult(table.name, data.num_rows, written, len(before - set(files)), data.slice(0, 10))


def collect_garbage(storage: LakeStorage, tables: Iterable[str] | None = None) -> list[str]:
    """Archive and remove the curated files no committed table version uses (superseded
    versions, and what an interrupted run wrote). Run once the warehouse reads the new versions."""
    stamp = f"{utcnow():%Y%m%dT%H%M%S%f}"
    removed = []
    for name in (tables or TABLES):
        doc = state.table_state(storage, name)
        if doc is None:
            continue
        keep = set(doc.get("files", []))
        for o in list(storage.list("curated", f"{name}/")):
            if o.key not in keep:
                archive_curated(storage, o.key, stamp)
                storage.delete("curated", o.key)
                removed.append(o.key)
    return removed
