"""The ``soundlake`` command line. Scripts depend on it: keep it stable (see DESIGN.md).

Commands that change the lake (``ingest``, ``reprocess``, ``analytics``, ``report``, ``alerts``,
``demo``) land their files and run a job of the Dagster graph in this process, recorded in the
instance under ``$SOUNDLAKE_HOME/dagster`` (``soundlake ui`` shows the runs); they print what the
run did. ``query``, ``kpis`` and ``status`` only read: on a home without a lake they say so and
exit 2.
"""

from __future__ import annotations

import csv
import decimal
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_QUARANTINED = 3
EXIT_UNREACHABLE = 4  # the S3 server cannot be reached (or answers too slowly)
EXIT_BUSY = 5  # another run held the lake lock longer than SOUNDLAKE_LOCK_TIMEOUT
REPO_ROOT = Path(__file__).resolve().parents[1]
QUERY_ROWS_SHOWN = 100  # rows of `soundlake query` in table format without --limit
CELL_CHARS = 60  # a longer text is cut in table format

err = Console(stderr=True, soft_wrap=True)  # messages wrap in the terminal, not in a pipe or a log


def _existing(warehouse: bool = True):
    from . import app

    try:
        return app.existing(warehouse=warehouse)
    except app.NoLake as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(EXIT_USAGE)


def _running(what: str):
    """A spinner on a terminal while a run goes (nothing when piped)."""
    return err.status(f"{what} …") if err.is_terminal else _Nothing()


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _report_run(run, as_json: bool) -> None:
    """A failed run says where and why (on stderr); where to see it."""
    if run is None:
        return
    if not run.success:
        err.print(f"[bold red]run {run.run_id} failed[/] (soundlake ui shows it):")
        for f in run.failures:
            err.print(f"  {f}")
    elif run.check_failures and not as_json:
        err.print("checks that did not pass: " + ", ".join(run.check_failures))


def shown(text) -> str:
    """Text from outside (a file name, a reason quoting one) as one printable line: control
    characters (a newline in a file name could forge a result line) are escaped."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _print_results(results, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2, default=str))
        return
    for r in results:
        what = f"{r.source}/{r.dataset}" if r.source else "?"
        rows = f" {r.rows} rows" if r.rows is not None else ""
        reason = f" — {shown(r.reason)}" if r.reason and r.status != "loaded" else ""
        click.echo(f"{r.status:<11} {what:<32} {shown(r.path)}{rows}{reason}")


def _print_repaired(reasons, as_json: bool) -> None:
    if reasons and not as_json:
        err.print("rebuilt what an interrupted run left stale: " + "; ".join(reasons))


def _exit_code(outcome) -> int:
    if outcome.run is not None and not outcome.run.success:
        return EXIT_UNREACHABLE if outcome.run.unreachable else EXIT_FAILED
    return EXIT_QUARANTINED if outcome.quarantined else 0


class _Group(click.Group):
    """Errors every command can meet, as one line and a documented exit status."""

    def invoke(self, ctx):
        from resources.lock import LakeBusy
        from resources.storage import StorageUnavailable

        try:
            return super().invoke(ctx)
        except StorageUnavailable as exc:
            err.print(f"[bold red]error:[/] {exc}")
            sys.exit(EXIT_UNREACHABLE)
        except LakeBusy as exc:
            err.print(f"[bold red]error:[/] {exc}")
            sys.exit(EXIT_BUSY)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, step by step.")
def main(verbose: bool) -> None:
    """soundlake: every platform's numbers in one lake.

    The lake lives under $SOUNDLAKE_HOME (default ./.soundlake), or on MinIO/S3 when
    $SOUNDLAKE_S3_ENDPOINT is set (with SOUNDLAKE_S3_ACCESS_KEY, SOUNDLAKE_S3_SECRET_KEY,
    SOUNDLAKE_S3_SECURE). Commands that change it run a job of the Dagster graph, recorded in
    $SOUNDLAKE_HOME/dagster: `soundlake ui` shows every run.

    Exit status: 0 done; 1 a run failed (the error is printed); 2 a usage error, a read
    command on a home without a lake, or no files to ingest; 3 a file was quarantined (or is a
    copy of one); 4 the S3 server cannot be reached; 5 another run kept the lake locked longer
    than SOUNDLAKE_LOCK_TIMEOUT.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "plotly failed": we plot with matplotlib
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("soundlake").setLevel(logging.INFO if verbose else logging.ERROR)  # the run says it


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--source", help="Treat the files as this source's exports (skips recognition by name).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date the exports were taken (for formats without years).")
@click.option("--artist", help="Artist the files are about, when the file name does not say.")
@click.option("--account", help="Social account the files are about, when the file name does not say.")
@click.option("--track", help="Track a per-song export is about, when the file name does not say.")
@click.option("--currency", help="ISO 4217 currency of money in exports that do not name it (Meta Ads API JSON; default USD).")
@click.option("--json", "as_json", is_flag=True, help="Print [{path, source, dataset, sha256, status, rows, reason}].")
def ingest(paths, source, as_of, artist, account, track, currency, as_json):
    """Land files (and folders, zips) and run the ingest job on them: raw, staging, curated,
    the warehouse, the KPIs and the fast analytics, then alerts.

    The options are recorded with each file's landing, so a re-run from the UI parses it the
    same way. Exit status: 0 when every file loaded, was a duplicate or holds nothing soundlake
    uses (`unused`, kept in raw), 3 when any was quarantined, 1 when the run failed, 2 on a
    usage error.
    """
    from assets.sources import SOURCES

    from . import app

    if source and source not in SOURCES:
        raise click.BadParameter(f"unknown source {source!r}; known: {', '.join(sorted(SOURCES))}", param_hint="--source")
    if currency and not (len(currency) == 3 and currency.isalpha()):
        raise click.BadParameter(f"{currency!r} is not an ISO 4217 code like USD or EUR", param_hint="--currency")
    options = {k: v for k, v in (("artist", artist), ("account", account), ("track", track),
                                 ("currency", currency.upper() if currency else None)) if v}
    with _running("ingest"):
        outcome = app.ingest(app.lakehouse(), list(paths), source=source,
                             as_of=as_of.date() if as_of else None, options=options,
                             on_wait=lambda m: err.print(f"[dim]{m}[/]"))
    if not outcome.results and outcome.run is None:
        err.print(f"[bold red]error:[/] no files in {', '.join(shown(p) for p in paths)} "
                  "(hidden files, starting with '.', are skipped)")
        sys.exit(EXIT_USAGE)
    _print_results(outcome.results, as_json)
    _print_repaired(outcome.repaired, as_json)
    _report_run(outcome.run, as_json)
    sys.exit(_exit_code(outcome))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print {stale: [...], run, success} as JSON.")
def repair(as_json):
    """Rebuild what an interrupted or failed run, deleted files or a moved lake left stale:
    staging of raw files never parsed, curated tables, the warehouse, the KPIs and the fast
    analytics — exactly those, from raw. Every ingest and the sensor's runs do this too."""
    from . import app

    house = _existing(warehouse=False)
    with _running("repair"):
        outcome = app.repair(house, on_wait=lambda m: err.print(f"[dim]{m}[/]"))
    if as_json:
        click.echo(json.dumps({"stale": outcome.repaired, "run": outcome.run.run_id if outcome.run else None,
                               "success": outcome.run.success if outcome.run else True}, indent=2))
    elif not outcome.repaired:
        click.echo("nothing to repair: every derived table is what raw says it should be")
    else:
        for line in outcome.repaired:
            click.echo(f"rebuilt {shown(line)}")
    _report_run(outcome.run, as_json)
    sys.exit(EXIT_FAILED if outcome.run is not None and not outcome.run.success else 0)


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--all", "pull_all", is_flag=True, help="Every puller; those without credentials say so and are skipped.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Backfill: ask for data from this day on, whatever the source's cursor says.")
@click.option("--no-ingest", is_flag=True, help="Only land the responses (the landing sensor of `soundlake ui` ingests them).")
@click.option("--json", "as_json", is_flag=True, help="Print {pulls: [{source, status, files, window, ...}], files: [...]}.")
def pull(sources, pull_all, since, no_ingest, as_json):
    """Pull what is new from the platforms' APIs (youtube, mailchimp, instagram, meta_ads) into
    landing, then ingest it like any export (a run of the `pull` job, then of `ingest`).

    Credentials come from SOUNDLAKE_<SOURCE>_... variables (README, Pulling from APIs). Each
    source remembers how far it got, so a pull asks only for new days. Exit status: 0 done
    (with --all, sources without credentials are reported, not failed); 1 a puller or the run
    failed; 2 a usage error, or a source named here has no credentials; 3 a pulled file was
    quarantined (a response that is not JSON, say).
    """
    from resources.pullers import PULLERS

    from . import app

    unknown = [s for s in sources if s not in PULLERS]
    if unknown or bool(sources) == pull_all:
        raise click.UsageError(("unknown source " + ", ".join(map(repr, unknown)) + "; " if unknown else
                                "name the sources to pull, or --all; ") + f"pullers: {', '.join(PULLERS)}")
    names = list(PULLERS) if pull_all else list(dict.fromkeys(sources))
    with _running("pull"):
        outcome = app.pull(app.lakehouse(), names, since=since.date() if since else None, ingest=not no_ingest)
    if as_json:
        click.echo(json.dumps({"pulls": outcome.pulls, "files": [r.to_json() for r in outcome.ingest.results]},
                              indent=2, default=str))
    else:
        for p in outcome.pulls:
            n = len(p["files"])
            what = (f"{n} response{'' if n == 1 else 's'} landed" + (f", {p['window']}" if p.get("window") else "")
                    if p["status"] == "pulled" else "")
            notes = [n for n in (p.get("note"),) if n] + \
                    [f"{len(p.get(k) or [])} {label}" for k, label in (("empty", "without rows"), ("malformed", "not JSON"))
                     if p.get(k)]
            click.echo(f"{p['status']:<15} {p['source']:<10} " + " — ".join(x for x in (what, "; ".join(notes)) if x))
        _print_results(outcome.ingest.results, False)
    _report_run(outcome.run, as_json)
    _report_run(outcome.ingest.run, as_json)
    if not outcome.run.success or (outcome.ingest.run is not None and not outcome.ingest.run.success):
        sys.exit(EXIT_FAILED)
    if not pull_all and any(p["status"] == "not configured" for p in outcome.pulls):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_QUARANTINED if outcome.ingest.quarantined else 0)


@main.command()
@click.option("--source", help="Only this source's files.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def reprocess(source, as_json):
    """Parse quarantined files in raw again (after a fix, or with a new source module), then
    rebuild what depends on them; also rebuilds a warehouse a failed run left unbuilt."""
    from assets.sources import SOURCES

    from . import app

    if source and source not in SOURCES:
        raise click.BadParameter(f"unknown source {source!r}; known: {', '.join(sorted(SOURCES))}", param_hint="--source")
    house = _existing(warehouse=False)
    with _running("reprocess"):
        outcome = app.reprocess(house, source, on_wait=lambda m: err.print(f"[dim]{m}[/]"))
    _print_results(outcome.results, as_json)
    _print_repaired(outcome.repaired, as_json)
    _report_run(outcome.run, as_json)
    sys.exit(_exit_code(outcome))


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: rounded numbers, long text cut, at most --limit rows; csv and json: every row, full precision.")
@click.option("--limit", type=click.IntRange(min=1), default=QUERY_ROWS_SHOWN, show_default=True,
              help="Rows shown in table format.")
def query(sql, fmt, limit):
    """Run one SQL statement over the curated model, the analytics and lake_files (DuckDB).

    A sandbox: one read-only statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); no
    file outside the lake's curated zone and manifest can be read; COPY, EXPORT, ATTACH, INSTALL,
    LOAD, SET and every statement that writes are refused (exit status 2)."""
    import duckdb

    from resources.warehouse import QueryRefused

    from . import app

    house = _existing()
    try:
        columns, rows = app.query(house, sql, sandbox=True)
    except QueryRefused as exc:
        err.print(f"[bold red]error:[/] query refused: {exc}")
        sys.exit(EXIT_USAGE)
    except duckdb.IOException as exc:  # files the warehouse reads are gone (curated deleted, say)
        raise click.ClickException(f"query failed: {exc}\nthe lake's files changed under the warehouse: "
                                   "run `soundlake repair`") from None
    except duckdb.Error as exc:
        raise click.ClickException(f"query failed: {exc}") from None
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    elif fmt == "json":
        click.echo(json.dumps([dict(zip(columns, row)) for row in rows], indent=2, default=_json_value))
    else:
        table = Table(*columns)
        for row in rows[:limit]:
            table.add_row(*[_cell(v) for v in row])
        Console().print(table)
        notes = []
        if len(rows) > limit:
            notes.append(f"{len(rows) - limit:,} more rows not shown ({len(rows):,} in all): --limit N, or --format csv|json")
        if any(isinstance(v, float) for row in rows[:limit] for v in row):
            notes.append("numbers are rounded for reading: --format csv|json gives them in full")
        for note in notes:
            err.print(f"[dim]{note}[/]")


def _cell(v) -> str:
    """A value as the table shows it: floats rounded, long text cut."""
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        if v == 0 or abs(v) >= 1:
            return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.2f}"
        return f"{v:.4g}"
    text = str(v)
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"


def _json_value(v):
    """JSON for what DuckDB hands back beyond str/int/float: dates, decimals, UUIDs, ..."""
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return str(v)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print [{platform, source, title, acquisition, datasets}].")
def sources(as_json):
    """List every platform soundlake reads, the source that brings it, its datasets (the kinds
    of file or API response it parses) and how they are acquired. Needs no lake."""
    from assets.sources import SOURCES

    rows = [{"platform": platform, "source": src.name, "title": src.title, "acquisition": src.acquisition,
             "datasets": [d.name for d in src.datasets]}
            for src in SOURCES.values() for platform in src.platforms]
    rows.sort(key=lambda r: (r["platform"], r["source"]))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['platform']:<20} {r['source']:<20} {r['title']}")
        click.echo(f"{'':<20} acquired: {r['acquisition']}")
        click.echo(f"{'':<20} datasets: {', '.join(r['datasets'])}")


@main.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the sample exports.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo(seed, as_json):
    """Write sample exports for every platform, run them through the graph (ingest, analytics
    with forecasts, the weekly report), print a summary."""
    from . import app

    house = app.lakehouse()
    folder = house.settings.home / "demo-exports"
    files = app.write_demo_exports(folder, seed)
    with _running("ingest of the sample exports"):
        outcome = app.ingest(house, [folder])
    _report_run(outcome.run, as_json)
    if outcome.run is None or not outcome.run.success:
        sys.exit(EXIT_FAILED)
    with _running("analytics and forecasts"):
        analytics_rows, run = app.analytics(house, forecasts=True)
    _report_run(run, as_json)
    with _running("the weekly report"):
        made, report_run = app.report(house)
    _report_run(report_run, as_json)
    if not run.success or not report_run.success:
        sys.exit(EXIT_FAILED)
    summary = app.summary(house)
    summary["exports"] = len(files)
    summary["analytics"] = analytics_rows
    summary["forecasts"] = app.forecast_summary(house)
    summary["highlights"] = app.highlights(house)
    summary["report"] = made.get("uri")
    summary["runs"] = [outcome.run.run_id, run.run_id, report_run.run_id]
    summary["quarantined"] = [r.to_json() for r in outcome.results if r.status == "quarantined"]
    kpi_rows = app.kpis(house)
    summary["kpis"] = {"kpis": len({r["kpi"] for r in kpi_rows}),
                       "empty": sorted({r["kpi"] for r in kpi_rows} - {r["kpi"] for r in kpi_rows if r["value"] is not None})}
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
    else:
        click.echo(f"soundlake demo — {len(files)} sample exports in {folder}")
        click.echo(f"lake: {house.storage.uri('curated')}   warehouse: {house.settings.warehouse_path}")
        click.echo(f"runs: ingest {outcome.run.run_id}, analytics {run.run_id}, report {report_run.run_id} "
                   "— soundlake ui shows them")
        click.echo("files: " + ", ".join(f"{n} {s}" for s, n in summary["files"].items()))
        click.echo("curated tables:")
        for t, n in summary["tables"].items():
            click.echo(f"  {t:<24} {n:>8} rows")
        r = summary["royalties"]
        click.echo(f"royalties: {r['quantity']:,} units, {r['earnings_usd']:,.2f} USD")
        click.echo("streams of the account (v_streams_account_daily):")
        for s in summary["streams_by_platform"]:
            click.echo(f"  {s['platform']:<14} {s['days']:>4} days {s['streams']:>12,} streams")
        click.echo("analytics: " + ", ".join(f"{t} {n}" for t, n in analytics_rows.items()))
        click.echo(_forecast_line(summary["forecasts"]))
        click.echo(_moments_line(house))
        for line in _highlight_lines(summary["highlights"]):
            click.echo(line)
        click.echo(f"weekly report: {summary['report']} — soundlake report")
        k = summary["kpis"]
        click.echo(f"kpis: {k['kpis']} ({k['kpis'] - len(k['empty'])} with a value; empty: {', '.join(k['empty']) or 'none'})"
                   " — soundlake kpis")
        for q in summary["quarantined"]:
            click.echo(f"quarantined: {q['reason']}")
    sys.exit(EXIT_QUARANTINED if summary["quarantined"] else 0)


@main.command()
@click.option("--no-forecasts", is_flag=True,
              help="Skip backtests and forecasts: only the analytics every ingest runs (seconds).")
@click.option("--json", "as_json", is_flag=True, help="Print rows per analytics table as JSON.")
def analytics(no_forecasts, as_json):
    """Run the analytics job: KPIs, viral moments, anomalies, ad attribution, lagged
    correlations, revenue, market demand, forecast backtests and forecasts, from the whole lake."""
    from . import app

    house = _existing()
    with _running("analytics"):
        counts, run = app.analytics(house, forecasts=not no_forecasts)
    _report_run(run, as_json)
    if not run.success:
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    for name, n in counts.items():
        click.echo(f"{name:<20} {n:>8} rows")
    for line in _highlight_lines(app.highlights(house)):
        click.echo(line)
    if not no_forecasts:
        click.echo(_forecast_line(app.forecast_summary(house)))


def _highlight_lines(h: dict) -> list[str]:
    """The analytics a person acts on, a line each (what `app.highlights` found)."""
    lines = []
    for m in h["markets"]:
        # the account's audience adds up every artist's: BOOK for all together can be CONSIDER for one alone
        who = f" for {m['artist']} alone" if m["artist"] else " for all artists together"
        lines.append(f"market: {m['recommendation']} {m['country_name']}{who}"
                     f" — score {m['demand_score']:.0f}, ~{m['est_ticket_demand']} tickets; "
                     + ". ".join(m["reasons"].split(". ")[1:2]))  # the market's place and share (all: market_demand.reasons)
    for a in h["attribution"]:
        cost = f", {a['cost_per_incremental']:.3f} USD per incremental {a['metric'][:-1]}" if a["cost_per_incremental"] else ""
        lines.append(f"ads: {a['campaign_name']} ({a['window_start']}..{a['window_end']}) on {a['series_id']}: "
                     f"{a['lift']:+,.0f} ({a['lift_pct']:+.0f} % against the forecast){cost}")
    for c in h["lags"]:
        lines.append(f"lead: {c['leader_series_id']} → {c['follower_series_id']}: best lag {c['best_lag_days']} days "
                     f"(r = {c['correlation']:.2f}, p = {c['p_value']:.3g})")
    for r in h["revenue_per_stream"]:
        lines.append(f"revenue per stream: {r['platform']} {r['revenue_per_stream'] * 1000:.2f} USD per 1,000 streams "
                     f"({r['sale_month']:%Y-%m})")
    return lines


def _forecast_line(s: dict) -> str:
    line = (f"forecasts: the champion beats the seasonal naive at {s['horizon']} days on "
            f"{s['champion_beats_seasonal_naive']} of {s['compared']} series with a year of history "
            f"(champions: {', '.join(f'{m} {n}' for m, n in s['champions'].items()) or 'none'})")
    if s.get("coverage_series"):
        line += (f"\nforecast intervals: at {s['horizon']} days the champion's 80 % interval held "
                 f"{s['coverage_80']:.0%} of hold-out days, its 95 % interval {s['coverage_95']:.0%} "
                 f"(backtest, {s['coverage_series']} series)")
    return line


def _moments_line(house) -> str:
    """Viral moments by kind (viral.py: spike, breakout, surge)."""
    from . import app

    try:
        _, rows = app.query(house, "SELECT kind, count(*), max(end_date - start_date) + 1 FROM viral_moments "
                                   "GROUP BY kind ORDER BY count(*) DESC, kind")
    except Exception:  # an older warehouse without the column
        return "viral moments: –"
    parts = [f"{n} {k}{'s' if n != 1 else ''} (longest {d} days)" for k, n, d in rows]
    return "viral moments: " + (", ".join(parts) if parts else "none")


@main.command()
@click.option("--date", "report_date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Day the report is made (default: today, UTC); names the file, and data after it is left out.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also copy the report to this file.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {uri, out, date, period_start, period_end, charts, bytes, sections, ...} as JSON.")
def report(report_date, out, as_json):
    """Run the report job: the weekly HTML report in the curated zone (reports/<date>.html).

    One self-contained page: headline KPIs, streams, viral moments, anomalies, forecasts, markets,
    ad attribution and revenue, over the 7 days ending on the newest day of data. Prints where it was written.
    """
    from assets.analytics.report import report_key

    from . import app

    house = app.lakehouse()
    with _running("report"):
        made, run = app.report(house, report_date.date() if report_date else None)
    _report_run(run, as_json)
    if not run.success:
        sys.exit(EXIT_FAILED)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(house.storage.get("curated", report_key(app.date.fromisoformat(made["date"]))))
    if as_json:
        click.echo(json.dumps({"out": str(out) if out else None, **made}, indent=2, default=_json_value))
        return
    click.echo(f"report: {made['uri']}")
    if out is not None:
        click.echo(f"copied to {out}")
    period = f"{made['period_start']} to {made['period_end']}" if made.get("period_end") else "no daily data yet"
    click.echo(f"week {period}, {made['charts']} charts")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json):
    """Per source: last file, freshness, quarantined and unused files and why, unmapped stores."""
    from . import app

    house = _existing(warehouse=False)
    try:
        rows = app.status(house)
    except ValueError as exc:  # a setting that cannot be read (SOUNDLAKE_FRESHNESS_DAYS)
        raise click.UsageError(str(exc)) from None
    busy = app.writing_now(house)
    repair = [] if busy else app.needs_repair(house)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("source", "files", "loaded", "dup", "quar.", "unused", "waiting", "last file", "fresh (days)")
    for r in rows:
        table.add_row(r["source"], str(r["files"]), str(r["loaded"]), str(r["duplicate"]), str(r["quarantined"]),
                      str(r["unused"]), str(r["waiting"]), r["last_file"] or "-",
                      "-" if r["freshness_days"] is None else str(r["freshness_days"]))
    Console().print(table)
    for r in rows:
        for q in r["quarantined_files"]:
            click.echo(f"quarantined ({r['source']}): {shown(q['reason'])}")
        for q in r["unused_files"]:
            click.echo(f"unused ({r['source']}): {shown(q['reason'])}")
        if r.get("stale"):
            click.echo(f"stale ({r['source']}): newest data {r['freshness_days']} days old, "
                       f"expected every {r['cadence_days']:g} days: export it again and ingest it")
        for u in r["unmapped_stores"]:
            click.echo(f"unmapped store ({r['source']}): {u['store']!r}, {u['lines']} lines, "
                       f"{u['earnings_usd']:.2f} USD: add it to STORE_PLATFORMS in assets/model.py")
    if busy:
        click.echo(f"busy: {busy} is writing the lake now; figures may change when it ends")
    for line in repair:
        click.echo(f"needs repair: {shown(line)} — run `soundlake repair` (or ingest again)")


@main.command()
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {alerts: [{alert_id, kind, severity, subject, message, status, channels}], skipped, ...}.")
def alerts(dry_run, as_json):
    """Send alerts: new viral moments, anomalies, stale sources, quarantined files, expired
    browser sessions (a run of the `analytics/alerts` asset).

    Channels: SOUNDLAKE_ALERT_WEBHOOK_URL (Slack-compatible JSON) and/or SOUNDLAKE_SMTP_HOST with
    SOUNDLAKE_ALERT_EMAIL_TO (README, Alerts). Every event is sent once; every ingest does this too.
    Exit status 0, or 1 when a configured channel failed (its alerts are retried next time) or is
    half-configured; 2 when a SOUNDLAKE_ALERT_* threshold is not valid.
    """
    from assets.analytics.alerts import AlertConfig

    from . import app

    try:
        config = AlertConfig.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    house = app.lakehouse()
    with _running("alerts"):
        result, run = app.alerts(house, dry_run=dry_run)
    _report_run(run, as_json)
    if not run.success or result.get("error"):
        if result.get("error"):
            err.print(result["error"])
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        for line in _alert_lines(result, config.max_age_days):
            click.echo(line)
    sys.exit(0 if not result["failures"] and not result["problems"] else EXIT_FAILED)


def _alert_lines(result: dict, max_age_days: int) -> list[str]:
    """A dispatch's result (``DispatchResult.to_json()``), a line each."""
    lines = [f"channels: {', '.join(result['channels'])}" if result["channels"] else
             "channels: none configured (set SOUNDLAKE_ALERT_WEBHOOK_URL and/or SOUNDLAKE_SMTP_HOST with "
             "SOUNDLAKE_ALERT_EMAIL_TO); nothing is sent"]
    for a in result["alerts"]:
        lines.append(f"{a['status']:<11} {a['severity']:<9} {a['kind']:<16} {a['subject']}")
    if not result["alerts"]:
        lines.append("nothing new to send" + (f" ({result['already_sent']} sent before)" if result["already_sent"] else ""))
    if result["skipped"]:
        lines.append(f"skipped as older than {max_age_days} days before the newest data day "
                     f"({result['newest_day'] or '?'}): " + ", ".join(f"{n} {kind}" for kind, n in result["skipped"].items()))
    if result["gave_up"]:
        lines.append(f"gave up on {result['gave_up']} alert(s) no channel accepted within the retry window")
    lines += [f"failed: {error}" for error in result["failures"].values()]
    lines += [f"not configured: {problem}" for problem in result["problems"]]
    return lines


KPI_ROWS_SHOWN = 10  # breakdown rows shown per KPI without --all


def _kpi_block(kpi_id: str, rows: list[dict], limit: int | None) -> list[str]:
    from assets.kpis import format_value

    """One KPI as text: ``id (unit, period, as of day)``, then a line per row: value, breakdown,
    and the row's period where it differs from the headline's."""
    def is_head(r):
        return r["breakdown"] is None or r["breakdown"].startswith(("no data:", "error:"))

    heads = [r for r in rows if is_head(r)]
    parts = [r for r in rows if not is_head(r)]
    unit = rows[0]["unit"]
    period = (heads or rows)[0]["period"]
    days = [r["as_of"] for r in rows if r["as_of"] is not None]
    about = ", ".join([unit, period] + ([f"as of {max(days).isoformat()}"] if days else []))
    shown = heads + (parts if limit is None else parts[:limit])
    values = [format_value(r["value"], unit) for r in shown]
    width = max(map(len, values), default=1)
    lines = [f"{kpi_id} ({about})"]
    for r, v in zip(shown, values):
        label = " ".join(x for x in ((r["period"] if r["period"] != period else ""), r["breakdown"] or "") if x)
        lines.append(f"  {v:>{width}}  {label}".rstrip())
    if len(shown) < len(heads) + len(parts):
        lines.append(f"  ... {len(heads) + len(parts) - len(shown)} more (--all, --json)")
    return lines


@main.command()
@click.option("--artist", help="Only this artist's rows; any spelling or social handle of the name (zone.a0 = ZONE A0).")
@click.option("--all", "show_all", is_flag=True, help=f"Every breakdown row (default: the first {KPI_ROWS_SHOWN} of each KPI).")
@click.option("--json", "as_json", is_flag=True,
              help="Print every row as JSON: [{kpi, value, unit, period, as_of, artist, breakdown}].")
def kpis(artist, show_all, as_json):
    """The KPIs: revenue, streams, audience, social, links, ads, e-mail, freshness (docs/kpis.md).

    The rows across all artists, or with --artist one artist's. Every ingest recomputes them.
    Exit status 2 when --artist names no artist of the lake (the known ones are listed).
    """
    from . import app

    try:
        rows = app.kpis(_existing(), artist)
    except app.UnknownArtist as exc:
        raise click.BadParameter(str(exc), param_hint="--artist") from None
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_value))
        return
    who = "all artists" if artist is None else (rows[0]["artist"] if rows else artist)
    click.echo(f"KPIs: {who}")
    by_kpi: dict[str, list[dict]] = {}
    for r in rows:
        by_kpi.setdefault(r["kpi"], []).append(r)
    for kpi_id, mine in by_kpi.items():
        click.echo("")
        click.echo("\n".join(_kpi_block(kpi_id, mine, None if show_all else KPI_ROWS_SHOWN)))


EXTRACTOR_SOURCES = ("distrokid", "linktree", "spotify_for_artists", "tiktok", "toolost")  # assets/extract/ (a test keeps them equal)


@main.command()
@click.argument("source", type=click.Choice(EXTRACTOR_SOURCES))
@click.option("--terminal", is_flag=True,
              help="No window: ask for the username, password and 2FA code here and sign in headless "
                   "(a server without a display).")
@click.option("--wait", "wait_s", type=click.IntRange(min=10), default=300, show_default=True,
              help="Seconds to wait for you to finish signing in in the window.")
def login(source, terminal, wait_s):
    """Sign in to SOURCE's dashboard once, with its 2FA; the session is saved encrypted.

    Opens Chromium on the dashboard's login page: type your password and the 2FA code there. The
    session (cookies and storage) is then kept in $SOUNDLAKE_HOME/secrets/SOURCE.vault, encrypted
    with SOUNDLAKE_VAULT_KEY (or the OS keyring's key), and `soundlake extract` and the daily
    schedule reuse it headless. Run it again when an alert says "log in again to SOURCE".
    """
    from assets.extract.base import LoginFailed
    from resources.vault import VaultError

    from . import app

    if not terminal and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise click.UsageError("no display to open a browser window on (DISPLAY is not set): use --terminal to "
                               "type the password and 2FA code here instead")

    def ask(field: str, *, secret: bool) -> str:
        label = {"username": "Username (e-mail)", "password": "Password", "code": "2FA code"}.get(field, field)
        return click.prompt(f"{source} {label}", hide_input=secret, err=True)

    if not terminal:
        err.print(f"A Chromium window opens on the {source} login page: sign in there (password and 2FA code); "
                  f"waiting up to {wait_s} s.")
    try:
        summary = app.login(app.Settings.from_env(), source, prompt=ask if terminal else None, headless=terminal,
                            wait_s=wait_s)
    except (LoginFailed, VaultError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(EXIT_FAILED)
    expiries = [c["expires"] for c in summary.get("cookies", []) if (c.get("expires") or 0) > 0]
    until = (f", valid until {datetime.fromtimestamp(max(expiries), timezone.utc):%Y-%m-%d %H:%M} UTC"
             if expiries else "")
    click.echo(f"signed in to {source}: session saved encrypted in {summary['soundlake']['vault']} "
               f"({len(summary.get('cookies', []))} cookie(s){until}); `soundlake extract {source}` uses it")


@main.command()
@click.argument("sources", nargs=-1, type=click.Choice(EXTRACTOR_SOURCES))
@click.option("--all", "every", is_flag=True, help="Every source with a saved session (the others are listed as not configured).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {sources: [{source, status, files, message, run_id}], files: [{path, source, dataset, ...}]}.")
def extract(sources, every, as_json):
    """Download SOURCES' exports from their dashboards with the saved sessions (headless), land
    them and ingest them (a run of the `extract` job per source, then one `ingest` run).

    Exit status: 0 done; 1 a source failed (an expired session says "log in again to SOURCE", and
    is alerted) or a run failed; 2 a usage error or a named source that is not configured
    (`soundlake login SOURCE` first); 3 a file was quarantined.
    """
    from resources.vault import VaultError

    from . import app

    if bool(sources) == every:
        raise click.UsageError("name the sources to extract, or --all (not both)")
    house = app.lakehouse()
    try:
        with _running("extract"):
            done, outcome = app.extract(house, list(sources) if sources else list(EXTRACTOR_SOURCES))
    except VaultError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps({"sources": [e.to_json() for e in done], "files": [r.to_json() for r in outcome.results]},
                              indent=2, default=str))
    else:
        for e in done:
            what = f"{e.files} files" if e.status == "landed" else e.message
            click.echo(f"{e.status:<15} {e.source:<20} {what}")
        _print_results(outcome.results, False)
    _report_run(outcome.run, as_json)
    if any(e.status == "failed" for e in done):
        sys.exit(EXIT_FAILED)
    if sources and any(e.status == "not configured" for e in done):
        sys.exit(EXIT_USAGE)
    sys.exit(_exit_code(outcome))


@main.command()
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port, host):
    """The Dagster UI with the daemon (schedules, sensors), on this home's instance.

    Refuses to start when the port is busy or another daemon already serves this instance.
    Ctrl-C (or SIGTERM) stops the webserver and the daemon it started.
    """
    from . import app, launch

    settings = app.Settings.from_env()
    dagster_home = launch.instance_home(settings)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex((host if host not in ("0.0.0.0", "") else "127.0.0.1", port)) == 0:
            raise click.UsageError(f"port {port} on {host} is busy (is `soundlake ui` already running?); "
                                   "choose another with --port")
    daemon = _live_daemon(settings)
    if daemon:
        raise click.UsageError(f"a Dagster daemon already serves the instance in {dagster_home} ({daemon}); "
                               "stop it first: two daemons would start every sensor run twice")
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "SOUNDLAKE_HOME": str(settings.home)}
    exe = Path(sys.executable).with_name("dagster")
    cmd = [str(exe) if exe.exists() else "dagster", "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
           "-h", host, "-p", str(port)]
    err.print(f"Dagster UI on http://{host}:{port} (instance in {dagster_home}); Ctrl-C stops it")
    proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, start_new_session=True)

    def stop(signum, _frame):
        _stop_group(proc)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        code = proc.wait()
    finally:
        _stop_group(proc)
    sys.exit(code)


def _stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM to the process group `dagster dev` leads (webserver, daemon, code servers), then
    SIGKILL to whatever is left after ``grace`` seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        if proc.poll() is None:
            time.sleep(0.2)
            continue
        time.sleep(0.2)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _live_daemon(settings, within_s: float = 60.0) -> str | None:
    """A daemon that sent a heartbeat to this instance within the last minute, if any."""
    from . import launch

    try:
        with launch.instance(settings) as inst:
            beats = inst.get_daemon_heartbeats()
    except Exception:  # an instance that cannot be read has no live daemon we could know of
        return None
    now = time.time()
    for kind, beat in beats.items():
        if beat is not None and now - beat.timestamp < within_s:
            return f"{kind} heartbeat {now - beat.timestamp:.0f} s ago"
    return None


if __name__ == "__main__":  # pragma: no cover
    main()
