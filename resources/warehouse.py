"""The DuckDB warehouse: a file of views over the curated Parquet in the lake.

The views hold no data, so the warehouse can be dropped and rebuilt at any time. With the S3
backend the views read ``s3://`` through the httpfs extension from the ``duckdb-extension-httpfs``
wheel (DuckDB cannot download extensions here); the S3 credentials live only in a temporary
secret of each connection, never in the warehouse file.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

from .faults import checkpoint
from .settings import Settings
from .storage import LakeStorage

MANIFEST_GLOB = "_manifest/*.parquet"
META_TABLE = "_soundlake_build"  # what the warehouse was built from (Warehouse.meta)


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    return "VARCHAR"


def empty_select(schema: pa.Schema) -> str:
    cols = ", ".join(f'CAST(NULL AS {duckdb_type(f.type)}) AS "{f.name}"' for f in schema)
    return f"SELECT {cols} WHERE false"


def httpfs_path() -> Path:
    import duckdb_extension_httpfs

    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    exact = base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if exact.exists():
        return exact
    found = sorted(base.glob("*/httpfs.duckdb_extension"))
    if not found:
        raise RuntimeError("the duckdb-extension-httpfs wheel holds no httpfs extension; reinstall it")
    return found[-1]


class Warehouse:
    """The DuckDB file beside the lake. It holds views, never data, so it can be dropped and
    rebuilt at any time; which views is the caller's to say (:meth:`refresh`)."""

    def __init__(self, settings: Settings, storage: LakeStorage):
        self.settings = settings
        self.storage = storage
        self.path = settings.warehouse_path

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path), read_only=read_only)
        prepare_connection(con, self.settings)
        return con

    def sandbox(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection that reaches no file but the curated zone and the manifest
        (DuckDB's ``enable_external_access = false`` with ``allowed_directories``), and whose
        configuration is locked (no ``SET``, ``LOAD``, ``ATTACH`` of other files). Use with
        :func:`one_read_statement` for SQL a person typed."""
        con = self.connect(read_only=True)
        try:
            allowed = [self.storage.uri("curated").rstrip("/") + "/", self.storage.uri("raw", "_manifest/")]
            con.execute("SET allowed_directories = [" + ", ".join(sql_literal(a) for a in allowed) + "]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con

    def _glob(self, zone: str, prefix: str) -> str:
        return self.storage.uri(zone, prefix)

    def _has(self, zone: str, prefix: str) -> bool:
        return any(o.key.endswith(".parquet") for o in self.storage.list(zone, prefix))

    def refresh(
        self,
        tables: Mapping[str, pa.Schema],
        *,
        files: Mapping[str, Sequence[str]] | None = None,
        single_file: Iterable[str] = (),
        manifest: pa.Schema | None = None,
        reference: Mapping[str, Callable[[], "pd.DataFrame"]] | None = None,
        sql_files: Sequence[Path] = (),
        meta: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Publish a new warehouse: a view per table — over exactly ``files[name]`` (keys in
        curated: one committed version of the table) when given, else over
        ``curated/<table>/**/*.parquet`` — (an empty view of the table's schema while it has no
        file), ``lake_files_history`` over the manifest log when ``manifest`` is given, the small
        ``reference`` tables, then ``sql_files`` (:func:`run_sql_files`), and ``meta`` (what it
        was built from, :meth:`meta`). A table in ``single_file`` is one file its writer
        replaces: it is started empty, so its view reads that file from the start.

        The new warehouse is built in a file of its own and then renamed over the old one, so a
        reader never sees half of it and an open connection (an analyst's) neither blocks the
        refresh nor breaks: it keeps reading the warehouse it opened. Returns the names made."""
        views = []
        files = files or {}
        for name in single_file:
            if not self._has("curated", f"{name}/"):
                self.storage.put("curated", f"{name}/data.parquet", _empty_parquet(tables[name]))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".tmp-{uuid.uuid4().hex}-{self.path.name}")
        con = duckdb.connect(str(tmp))
        try:
            prepare_connection(con, self.settings)
            for name, schema in tables.items():
                if name in files:
                    uris = [self.storage.uri("curated", k) for k in files[name]]
                    body = (f"SELECT * FROM read_parquet([{', '.join(sql_literal(u) for u in uris)}], "
                            "union_by_name = true, hive_partitioning = false)") if uris else empty_select(schema)
                elif self._has("curated", f"{name}/"):
                    body = (f"SELECT * FROM read_parquet({sql_literal(self._glob('curated', name + '/**/*.parquet'))}, "
                            "union_by_name = true, hive_partitioning = false)")
                else:
                    body = empty_select(schema)
                con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {body}')
                views.append(name)
            if manifest is not None:
                if self._has("raw", "_manifest/"):
                    body = (f"SELECT * FROM read_parquet({sql_literal(self._glob('raw', MANIFEST_GLOB))}, "
                            "union_by_name = true)")
                else:
                    body = empty_select(manifest)
                con.execute(f"CREATE OR REPLACE VIEW lake_files_history AS {body}")
                views.append("lake_files_history")
            for name, build in (reference or {}).items():
                con.register("_reference", build())
                con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _reference')
                con.unregister("_reference")
                views.append(name)
            for sql_file in run_sql_files(con, list(sql_files)):
                views.append(sql_file.stem)
            con.execute(f"CREATE TABLE {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
            con.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", sorted((meta or {}).items()))
            con.close()
            checkpoint("warehouse")
            os.chmod(tmp, 0o600)  # the warehouse reads personal data: its owner's only
            os.replace(tmp, self.path)
        finally:
            con.close()
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)
        return views

    def meta(self) -> dict[str, str] | None:
        """What the warehouse says it was built from (None: no warehouse, or one from before
        warehouses said so)."""
        if not self.path.exists():
            return None
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error:
            return None
        try:
            return dict(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
        except duckdb.CatalogException:
            return None
        finally:
            con.close()


class QueryRefused(ValueError):
    """SQL a person typed that is not one read-only statement."""


READ_STATEMENTS = ("SELECT", "EXPLAIN")


def one_read_statement(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """``sql`` when it is exactly one read-only statement (a SELECT — with WITH, FROM-first,
    DESCRIBE, SHOW, SUMMARIZE, PRAGMA of a table function — or an EXPLAIN); otherwise
    :class:`QueryRefused` saying why. COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, CALL, CREATE,
    INSERT, UPDATE, DELETE and the rest are refused."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"the SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused(f"one statement at a time, please ({len(statements)} given)")
    kind = statements[0].type.name
    if kind not in READ_STATEMENTS:
        raise QueryRefused(f"{kind} statements are refused: `soundlake query` only reads (SELECT, EXPLAIN)")
    return sql


def _empty_parquet(schema: pa.Schema) -> bytes:
    import io

    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(schema.empty_table(), buf)
    return buf.getvalue()


def run_sql_files(con: duckdb.DuckDBPyConnection, files: Sequence[Path],
                  on_file: Callable[[Path], None] | None = None) -> list[Path]:
    """Execute SQL files in the order given, except that a file using a view another file
    creates waits for it (a file failing on a missing catalog entry is retried after the
    others). Returns the files in the order they ran; a file that cannot run is an error naming
    it. ``on_file`` is called after each file ran."""
    pending = list(files)
    done: list[Path] = []
    while pending:
        missing: dict[Path, duckdb.Error] = {}
        for path in pending:
            try:
                con.execute(path.read_text())
            except duckdb.CatalogException as exc:
                missing[path] = exc
                continue
            except duckdb.Error as exc:
                raise RuntimeError(f"sql/{path.name} failed: {exc}") from None
            done.append(path)
            if on_file:
                on_file(path)
        if len(missing) == len(pending):  # no file ran in this pass: what is missing is missing
            path, exc = next(iter(missing.items()))
            raise RuntimeError(f"sql/{path.name} failed: {exc}") from None
        pending = list(missing)
    return done


def prepare_connection(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Make ``s3://`` readable on this connection when the lake is on S3."""
    s3 = settings.s3
    if s3 is None:
        return
    con.execute(f"LOAD {sql_literal(str(httpfs_path()))}")
    con.execute(
        "CREATE OR REPLACE TEMPORARY SECRET soundlake_s3 (TYPE s3, "
        f"KEY_ID {sql_literal(s3.access_key)}, SECRET {sql_literal(s3.secret_key)}, "
        f"ENDPOINT {sql_literal(s3.endpoint)}, REGION {sql_literal(s3.region)}, "
        f"URL_STYLE 'path', USE_SSL {'true' if s3.secure else 'false'})"
    )
    con.execute(f"SET http_timeout = {max(1, int(s3.read_timeout))}")
    con.execute(f"SET http_retries = {int(s3.retries)}")
