"""Speed and memory of the working tree against a baseline git revision, run side by side.

``python -m benchmarks`` (``make bench``) checks the baseline out into a temporary git worktree,
then runs every workload alternately on the baseline and on the working tree, each in a fresh
Python process of the same interpreter with ``PYTHONPATH`` (and the working directory) at the code
under test and ``SOUNDLAKE_HOME`` in a temporary folder. It reports ratios current/baseline,
never absolute thresholds: the numbers of one machine say little, the ratio on the same machine
in the same minutes says whether a change made things faster or slower.

Workloads:

* ``ingest_bank_details``: a synthetic DistroKid bank-details TSV of ``--rows`` lines through
  ``pipelines.app.ingest(<the lake>, [path])`` (landing → raw → staging → curated →
  warehouse views);
* ``rebuild_curated``: ``platform.lake.build_curated()`` again on that lake (nothing changed);
* ``query_royalties_by_store``: ``SELECT store, sum(earnings_usd) FROM fct_royalties GROUP BY
  store`` ``--queries`` times on one warehouse connection; p50 and p95 in ms;
* ``kpi_queries``: on a synthetic curated lake of ``--kpi-rows`` fact rows (default 10 M, written
  once with pyarrow by :func:`write_kpi_lake`), the warehouse refresh (views, KPI inputs, the
  ``kpis`` table), each KPI input rebuilt once, then every KPI's SQL (``sql/kpis/*.sql``)
  ``--queries`` times; p50 and p95 per KPI, compared on the worst p95;
* ``analytics_label``: a label's catalogue: ``--label-series`` (1,000) synthetic daily series of
  two years each (:func:`label_series`: trend, weekly seasonality, noise, a few breakouts and
  spikes; the same for both sides) through what ``soundlake analytics`` runs on them: viral
  moments, anomalies, forecast backtests (``assets.analytics.run.backtests`` with the models a run
  of over 200 series gets, whatever ``--label-series`` is) and the published forecasts. Reports the wall time of each step, seconds per series
  and per series per model; run once per side (it takes minutes), ``n/a`` on a baseline without
  the label-scale forecasts;
* ``cli_help``, ``cli_ingest_small_file``, ``cli_ingest_fixtures``: what a person waits for at the
  terminal, the whole process ``python -m pipelines.cli --help``, ``... ingest <a 100-line
  bank-details TSV>`` and ``... ingest ../shared/fixtures/bedrot`` into an empty
  ``SOUNDLAKE_HOME``, interpreter start and imports included; compared on wall time, and the CLI
  must exit 0 (``n/a`` when the fixtures folder is absent).

Times of the first four are measured in the worker around the workload's call only (not the
interpreter start or the imports); peak RSS is the worker process's ``ru_maxrss`` as the parent
gets it from ``os.wait4``, so it includes the imports. ``--workloads`` runs a subset.

This file is also the worker: the harness runs it as a script (``python benchmarks/__init__.py
--worker ...``), so the worker imports only the code under test and the standard library at
start-up. Keep the module's top-level imports to the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve()
RESULTS = ROOT / ".bench" / "last.json"

CLI_WORKLOADS = ("cli_help", "cli_ingest_small_file", "cli_ingest_fixtures")
WORKLOADS = ("ingest_bank_details", "rebuild_curated", "query_royalties_by_store", "kpi_queries", "analytics_label",
             *CLI_WORKLOADS)
ONCE = {"analytics_label"}  # minutes per run: measured in the first repeat only
GROUPS = {"cli": CLI_WORKLOADS}  # names --workloads accepts for several workloads
# workloads on the lake ingest_bank_details builds (selecting one runs the ingest first)
NEEDS_INGEST = ("rebuild_curated", "query_royalties_by_store")
# workloads on a lake of their own (not the one ingest_bank_details builds)
OWN_LAKE = {"kpi_queries"}
CLI_SMALL_ROWS = 100  # lines of the bank-details TSV of cli_ingest_small_file
FIXTURES = ROOT.parent / "shared" / "fixtures" / "bedrot"  # the real exports beside the repository
QUERY = "SELECT store, sum(earnings_usd) FROM fct_royalties GROUP BY store"

BANK_HEADER = (
    "Reporting Date", "Sale Month", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity", "Team Percentage",
    "Song/Album", "Country of Sale", "Songwriter Royalties Withheld", "Earnings (USD)",
)

NA = "n/a"  # the baseline cannot run the workload (something it needs is missing, or it failed)
ERROR = "error"  # the working tree failed the workload


# --- the synthetic input --------------------------------------------------------------------------

_STORES = (
    ("Spotify", 0.0036, 60), ("Apple Music", 0.0068, 10), ("YouTube (Red)", 0.0069, 5), ("YouTube (Ads)", 0.0015, 6),
    ("YouTube Music", 0.0020, 3), ("Amazon Unlimited (Streaming)", 0.0081, 3), ("Amazon Prime (Streaming)", 0.0040, 2),
    ("Deezer", 0.0028, 2), ("Tidal", 0.0098, 1), ("TikTok", 0.0011, 4), ("Facebook", 0.0001, 1),
    ("Instagram", 0.0001, 1), ("iTunes Songs", 0.70, 1), ("Pandora", 0.0013, 1), ("SoundCloud", 0.0025, 1),
)
_COUNTRIES = ("US", "US", "US", "GB", "DE", "CA", "MX", "BR", "FR", "AU", "SE", "NL", "JP", "IN", "ES", "IT", "OU")


def write_bank_details(path: Path, rows: int, seed: int = 20240901) -> Path:
    """A DistroKid bank-details export of ``rows`` lines: tab separated, CR-only line endings, the
    13-column header. The same ``rows`` and ``seed`` always give the same bytes."""
    rng = random.Random(seed)
    artists = [f"Artist {i:03d}" for i in range(40)]
    tracks = [(rng.choice(artists), f"Track {i:05d}", f"QZBEN{24 + i % 2}{i:05d}", f"19800{i // 8:07d}")
              for i in range(max(1, min(4000, rows // 20 or 1)))]
    stores = [s for s in _STORES for _ in range(s[2])]
    months = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(24)]
    lines = ["\t".join(BANK_HEADER)]
    for _ in range(rows):
        artist, title, isrc, upc = rng.choice(tracks)
        store, rate, _weight = rng.choice(stores)
        sale = rng.choice(months)
        reported = date(sale.year + (sale.month + 1) // 12, (sale.month + 1) % 12 + 1, rng.randint(1, 28))
        qty = max(1, int(rng.expovariate(1 / 40)))
        album = rng.random() < 0.03
        lines.append("\t".join((
            reported.isoformat(), sale.strftime("%Y-%m"), store, artist, title, "" if album else isrc, upc, str(qty),
            "100", "Album" if album else "Song", rng.choice(_COUNTRIES), "0", f"{qty * rate:.8f}",
        )))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r".join(lines).encode("utf-8"))
    return path


# --- a label's thousand series (analytics_label) -------------------------------------------------


def label_series(n: int, days: int = 730, seed: int = 20251202):
    """``n`` daily series of ``days`` days as the analytics' long frame (``series_id, artist,
    platform, metric, date, value``): a level between 20 and 5,000 streams a day, a trend of -30 %
    to +80 % over the period, weekends +0-40 %, 10-20 % noise; one series in ten breaks out (a step
    to 2-5x that stays), one in ten has a one-day 3-10x spike. Imports numpy and pandas when called
    (this module's top level stays standard library)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-06-01", periods=days, freq="D")
    weekend = np.asarray(dates.day_of_week >= 5)
    t = np.arange(days) / days
    frames = []
    for i in range(n):
        level = float(np.exp(rng.uniform(np.log(20), np.log(5000))))
        curve = level * (1 + rng.uniform(-0.3, 0.8) * t) * np.where(weekend, 1 + rng.uniform(0, 0.4), 1.0)
        if i % 10 == 3:
            curve[rng.integers(days // 4, days - 60):] *= rng.uniform(2, 5)
        if i % 10 == 7:
            curve[rng.integers(days // 4, days - 10)] *= rng.uniform(3, 10)
        values = np.maximum(0, np.round(curve * (1 + rng.normal(0, rng.uniform(0.1, 0.2), days))))
        frames.append(pd.DataFrame({"series_id": f"spotify/artist {i:04d}/streams", "artist": f"artist {i:04d}",
                                    "platform": "spotify", "metric": "streams", "date": dates.date, "value": values}))
    return pd.concat(frames, ignore_index=True)


def _label_work(n: int) -> dict:
    """The analytics ``soundlake analytics`` runs, on :func:`label_series` (data made untimed)."""
    (many,) = _need("assets.analytics.run", "MANY_SERIES")
    from assets.analytics import run
    from assets.analytics.anomalies import detect_anomalies
    from assets.analytics.forecast import FAST_MODELS
    from assets.analytics.viral import detect_moments

    series = label_series(n)
    inputs = (run._as_input(series), run._as_input(series.iloc[0:0]))
    laps = {}
    t0 = time.perf_counter()
    moments = detect_moments(series)
    laps["viral_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    anomalies = detect_anomalies(series)
    laps["anomalies_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = run.backtests(inputs, many_series=0)  # the label-scale choice of models, whatever n is
    laps["backtest_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    published = run.publish(inputs, scores)
    laps["publish_s"] = time.perf_counter() - t0
    models = int(scores.groupby("series_id")["model"].nunique().mean()) if len(scores) else 0
    forecast_s = laps["backtest_s"] + laps["publish_s"]
    return {"seconds": sum(laps.values()), **laps, "series": n, "models_per_series": models,
            "models": sorted(set(scores["model"])) if len(scores) else [], "fast_models": list(FAST_MODELS),
            "label_scale_above": many, "moments": len(moments), "anomalies": len(anomalies),
            "forecast_series": int(published["series_id"].nunique()) if len(published) else 0,
            "per_series_s": sum(laps.values()) / n,
            "forecast_per_series_per_model_s": forecast_s / n / models if models else None}


# --- the synthetic curated lake of the KPI workload -----------------------------------------------

KPI_LAKE_END = date(2025, 5, 31)
KPI_LAKE_DAYS = 1096  # three years


def write_kpi_lake(lake: Path, rows: int, seed: int = 20250531) -> dict[str, int]:
    """A curated zone of about ``rows`` fact rows in the lake's layout (``curated/<table>/
    month=YYYY-MM/data.parquet``, zstd, sorted by the natural key like the lake writes it),
    written directly with pyarrow (seconds, not an ingest). Returns rows per table.

    About 66 % is ``fct_streams_daily`` per track (two artist dashboards, every track every day
    for three years) with the dashboards' per-artist totals and distributor account totals that
    overlap them (DistroKid all days, TooLost the last year); 30 % is ``fct_royalties`` (monthly
    statements, sale months reported one to three months late); the rest audience, social, link,
    ad, video and territory facts. The same ``rows`` and ``seed`` give the same tables.
    Imports numpy, pyarrow and ``assets.model`` of the code it runs with (a worker process).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from assets.model import TABLES

    curated = lake / "curated"
    rng = np.random.default_rng(seed)
    start = KPI_LAKE_END - timedelta(days=KPI_LAKE_DAYS - 1)
    epoch0 = (start - date(1970, 1, 1)).days
    n_artists = int(min(40, max(2, rows // 250_000)))
    n_tracks = int(max(n_artists, rows * 0.65 // (KPI_LAKE_DAYS * 2)))
    artists = pa.array([f"Artist {i:03d}" for i in range(n_artists)])
    accounts = pa.array([f"artist.{i:03d}" for i in range(n_artists)])
    track_artist = rng.integers(0, n_artists, n_tracks)
    track_artist[:n_artists] = np.arange(n_artists)
    titles = pa.array([f"Track {i:05d}" for i in range(n_tracks)])
    isrcs = pa.array([f"QZBEN{22 + i % 4}{i:05d}" for i in range(n_tracks)])
    popularity = rng.lognormal(2.5, 1.2, n_tracks)
    observed = int((KPI_LAKE_END - date(1970, 1, 1)).days + 1) * 86_400_000_000
    counts: dict[str, int] = {}

    def const(value, n: int, type_=None) -> pa.Array:
        return pa.nulls(n, type_ or pa.string()) if value is None else pa.array([value], type_).take(np.zeros(n, dtype=np.int64))

    def days(offsets) -> pa.Array:
        return pa.array(np.asarray(offsets, dtype=np.int32) + epoch0, pa.int32()).cast(pa.date32())

    def write(name: str, cols: dict, key: list[str], partition: str | None) -> None:
        table_def = TABLES[name]
        n = len(next(iter(cols.values())))
        cols.setdefault("sha256", const("0" * 64, n))
        cols.setdefault("observed_at", pa.array(np.full(n, observed, dtype=np.int64)).cast(pa.timestamp("us", tz="UTC")))
        arrays = [(cols[f.name] if isinstance(cols.get(f.name), pa.Array) else
                   pa.nulls(n, f.type) if cols.get(f.name) is None else pa.array(cols[f.name])).cast(f.type)
                  for f in table_def.schema]
        table = pa.Table.from_arrays(arrays, schema=table_def.schema)
        table = table.sort_by([(k, "ascending", "at_start") for k in key])
        if partition:
            month = pc.strftime(table[partition].cast(pa.timestamp("s")), format="%Y-%m").to_pylist()
            assert len(set(month)) == 1, f"{name}: one month per write"
            path = curated / name / f"month={month[0]}" / "data.parquet"
        else:
            path = curated / name / "data.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        counts[name] = counts.get(name, 0) + n

    months: list[tuple[int, int]] = []  # (first day offset, days) of each calendar month in the span
    d = 0
    while d < KPI_LAKE_DAYS:
        day = start + timedelta(days=d)
        nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        length = min((nxt - day).days, KPI_LAKE_DAYS - d)
        months.append((d, length))
        d += length
    season = 1 + 0.3 * np.sin(np.arange(KPI_LAKE_DAYS) / 365 * 2 * np.pi) + np.arange(KPI_LAKE_DAYS) / KPI_LAKE_DAYS
    dashboards = (("spotify", "spotify_for_artists", 0.8), ("apple_music", "apple_music_for_artists", 0.2))
    for first, length in months:
        day_idx = np.arange(first, first + length)
        parts: list[dict] = []
        for platform, source, share in dashboards:
            dd = np.repeat(day_idx, n_tracks)
            tt = np.tile(np.arange(n_tracks), length)
            streams = rng.poisson(popularity[tt] * share * season[dd]).astype(np.int64)
            parts.append(dict(date=dd, platform=const(platform, len(dd)), source=const(source, len(dd)),
                              artist=artists.take(track_artist[tt]), track=titles.take(tt), isrc=isrcs.take(tt),
                              streams=streams, listeners=(streams * 7) // 10))
            per_artist = np.zeros((length, n_artists), dtype=np.int64)
            np.add.at(per_artist, (dd - first, track_artist[tt]), streams)
            da = np.repeat(day_idx, n_artists)
            aa = np.tile(np.arange(n_artists), length)
            totals = per_artist[da - first, aa]
            parts.append(dict(date=da, platform=const(platform, len(da)), source=const(source, len(da)),
                              artist=artists.take(aa), track=const(None, len(da)), isrc=const(None, len(da)),
                              streams=totals, listeners=(totals * 6) // 10))
            account = per_artist.sum(axis=1)
            for src, from_day in (("distrokid", 0), ("toolost", KPI_LAKE_DAYS - 365)):
                keep = day_idx >= from_day
                if keep.any():
                    parts.append(dict(date=day_idx[keep], platform=const(platform, int(keep.sum())),
                                      source=const(src, int(keep.sum())), artist=const(None, int(keep.sum())),
                                      track=const(None, int(keep.sum())), isrc=const(None, int(keep.sum())),
                                      streams=account[keep], listeners=pa.nulls(int(keep.sum()), pa.int64())))
        for platform in ("youtube", "amazon_music", "deezer"):
            parts.append(dict(date=day_idx, platform=const(platform, length), source=const("distrokid", length),
                              artist=const(None, length), track=const(None, length), isrc=const(None, length),
                              streams=rng.poisson(popularity.sum() * 0.05, length).astype(np.int64),
                              listeners=pa.nulls(length, pa.int64())))
        cols = {k: pa.concat_arrays([p[k] if isinstance(p[k], pa.Array) else pa.array(p[k]) for p in parts])
                for k in ("platform", "source", "artist", "track", "isrc", "streams", "listeners")}
        cols["date"] = days(np.concatenate([p["date"] for p in parts]))
        write("fct_streams_daily", cols, ["date", "platform", "source", "artist", "track"], "date")

        # the dashboards' audience and the artists' social accounts and link pages, per day
        da = np.repeat(day_idx, n_artists)
        aa = np.tile(np.arange(n_artists), length)
        n = len(da)
        write("fct_audience_daily", dict(
            date=days(np.concatenate([da, da])), platform=pa.concat_arrays([const("spotify", n), const("apple_music", n)]),
            source=pa.concat_arrays([const("spotify_for_artists", n), const("apple_music_for_artists", n)]),
            artist=pa.concat_arrays([artists.take(aa), artists.take(aa)]),
            followers=np.concatenate([1000 + aa * 50 + da * 3, 400 + aa * 20 + da]).astype(np.int64),
            listeners=rng.poisson(500, 2 * n).astype(np.int64)), ["date", "platform", "source", "artist"], "date")
        write("fct_social_daily", dict(
            date=days(np.concatenate([da, da])), platform=pa.concat_arrays([const("tiktok", n), const("instagram", n)]),
            source=pa.concat_arrays([const("tiktok", n), const("instagram", n)]),
            account=pa.concat_arrays([accounts.take(aa), accounts.take(aa)]),
            views=rng.poisson(2000, 2 * n).astype(np.int64), profile_views=rng.poisson(100, 2 * n).astype(np.int64),
            likes=rng.poisson(150, 2 * n).astype(np.int64), comments=rng.poisson(10, 2 * n).astype(np.int64),
            shares=rng.poisson(5, 2 * n).astype(np.int64), followers=np.concatenate([500 + da * 2, 300 + da]).astype(np.int64),
            followers_change=np.full(2 * n, 2, dtype=np.int64)), ["date", "platform", "source", "account"], "date")
        views = rng.poisson(60, n).astype(np.int64)
        write("fct_link_clicks_daily", dict(
            date=days(da), platform=const("linktree", n), source=const("linktree", n), account=accounts.take(aa),
            views=views, unique_views=(views * 4) // 5, clicks=(views * 2) // 5, unique_clicks=(views * 3) // 10),
            ["date", "platform", "source", "account"], "date")
        impressions = rng.poisson(3000, n).astype(np.int64)
        write("fct_ad_performance", dict(
            date_start=days(da), date_stop=days(da), platform=const("meta", n), source=const("meta_ads", n),
            campaign_id=pa.array([f"c{i // 2}" for i in range(n_artists)]).take(aa),
            adset_id=pa.array([f"a{i}" for i in range(n_artists)]).take(aa), currency=const("USD", n),
            spend=impressions * 0.004, spend_usd=impressions * 0.004, impressions=impressions,
            clicks=impressions // 100, reach=(impressions * 4) // 5),
            ["date_start", "date_stop", "platform", "source", "campaign_id", "adset_id"], "date_start")

    # royalty statements: one per month, sale months reported one to three months late
    stores = (("Spotify", "spotify", 0.0036, 60), ("Apple Music", "apple_music", 0.0068, 10),
              ("YouTube (Red)", "youtube", 0.0069, 5), ("YouTube (Ads)", "youtube", 0.0015, 6),
              ("Amazon Unlimited (Streaming)", "amazon_music", 0.0081, 3), ("Deezer", "deezer", 0.0028, 2),
              ("Tidal", "tidal", 0.0098, 1), ("TikTok", "tiktok", 0.0011, 4), ("Facebook", "meta", 0.0001, 1),
              ("iTunes Songs", "itunes", 0.70, 1), ("Pandora", "pandora", 0.0013, 1), ("SoundCloud", "soundcloud", 0.0025, 1))
    weights = np.array([s[3] for s in stores], dtype=float)
    store_names, store_platforms = pa.array([s[0] for s in stores]), pa.array([s[1] for s in stores])
    rates = np.array([s[2] for s in stores])
    countries = pa.array(["US", "GB", "DE", "CA", "MX", "BR", "FR", "AU", "SE", "NL", "JP", "IN", "ES", "IT", "OU"])
    upcs = pa.array([f"19800{i // 8:07d}" for i in range(n_tracks)])
    month_starts = [start.replace(day=1)]
    while len(month_starts) < len(months) + 1:
        m = month_starts[-1]
        month_starts.append(date(m.year + m.month // 12, m.month % 12 + 1, 1))
    per_statement = max(1, int(rows * 0.30) // (len(months) - 1))
    for i in range(1, len(months)):
        n = per_statement
        reported = month_starts[i].replace(day=15)
        delay = np.minimum(rng.choice([1, 2, 2, 2, 3], n), i)
        sale = np.array([(month_starts[i - k] - date(1970, 1, 1)).days for k in range(4)], dtype=np.int32)[delay]
        s = rng.choice(len(stores), n, p=weights / weights.sum())
        t = rng.choice(n_tracks, n, p=popularity / popularity.sum())
        qty = np.maximum(1, rng.exponential(40, n)).astype(np.int64)
        write("fct_royalties", dict(
            reporting_date=days(np.full(n, (reported - start).days)), sale_month=pa.array(sale, pa.int32()).cast(pa.date32()),
            store=store_names.take(s), platform=store_platforms.take(s), artist=artists.take(track_artist[t]),
            title=titles.take(t), isrc=isrcs.take(t), upc=upcs.take(t), country=countries.take(rng.integers(0, len(countries), n)),
            quantity=qty, earnings_usd=qty * rates[s], team_percentage=np.full(n, 100.0), item_type=const("Song", n),
            line_seq=np.ones(n, dtype=np.int64), source=const("distrokid", n)),
            ["reporting_date", "sale_month", "store", "artist", "title", "isrc", "upc", "country"], "reporting_date")

    # snapshots (monthly exports, one month each) and windowed totals: small
    snaps = np.array([(m - start).days for m in month_starts[1:]], dtype=np.int32)
    per = n_artists * 50
    vid = np.arange(per)
    for sv in range(len(snaps)):
        write("fct_social_posts", dict(
            date=days(np.full(per, snaps[sv])), period=const("lifetime", per), platform=const("tiktok", per),
            source=const("tiktok", per), post_type=const("video", per), account=accounts.take(vid // 50),
            post_id=pa.array([f"v{i}" for i in range(per)]), views=(sv * 100 + vid).astype(np.int64),
            likes=np.full(per, sv * 10, dtype=np.int64), comments=np.full(per, sv * 2, dtype=np.int64),
            shares=np.full(per, sv, dtype=np.int64)), ["date", "period", "platform", "source", "account", "post_id"], "date")
    ts, ta = np.repeat(np.arange(len(snaps)), n_artists * 10), np.tile(np.repeat(np.arange(n_artists), 10), len(snaps))
    write("fct_social_territories", dict(
        snapshot_date=days(snaps[ts]), platform=const("tiktok", len(ts)), source=const("tiktok", len(ts)),
        account=accounts.take(ta), territory=countries.take(np.tile(np.arange(10), len(snaps) * n_artists)),
        share=np.full(len(ts), 0.1)), ["snapshot_date", "platform", "source", "account", "territory"], None)
    tt, yr = np.tile(np.arange(n_tracks), 3), np.repeat(np.arange(3), n_tracks)
    ends = np.array([KPI_LAKE_DAYS - 1 - 365 * k for k in range(3)], dtype=np.int32)
    write("fct_streams_totals", dict(
        period_start=days(ends[yr] - 364), period_end=days(ends[yr]), period=const("1year", len(tt)),
        platform=const("spotify", len(tt)), artist=artists.take(track_artist[tt]), dimension=const("track", len(tt)),
        item=titles.take(tt), isrc=isrcs.take(tt), streams=(popularity[tt] * 300).astype(np.int64),
        source=const("spotify_for_artists", len(tt))),
        ["period", "period_end", "platform", "source", "artist", "dimension", "item", "isrc"], None)
    n_camp = (n_artists + 1) // 2
    write("dim_ad_campaign", dict(
        platform=const("meta", n_camp), campaign_id=pa.array([f"c{i}" for i in range(n_camp)]),
        campaign_name=pa.array([f"Campaign {i}" for i in range(n_camp)]), source=const("meta_ads", n_camp)),
        ["platform", "campaign_id"], None)
    return counts


# --- the worker (runs in the child, imports the code under test) ----------------------------------


class Unavailable(Exception):
    """The code under test lacks something the workload needs."""


_CODE_ROOT: Path | None = None  # the code under test (set by the worker)


def _need(module: str, *names: str):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"cannot import {module} ({exc})") from None
    where = getattr(mod, "__file__", None)
    if _CODE_ROOT is not None and where and not Path(where).resolve().is_relative_to(_CODE_ROOT):
        # an editable install's import hook can serve a module the code under test does not have
        raise Unavailable(f"the code under test has no {module} (it came from {where})")
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        raise Unavailable(f"{module} has no {', '.join(missing)}")
    return [getattr(mod, n) for n in names]


def _check_code_root(code_root: Path) -> None:
    """The code under test really is the one at ``code_root`` (not the editable install's). Asks the
    import system where each package would come from without running it, so a CLI run imports
    nothing more than the CLI itself does."""
    import importlib.util

    for name in ("assets", "pipelines", "resources"):
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        where = Path(spec.origin or next(iter(spec.submodule_search_locations or [""]))).resolve()
        if not where.is_relative_to(code_root):
            raise Unavailable(f"the code under test has no {name} package (it came from {where})")


EXIT_UNAVAILABLE = 97  # the CLI wrapper's exit status when the code under test is not there (reason in --result)


def cli_main(code_root: Path, result: Path, args: list[str]) -> int:
    """``python -m pipelines.cli ARGS`` run with the code at ``code_root``, once it is sure that code is
    what imports. The process's exit status is the CLI's."""
    import runpy

    code_root = code_root.resolve()
    sys.path[0] = str(code_root)  # as with `python -m` in code_root: the working directory first
    try:
        if not (code_root / "pipelines" / "cli.py").is_file():
            raise Unavailable("the code under test has no pipelines/cli.py")
        _check_code_root(code_root)
    except Unavailable as exc:
        result.write_text(json.dumps({"status": NA, "reason": str(exc)}))
        return EXIT_UNAVAILABLE
    sys.argv = [str(code_root / "pipelines" / "cli.py"), *args]
    runpy.run_module("pipelines.cli", run_name="__main__", alter_sys=True)
    return 0


def _platform():
    """The side's lake and warehouse: ``assets.lakehouse.Lakehouse`` (since the one-pipeline
    change), else the older ``pipelines.app.Platform``."""
    try:
        (Lakehouse,) = _need("assets.lakehouse", "Lakehouse")
        return Lakehouse.from_env()
    except Unavailable:
        (Platform,) = _need("pipelines.app", "Platform")
        if not hasattr(Platform, "from_env"):
            raise Unavailable("pipelines.app.Platform has no from_env") from None
        return Platform.from_env()


def _refresh(platform) -> None:
    """Views, then the KPI inputs and the kpis table (one step before the KPIs were an asset)."""
    if hasattr(platform, "refresh_warehouse"):
        platform.refresh_warehouse()
        (build_kpis,) = _need("assets.kpis", "build_kpis")
        try:
            (kpis_parquet,) = _need("assets.kpis", "kpis_parquet")
        except Unavailable:  # before the KPIs were curated/kpis/data.parquet: a table of the warehouse
            kpis_parquet = None
        con = platform.warehouse.connect(read_only=kpis_parquet is not None)
        try:
            if kpis_parquet is None:
                build_kpis(con)
            else:  # as the analytics/kpis asset does
                platform.storage.put("curated", "kpis/data.parquet", kpis_parquet(build_kpis(con, store=False)))
        finally:
            con.close()
    else:
        platform.warehouse.refresh()


def _kpi_work(platform, queries: int) -> dict:
    """The KPI workload on the lake at ``$SOUNDLAKE_HOME/lake`` (a link to the synthetic lake)."""
    discover, discover_inputs, build_inputs = _need("assets.kpis", "discover", "discover_inputs", "build_inputs")
    t0 = time.perf_counter()
    _refresh(platform)
    refresh_s = time.perf_counter() - t0
    con = platform.warehouse.connect()
    try:
        inputs_ms = {}
        for d in discover_inputs():
            t0 = time.perf_counter()
            failed = build_inputs(con, [d], strict=True)
            inputs_ms[d.name] = (time.perf_counter() - t0) * 1000
            if failed:
                raise RuntimeError(f"KPI input {d.name}: {failed}")
        timings, laps_total = {}, 0.0
        for kpi in discover():
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if not set(kpi.tables) <= present:  # a table no source fills yet (e-mail): nothing to time
                continue
            laps = []
            for _ in range(queries):
                t0 = time.perf_counter()
                con.execute(kpi.sql).fetchall()
                laps.append((time.perf_counter() - t0) * 1000)
            laps_total += sum(laps)
            timings[kpi.id] = {"p50_ms": _percentile(laps, 50), "p95_ms": _percentile(laps, 95)}
        rows = con.execute("SELECT count(*) FROM main.kpis").fetchone()[0]
        facts = con.execute("SELECT (SELECT count(*) FROM fct_streams_daily) + (SELECT count(*) FROM fct_royalties)"
                            ).fetchone()[0]
    finally:
        con.close()
    if not timings:
        raise RuntimeError("no KPI could be timed")
    worst = max(timings, key=lambda k: timings[k]["p95_ms"])
    return {"seconds": laps_total / 1000, "p95_ms": timings[worst]["p95_ms"], "worst_kpi": worst, "kpis": timings,
            "refresh_s": refresh_s, "inputs_ms": inputs_ms, "kpi_rows": rows, "fact_rows": facts}


def _work(workload: str, data: Path | None, queries: int, series: int = 1000) -> dict:
    if workload == "analytics_label":
        return _label_work(series)
    (ingest,) = _need("pipelines.app", "ingest")
    platform = _platform()
    if workload == "kpi_queries":
        return _kpi_work(platform, queries)
    if workload == "ingest_bank_details":
        t0 = time.perf_counter()
        results = ingest(platform, [data])
        seconds = time.perf_counter() - t0
        results = getattr(results, "results", results)  # since the one-pipeline change: the run's outcome
        states = [(getattr(r, "status", None), getattr(r, "rows", None), getattr(r, "reason", None)) for r in results]
        if not any(s == "loaded" for s, _, _ in states):
            raise RuntimeError(f"the bank-details file was not loaded: {states}")
        return {"seconds": seconds, "rows": sum(int(n or 0) for s, n, _ in states if s == "loaded")}
    if workload == "rebuild_curated":
        if not hasattr(platform.lake, "build_curated"):
            raise Unavailable("the lake has no build_curated")
        t0 = time.perf_counter()
        results = platform.lake.build_curated()
        seconds = time.perf_counter() - t0
        written = sum(int(getattr(r, "partitions_written", 0) or 0) for r in (results or {}).values())
        return {"seconds": seconds, "partitions_written": written}
    if workload == "query_royalties_by_store":
        warehouse = getattr(platform, "warehouse", None)
        if warehouse is None or not hasattr(warehouse, "connect"):
            raise Unavailable("the platform has no warehouse.connect")
        con = warehouse.connect(read_only=True)
        try:
            laps, result = [], []
            for _ in range(queries):
                t0 = time.perf_counter()
                result = con.execute(QUERY).fetchall()
                laps.append((time.perf_counter() - t0) * 1000)
        finally:
            con.close()
        if not result:
            raise RuntimeError("the query returned no rows (fct_royalties is empty)")
        return {"seconds": sum(laps) / 1000, "p50_ms": _percentile(laps, 50), "p95_ms": _percentile(laps, 95),
                "groups": len(result)}
    raise ValueError(f"unknown workload {workload!r}")


def worker_main(argv: list[str]) -> int:
    if argv[:1] == ["--kpi-lake"]:  # python benchmarks/__init__.py --kpi-lake DIR ROWS: write the lake
        counts = write_kpi_lake(Path(argv[1]), int(argv[2]))
        print(json.dumps(counts))
        return 0
    if argv[:1] == ["--cli"]:  # python benchmarks/__init__.py --cli CODE_ROOT RESULT ARGS...: the CLI
        return cli_main(Path(argv[1]), Path(argv[2]), argv[3:])
    p = argparse.ArgumentParser()
    p.add_argument("--worker", required=True, choices=WORKLOADS)
    p.add_argument("--code-root", required=True, type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--series", type=int, default=1000)
    p.add_argument("--result", required=True, type=Path)
    args = p.parse_args(argv)
    global _CODE_ROOT
    _CODE_ROOT = args.code_root.resolve()
    try:
        _check_code_root(args.code_root.resolve())
        out = {"status": "ok", **_work(args.worker, args.data, args.queries, args.series)}
    except Unavailable as exc:
        out = {"status": NA, "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
        out = {"status": ERROR, "reason": f"{type(exc).__name__}: {exc}"}
    args.result.write_text(json.dumps(out))
    return 0


# --- the parent ---------------------------------------------------------------------------------


def _percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=check)


def default_baseline() -> str:
    return "HEAD~1" if _git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}", check=False).returncode == 0 else "HEAD"


def resolve(rev: str) -> str:
    proc = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmarks: {rev!r} is not a commit of this repository")
    return proc.stdout.strip()


class Side:
    def __init__(self, label: str, code_root: Path, describe: str):
        self.label, self.code_root, self.describe = label, code_root, describe


def compile_code(code_root: Path) -> None:
    """Byte-compile the packages at ``code_root``, as a first run of the CLI does: no side pays for
    compiling its code in a timed run, whatever ``__pycache__`` the working tree happens to have
    (``__pycache__`` is gitignored)."""
    import compileall

    for init in sorted(code_root.glob("*/__init__.py")):
        compileall.compile_dir(init.parent, quiet=1)


def _spawn(side: Side, cmd: list[str], home: Path, log: Path) -> tuple[int, float, float, float]:
    """``cmd`` in a fresh process with the side's code first on the path and ``home`` as
    ``SOUNDLAKE_HOME`` (local backend, no Dagster instance of the user's, GX analytics off);
    its exit status, wall seconds, peak RSS in MiB and CPU seconds (user + system; ``os.wait4``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDLAKE_") and k != "DAGSTER_HOME"}
    env.update(SOUNDLAKE_HOME=str(home), PYTHONPATH=str(side.code_root), GX_ANALYTICS_ENABLED="false",
               PYTHONHASHSEED="0")
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=side.code_root, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mib = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    return proc.returncode, wall, peak_mib, usage.ru_utime + usage.ru_stime


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:]


def run_worker(side: Side, workload: str, home: Path, data: Path, queries: int, scratch: Path,
               series: int = 1000) -> dict:
    """One workload in a fresh process; its result plus the parent's wall time and peak RSS."""
    result = scratch / f"{side.label}-{workload}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, str(WORKER), "--worker", workload, "--code-root", str(side.code_root),
           "--data", str(data), "--queries", str(queries), "--series", str(series), "--result", str(result)]
    if workload in OWN_LAKE:  # the workload reads the synthetic lake passed as ``data``
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "lake").exists():
            (home / "lake").symlink_to(data.resolve(), target_is_directory=True)
    log = scratch / f"{side.label}-{workload}.log"
    code, wall, peak_mib, _cpu = _spawn(side, cmd, home, log)
    if code != 0 or not result.exists():
        return {"status": ERROR, "reason": f"the worker exited with status {code}: {_tail(log)}",
                "wall_s": wall, "peak_rss_mib": peak_mib}
    out = json.loads(result.read_text())
    out.update(wall_s=wall, peak_rss_mib=peak_mib)
    return out


def run_cli(side: Side, workload: str, home: Path, args: list[str], scratch: Path) -> dict:
    """``python -m pipelines.cli ARGS`` of the side's code in a fresh process, timed from the outside:
    the wall seconds a person waits (interpreter start and imports included), peak RSS, exit status,
    and CPU seconds (wall time well above them means the CLI waits: on subprocesses, I/O, a lock).
    Anything but exit status 0 is a failure."""
    result = scratch / f"{side.label}-{workload}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, str(WORKER), "--cli", str(side.code_root), str(result), *args]
    log = scratch / f"{side.label}-{workload}.log"
    code, wall, peak_mib, cpu = _spawn(side, cmd, home, log)
    if code == EXIT_UNAVAILABLE and result.exists():
        return {**json.loads(result.read_text()), "exit_code": code}
    out = {"status": "ok" if code == 0 else ERROR, "seconds": wall, "wall_s": wall, "cpu_s": cpu,
           "peak_rss_mib": peak_mib, "exit_code": code}
    if code != 0:
        out["reason"] = f"`soundlake {' '.join(args)}` exited with status {code}: {_tail(log)}"
    return out


def _metric(workload: str, run: dict) -> float:
    """The time a workload is compared on: ms around the call; for the query, its p50; for the
    KPIs, the worst p95 of any KPI; for the CLI, the wall time of the process."""
    if workload in CLI_WORKLOADS:
        return run["wall_s"] * 1000
    if workload == "kpi_queries":
        return run["p95_ms"]
    return run["p50_ms"] if workload == "query_royalties_by_store" else run["seconds"] * 1000


def summarise(runs: dict[str, dict[str, list[dict]]]) -> dict[str, dict]:
    """Medians and ratios of the workloads that ran. A failure of the baseline is ``n/a``, of the
    working tree an error, unless the input itself is missing (no fixtures folder): ``n/a`` too."""
    out = {}
    for workload in (w for w in WORKLOADS if w in runs["current"]):
        entry: dict = {}
        for label in ("baseline", "current"):
            mine = runs[label][workload]
            ok = [r for r in mine if r.get("status") == "ok"]
            if not mine or len(ok) < len(mine):
                bad = next((r for r in mine if r.get("status") != "ok"), {"reason": "not run"})
                entry[label] = {"status": NA if label == "baseline" or bad.get("input_missing") else ERROR,
                                "reason": bad.get("reason")}
                if workload in CLI_WORKLOADS:
                    entry[label]["exit_codes"] = [r.get("exit_code") for r in mine]
                continue
            entry[label] = {
                "status": "ok",
                "runs": len(ok),
                "time_ms": statistics.median(_metric(workload, r) for r in ok),
                "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in ok),
                "wall_s": statistics.median(r["wall_s"] for r in ok),
                "samples": ok,
            }
            if workload == "query_royalties_by_store":
                entry[label]["p95_ms"] = statistics.median(r["p95_ms"] for r in ok)
            if workload == "analytics_label":
                entry[label].update({k: ok[0].get(k) for k in (
                    "series", "viral_s", "anomalies_s", "backtest_s", "publish_s", "per_series_s",
                    "models_per_series", "models", "forecast_per_series_per_model_s")})
            if workload in CLI_WORKLOADS:
                entry[label]["exit_codes"] = [r.get("exit_code") for r in ok]
                entry[label]["cpu_s"] = statistics.median(r["cpu_s"] for r in ok)
            if workload == "kpi_queries":
                ids = sorted(set.intersection(*(set(r.get("kpis", {})) for r in ok)))
                entry[label]["kpis"] = {k: {m: statistics.median(r["kpis"][k][m] for r in ok) for m in ("p50_ms", "p95_ms")}
                                        for k in ids}
                entry[label]["refresh_s"] = statistics.median(r.get("refresh_s", 0.0) for r in ok)
                entry[label]["inputs_ms"] = {k: statistics.median(r["inputs_ms"][k] for r in ok) for k in
                                             sorted(set.intersection(*(set(r.get("inputs_ms", {})) for r in ok)))}
        b, c = entry["baseline"], entry["current"]
        both = b["status"] == "ok" and c["status"] == "ok"
        ratio = {
            "time": c["time_ms"] / b["time_ms"] if both and b["time_ms"] > 0 else None,
            "peak_rss": c["peak_rss_mib"] / b["peak_rss_mib"] if both and b["peak_rss_mib"] > 0 else None,
        }
        if workload == "query_royalties_by_store":
            ratio["p95"] = c["p95_ms"] / b["p95_ms"] if both and b["p95_ms"] > 0 else None
        if workload in CLI_WORKLOADS:
            ratio["cpu"] = c["cpu_s"] / b["cpu_s"] if both and b["cpu_s"] > 0 else None
        if workload == "kpi_queries":
            ratio["kpis_p95"] = {k: (c["kpis"][k]["p95_ms"] / b["kpis"][k]["p95_ms"]
                                     if both and k in b["kpis"] and b["kpis"][k]["p95_ms"] > 0 else None)
                                 for k in (c.get("kpis") or {})}
        entry["ratio"] = ratio
        out[workload] = entry
    return out


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return NA
    return f"{value:,.2f}{unit}" if unit == " s" else f"{value:,.1f}{unit}" if unit else f"{value:.2f}x"


def render_table(report: dict) -> str:
    header = ("workload", "baseline time", "current time", "time ratio", "baseline RSS", "current RSS", "RSS ratio")
    rows = []
    for workload, e in report["workloads"].items():
        b, c, r = e["baseline"], e["current"], e["ratio"]
        bt = b.get("time_ms") if b["status"] == "ok" else None
        ct = c.get("time_ms") if c["status"] == "ok" else None
        cli = workload in CLI_WORKLOADS
        unit, scale = (" s", 1000) if cli else (" ms", 1)
        name = workload + {"query_royalties_by_store": " (p50)", "kpi_queries": " (worst p95)"}.get(
            workload, " (wall)" if cli else "")
        rows.append((name, _fmt(bt / scale, unit) if bt is not None else b["status"],
                     _fmt(ct / scale, unit) if ct is not None else c["status"], _fmt(r["time"]),
                     _fmt(b.get("peak_rss_mib"), " MiB") if bt is not None else b["status"],
                     _fmt(c.get("peak_rss_mib"), " MiB") if ct is not None else c["status"], _fmt(r["peak_rss"])))
        if cli:
            rows.append(("  CPU user+sys", _fmt(b.get("cpu_s"), " s") if bt is not None else "",
                         _fmt(c.get("cpu_s"), " s") if ct is not None else "", _fmt(r.get("cpu")), "", "", ""))
            codes = [", ".join(str(x) for x in sorted({x for x in side.get("exit_codes") or [] if x is not None})) or "-"
                     for side in (b, c)]
            rows.append(("  exit status", *codes, "", "", "", ""))
        if workload == "query_royalties_by_store":
            rows.append(("  (p95)", _fmt(b.get("p95_ms"), " ms") if bt is not None else b["status"],
                         _fmt(c.get("p95_ms"), " ms") if ct is not None else c["status"], _fmt(r.get("p95")),
                         "", "", ""))
        if workload == "analytics_label" and ct is not None and c.get("series"):
            rows.append((f"  {c['series']:,} series: viral / anomalies / backtests / forecasts", "",
                         f"{c['viral_s']:,.1f} / {c['anomalies_s']:,.1f} / {c['backtest_s']:,.1f} / {c['publish_s']:,.1f} s",
                         "", "", "", ""))
            per_model = c.get("forecast_per_series_per_model_s")
            rows.append((f"  per series (all) / forecasts per series per model ({', '.join(c['models'])})", "",
                         f"{c['per_series_s'] * 1000:,.0f} / {per_model * 1000:,.0f} ms" if per_model else "–",
                         "", "", "", ""))
        if workload == "kpi_queries":
            for k, cur in (c.get("kpis") or {}).items():
                base = (b.get("kpis") or {}).get(k)
                rows.append((f"  {k} p50 / p95",
                             f"{base['p50_ms']:,.1f} / {base['p95_ms']:,.1f} ms" if base else b["status"],
                             f"{cur['p50_ms']:,.1f} / {cur['p95_ms']:,.1f} ms", _fmt((r.get("kpis_p95") or {}).get(k)),
                             "", "", ""))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
             for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    meta = report["meta"]
    head = [
        f"baseline: {meta['baseline']['rev']} ({meta['baseline']['commit'][:12]})",
        f"current:  {meta['current']['describe']}",
        (f"{meta['rows']:,} rows, " if "ingest_bank_details" in meta.get("workloads", WORKLOADS) else "") +
        (f"{meta['repeat']} interleaved repeat(s), medians; "
         "ratio = current / baseline (below 1.00x: the working tree is faster / smaller)"),
        "",
    ]
    notes = []
    for workload, e in report["workloads"].items():
        for label in ("baseline", "current"):
            if e[label]["status"] != "ok":
                notes.append(f"{workload}: {label} {e[label]['status']}: {e[label].get('reason')}")
    return "\n".join(head + lines + ([""] + notes if notes else [])) + "\n"


def select(spec: str | None) -> tuple[str, ...]:
    """The workloads ``--workloads`` names (comma separated; ``cli`` = the three CLI workloads), in
    the harness's order, with ``ingest_bank_details`` added when a workload needs its lake."""
    if not spec:
        return WORKLOADS
    names = {n.strip() for n in spec.split(",") if n.strip()}
    unknown = sorted(names - set(WORKLOADS) - set(GROUPS))
    if unknown or not names:
        raise ValueError(f"unknown workload(s) {', '.join(unknown) or repr(spec)}; "
                         f"known: {', '.join(WORKLOADS)}, or {', '.join(GROUPS)}")
    chosen = {w for n in names for w in GROUPS.get(n, (n,))}
    if chosen & set(NEEDS_INGEST):
        chosen.add("ingest_bank_details")
    return tuple(w for w in WORKLOADS if w in chosen)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--baseline", metavar="REV", help="git revision to compare with (default: HEAD~1, else HEAD)")
    p.add_argument("--rows", type=int, default=200_000, help="lines of the synthetic bank-details TSV (200000)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side, interleaved (3)")
    p.add_argument("--queries", type=int, default=50, help="repeats of the query workloads, per KPI too (50)")
    p.add_argument("--kpi-rows", type=int, default=10_000_000,
                   help="fact rows of the synthetic lake of the KPI workload (10000000)")
    p.add_argument("--workloads", metavar="A,B", help=f"only these workloads (default: all): {', '.join(WORKLOADS)}; "
                   "'cli' = the cli_* ones")
    p.add_argument("--fixtures", type=Path, default=FIXTURES,
                   help="folder of real exports for cli_ingest_fixtures (../shared/fixtures/bedrot beside the "
                        "repository); absent: that workload is n/a")
    p.add_argument("--label-series", type=int, default=1000,
                   help="daily series of two years in the analytics_label workload (1000)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON report (.bench/last.json)")
    args = p.parse_args(argv)
    if args.rows < 1 or args.repeat < 1 or args.queries < 1 or args.kpi_rows < 1 or args.label_series < 1:
        p.error("--rows, --kpi-rows, --repeat, --queries and --label-series must be at least 1")
    try:
        workloads = select(args.workloads)
    except ValueError as exc:
        p.error(str(exc))
    fixtures = args.fixtures.resolve()

    rev = args.baseline or default_baseline()
    commit = resolve(rev)
    head = resolve("HEAD")
    dirty = bool(_git("status", "--porcelain", check=False).stdout.strip())
    current = Side("current", ROOT, f"working tree at {head[:12]}{' + uncommitted changes' if dirty else ''}")

    scratch = Path(tempfile.mkdtemp(prefix="soundlake-bench-"))
    tree = scratch / "baseline"
    try:
        _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        baseline = Side("baseline", tree, f"{rev} ({commit[:12]})")
        data = scratch / "input" / "dk_bank_details_20250115_060000.tsv"
        if "ingest_bank_details" in workloads:
            write_bank_details(data, args.rows)
        kpi_lake = scratch / "input" / "kpi-lake"
        if "kpi_queries" in workloads:
            print(f"writing the KPI workload's lake ({args.kpi_rows:,} fact rows)", file=sys.stderr, flush=True)
            made = subprocess.run([sys.executable, str(WORKER), "--kpi-lake", str(kpi_lake), str(args.kpi_rows)],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                                  check=False)
            if made.returncode != 0:
                raise SystemExit(f"benchmarks: could not write the KPI lake: {made.stderr[-2000:]}")
        small = scratch / "input-cli" / "dk_bank_details_20250115_060000.tsv"
        if "cli_ingest_small_file" in workloads:
            write_bank_details(small, CLI_SMALL_ROWS)
        cli_args = {"cli_help": ["--help"], "cli_ingest_small_file": ["ingest", str(small)],
                    "cli_ingest_fixtures": ["ingest", str(fixtures)]}
        for side in (baseline, current):
            compile_code(side.code_root)
            if set(workloads) & set(CLI_WORKLOADS):  # untimed: the first process reads every module from disk
                run_cli(side, "warm-up", scratch / f"home-{side.label}-warm-up", ["--help"], scratch)
        runs: dict[str, dict[str, list[dict]]] = {s: {w: [] for w in workloads} for s in ("baseline", "current")}
        for rep in range(args.repeat):
            order = (baseline, current) if rep % 2 == 0 else (current, baseline)
            for side in order:
                home = scratch / f"home-{side.label}-{rep}"
                prior_ok = True
                for workload in workloads:
                    if workload == "cli_ingest_fixtures" and not fixtures.is_dir():
                        runs[side.label][workload].append(
                            {"status": NA, "reason": f"no fixtures folder at {fixtures}", "input_missing": True})
                        continue
                    if not prior_ok and workload in NEEDS_INGEST:
                        runs[side.label][workload].append(
                            {"status": NA, "reason": "needs the ingest_bank_details lake, which failed"})
                        continue
                    print(f"[{rep + 1}/{args.repeat}] {side.label:8} {workload}", file=sys.stderr, flush=True)
                    own = scratch / f"home-{side.label}-{rep}-{workload}"  # a SOUNDLAKE_HOME of its own
                    if workload in ONCE and rep > 0:
                        continue
                    if workload in CLI_WORKLOADS:
                        r = run_cli(side, workload, own, cli_args[workload], scratch)
                    elif workload in ONCE:
                        r = run_worker(side, workload, own, data, args.queries, scratch, args.label_series)
                    elif workload in OWN_LAKE:
                        r = run_worker(side, workload, own, kpi_lake, args.queries, scratch)
                    else:
                        r = run_worker(side, workload, home, data, args.queries, scratch)
                        prior_ok = r.get("status") == "ok"
                    shutil.rmtree(own, ignore_errors=True)
                    runs[side.label][workload].append(r)
                shutil.rmtree(home, ignore_errors=True)
    finally:
        _git("worktree", "remove", "--force", str(tree), check=False)
        _git("worktree", "prune", check=False)
        shutil.rmtree(scratch, ignore_errors=True)

    report = {
        "meta": {
            "baseline": {"rev": rev, "commit": commit},
            "current": {"commit": head, "dirty": dirty, "describe": current.describe},
            "rows": args.rows, "kpi_rows": args.kpi_rows, "repeat": args.repeat, "queries": args.queries,
            "label_series": args.label_series,
            "workloads": list(workloads), "cli_small_rows": CLI_SMALL_ROWS, "fixtures": str(fixtures),
            "python": sys.version.split()[0], "platform": sys.platform,
            "time_metric": ("ms around the call in the worker (query: p50 of the repeats; kpi_queries: the worst "
                            "p95 of any KPI; cli_*: wall time of the whole process); median over repeats"),
            "rss_metric": "peak RSS of the worker process in MiB (os.wait4 ru_maxrss); median over repeats",
        },
        "workloads": summarise(runs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2) if args.json else render_table(report), end="" if not args.json else "\n")
    failed = [w for w, e in report["workloads"].items() if e["current"]["status"] == ERROR]
    if failed:
        print(f"benchmarks: the working tree failed {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # the worker: ``python benchmarks/__init__.py --worker ...``
    sys.exit(worker_main(sys.argv[1:]))
