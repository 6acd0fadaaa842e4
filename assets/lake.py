"""The zone engine: landing → raw → staging → curated → archive, for any source module.

Plain Python over a :class:`~resources.storage.LakeStorage`; the Dagster assets and the CLI both
call it, so a file goes through the same steps whichever way it arrives.

* landing ``<source>/<dataset>/<original name>``: where files arrive.
* raw ``<source>/<dataset>/<yyyy>/<mm>/<sha256>.<ext>``: byte-for-byte, content-addressed; the
  manifest (``lake_files``) is an append-only log of Parquet files under ``raw/_manifest/``, the
  newest row per landing wins.
* staging ``<source>/<dataset>/<sha256>.parquet``: one typed file per raw file.
* curated ``<table>/month=<yyyy-mm>/data.parquet``: the conformed model, rebuilt from staging;
  a rewritten partition's previous version goes to archive first.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import posixpath
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Mapping

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resources.storage import LakeStorage, UnsafeKeyError, check_key

from . import quality
from .model import TABLES, CuratedTable
from .sources import SOURCES, ParseContext, ParseError, Source
from .sources.base import Dataset, UnusedContent, timestamp_from_name

log = logging.getLogger("soundlake.lake")

UNIDENTIFIED = "_unidentified"
MANIFEST_PREFIX = "_manifest/"
SNIFF_BYTES = 64 * 1024

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
    ]
)
LINEAGE_COLUMNS = ("sha256", "source_file", "landed_at", "observed_at")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class FileResult:
    """What happened to one landed file; what ``soundlake ingest --json`` prints."""

    path: str
    source: str | None
    dataset: str | None
    sha256: str | None
    status: str
    rows: int | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Landed:
    """A file put into landing, with what the person told us about it."""

    path: str
    key: str
    source: str
    dataset: str
    as_of: date | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass
class TableResult:
    table: str
    rows: int
    partitions_written: int
    partitions_archived: int
    head: pa.Table | None = None  # the first rows, for previews


class Lake:
    def __init__(self, storage: LakeStorage, sources: Mapping[str, Source] | None = None, *, validate: bool = True):
        self.storage = storage
        self.sources = dict(SOURCES if sources is None else sources)
        self.validate = validate

    # --- recognising files ------------------------------------------------------------------

    def _candidates(self, source_hint: str | None) -> list[tuple[Source, Dataset]]:
        sources = [self.sources[source_hint]] if source_hint else list(self.sources.values())
        return [(s, d) for s in sources for d in s.datasets]

    def identify_by_name(self, name: str, source_hint: str | None = None) -> tuple[str, str] | None:
        """(source, dataset) whose file-name pattern matches ``name``, if any."""
        for s, d in self._candidates(source_hint):
            if d.matches_name(name):
                return s.name, d.name
        return None

    def identify(self, name: str, head: bytes, source_hint: str | None = None) -> tuple[str, str] | None:
        """(source, dataset) for a file: its name first, its content to break ties or when the
        name says nothing."""
        pool = self._candidates(source_hint)
        by_name = [(s, d) for s, d in pool if d.matches_name(name)]
        if len(by_name) == 1:
            return by_name[0][0].name, by_name[0][1].name
        sniffed = [(s, d) for s, d in (by_name or pool) if d.sniff and d.sniff(name, head)]
        if sniffed:
            return sniffed[0][0].name, sniffed[0][1].name
        if by_name:
            return by_name[0][0].name, by_name[0][1].name
        return None

    # --- landing ----------------------------------------------------------------------------

    def land_paths(
        self,
        paths: Iterable[Path],
        *,
        source: str | None = None,
        as_of: date | None = None,
        options: Mapping[str, str] | None = None,
    ) -> tuple[list[Landed], list[FileResult]]:
        """Put files (folders walked, zips opened unless a source reads the zip itself) into
        landing. Returns what landed and what was refused before landing."""
        if source is not None and source not in self.sources:
            raise ValueError(f"unknown source {source!r}; known: {', '.join(sorted(self.sources))}")
        landed: list[Landed] = []
        refused: list[FileResult] = []
        for path in paths:
            path = Path(path)
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]
            for f in files:
                self._land_one(str(f), f.name, f.read_bytes(), source, as_of, options or {}, landed, refused)
        return landed, refused

    def _land_one(self, shown: str, name: str, data: bytes, source, as_of, options, landed, refused) -> None:
        is_zip = name.lower().endswith(".zip") and zipfile.is_zipfile(io.BytesIO(data))
        # a zip is kept whole only when a dataset reads the zip itself (its name says so)
        ident = self.identify_by_name(name, source) if is_zip else self.identify(name, data[:SNIFF_BYTES], source)
        if ident is None and is_zip:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    member = f"{shown}!{info.filename}"
                    safe = _safe_member(info.filename)
                    if safe is None:
                        refused.append(FileResult(member, None, None, None, "quarantined", None,
                                                  f"{member}: refused before landing: the path {info.filename!r} "
                                                  "would leave its folder ('..' or an absolute path)"))
                        continue
                    self._land_one(member, safe, zf.read(info), source, as_of, options, landed, refused)
            return
        try:
            check_key(name)
            if "/" in name or name in (".", ".."):
                raise UnsafeKeyError(name)
        except UnsafeKeyError:
            refused.append(FileResult(shown, None, None, None, "quarantined", None,
                                      f"{shown}: refused before landing: unsafe file name {name!r}"))
            return
        src, ds = ident if ident else (UNIDENTIFIED, UNIDENTIFIED)
        key = f"{src}/{ds}/{name}"
        taken = {item.key for item in landed}
        n = 1
        while key in taken:  # two files of one batch with the same name must not overwrite each other
            n += 1
            stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
            key = f"{src}/{ds}/{stem} ({n}){dot}{ext}"
        self.storage.put("landing", key, data)
        landed.append(Landed(shown, key, src, ds, as_of, dict(options)))

    # --- manifest ---------------------------------------------------------------------------

    def manifest_history(self) -> pd.DataFrame:
        keys = [o.key for o in self.storage.list("raw", MANIFEST_PREFIX) if o.key.endswith(".parquet")]
        if not keys:
            return MANIFEST_SCHEMA.empty_table().to_pandas()
        tables = [pq.read_table(io.BytesIO(self.storage.get("raw", k))) for k in keys]
        return pa.concat_tables(tables).cast(MANIFEST_SCHEMA).to_pandas()

    def manifest(self) -> pd.DataFrame:
        """``lake_files``: the newest row for every landed file."""
        hist = self.manifest_history()
        if hist.empty:
            return hist
        hist = hist.sort_values(["recorded_at", "landing_id"], kind="stable")
        return hist.drop_duplicates("landing_id", keep="last").reset_index(drop=True)

    def _record(self, rows: list[dict]) -> None:
        if not rows:
            return
        now = utcnow()
        for r in rows:
            r["recorded_at"] = now
        table = pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        self.storage.put("raw", f"{MANIFEST_PREFIX}{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet", buf.getvalue())

    # --- landing → raw ----------------------------------------------------------------------

    def pending(self, prefix: str = "") -> list[Landed]:
        """Objects waiting in landing at ``<source>/<dataset>/<name>``."""
        out = []
        for o in self.storage.list("landing", prefix):
            parts = o.key.split("/")
            if len(parts) == 3:
                out.append(Landed(o.key, o.key, parts[0], parts[1]))
        return out

    def sort_landing(self) -> list[Landed]:
        """Files dropped anywhere else in landing (a sync tool, a person) are recognised and
        moved to ``<source>/<dataset>/<name>``; what no source knows goes to ``_unidentified``."""
        moved = []
        for o in list(self.storage.list("landing")):
            parts = o.key.split("/")
            if len(parts) == 3 and (parts[0] == UNIDENTIFIED or (
                    parts[0] in self.sources and parts[1] in {d.name for d in self.sources[parts[0]].datasets})):
                continue
            name = parts[-1]
            data = self.storage.get("landing", o.key)
            src, ds = self.identify(name, data[:SNIFF_BYTES]) or (UNIDENTIFIED, UNIDENTIFIED)
            key = f"{src}/{ds}/{name}"
            self.storage.put("landing", key, data)
            self.storage.delete("landing", o.key)
            moved.append(Landed(o.key, key, src, ds))
        return moved

    def landing_to_raw(self, landed: Iterable[Landed] | None = None, prefix: str = "") -> list[FileResult]:
        """Move landing objects into raw (content-addressed). Duplicates are recorded, not stored.
        With no argument, every object now in landing is taken (what the sensor does)."""
        if landed is None:
            landed = self.pending(prefix)
        current = self.manifest()
        stored = current[current["raw_key"].notna() & current["status"].isin(["loaded", "quarantined", "unused"])]
        known: dict[str, _Row] = {
            r["sha256"]: _Row(**{k: None if _is_missing(v) else v for k, v in r.items()})
            for r in stored.to_dict("records")
        }
        rows: list[dict] = []
        results: list[FileResult] = []
        for item in landed:
            data = self.storage.get("landing", item.key)
            sha = hashlib.sha256(data).hexdigest()
            name = PurePosixPath(item.key).name
            now = utcnow()
            src = None if item.source == UNIDENTIFIED else item.source
            ds = None if item.dataset == UNIDENTIFIED else item.dataset
            row = dict(
                landing_id=uuid.uuid4().hex, sha256=sha, source=src, dataset=ds, original_name=name,
                size=len(data), landed_at=now, observed_at=self._observed_at(name, data, src, ds, item.as_of, now),
                status="loaded", rows=None, reason=None, raw_key=None,
                parser_version=self.sources[src].version if src else None, as_of=item.as_of,
                options=json.dumps(dict(item.options), sort_keys=True) if item.options else None,
            )
            prior = known.get(sha)
            if prior is not None and self._retry_with_new_context(prior, row):
                # a file that failed (or held nothing usable) for want of an option: this landing
                # brings other options (--artist, --as-of, --source, ...), so it is parsed again
                # with them; the earlier landing is marked superseded so it no longer shows as
                # quarantined
                owner = src or prior.source
                row.update(raw_key=prior.raw_key, source=owner, dataset=ds or prior.dataset,
                           parser_version=self.sources[owner].version if owner in self.sources else None)
                rows.append({**{k: getattr(prior, k, None) for k in MANIFEST_SCHEMA.names if k != "recorded_at"},
                             "status": "superseded",
                             "reason": f"ingested again as {name} with other options; see that landing"})
                known[sha] = _Row(**row)
            elif prior is not None:
                row.update(status="duplicate", raw_key=prior.raw_key, source=prior.source, dataset=prior.dataset,
                           rows=int(prior.rows) if prior.status == "loaded" and prior.rows is not None else None,
                           reason=f"same content as {prior.original_name}, already in raw ({prior.status})")
            else:
                ext = "".join(PurePosixPath(name).suffixes[-1:]).lower() or ".bin"
                raw_key = f"{item.source}/{item.dataset}/{now:%Y}/{now:%m}/{sha}{ext}"
                self.storage.put("raw", raw_key, data)
                row["raw_key"] = raw_key
                if src is None:
                    row.update(status="quarantined", reason=(
                        f"{name}: matches no source (neither its name nor its content is one soundlake "
                        f"knows); known sources: {', '.join(sorted(self.sources))}. Ingest it with --source "
                        "NAME, or add a source module, then run `soundlake reprocess`"))
                known[sha] = _Row(**row)
            self.storage.delete("landing", item.key)
            rows.append(row)
            results.append(FileResult(item.path, row["source"], row["dataset"], sha, row["status"], row["rows"], row["reason"]))
        self._record(rows)
        return results

    @staticmethod
    def _retry_with_new_context(prior: "_Row", row: dict) -> bool:
        """Whether a landing of bytes already in raw should be parsed again: the earlier landing
        was quarantined or unused, and this one comes with other options, --as-of or source."""
        if prior.status not in ("quarantined", "unused"):
            return False
        return ((row["options"] or None) != (prior.options or None)
                or _as_date(row["as_of"]) != _as_date(prior.as_of)
                or (row["source"] is not None and (row["source"], row["dataset"]) != (prior.source, prior.dataset)))

    def _observed_at(self, name: str, data: bytes, src: str | None, ds: str | None, as_of: date | None,
                     landed_at: datetime) -> datetime:
        stamp = timestamp_from_name(name)
        if stamp is None and src in self.sources and ds:
            hook = self.sources[src].dataset(ds).observed_at
            try:
                stamp = hook(name, data) if hook else None
            except Exception:  # a hook is a best guess; the fallbacks below still hold
                log.exception("observed_at of %s/%s failed on %s", src, ds, name)
                stamp = None
        if stamp:
            return stamp
        if as_of:
            return datetime.combine(as_of, datetime.min.time(), tzinfo=timezone.utc)
        return landed_at

    # --- raw → staging ----------------------------------------------------------------------

    def stage(self, *, reprocess: bool = False, source: str | None = None, dataset: str | None = None) -> dict[str, FileResult]:
        """Parse every raw file that has no staging file yet. Quarantined files are tried again
        when their source's parser changed (or with ``reprocess``). Returns results by sha256."""
        current = self.manifest()
        if current.empty:
            return {}
        staged = {o.key for o in self.storage.list("staging") if o.key.endswith(".parquet")}
        todo = current[current["status"].isin(["loaded", "quarantined", "unused"]) & current["raw_key"].notna()]
        if source:
            todo = todo[(todo["source"] == source) | todo["source"].isna()]
        if dataset:
            todo = todo[todo["dataset"] == dataset]
        rows, results = [], {}
        for r in todo.sort_values("landed_at").itertuples(index=False):
            if r.status == "loaded" and f"{r.source}/{r.dataset}/{r.sha256}.parquet" in staged:
                continue
            if r.status in ("quarantined", "unused"):
                current_version = self.sources[r.source].version if r.source in self.sources else None
                if not reprocess and (r.source is None or r.parser_version == current_version):
                    continue
            row = {k: getattr(r, k) for k in MANIFEST_SCHEMA.names if k != "recorded_at"}
            row = {k: (None if _is_missing(v) else v) for k, v in row.items()}
            self._stage_one(row)
            rows.append(row)
            results[r.sha256] = FileResult(r.original_name, row["source"], row["dataset"], r.sha256,
                                           row["status"], row["rows"], row["reason"])
        self._record(rows)
        return results

    def _stage_one(self, row: dict) -> None:
        name = row["original_name"]
        data = self.read_raw(row["raw_key"])
        if row["source"] is None:  # a file no source knew: maybe one does now
            ident = self.identify(name, data[:SNIFF_BYTES])
            if ident is None:
                row["reason"] = row["reason"] or f"{name}: matches no source"
                return
            row["source"], row["dataset"] = ident
        src = self.sources[row["source"]]
        ds = src.dataset(row["dataset"])
        row["parser_version"] = src.version
        options = json.loads(row["options"]) if row.get("options") else {}
        ctx = ParseContext(src.name, ds.name, name, row["sha256"], row["landed_at"], row.get("as_of"), options)
        try:
            df = ds.parse(data, ctx)
            if df is None or len(df) == 0:
                raise ParseError("no data rows")
            table = _conform(df, ds.schema, f"{src.name}/{ds.name}")
            frame = table.to_pandas()
            dupes = frame.duplicated(list(ds.key), keep=False)
            if dupes.any():
                first = frame[dupes].iloc[0]
                raise ParseError(
                    f"{int(dupes.sum())} rows repeat the natural key ({', '.join(ds.key)}), e.g. "
                    + ", ".join(f"{k}={first[k]!r}" for k in ds.key)
                )
            if self.validate and ds.expectations:
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
        lineage = {
            "sha256": pa.array([row["sha256"]] * n, pa.string()),
            "source_file": pa.array([name] * n, pa.string()),
            "landed_at": pa.array([row["landed_at"]] * n, pa.timestamp("us", tz="UTC")),
            "observed_at": pa.array([row["observed_at"]] * n, pa.timestamp("us", tz="UTC")),
        }
        for col, arr in lineage.items():
            table = table.append_column(col, arr)
        self.storage.put("staging", f"{src.name}/{ds.name}/{row['sha256']}.parquet", _parquet_bytes(table))
        row.update(status="loaded", rows=n, reason=None)

    def read_raw(self, raw_key: str) -> bytes:
        """A raw object, wherever retention put it (raw, or archive/raw)."""
        if self.storage.stat("raw", raw_key) is not None:
            return self.storage.get("raw", raw_key)
        return self.storage.get("archive", f"raw/{raw_key}")

    def read_staging(self, source: str, dataset: str, shas: Iterable[str] | None = None) -> pd.DataFrame:
        ds = self.sources[source].dataset(dataset)
        keys = [f"{source}/{dataset}/{s}.parquet" for s in shas] if shas is not None else [
            o.key for o in self.storage.list("staging", f"{source}/{dataset}/") if o.key.endswith(".parquet")
        ]
        schema = ds.schema
        for col, typ in (("sha256", pa.string()), ("source_file", pa.string()),
                         ("landed_at", pa.timestamp("us", tz="UTC")), ("observed_at", pa.timestamp("us", tz="UTC"))):
            schema = schema.append(pa.field(col, typ))
        tables = [pq.read_table(io.BytesIO(self.storage.get("staging", k))).cast(schema) for k in keys]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        return table.to_pandas(types_mapper=_types_mapper)

    # --- staging → curated ------------------------------------------------------------------

    def loaded_files(self) -> pd.DataFrame:
        """Manifest rows of the files in staging: one per sha256, oldest landing first."""
        current = self.manifest()
        loaded = current[(current["status"] == "loaded") & current["source"].notna()]
        return loaded.sort_values("landed_at", kind="stable").drop_duplicates("sha256").reset_index(drop=True)

    def loaded_shas(self) -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = {}
        for r in self.loaded_files().itertuples(index=False):
            out.setdefault((r.source, r.dataset), []).append(r.sha256)
        return out

    def curated_frame(self, table: CuratedTable, loaded: Mapping[tuple[str, str], list[str]] | None = None) -> pa.Table:
        """The whole curated table, as rebuilt from staging (newest observation per key wins)."""
        loaded = self.loaded_shas() if loaded is None else loaded
        parts = []
        for src in self.sources.values():
            for mapping in src.mappings:
                if mapping.table != table.name:
                    continue
                frames = {d: self.read_staging(src.name, d, loaded.get((src.name, d), [])) for d in mapping.datasets}
                if not any(len(f) for f in frames.values()):
                    continue
                df = mapping.build(frames)
                if len(df):
                    df = df.assign(source=src.name)
                    parts.append(_conform(df, table.schema, table.name))
        combined = pa.concat_tables(parts) if parts else table.schema.empty_table()
        return _newest_per_key(combined, table)

    def build_curated(self, tables: Iterable[str] | None = None, *, on_table: Callable[[str], None] | None = None) -> dict[str, TableResult]:
        loaded = self.loaded_shas()
        results = {}
        for name in tables or TABLES:
            if on_table:
                on_table(name)
            table = TABLES[name]
            data = self.curated_frame(table, loaded)
            results[name] = self._write_partitions(table, data)
        return results

    def _write_partitions(self, table: CuratedTable, data: pa.Table) -> TableResult:
        wanted: dict[str, pa.Table] = {}
        if table.partition_by:
            months = pc.strftime(data[table.partition_by].cast(pa.timestamp("s")), format="%Y-%m")
            for month in sorted(set(months.to_pylist())):
                mask = pc.equal(months, month)
                wanted[f"{table.name}/month={month}/data.parquet"] = data.filter(mask)
        elif data.num_rows:
            wanted[f"{table.name}/data.parquet"] = data
        existing = {o.key for o in self.storage.list("curated", f"{table.name}/")}
        stamp = f"{utcnow():%Y%m%dT%H%M%S%f}"
        written = archived = 0
        for key, part in wanted.items():
            blob = _parquet_bytes(part)
            if key in existing:
                if self.storage.get("curated", key) == blob:
                    continue
                self._archive_curated(key, stamp)
                archived += 1
            self.storage.put("curated", key, blob)
            written += 1
        for key in sorted(existing - set(wanted)):
            self._archive_curated(key, stamp)
            self.storage.delete("curated", key)
            archived += 1
        return TableResult(table.name, data.num_rows, written, archived, data.slice(0, 10))

    def _archive_curated(self, key: str, stamp: str) -> None:
        folder, _, filename = key.rpartition("/")
        self.storage.copy("curated", key, "archive", f"curated/{folder}/{stamp}-{filename}")

    # --- archive ----------------------------------------------------------------------------

    def archive_raw(self, max_age_days: int, *, now: datetime | None = None) -> list[str]:
        """Move raw objects older than ``max_age_days`` to ``archive/raw/``. A copy is verified
        before the original is removed, so the last copy is never deleted."""
        cutoff = (now or utcnow()) - timedelta(days=max_age_days)
        moved = []
        for o in list(self.storage.list("raw")):
            if o.key.startswith(MANIFEST_PREFIX) or o.modified >= cutoff:
                continue
            target = f"raw/{o.key}"
            self.storage.copy("raw", o.key, "archive", target)
            copy = self.storage.stat("archive", target)
            if copy is None or copy.size != o.size:
                log.error("archive copy of raw/%s did not verify; the original stays", o.key)
                continue
            self.storage.delete("raw", o.key)
            moved.append(o.key)
        return moved


# --- helpers --------------------------------------------------------------------------------


class _Row:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _as_date(value) -> date | None:
    return None if _is_missing(value) else pd.Timestamp(value).date()


def _is_missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _safe_member(name: str) -> str | None:
    """The base name of a zip member, or None when its path would escape (zip slip)."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or ".." in norm.split("/"):
        return None
    base = posixpath.basename(norm)
    return base or None


def _types_mapper(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    return None


def _conform(df: pd.DataFrame | pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``df`` (a DataFrame or an Arrow table) as a table of exactly ``schema`` (missing optional
    columns null); a column that cannot take its type is a ParseError naming it."""
    if isinstance(df, pa.Table):
        arrays = []
        for f in schema:
            if f.name not in df.column_names:
                arrays.append(pa.nulls(df.num_rows, f.type))
                continue
            try:
                arrays.append(df[f.name].cast(f.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise ParseError(f"{what}: column {f.name!r} cannot be read as {f.type} ({exc})") from None
        return pa.Table.from_arrays(arrays, schema=schema)
    arrays = []
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
    return all(isinstance(v, date) and not isinstance(v, datetime) for v in col.dropna())


def _newest_per_key(data: pa.Table, table: CuratedTable) -> pa.Table:
    """One row per natural key (the newest observation, then the highest sha256), sorted."""
    if data.num_rows == 0:
        return data
    con = duckdb.connect()
    con.register("t", data)
    keys = ", ".join(f'"{k}"' for k in table.key)
    result = con.execute(
        f"SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY {keys} "
        f"ORDER BY observed_at DESC, sha256 DESC) = 1 ORDER BY {keys} NULLS FIRST, sha256"
    ).fetch_arrow_table()
    con.close()
    return result.cast(table.schema)


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(None), buf, compression="zstd")
    return buf.getvalue()
