"""KPIs: one SQL file per KPI under ``sql/kpis/``, run into the warehouse table ``kpis``.

Every ``sql/kpis/<kpi_id>.sql`` starts with a comment header, then one SELECT::

    -- kpi: revenue_usd_by_store
    -- topic: revenue
    -- unit: USD
    -- period: all time
    -- definition: what it counts, from which table, its caveats (as many ``--`` lines as needed)
    SELECT value, period, as_of, artist, breakdown FROM ...

The SELECT returns exactly the columns ``value`` (DOUBLE), ``period``, ``as_of`` (DATE: the last
day of data the KPI used, never today), ``artist`` (null on rows across all artists, else the
canonical artist name) and ``breakdown`` (the store, country, track... of a ``_by_`` or top-list
row; null on headline rows; ``no data: ...`` on a row that explains an empty value). The runner
adds ``kpi`` and ``unit``. An optional ``-- missing: <reason>`` says why the KPI is empty when a
table it reads does not exist (yet).

KPIs read small *inputs* rather than the big fact tables: ``sql/kpis/inputs/<name>.sql`` (header
``-- input: <name>`` and ``-- definition:``), materialised as warehouse tables of that name at the
start of every build (daily streams per scope, royalties per month and store, ...). The fact
tables are read once per build, by the inputs; each KPI query then touches thousands of rows,
not millions, so all of them answer in milliseconds at a label's scale (``make bench``,
workload ``kpi_queries``). Both the inputs and the KPIs can be run by hand (``soundlake query``).

:func:`build_kpis` runs at the end of :meth:`resources.warehouse.Warehouse.refresh` (so every
ingest refreshes the KPIs). A KPI whose tables are missing or hold nothing for it yields one row
with a null value and a ``no data: ...`` breakdown, never an error and never a made-up number. A
KPI whose SQL fails (a bug) yields a row with breakdown ``error: ...`` and is logged; with
``strict=True`` (the tests) it raises instead.

``docs/kpis.md`` is generated from the headers and the SQL: ``python -m assets.kpis`` writes it,
``python -m assets.kpis --check`` exits 1 when it is out of date.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from assets.generated import write_or_check

log = logging.getLogger("soundlake.kpis")

ROOT = Path(__file__).resolve().parents[1]
KPI_DIR = ROOT / "sql" / "kpis"
INPUT_DIR = KPI_DIR / "inputs"
DOC_PATH = ROOT / "docs" / "kpis.md"

TABLE = "kpis"  # curated/kpis/data.parquet, a view of the warehouse
COLUMNS = ("kpi", "value", "unit", "period", "as_of", "artist", "breakdown")
RESULT_COLUMNS = ("value", "period", "as_of", "artist", "breakdown")
KPIS_SCHEMA = pa.schema([("kpi", pa.string()), ("value", pa.float64()), ("unit", pa.string()),
                         ("period", pa.string()), ("as_of", pa.date32()), ("artist", pa.string()),
                         ("breakdown", pa.string())])
# the order topics are shown in (docs, CLI); a KPI's topic must be one of these
TOPICS = {
    "revenue": "Revenue (royalties and direct sales)",
    "streams": "Streams",
    "audience": "Audience",
    "social": "Social",
    "links": "Link-in-bio",
    "ads": "Ads",
    "email": "E-mail",
    "lake": "The lake",
}
# the order KPIs are shown in within a topic (headline numbers first); others follow by id
ORDER = (
    "revenue_usd_total", "revenue_usd_last_month", "revenue_usd_by_store", "revenue_usd_by_country",
    "revenue_usd_by_track", "revenue_per_stream_usd_by_store", "royalty_payment_delay_months",
    "expected_vs_actual_revenue_usd", "streams_total", "streams_last_7d", "streams_growth_pct_wow",
    "streams_growth_pct_mom", "listeners_last_day", "top_tracks_streams", "top_countries_streams",
    "catalogue_concentration_top_track_share", "followers_growth_30d", "social_views_last_7d",
    "tiktok_engagement_rate", "link_ctr", "ad_spend_usd_total", "ad_cpm_usd", "ad_cpc_usd", "email_open_rate",
    "source_freshness_days",
)
KPI_FIELDS = ("kpi", "topic", "unit", "period", "definition", "missing")
INPUT_FIELDS = ("input", "definition")
_FIELD = re.compile(r"^([a-z_]+):\s?(.*)$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class KpiError(Exception):
    """A KPI or input file is malformed, or (strict builds) its SQL failed."""


@dataclass(frozen=True)
class KpiDef:
    id: str
    unit: str
    period: str
    definition: str
    sql: str
    path: Path
    topic: str = "lake"
    missing: str | None = None

    @property
    def tables(self) -> list[str]:
        """The tables and views the SQL reads (CTE names excluded), sorted."""
        return tables_read(self.sql)


@dataclass(frozen=True)
class InputDef:
    name: str
    definition: str
    sql: str
    path: Path

    @property
    def tables(self) -> list[str]:
        return tables_read(self.sql)


# --- parsing ------------------------------------------------------------------------------------


def tables_read(sql: str) -> list[str]:
    """The tables and views a SELECT reads, from DuckDB's parse tree (no catalog needed: macros
    and tables need not exist). CTE names are not tables."""
    return list(_tables_read(sql))


@functools.lru_cache(maxsize=1)
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@functools.lru_cache(maxsize=256)
def _tables_read(sql: str) -> tuple[str, ...]:
    tree = json.loads(_parser().cursor().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise KpiError(f"cannot parse SQL: {tree.get('error_message')}")
    found: set[str] = set()
    ctes: set[str] = set()
    todo: list = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and node.get("table_name"):
                found.add(node["table_name"])
            cte_map = node.get("cte_map")
            if isinstance(cte_map, dict):
                ctes.update(e["key"] for e in cte_map.get("map", []) if isinstance(e, dict) and "key" in e)
            todo += node.values()
        elif isinstance(node, list):
            todo += node
    return tuple(sorted(found - ctes))


def _header(path: Path, allowed: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """The ``-- key: value`` header (continuation lines append to the previous key) and the SQL."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    fields: dict[str, list[str]] = {}
    current = None
    body_start = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("--"):
            body_start = i
            break
        content = stripped[2:].strip()
        m = _FIELD.match(content)
        if m and m.group(1) in allowed:
            current = m.group(1)
            if current in fields:
                raise KpiError(f"{path.name}: header field {current!r} given twice")
            fields[current] = [m.group(2).strip()]
        elif m and current is None:
            raise KpiError(f"{path.name}: unknown header field {m.group(1)!r} (known: {', '.join(allowed)})")
        elif current is None:
            raise KpiError(f"{path.name}: the header must start with '-- {allowed[0]}: ...'")
        elif content:
            fields[current].append(content)
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not sql:
        raise KpiError(f"{path.name}: no SQL after the header")
    return {k: " ".join(v).strip() for k, v in fields.items()}, sql


def parse_kpi(path: Path) -> KpiDef:
    fields, sql = _header(path, KPI_FIELDS)
    missing = [f for f in ("kpi", "topic", "unit", "period", "definition") if not fields.get(f)]
    if missing:
        raise KpiError(f"{path.name}: header lacks {', '.join(missing)}")
    if fields["kpi"] != path.stem or not _ID.match(path.stem):
        raise KpiError(f"{path.name}: '-- kpi: {fields['kpi']}' must be the file name without .sql, in snake_case")
    if fields["topic"] not in TOPICS:
        raise KpiError(f"{path.name}: topic {fields['topic']!r} is not one of {', '.join(TOPICS)}")
    return KpiDef(id=fields["kpi"], unit=fields["unit"], period=fields["period"], definition=fields["definition"],
                  sql=sql, path=path, topic=fields["topic"], missing=fields.get("missing") or None)


def parse_input(path: Path) -> InputDef:
    fields, sql = _header(path, INPUT_FIELDS)
    if fields.get("input") != path.stem or not _ID.match(path.stem) or not fields.get("definition"):
        raise KpiError(f"{path.name}: needs '-- input: {path.stem}' and '-- definition: ...'")
    return InputDef(name=path.stem, definition=fields["definition"], sql=sql, path=path)


def format_value(value, unit: str, missing: str = "-") -> str:
    """A KPI value as a person reads it (the CLI and the weekly report): money with cents, a small
    rate (USD per stream) with four significant digits, percentages with one decimal, counts whole."""
    if value is None or pd.isna(value):
        return missing
    value = float(value)
    if unit == "USD":
        return f"{value:,.2f}"
    if unit.startswith("USD per"):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    if unit == "%":
        return f"{value:,.1f}"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def discover(kpi_dir: Path | None = None) -> list[KpiDef]:
    """Every KPI, by topic, then in :data:`ORDER`, then by id."""
    kpi_dir = kpi_dir or KPI_DIR
    defs = [parse_kpi(p) for p in sorted(kpi_dir.glob("*.sql"))]
    topics = list(TOPICS)
    rank = {k: i for i, k in enumerate(ORDER)}
    return sorted(defs, key=lambda d: (topics.index(d.topic), rank.get(d.id, len(rank)), d.id))


def discover_inputs(input_dir: Path | None = None) -> list[InputDef]:
    """Every input, in an order that builds each after the inputs it reads."""
    input_dir = input_dir or INPUT_DIR
    pending = {d.name: d for d in (parse_input(p) for p in sorted(input_dir.glob("*.sql")))}
    ordered: list[InputDef] = []
    while pending:
        ready = [d for d in pending.values() if not (set(d.tables) & (set(pending) - {d.name}))]
        if not ready:
            raise KpiError(f"inputs read each other in a cycle: {', '.join(sorted(pending))}")
        for d in ready:
            ordered.append(d)
            del pending[d.name]
    return ordered


def base_tables(tables: list[str], inputs: list[InputDef]) -> list[str]:
    """``tables`` with every input replaced by what it reads, down to the model's tables and views."""
    by_name = {d.name: d for d in inputs}
    out: set[str] = set()
    todo = list(tables)
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        if t in by_name:
            todo += by_name[t].tables
        else:
            out.add(t)
    return sorted(out)


# --- building -----------------------------------------------------------------------------------


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def build_inputs(con: duckdb.DuckDBPyConnection, inputs: list[InputDef] | None = None, *,
                 strict: bool = False, temp: bool = False) -> dict[str, str]:
    """(Re)create every input table (``temp``: as temporary tables, on a read-only connection).
    Returns ``{input: reason}`` for those that could not be built."""
    failed: dict[str, str] = {}
    kind = "TEMP TABLE" if temp else "TABLE"
    for d in inputs if inputs is not None else discover_inputs():
        absent = [t for t in d.tables if t not in _relations(con)]
        if absent:
            failed[d.name] = f"{', '.join(absent)} does not exist"
            con.execute(f'DROP TABLE IF EXISTS "{d.name}"')
            continue
        try:
            con.execute(f'CREATE OR REPLACE {kind} "{d.name}" AS {d.sql}')
        except duckdb.Error as exc:
            if strict:
                raise KpiError(f"input {d.name} ({d.path.name}) failed: {exc}") from exc
            log.error("KPI input %s failed: %s", d.name, exc)
            failed[d.name] = f"input {d.name} failed"
            con.execute(f'DROP TABLE IF EXISTS "{d.name}"')
    return failed


def _no_data(kpi: KpiDef, inputs: list[InputDef], missing: list[str] | None = None) -> str:
    if missing:
        return f"no data: {kpi.missing}" if kpi.missing else f"no data: {', '.join(missing)} does not exist"
    facts = [t for t in base_tables(kpi.tables, inputs) if not t.startswith("dim_")]
    return f"no data: nothing in {', '.join(facts)} for this KPI"


def run_kpi(con: duckdb.DuckDBPyConnection, kpi: KpiDef, inputs: list[InputDef] | None = None, *,
            strict: bool = False) -> list[tuple]:
    """The KPI's rows as tuples in :data:`COLUMNS` order; at least one row across all artists."""
    inputs = discover_inputs() if inputs is None else inputs
    relations = _relations(con)
    absent = [t for t in kpi.tables if t not in relations]
    if absent:
        missing = sorted({t for t in base_tables(absent, inputs)} - relations) or absent
        return [(kpi.id, None, kpi.unit, kpi.period, None, None, _no_data(kpi, inputs, missing))]
    try:
        cur = con.execute(kpi.sql)
        names = tuple(d[0] for d in cur.description)
        if names != RESULT_COLUMNS:
            raise KpiError(f"{kpi.path.name} returns columns {names}; expected exactly {RESULT_COLUMNS}")
        rows = cur.fetchall()
    except (duckdb.Error, KpiError) as exc:
        if strict:
            raise KpiError(f"KPI {kpi.id} ({kpi.path.name}) failed: {exc}") from exc
        log.error("KPI %s failed: %s", kpi.id, exc)
        return [(kpi.id, None, kpi.unit, kpi.period, None, None, f"error: {type(exc).__name__}: {exc}"[:500])]
    out = [(kpi.id, None if value is None else float(value), kpi.unit, period or kpi.period, as_of, artist, breakdown)
           for value, period, as_of, artist, breakdown in rows]
    if not any(r[5] is None for r in out):
        out.insert(0, (kpi.id, None, kpi.unit, kpi.period, None, None, _no_data(kpi, inputs)))
    return out


def build_kpis(con: duckdb.DuckDBPyConnection, *, strict: bool = False, kpi_dir: Path | None = None,
               input_dir: Path | None = None, store: bool = True) -> pd.DataFrame:
    """Build the inputs, run every KPI, and (with ``store``) (re)create the table ``kpis``.
    Returns its rows. Without ``store`` the inputs are temporary tables, so a read-only
    connection to the warehouse serves (the lake keeps the rows: :func:`kpis_parquet`)."""
    inputs = discover_inputs(input_dir)
    kpis = discover(kpi_dir)
    build_inputs(con, inputs, strict=strict, temp=not store)
    rows: list[tuple] = []
    for kpi in kpis:
        rows += run_kpi(con, kpi, inputs, strict=strict)
    frame = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)  # None stays None in text columns
    frame["value"] = frame["value"].astype("float64")
    if not store:
        return frame
    con.register("_kpis_new", frame)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {TABLE} AS SELECT kpi::VARCHAR AS kpi, value::DOUBLE AS value, "
            "unit::VARCHAR AS unit, period::VARCHAR AS period, as_of::DATE AS as_of, artist::VARCHAR AS artist, "
            "breakdown::VARCHAR AS breakdown FROM _kpis_new"
        )
    finally:
        con.unregister("_kpis_new")
    return frame


def kpis_parquet(frame: pd.DataFrame) -> bytes:
    """The KPI rows as the Parquet file ``curated/kpis/data.parquet``."""
    import io

    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.assign(as_of=pd.to_datetime(frame["as_of"]).dt.date)[list(COLUMNS)],
                                 schema=KPIS_SCHEMA, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


# --- docs/kpis.md -------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _anchor(title: str) -> str:
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def render_docs() -> str:
    """The whole of ``docs/kpis.md``, from the SQL files alone (the same on every machine)."""
    kpis = discover()
    inputs = discover_inputs()
    rel = lambda p: p.relative_to(ROOT).as_posix()  # noqa: E731
    lines = [
        "# KPIs",
        "",
        "<!-- Generated by `python -m assets.kpis` from sql/kpis/; do not edit by hand. -->",
        "",
        ("The warehouse view `kpis` (over `curated/kpis/data.parquet`) holds every KPI below, rebuilt at the "
         "end of every ingest that changes the model (the asset `analytics/kpis`). `soundlake kpis` prints them; `soundlake kpis --artist NAME` shows one "
         "artist's rows (any spelling or social handle of the name works); `--json` prints every row."),
        "",
        "| Column | Type | Meaning |",
        "|---|---|---|",
        "| `kpi` | VARCHAR | the KPI's id (its file name in `sql/kpis/`) |",
        "| `value` | DOUBLE | the number; null when there is nothing to compute it from (see `breakdown`) |",
        "| `unit` | VARCHAR | `USD`, `streams`, `%` (0–100), `days`, ... |",
        "| `period` | VARCHAR | what the value covers (`all time`, `last 7 days`, a month `YYYY-MM`, ...) |",
        "| `as_of` | DATE | the last day of data the KPI used (not the day it was computed), so results are reproducible |",
        "| `artist` | VARCHAR | null on rows across all artists; else the artist's canonical name (`dim_artist`) |",
        "| `breakdown` | VARCHAR | the store, country, track or source of a `_by_` or top-list row; null on a "
        "headline row; `no data: why` when the value is null because there is nothing to count |",
        "",
        ("Conventions. No KPI uses today's date: \"last 7 days\" are the 7 days up to the newest day of "
         "the data, and where platforms report with different delays, up to the newest day every "
         "platform has reported. Streams never add a distributor's account total to the artists' "
         "own numbers for the same day (`v_streams_account_daily`). Money is USD as the statements "
         "give it. A KPI whose tables are missing or empty has one row with a null value and a "
         "`no data: ...` breakdown."),
        "",
        "## Contents",
        "",
    ]
    for topic, title in TOPICS.items():
        mine = [k for k in kpis if k.topic == topic]
        if mine:
            lines.append(f"- [{title}](#{_anchor(title)}): " + ", ".join(f"[`{k.id}`](#{k.id})" for k in mine))
    lines.append("- [Inputs](#inputs): " + ", ".join(f"`{d.name}`" for d in inputs))
    lines.append("")
    for topic, title in TOPICS.items():
        mine = [k for k in kpis if k.topic == topic]
        if not mine:
            continue
        lines += [f"## {title}", ""]
        for k in mine:
            reads = base_tables(k.tables, inputs)
            via = [t for t in k.tables if t in {d.name for d in inputs}]
            lines += [
                f"### {k.id}",
                "",
                _cell(k.definition),
                "",
                f"- **Unit:** {k.unit}",
                f"- **Period:** {k.period}",
                f"- **Reads:** {', '.join(f'`{t}`' for t in reads)}"
                + (f" (through {', '.join(f'`{t}`' for t in via)})" if via else ""),
            ]
            if k.missing:
                lines.append(f"- **When a table is missing:** `no data: {k.missing}`")
            lines += [f"- **Defined in:** `{rel(k.path)}`", "", "<details><summary>SQL</summary>", "",
                      "```sql", k.sql, "```", "", "</details>", ""]
    lines += [
        "## Inputs",
        "",
        ("Built as temporary tables at the start of every KPI build (on a read-only connection to the "
         "warehouse), in dependency order, so that each KPI reads thousands of pre-summed rows instead of "
         "the fact tables' millions. Their SQL is below: run it to query them."),
        "",
    ]
    for d in inputs:
        lines += [
            f"### {d.name}",
            "",
            _cell(d.definition),
            "",
            f"- **Reads:** {', '.join(f'`{t}`' for t in d.tables)}",
            f"- **Defined in:** `{rel(d.path)}`",
            "",
            "<details><summary>SQL</summary>",
            "",
            "```sql",
            d.sql,
            "```",
            "",
            "</details>",
            "",
        ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(argv, path=DOC_PATH, render=render_docs, prog="python -m assets.kpis",
                          description="Write docs/kpis.md from sql/kpis/.", made_from="sql/kpis/",
                          command="`python -m assets.kpis`")


if __name__ == "__main__":
    sys.exit(main())
