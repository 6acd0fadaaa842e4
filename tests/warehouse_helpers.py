"""A small in-memory warehouse for tests of SQL and analytics on hand-made rows."""

import duckdb

from assets.lake import MANIFEST_SCHEMA
from assets.lakehouse import SQL_DIR
from assets.model import ANALYTICS_TABLES, TABLES
from assets.reference import REFERENCE_TABLES
from resources.warehouse import empty_select, run_sql_files


def model() -> duckdb.DuckDBPyConnection:
    """The model's tables and the analytics tables (empty, insertable), the reference tables and
    the sql/*.sql views, in memory."""
    con = duckdb.connect()
    for name, table in {**TABLES, **ANALYTICS_TABLES}.items():
        con.execute(f'CREATE TABLE "{name}" AS {empty_select(table.schema)}')
    con.execute(f"CREATE TABLE lake_files_history AS {empty_select(MANIFEST_SCHEMA)}")
    for name, build in REFERENCE_TABLES.items():
        con.register("_reference", build())
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _reference')
        con.unregister("_reference")
    run_sql_files(con, sorted(SQL_DIR.glob("*.sql")))
    return con


def insert(con, table: str, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts; a key missing from a row is null)."""
    cols = list(dict.fromkeys(c for r in rows for c in r))
    con.executemany(f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" for _ in cols)})',
                    [[r.get(c) for c in cols] for r in rows])
