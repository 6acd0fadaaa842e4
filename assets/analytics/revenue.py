"""Revenue analytics: the tables ``revenue_per_stream``, ``payment_delay`` and ``revenue_expected``.

Pure logic over a DuckDB connection and pandas (no Dagster, no lake I/O), read from
``fct_royalties`` (statement lines) and the daily streams views. Decisions:

* **revenue_per_stream** — per sale month × store (as the distributor names it; ``platform`` is
  its conformed platform): units, earnings and lines of every statement line, and
  ``revenue_per_stream = earnings_usd / quantity`` (null when the month's units are 0). Lines of all
  distributors add up (the key is the store's name). On download stores (``iTunes Songs``) the
  rate is what one *download* paid, so read those rows as revenue per unit. On the BEDROT
  statements Spotify paid $0.0024 a stream, Apple Music $0.0058, YouTube (Red) $0.0069.
* **payment_delay** — per source (distributor): the months from a line's sale month to the month
  of its reporting date (streams in March reported in May = 2), its lines and earnings, the share of
  the source's earnings and the cumulative share (the money reported within that many months).
  Earnings, not lines, weight it: a thousand $0.0001 lines should not outweigh the month's bulk.
  A source whose earnings add up to 0 has null shares.
* **revenue_expected** — per sale month × platform, for the whole account (daily streams per
  artist do not cover every platform):

  - ``streams``: the month's streams of the catalogues whose statements are loaded. Distributors
    report their own catalogue (see ``v_streams_daily``), so a distributor's streams are counted
    only when the same source has royalty lines (TooLost's streams are not DistroKid's revenue):
    the distributors' account rows (``v_streams_daily``, artist and track null) of royalty
    sources. A platform-day without any distributor account row falls back to
    ``v_streams_account_daily`` (artist dashboards: all the artist's streams). ``stream_days``
    says how many days of the month that covers.
  - ``rate_usd``: the platform's revenue per stream over the ``rate_months`` (12) most recent
    *earlier* sale months with streaming lines (trailing: the month's own lines are what the
    expectation is checked against, so they are not used to make it). Streaming lines only:
    album lines, iTunes and stores named "... Download..." are left out (as in the KPI
    ``revenue_per_stream_usd_by_store``). A month with no earlier reported month uses the
    platform's all-time rate (``rate_months`` = 0 says so; that one comparison is circular).
  - ``expected_usd = streams × rate_usd``, only for months whose every day has streams (a partial
    month's streams would understate it; ``stream_days`` tells); else null.
  - ``actual_usd``: every line of the platform with that sale month (downloads included, so it is
    what was paid), 0 when none; ``difference_usd = actual − expected``.
  - ``status``: ``partial`` when the month is younger than the platform's usual payment delay:
    fewer months between it and the newest statement (the latest ``reporting_date``) than the
    delay within which ``partial_share`` (90 %) of the platform's earnings usually arrived (from
    the platform's lines when it has ``min_delay_lines``, else from all lines); ``missing`` when
    older than that, with streams but no royalty line, and within the statements' span (sale
    months from the first one any statement covers); else ``reported``. Rows exist for months with
    streams; with no royalty lines at all the table is empty (nothing to compare against).

All figures are USD as the statements give them. Errors in one table never stop the others.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

REVENUE_PER_STREAM_COLUMNS = ["sale_month", "store", "platform", "quantity", "earnings_usd", "revenue_per_stream", "lines"]
PAYMENT_DELAY_COLUMNS = ["source", "delay_months", "lines", "earnings_usd", "share", "cumulative_share"]
REVENUE_EXPECTED_COLUMNS = [
    "sale_month", "platform", "streams", "stream_days", "rate_usd", "rate_months", "expected_usd",
    "actual_usd", "difference_usd", "status",
]


@dataclass(frozen=True)
class RevenueConfig:
    """Settings of the revenue tables (module docstring for why)."""

    rate_months: int = 12  # earlier reported sale months the expected rate is taken over
    partial_share: float = 0.9  # a month is `partial` until this share of earnings usually arrived
    min_delay_lines: int = 30  # lines a platform needs for its own payment delay (else all lines)

    def __post_init__(self) -> None:
        if self.rate_months < 1:
            raise ValueError(f"rate_months must be at least 1, got {self.rate_months}")
        if not 0 < self.partial_share <= 1:
            raise ValueError(f"partial_share must be in (0, 1], got {self.partial_share}")


def _has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0] > 0


def _months(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for col in cols:
        df[col] = pd.to_datetime(df[col]).dt.date
    return df


# -------------------------------------------------------------------------------- revenue per stream

PER_STREAM_SQL = """
SELECT sale_month, store, mode(platform) AS platform, sum(quantity)::BIGINT AS quantity,
       sum(earnings_usd) AS earnings_usd, count(*)::BIGINT AS lines
FROM fct_royalties
WHERE sale_month IS NOT NULL AND store IS NOT NULL
GROUP BY sale_month, store
ORDER BY sale_month, store
"""


def revenue_per_stream(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per sale month × store: units, earnings, lines and earnings per unit."""
    df = con.execute(PER_STREAM_SQL).df()
    if df.empty:
        return pd.DataFrame(columns=REVENUE_PER_STREAM_COLUMNS)
    quantity = df["quantity"].astype(float)
    df["revenue_per_stream"] = np.where(quantity != 0, df["earnings_usd"] / quantity.where(quantity != 0), np.nan)
    return _months(df, "sale_month")[REVENUE_PER_STREAM_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------------------------ payment delay

def delay_sql(by: str) -> str:
    """Royalty lines and earnings per ``by`` (``source`` or ``platform``) × months from the sale
    month to the month of the reporting date."""
    return f"""
SELECT {by}, date_diff('month', sale_month, date_trunc('month', reporting_date)::DATE)::BIGINT AS delay_months,
       count(*)::BIGINT AS lines, sum(earnings_usd) AS earnings_usd
FROM fct_royalties
WHERE sale_month IS NOT NULL AND reporting_date IS NOT NULL
GROUP BY ALL
ORDER BY {by}, delay_months
"""


def _with_shares(df: pd.DataFrame, by: str) -> pd.DataFrame:
    total = df.groupby(by)["earnings_usd"].transform("sum")
    share = df["earnings_usd"] / total.where(total != 0)
    return df.assign(share=share, cumulative_share=share.groupby(df[by]).cumsum())


def payment_delay(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source × delay in months: lines, earnings, share and cumulative share of the earnings."""
    df = con.execute(delay_sql("source")).df()
    if df.empty:
        return pd.DataFrame(columns=PAYMENT_DELAY_COLUMNS)
    return _with_shares(df, "source")[PAYMENT_DELAY_COLUMNS].reset_index(drop=True)


def usual_delay(delays: pd.DataFrame, share: float) -> int | None:
    """The smallest delay (months) within which ``share`` of the earnings arrived, from rows
    ``delay_months, earnings_usd`` (one scope); None when the earnings do not add up to a positive sum."""
    d = delays.groupby("delay_months")["earnings_usd"].sum().sort_index()
    total = d.sum()
    if not total > 0:
        return None
    reached = d.cumsum() / total >= share - 1e-12
    return int(reached.idxmax()) if reached.any() else int(d.index.max())


# -------------------------------------------------------------------------------- expected vs actual

ROYALTY_MONTHS_SQL = """
SELECT sale_month, platform,
       sum(earnings_usd) AS actual_usd,
       sum(quantity) FILTER (WHERE NOT is_download) AS stream_quantity,
       sum(earnings_usd) FILTER (WHERE NOT is_download) AS stream_earnings_usd
FROM (SELECT *, (coalesce(item_type, '') = 'Album' OR platform = 'itunes'
                 OR lower(store) LIKE '%download%') AS is_download
      FROM fct_royalties WHERE sale_month IS NOT NULL AND platform IS NOT NULL)
GROUP BY ALL
"""

MATCHED_STREAMS_SQL = """
WITH royalty_sources AS (SELECT DISTINCT source FROM fct_royalties),
distributor AS (
    SELECT date, platform,
           sum(streams) FILTER (WHERE source IN (SELECT source FROM royalty_sources)) AS streams,
           count(*) FILTER (WHERE source IN (SELECT source FROM royalty_sources)) AS matched
    FROM v_streams_daily
    WHERE artist IS NULL AND track IS NULL AND streams IS NOT NULL
    GROUP BY ALL
),
dashboards AS (
    SELECT a.date, a.platform, a.streams
    FROM v_streams_account_daily a
    WHERE a.streams IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM distributor d WHERE d.date = a.date AND d.platform = a.platform)
),
daily AS (
    SELECT date, platform, streams FROM distributor WHERE matched > 0
    UNION ALL
    SELECT date, platform, streams FROM dashboards
)
SELECT date_trunc('month', date)::DATE AS sale_month, platform, sum(streams)::BIGINT AS streams,
       count(DISTINCT date)::BIGINT AS stream_days,
       day(last_day(date_trunc('month', date)::DATE))::BIGINT AS month_days
FROM daily
GROUP BY ALL
"""


def _trailing_rate(royalties: pd.DataFrame, platform: str, month, n: int) -> tuple[float, int]:
    """(revenue per stream, months used) over the ``n`` most recent earlier sale months of the
    platform with streaming units; the all-time rate and 0 months when there is none."""
    rows = royalties[(royalties["platform"] == platform) & (royalties["stream_quantity"].fillna(0) > 0)]
    earlier = rows[rows["sale_month"] < month].sort_values("sale_month").tail(n)
    use, months = (earlier, len(earlier)) if len(earlier) else (rows, 0)
    quantity = use["stream_quantity"].sum()
    return (float(use["stream_earnings_usd"].sum() / quantity) if quantity > 0 else math.nan), months


def revenue_expected(con: duckdb.DuckDBPyConnection, config: RevenueConfig = RevenueConfig()) -> pd.DataFrame:  # noqa: B008
    """Per sale month × platform: the month's streams × the trailing revenue per stream against the
    revenue reported for it, with a status (module docstring)."""
    if not all(_has_relation(con, t) for t in ("fct_royalties", "v_streams_daily", "v_streams_account_daily")):
        return pd.DataFrame(columns=REVENUE_EXPECTED_COLUMNS)
    as_of = con.execute("SELECT max(reporting_date), min(sale_month) FROM fct_royalties").fetchone()
    if as_of[0] is None:
        return pd.DataFrame(columns=REVENUE_EXPECTED_COLUMNS)
    newest = pd.Timestamp(as_of[0]).to_period("M")
    first_sale = pd.Timestamp(as_of[1]).date() if as_of[1] is not None else None
    streams = _months(con.execute(MATCHED_STREAMS_SQL).df(), "sale_month")
    if streams.empty:
        return pd.DataFrame(columns=REVENUE_EXPECTED_COLUMNS)
    royalties = _months(con.execute(ROYALTY_MONTHS_SQL).df(), "sale_month")
    delays = con.execute(delay_sql("platform")).df()
    overall = usual_delay(delays, config.partial_share)
    rows = []
    for r in streams.sort_values(["sale_month", "platform"]).itertuples(index=False):
        own = delays[delays["platform"] == r.platform]
        delay = usual_delay(own, config.partial_share) if own["lines"].sum() >= config.min_delay_lines else None
        delay = overall if delay is None else delay
        rate, months = _trailing_rate(royalties, r.platform, r.sale_month, config.rate_months)
        reported = royalties[(royalties["platform"] == r.platform) & (royalties["sale_month"] == r.sale_month)]
        actual = float(reported["actual_usd"].sum()) if len(reported) else 0.0
        complete = r.stream_days >= r.month_days
        expected = r.streams * rate if complete and np.isfinite(rate) else math.nan
        age = (newest - pd.Timestamp(r.sale_month).to_period("M")).n
        if delay is not None and age < delay:
            status = "partial"
        elif reported.empty and r.streams > 0 and first_sale is not None and r.sale_month >= first_sale:
            status = "missing"
        else:
            status = "reported"
        rows.append({
            "sale_month": r.sale_month, "platform": r.platform, "streams": int(r.streams),
            "stream_days": int(r.stream_days), "rate_usd": rate, "rate_months": months, "expected_usd": expected,
            "actual_usd": actual, "difference_usd": actual - expected, "status": status,
        })
    out = pd.DataFrame(rows, columns=REVENUE_EXPECTED_COLUMNS)
    return out.astype({"streams": "int64", "stream_days": "int64", "rate_months": "int64"})


# ------------------------------------------------------------------------------------------- all


def revenue_tables(con: duckdb.DuckDBPyConnection, config: RevenueConfig = RevenueConfig()) -> dict[str, pd.DataFrame]:  # noqa: B008
    """``revenue_per_stream``, ``payment_delay`` and ``revenue_expected`` (without ``created_at``)."""
    builders = {
        "revenue_per_stream": (lambda: revenue_per_stream(con), REVENUE_PER_STREAM_COLUMNS),
        "payment_delay": (lambda: payment_delay(con), PAYMENT_DELAY_COLUMNS),
        "revenue_expected": (lambda: revenue_expected(con, config), REVENUE_EXPECTED_COLUMNS),
    }
    if not _has_relation(con, "fct_royalties"):
        return {name: pd.DataFrame(columns=columns) for name, (_, columns) in builders.items()}
    tables = {}
    for name, (build, columns) in builders.items():
        try:
            tables[name] = build()
        except Exception:  # one table failing must not take the others (or the run) down
            log.exception("revenue: %s failed; the table is left empty", name)
            tables[name] = pd.DataFrame(columns=columns)
    return tables


__all__ = [
    "PAYMENT_DELAY_COLUMNS", "REVENUE_EXPECTED_COLUMNS", "REVENUE_PER_STREAM_COLUMNS", "RevenueConfig",
    "payment_delay", "revenue_expected", "revenue_per_stream", "revenue_tables", "usual_delay",
]
