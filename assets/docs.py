"""``docs/data-model.md``, generated from the schemas in the code.

The curated tables come from :mod:`assets.model`, the views from ``sql/*.sql`` (their leading
``--`` comment is the description; their columns are what DuckDB resolves them to over empty
tables, the way :meth:`resources.warehouse.Warehouse.refresh` creates them), the manifest from
:data:`assets.lake.manifest.MANIFEST_SCHEMA` (its column docs live here, in :data:`MANIFEST_DOCS`) and the
staging datasets from the source modules. The output depends only on the code, so it is the same
on every machine.

``python -m assets.docs`` (``make docs``) writes the file; ``python -m assets.docs --check`` exits 1
when the file in the repository differs from what the code says.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import duckdb

from resources.warehouse import duckdb_type, empty_select, run_sql_files

from . import model
from .generated import write_or_check
from .lake import MANIFEST_SCHEMA
from .lake.staging import LINEAGE
from .model import ANALYTICS_TABLES, TABLES, CuratedTable
from .reference import REFERENCE_TABLES
from .sources import SOURCES

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "data-model.md"
SQL_DIR = ROOT / "sql"

MANIFEST_DOCS: dict[str, str] = {
    "landing_id": "one landing of a file (a new id every time a file is put into landing); "
                  "`lake_files` holds the newest row per landing_id",
    "sha256": "SHA-256 of the file's bytes; names its raw and staging objects",
    "source": "source module that recognised the file; null when none did",
    "dataset": "dataset of that source; null when the file is unidentified",
    "original_name": "file name as it arrived (a zip member by its base name)",
    "size": "size of the file in bytes",
    "landed_at": "when the file landed (on a `landed` row) or was taken from landing into raw",
    "observed_at": "when the platform produced the export: the `YYYYMMDD_HHMMSS` stamp in the name, "
                   "else `as_of`, else `landed_at`",
    "status": "`landed` (waiting in landing for the run of `batch`), `loaded` (in raw, and in staging once "
              "parsed), `duplicate` (same bytes as a file already in raw; not stored again), `quarantined` (kept "
              "in raw, not staged: see `reason`), `unused` (well formed, nothing soundlake uses: see `reason`) or "
              "`superseded` (ingested again with other options: see that landing)",
    "rows": "staging rows the file produced (a duplicate repeats its original's count)",
    "reason": "why the file is quarantined or a duplicate; null when loaded",
    "raw_key": "key of the bytes in the raw zone (`<source>/<dataset>/<yyyy>/<mm>/<sha256>.<ext>`, "
               "under `archive/raw/` once retention moved it); a duplicate points at its original's",
    "parser_version": "version of the source's parsers the file was last parsed with; a quarantined "
                      "file is parsed again when it changes",
    "as_of": "date given at ingest (`--as-of`) for exports that do not say when they were taken",
    "options": "parser options given at ingest (`--artist`, `--account`, `--track`, `--currency`) as a JSON "
               "object; null when none. Recorded when the file lands, so every run parses it the same way",
    "recorded_at": "when this manifest row was written; the newest row per landing wins",
    "landing_key": "key of the file in the landing zone (`<source>/<dataset>/<name>`, `<name> (2).<ext>` when "
                   "the name was taken)",
    "batch": "the run that takes (or took) the file from landing: the CLI's run id, or the run that claimed "
             "a file dropped by other means",
}

LINEAGE_DOCS: dict[str, tuple[str, str]] = {
    "sha256": ("VARCHAR", "SHA-256 of the raw file the rows came from"),
    "source_file": ("VARCHAR", "original name of that file"),
    "landed_at": ("TIMESTAMPTZ", "when the file was taken into raw"),
    "observed_at": ("TIMESTAMPTZ", "when the platform produced the export"),
}

UNDOCUMENTED = "*undocumented: add it to `MANIFEST_DOCS` in `assets/docs.py`*"


# --- Markdown helpers ---------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _code_list(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


# --- what the code says -------------------------------------------------------------------------


def _normalise_type(t: str) -> str:
    return {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}.get(t, t)


def _view_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def _leading_comment(sql: str) -> list[str]:
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        text = stripped[2:]
        lines.append((text.removeprefix(" ")).rstrip())
    return lines


def _view_columns() -> dict[str, list[tuple[str, str, list[tuple[str, str]]]]]:
    """Per ``sql/*.sql`` file, what it creates — ``(kind, name, columns)`` with kind ``view`` or
    ``macro`` — as DuckDB resolves the files over empty tables. The key ``""`` holds the
    reference tables the warehouse loads before the files run."""
    con = duckdb.connect()
    try:
        for name, table in {**TABLES, **ANALYTICS_TABLES}.items():
            con.execute(f'CREATE VIEW "{name}" AS {empty_select(table.schema)}')
        con.execute(f"CREATE VIEW lake_files_history AS {empty_select(MANIFEST_SCHEMA)}")
        out: dict[str, list] = {"": []}
        for name, build in REFERENCE_TABLES.items():
            con.register("_reference", build())
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _reference')
            con.unregister("_reference")
            out[""].append(("table", name, _describe(con, name)))
        before = _created(con)

        def record(path: Path) -> None:
            views, macros = before
            new_views, new_macros = _created(con)
            out[path.stem] = ([("macro", m, []) for m in sorted(new_macros - macros)]
                              + [("view", v, _describe(con, v)) for v in _in_file_order(path, new_views - views)])
            before[:] = [new_views, new_macros]

        before = list(before)
        try:
            run_sql_files(con, _view_files(), on_file=record)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc} (over the empty model)") from None
        return out
    finally:
        con.close()


def _created(con) -> tuple[set[str], set[str]]:
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    macros = {r[0] for r in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal").fetchall()}
    return views, macros


def _describe(con, name: str) -> list[tuple[str, str]]:
    return [(r[0], _normalise_type(r[1])) for r in con.execute(f'DESCRIBE "{name}"').fetchall()]


def _in_file_order(path: Path, names: set[str]) -> list[str]:
    text = path.read_text()
    return sorted(names, key=lambda n: (text.find(n), n))


def _feeds() -> dict[tuple[str, str], list[str]]:
    """(source, dataset) -> the curated tables its staging rows go into."""
    out: dict[tuple[str, str], list[str]] = {}
    for src in SOURCES.values():
        for mapping in src.mappings:
            for ds in mapping.datasets:
                out.setdefault((src.name, ds), []).append(mapping.table)
    return {k: sorted(set(v)) for k, v in out.items()}


def _fed_by(table: str) -> list[str]:
    out = []
    for name in sorted(SOURCES):
        for mapping in SOURCES[name].mappings:
            if mapping.table == table:
                out.append(f"`{name}` ({', '.join(f'`{d}`' for d in mapping.datasets)})")
    return out


# --- sections -----------------------------------------------------------------------------------


def _curated(table: CuratedTable) -> list[str]:
    if table.name in ANALYTICS_TABLES:
        partitioning = f"none: one Parquet file, `curated/{table.name}/data.parquet`"
    elif table.partition_by:
        partitioning = (f"one Parquet file per month of `{table.partition_by}`, named by its content: "
                        f"`curated/{table.name}/month=YYYY-MM/part-<hash>.parquet` (the current files: "
                        f"`curated/_state/{table.name}.json`)")
    else:
        partitioning = (f"none: one Parquet file named by its content, `curated/{table.name}/part-<hash>.parquet` "
                        f"(the current one: `curated/_state/{table.name}.json`)")
    fed_by = _fed_by(table.name)
    analytics = table.name in ANALYTICS_TABLES
    lines = [
        f"### {table.name}",
        "",
        _cell(table.description),
        "",
        f"- **Grain:** {table.grain}",
        f"- **Natural key:** {_code_list(table.key)}" + ("" if analytics else " (the newest observation per key wins)"),
        f"- **Partitioning:** {partitioning}",
        f"- **Fed by:** {'the analytics run (`soundlake analytics`)' if analytics else '; '.join(fed_by) or 'no source yet'}",
        "",
    ]
    lines += _table(["Column", "Type", "Description"],
                    [[f"`{c.name}`", duckdb_type(c.type), c.doc] for c in table.columns])
    return lines + [""]


def _views(columns: dict[str, list]) -> list[str]:
    lines = ["## Reference tables", "",
             ("Loaded into the warehouse from code (`assets/reference.py`) before the views are created."), ""]
    for _, name, cols in columns[""]:
        doc = inspect.getdoc(REFERENCE_TABLES[name]) or ""
        lines += [f"### {name}", "", _cell(doc), "", f"Columns: {', '.join(f'`{c}` {t}' for c, t in cols)}", ""]
    lines += ["## Views", "",
              ("Created in the warehouse from `sql/*.sql` (in file-name order), after the curated tables, "
               "`lake_files_history` and the reference tables."), ""]
    for path in _view_files():
        comment = _leading_comment(path.read_text())
        created = columns[path.stem]
        names = [n for _, n, _ in created] or [path.stem]
        lines += [f"### {', '.join(names)}", "", f"Defined in `sql/{path.name}`.", ""]
        if not comment:
            lines += ["*No description: start the file with `--` comment lines.*", ""]
        elif any(line.startswith(" ") for line in comment):
            lines += ["```text", *comment, "```", ""]
        else:
            lines += [_cell(" ".join(comment)), ""]
        for kind, name, cols in created:
            if kind == "macro":
                lines += [f"Macro `{name}`.", ""]
            else:
                prefix = f"`{name}` columns" if len(created) > 1 else "Columns"
                lines += [f"{prefix}: {', '.join(f'`{c}` {t}' for c, t in cols)}", ""]
    return lines


def _manifest(columns: dict[str, list[tuple[str, str]]]) -> list[str]:
    in_view = {c for _, name, cols in columns.get("lake_files", []) if name == "lake_files" for c, _ in cols}
    lines = [
        "## lake_files (the manifest)",
        "",
        ("Every file that lands gets a row (`landed`, with its options and the run that takes it); "
        "every later step (raw, staging, quarantine, reprocess) appends a newer row for the same "
        "landing. The rows are an append-only log of Parquet files under `raw/_manifest/`, folded "
        "into one file once there are 64 (no row is lost). The warehouse shows them all as "
        "`lake_files_history`, and the view `lake_files` keeps the newest row per `landing_id`."),
        "",
    ]
    rows = []
    for f in MANIFEST_SCHEMA:
        shown = "yes" if f.name in in_view else "history only"
        rows.append([f"`{f.name}`", duckdb_type(f.type), MANIFEST_DOCS.get(f.name, UNDOCUMENTED), shown])
    return lines + _table(["Column", "Type", "Description", "In `lake_files`"], rows) + [""]


def _sources() -> list[str]:
    feeds = _feeds()
    lines = [
        "## Sources and their staging datasets",
        "",
        "Staging holds one typed Parquet file per raw file: `staging/<source>/<dataset>/<sha256>.parquet`. "
        "Besides the dataset's columns, every staging file carries the lineage columns "
        + ", ".join(f"`{c}` {LINEAGE_DOCS[c][0]} ({LINEAGE_DOCS[c][1]})" if c in LINEAGE_DOCS else f"`{c}`"
                    for c, _ in LINEAGE)
        + ".",
        "",
    ]
    for name in sorted(SOURCES):
        src = SOURCES[name]
        lines += [
            f"### {src.name} ({src.title})",
            "",
            f"- **Acquisition:** {src.acquisition}",
            f"- **Parser version:** {src.version}",
            "",
        ]
        for ds in src.datasets:
            tables = feeds.get((src.name, ds.name), [])
            lines += [
                f"#### {src.name}/{ds.name}",
                "",
                _cell(ds.description),
                "",
                f"- **Natural key:** {_code_list(ds.key)}",
                f"- **Feeds:** {_code_list(tables) if tables else 'no curated table'}",
                "",
            ]
            lines += _table(["Column", "Type"], [[f"`{f.name}`", duckdb_type(f.type)] for f in ds.schema])
            lines.append("")
    return lines


def render() -> str:
    """The whole of ``docs/data-model.md``."""
    columns = _view_columns()
    intro = inspect.cleandoc(model.__doc__ or "")
    headings = [("Curated tables", [f"`{t}`" for t in TABLES]),
                ("Analytics tables", [f"`{t}`" for t in ANALYTICS_TABLES]),
                ("Reference tables", [f"`{n}`" for n in REFERENCE_TABLES]),
                ("Views", [f"`{n}`" for p in _view_files() for k, n, _ in columns[p.stem] if k == "view"]),
                ("lake_files (the manifest)", []),
                ("Sources and their staging datasets", [f"`{s}`" for s in sorted(SOURCES)])]
    lines = [
        "# Data model",
        "",
        "<!-- Generated by `python -m assets.docs` (`make docs`) from the code; do not edit by hand. -->",
        "",
        intro,
        "",
        ("Zones: landing → raw → staging → curated (→ archive). The warehouse (DuckDB) holds views "
        "over the curated Parquet and the manifest, and small reference tables loaded from code."),
        "",
        "## Contents",
        "",
    ]
    for title, items in headings:
        suffix = f": {', '.join(items)}" if items else ""
        lines.append(f"- [{title}](#{_anchor(title)}){suffix}")
    lines += ["", "## Curated tables", ""]
    for table in TABLES.values():
        lines += _curated(table)
    lines += ["## Analytics tables", "",
              ("Computed from the curated model by `assets/analytics/` (one Parquet file per table under "
               "`curated/<table>/`, replaced by each analytics run) and shown as views like the curated tables."), ""]
    for table in ANALYTICS_TABLES.values():
        lines += _curated(table)
    lines += _views(columns)
    lines += _manifest(columns)
    lines += _sources()
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(argv, path=DOC_PATH, render=render, prog="python -m assets.docs",
                          description=__doc__.splitlines()[0], made_from="the code",
                          command="`make docs` (python -m assets.docs)")


if __name__ == "__main__":
    sys.exit(main())
