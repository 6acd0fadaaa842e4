"""Staging: one typed Parquet per raw file, ``<source>/<dataset>/<sha256>.parquet``.

Each raw file is parsed once, by its dataset's parser, conformed to the dataset's schema, checked
(the natural key unique within the file, the dataset's Great Expectations suite) and written with
lineage columns (``sha256``, ``source_file``, ``landed_at``, ``observed_at``). A file that fails
is ``quarantined`` with a reason naming the problem and stays in raw; it never blocks the others.
Quarantined (and unused) files are parsed again when their source's parser ``version`` went up,
or on ``reprocess``.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Iterable, Mapping

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from resources.faults import checkpoint
from resources.storage import LakeStorage

from .. import quality
from ..sources import ParseContext, ParseError, Source, UnusedContent
from .landing import SNIFF_BYTES, FileResult, identify
from .manifest import STORED, Manifest, clean
from .raw import read_raw

log = logging.getLogger("soundlake.lake")

LINEAGE = (
    ("sha256", pa.string()),
    ("source_file", pa.string()),
    ("landed_at", pa.timestamp("us", tz="UTC")),
    ("observed_at", pa.timestamp("us", tz="UTC")),
)


def staging_key(source: str, dataset: str, sha256: str) -> str:
    return f"{source}/{dataset}/{sha256}.parquet"


def stage(storage: LakeStorage, manifest: Manifest, sources: Mapping[str, Source], *, reprocess: bool = False,
          source: str | None = None, datasets: Iterable[str] | None = None, validate: bool = True,
          ) -> dict[str, FileResult]:
    """Parse every raw file (of ``source`` / ``datasets`` when given) that has no staging file
    yet; quarantined and unused ones again when their parser changed or on ``reprocess``. With
    ``reprocess``, files no source knew are recognised again. Returns results by sha256."""
    current = manifest.current()
    if current.empty:
        return {}
    wanted = None if datasets is None else set(datasets)
    staged = {o.key for o in storage.list("staging", f"{source}/" if source else "") if o.key.endswith(".parquet")}
    todo = current[current["status"].isin(list(STORED)) & current["raw_key"].notna()]
    rows, results = [], {}
    for r in todo.sort_values("landed_at", kind="stable").to_dict("records"):
        row = clean(r)
        if row["source"] is None:
            if not reprocess:
                continue
            data = read_raw(storage, row["raw_key"])
            ident = identify(sources, row["original_name"], data[:SNIFF_BYTES])
            if ident is None or (source and ident[0] != source) or (wanted is not None and ident[1] not in wanted):
                continue
            row["source"], row["dataset"] = ident
        elif (source and row["source"] != source) or (wanted is not None and row["dataset"] not in wanted):
            continue
        if row["status"] == "loaded" and row["rows"] is not None \
                and staging_key(row["source"], row["dataset"], row["sha256"]) in staged:
            continue  # staged and recorded (rows is None: stored in raw, never recorded as parsed)
        if row["status"] in ("quarantined", "unused"):
            version = sources[row["source"]].version if row["source"] in sources else None
            if not reprocess and row["parser_version"] == version:
                continue
        if row["source"] not in sources:
            continue  # its source module is gone: nothing can parse it now
        stage_one(storage, sources, row, validate=validate)
        checkpoint("staging")
        rows.append(row)
        results[row["sha256"]] = FileResult.of(row["original_name"], row)
    manifest.append(rows)
    return results


def unstaged(storage: LakeStorage, manifest: Manifest | pd.DataFrame, sources: Mapping[str, Source],
             ) -> set[tuple[str, str]]:
    """(source, dataset) pairs with loaded files that have no staging file or were never recorded
    as parsed (a run stopped between raw and staging, or between writing staging and recording
    it) or quarantined/unused files whose parser has a newer version."""
    current = manifest.current() if isinstance(manifest, Manifest) else manifest
    if current.empty:
        return set()
    todo = current[current["status"].isin(list(STORED)) & current["raw_key"].notna() & current["source"].notna()]
    if todo.empty:
        return set()
    staged = {o.key for o in storage.list("staging") if o.key.endswith(".parquet")}
    out = set()
    for r in todo[["source", "dataset", "sha256", "status", "parser_version", "rows"]].itertuples(index=False):
        if r.source not in sources:
            continue
        if r.status == "loaded" and (staging_key(r.source, r.dataset, r.sha256) not in staged or pd.isna(r.rows)):
            out.add((r.source, r.dataset))  # never parsed, or parsed but the run died before recording it
        elif r.status != "loaded" and r.parser_version != sources[r.source].version:
            out.add((r.source, r.dataset))
    return out


def stage_one(storage: LakeStorage, sources: Mapping[str, Source], row: dict, *, validate: bool = True) -> None:
    """Parse one raw file into staging; updates ``row`` (status, rows, reason, parser_version)."""
    name = row["original_name"]
    data = read_raw(storage, row["raw_key"])
    src = sources[row["source"]]
    ds = src.dataset(row["dataset"])
    row["parser_version"] = src.version
    options = json.loads(row["options"]) if row.get("options") else {}
    ctx = ParseContext(src.name, ds.name, name, row["sha256"], row["landed_at"], row.get("as_of"), options)
    try:
        df = ds.parse(data, ctx)
        if df is None or len(df) == 0:
            raise ParseError("no data rows")
        table = conform(df, ds.schema, f"{src.name}/{ds.name}")
        frame = table.to_pandas()
        dupes = frame.duplicated(list(ds.key), keep=False)
        if dupes.any():
            first = frame[dupes].iloc[0]
            raise ParseError(
                f"{int(dupes.sum())} rows repeat the natural key ({', '.join(ds.key)}), e.g. "
                + ", ".join(f"{k}={first[k]!r}" for k in ds.key)
            )
        if validate and ds.expectations:
            failures = quality.validate(f"{src.name}/{ds.name}", frame, ds.expectations())
            if failures:
                raise ParseError("failed the quality checks: " + "; ".join(map(str, failures)))
    except UnusedContent as exc:
        row.update(status="unused", rows=0, reason=f"{name}: {exc}")
        log.info("kept in raw, unused: %s: %s", name, exc)
        return
    except ParseError as exc:
        row.update(status="quarantined", rows=None, reason=f"{name}: {exc}")
        log.warning("quarantined %s: %s", name, exc)
        return
    except Exception as exc:  # a parser bug must not stop the batch; keep the file for a fix
        log.exception("parser of %s/%s failed on %s", src.name, ds.name, name)
        row.update(status="quarantined", rows=None,
                   reason=f"{name}: the {src.name}/{ds.name} parser failed ({type(exc).__name__}: {exc}); "
                          "the file is kept in raw, run `soundlake reprocess` after a fix")
        return
    n = table.num_rows
    values = {"sha256": row["sha256"], "source_file": name, "landed_at": row["landed_at"],
              "observed_at": row["observed_at"]}
    for col, typ in LINEAGE:
        table = table.append_column(col, pa.repeat(pa.scalar(values[col], typ), n))
    storage.put("staging", staging_key(src.name, ds.name, row["sha256"]), parquet_bytes(table))
    row.update(status="loaded", rows=n, reason=None)


def staging_schema(source: Source, dataset: str) -> pa.Schema:
    schema = source.dataset(dataset).schema
    for col, typ in LINEAGE:
        schema = schema.append(pa.field(col, typ))
    return schema


def read_staging_table(storage: LakeStorage, source: Source, dataset: str, shas: Iterable[str]) -> pa.Table:
    schema = staging_schema(source, dataset)
    tables = [pq.read_table(io.BytesIO(storage.get("staging", staging_key(source.name, dataset, s)))).cast(schema)
              for s in shas]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def read_staging(storage: LakeStorage, source: Source, dataset: str, shas: Iterable[str]) -> pd.DataFrame:
    return read_staging_table(storage, source, dataset, shas).to_pandas(types_mapper=types_mapper)


def loaded_files(manifest: Manifest | pd.DataFrame) -> pd.DataFrame:
    """Manifest rows of the files in staging: one per sha256, oldest landing first."""
    current = manifest.current() if isinstance(manifest, Manifest) else manifest
    if current.empty:
        return current
    loaded = current[(current["status"] == "loaded") & current["source"].notna()]
    return loaded.sort_values("landed_at", kind="stable").drop_duplicates("sha256").reset_index(drop=True)


def loaded_shas(manifest: Manifest | pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    files = loaded_files(manifest)
    for source, dataset, sha in zip(files.get("source", []), files.get("dataset", []), files.get("sha256", [])):
        out.setdefault((source, dataset), []).append(sha)
    return out


def newest_per_key(data: pa.Table, key: Iterable[str], schema: pa.Schema | None = None) -> pa.Table:
    """One row per natural key: the newest observation, then the highest sha256; sorted by key.
    What curated is built from, and what the dataset-wide checks validate."""
    if data.num_rows == 0:
        return data if schema is None else data.cast(schema)
    con = duckdb.connect()
    try:
        con.register("t", data)
        keys = ", ".join(f'"{k}"' for k in key)
        result = con.execute(
            f"SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY {keys} "
            f"ORDER BY observed_at DESC, sha256 DESC) = 1 ORDER BY {keys} NULLS FIRST, sha256"
        ).fetch_arrow_table()
    finally:
        con.close()
    return result.cast(schema if schema is not None else data.schema)


def snapshot(storage: LakeStorage, manifest: Manifest | pd.DataFrame, source: Source, dataset: str) -> pd.DataFrame:
    """The dataset as curated will see it: every loaded file, the newest observation per key."""
    shas = loaded_shas(manifest).get((source.name, dataset), [])
    table = read_staging_table(storage, source, dataset, shas)
    return newest_per_key(table, source.dataset(dataset).key).to_pandas(types_mapper=types_mapper)


def types_mapper(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    return None


def conform(df: pd.DataFrame | pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``df`` (a DataFrame or an Arrow table) as a table of exactly ``schema`` (missing optional
    columns null); a column that cannot take its type is a ParseError naming it."""
    arrays = []
    if isinstance(df, pa.Table):
        for f in schema:
            if f.name not in df.column_names:
                arrays.append(pa.nulls(df.num_rows, f.type))
                continue
            try:
                arrays.append(df[f.name].cast(f.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise ParseError(f"{what}: column {f.name!r} cannot be read as {f.type} ({exc})") from None
        return pa.Table.from_arrays(arrays, schema=schema)
    for f in schema:
        if f.name not in df.columns:
            arrays.append(pa.nulls(len(df), f.type))
            continue
        col = df[f.name]
        try:
            if pa.types.is_date32(f.type):
                col = pd.to_datetime(col, errors="raise").dt.date if not _all_dates(col) else col
            if pa.types.is_timestamp(f.type):
                col = pd.to_datetime(col, utc=True)
            arr = pa.array(col.astype(object).where(col.notna(), None), type=f.type, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as exc:
            raise ParseError(f"{what}: column {f.name!r} cannot be read as {f.type} ({exc})") from None
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def _all_dates(col: pd.Series) -> bool:
    from datetime import date, datetime

    return all(isinstance(v, date) and not isinstance(v, datetime) for v in col.dropna())


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(None), buf, compression="zstd")
    return buf.getvalue()
