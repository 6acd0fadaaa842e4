"""The ``soundlake`` command line. Scripts depend on it: keep it stable (see DESIGN.md)."""

from __future__ import annotations

import csv
import decimal
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assets.kpis import format_value

from . import app

EXIT_QUARANTINED = 3
REPO_ROOT = Path(__file__).resolve().parents[1]

err = Console(stderr=True)


def _platform() -> app.Platform:
    return app.Platform.from_env()


def _progress():
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )


def _run_ingest(platform, paths, **kwargs):
    with _progress() as progress:
        task = progress.add_task("ingest", total=4)

        def step(what, done, total):
            progress.update(task, description=what, completed=done, total=total)

        return app.ingest(platform, paths, step=step, **kwargs)


def _print_results(results, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2, default=str))
        return
    for r in results:
        what = f"{r.source}/{r.dataset}" if r.source else "?"
        rows = f" {r.rows} rows" if r.rows is not None else ""
        reason = f" — {r.reason}" if r.reason and r.status != "loaded" else ""
        click.echo(f"{r.status:<11} {what:<32} {r.path}{rows}{reason}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, step by step.")
def main(verbose: bool) -> None:
    """soundlake: every platform's numbers in one lake.

    The lake lives under $SOUNDLAKE_HOME (default ./.soundlake), or on MinIO/S3 when
    $SOUNDLAKE_S3_ENDPOINT is set (with SOUNDLAKE_S3_ACCESS_KEY, SOUNDLAKE_S3_SECRET_KEY,
    SOUNDLAKE_S3_SECURE).
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "plotly failed": we plot with matplotlib
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)


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
    """Land files (and folders, zips) and take them through raw, staging and curated.

    Exit status: 0 when every file loaded, was a duplicate or holds nothing soundlake uses
    (`unused`, kept in raw), 3 when any was quarantined, 2 on a usage error.
    """
    from assets.sources import SOURCES

    if source and source not in SOURCES:
        raise click.BadParameter(f"unknown source {source!r}; known: {', '.join(sorted(SOURCES))}", param_hint="--source")
    if currency and not (len(currency) == 3 and currency.isalpha()):
        raise click.BadParameter(f"{currency!r} is not an ISO 4217 code like USD or EUR", param_hint="--currency")
    options = {k: v for k, v in (("artist", artist), ("account", account), ("track", track),
                                 ("currency", currency.upper() if currency else None)) if v}
    results = _run_ingest(_platform(), list(paths), source=source,
                          as_of=as_of.date() if as_of else None, options=options)
    _print_results(results, as_json)
    sys.exit(EXIT_QUARANTINED if any(r.status == "quarantined" for r in results) else 0)


@main.command()
@click.option("--source", help="Only this source's files.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def reprocess(source, as_json):
    """Parse quarantined files in raw again (after a fix, or with a new source module)."""
    results = app.reprocess(_platform(), source)
    _print_results(results, as_json)
    sys.exit(EXIT_QUARANTINED if any(r.status == "quarantined" for r in results) else 0)


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def query(sql, fmt):
    """Run SQL over the curated model and the analytics (DuckDB)."""
    import duckdb

    try:
        columns, rows = app.query(_platform(), sql)
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
        for row in rows:
            table.add_row(*["" if v is None else str(v) for v in row])
        Console().print(table)


def _json_value(v):
    """JSON for what DuckDB hands back beyond str/int/float: dates, decimals, UUIDs, ..."""
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return str(v)


@main.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the sample exports.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo(seed, as_json):
    """Write sample exports for every platform, run everything, print a summary."""
    platform = _platform()
    folder = platform.settings.home / "demo-exports"
    files = app.write_demo_exports(folder, seed)
    results = _run_ingest(platform, [folder])
    analytics_rows = app.analytics(platform, forecasts=True)
    summary = app.summary(platform)
    summary["exports"] = len(files)
    summary["analytics"] = analytics_rows
    summary["forecasts"] = app.forecast_summary(platform)
    summary["highlights"] = app.highlights(platform)
    from assets.analytics.report import run_report

    summary["report"], _ = run_report(platform)
    summary["quarantined"] = [r.to_json() for r in results if r.status == "quarantined"]
    kpi_rows = app.kpis(platform)
    summary["kpis"] = {"kpis": len({r["kpi"] for r in kpi_rows}),
                       "empty": sorted({r["kpi"] for r in kpi_rows} - {r["kpi"] for r in kpi_rows if r["value"] is not None})}
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
    else:
        click.echo(f"soundlake demo — {len(files)} sample exports in {folder}")
        click.echo(f"lake: {platform.storage.uri('curated')}   warehouse: {platform.settings.warehouse_path}")
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
    """Viral moments, anomalies, ad attribution, lagged correlations, revenue, market demand,
    forecast backtests and forecasts, from the whole lake."""
    platform = _platform()
    counts = app.analytics(platform, forecasts=not no_forecasts)
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    for name, n in counts.items():
        click.echo(f"{name:<20} {n:>8} rows")
    for line in _highlight_lines(app.highlights(platform)):
        click.echo(line)
    if not no_forecasts:
        click.echo(_forecast_line(app.forecast_summary(platform)))


def _highlight_lines(h: dict) -> list[str]:
    """The analytics a person acts on, a line each (what `app.highlights` found)."""
    lines = []
    for m in h["markets"]:
        lines.append(f"market: {m['recommendation']} {m['country_name']}{' (' + m['artist'] + ')' if m['artist'] else ''}"
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
    return (f"forecasts: the champion beats the seasonal naive at {s['horizon']} days on "
            f"{s['champion_beats_seasonal_naive']} of {s['compared']} series with a year of history "
            f"(champions: {', '.join(f'{m} {n}' for m, n in s['champions'].items()) or 'none'})")


@main.command()
@click.option("--date", "report_date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Day the report is made (default: today, UTC); names the file, and data after it is left out.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also copy the report to this file.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {uri, out, date, period_start, period_end, charts, bytes, sections, ...} as JSON.")
def report(report_date, out, as_json):
    """Write the weekly HTML report to the curated zone (reports/<date>.html).

    One self-contained page: headline KPIs, streams, viral moments, anomalies, forecasts, markets,
    ad attribution and revenue, over the 7 days ending on the newest day of data. Prints where it was written.
    """
    from assets.analytics.report import run_report

    uri, made = run_report(_platform(), report_date.date() if report_date else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(made.html, encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"uri": uri, "out": str(out) if out else None, "date": made.as_of.isoformat(),
                               **made.summary()}, indent=2, default=_json_value))
        return
    click.echo(f"report: {uri}")
    if out is not None:
        click.echo(f"copied to {out}")
    period = f"{made.period_start} to {made.period_end}" if made.period_end else "no daily data yet"
    click.echo(f"week {period}, {made.charts} charts")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json):
    """Per source: last file, freshness, quarantined and unused files and why, unmapped stores."""
    rows = app.status(_platform())
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("source", "files", "loaded", "dup", "quar.", "unused", "last file", "fresh (days)")
    for r in rows:
        table.add_row(r["source"], str(r["files"]), str(r["loaded"]), str(r["duplicate"]), str(r["quarantined"]),
                      str(r["unused"]), r["last_file"] or "-",
                      "-" if r["freshness_days"] is None else str(r["freshness_days"]))
    Console().print(table)
    for r in rows:
        for q in r["quarantined_files"]:
            click.echo(f"quarantined ({r['source']}): {q['reason']}")
        for q in r["unused_files"]:
            click.echo(f"unused ({r['source']}): {q['reason']}")
        for u in r["unmapped_stores"]:
            click.echo(f"unmapped store ({r['source']}): {u['store']!r}, {u['lines']} lines, "
                       f"{u['earnings_usd']:.2f} USD: add it to STORE_PLATFORMS in assets/model.py")


@main.command()
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {alerts: [{alert_id, kind, severity, subject, message, status, channels}], skipped, ...}.")
def alerts(dry_run, as_json):
    """Send alerts: new viral moments, anomalies, stale sources, expired browser sessions.

    Channels: SOUNDLAKE_ALERT_WEBHOOK_URL (Slack-compatible JSON) and/or SOUNDLAKE_SMTP_HOST with
    SOUNDLAKE_ALERT_EMAIL_TO (README, Alerts). Every event is sent once; every ingest does this too.
    Exit status 0, or 1 when a configured channel failed (its alerts are retried next time) or is
    half-configured; 2 when a SOUNDLAKE_ALERT_* threshold is not valid.
    """
    from assets.analytics.alerts import AlertConfig, dispatch

    try:
        config = AlertConfig.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    result = dispatch(_platform(), config, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, default=str))
    else:
        for line in _alert_lines(result, config.max_age_days):
            click.echo(line)
    sys.exit(0 if result.ok else 1)


def _alert_lines(result, max_age_days: int) -> list[str]:
    lines = [f"channels: {', '.join(result.channels)}" if result.channels else
             "channels: none configured (set SOUNDLAKE_ALERT_WEBHOOK_URL and/or SOUNDLAKE_SMTP_HOST with "
             "SOUNDLAKE_ALERT_EMAIL_TO); nothing is sent"]
    for a in result.alerts:
        lines.append(f"{a['status']:<11} {a['severity']:<9} {a['kind']:<16} {a['subject']}")
    if not result.alerts:
        lines.append("nothing new to send" + (f" ({result.already_sent} sent before)" if result.already_sent else ""))
    if result.skipped:
        day = result.newest_day.isoformat() if result.newest_day else "?"
        lines.append(f"skipped as older than {max_age_days} days before the newest data day ({day}): "
                     + ", ".join(f"{n} {kind}" for kind, n in result.skipped.items()))
    if result.gave_up:
        lines.append(f"gave up on {result.gave_up} alert(s) no channel accepted within the retry window")
    lines += [f"failed: {error}" for error in result.failures.values()]
    lines += [f"not configured: {problem}" for problem in result.problems]
    return lines


KPI_ROWS_SHOWN = 10  # breakdown rows shown per KPI without --all


def _kpi_block(kpi_id: str, rows: list[dict], limit: int | None) -> list[str]:
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
    try:
        rows = app.kpis(_platform(), artist)
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


@main.command()
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port, host):
    """The Dagster UI with the daemon (schedules, sensors), on this machine's instance."""
    settings = app.Settings.from_env()
    dagster_home = settings.dagster_home
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "SOUNDLAKE_HOME": str(settings.home)}
    exe = Path(sys.executable).with_name("dagster")
    cmd = [str(exe) if exe.exists() else "dagster", "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
           "-h", host, "-p", str(port)]
    err.print(f"Dagster UI on http://{host}:{port} (instance in {dagster_home}); Ctrl-C stops it")
    sys.exit(subprocess.call(cmd, env=env, cwd=REPO_ROOT))


if __name__ == "__main__":  # pragma: no cover
    main()
