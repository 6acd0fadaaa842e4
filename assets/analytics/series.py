"""The daily series the analytics work on, read from the warehouse in one long frame.

One row per series and day: ``series_id, artist, platform, metric, date, value``. ``artist`` is
the canonical name from ``dim_artist_alias`` (so the TikTok account ``zone.a0`` and the Spotify
artist ``ZONE A0`` are one artist, and a moment on one can confirm a moment on the other), or
null for numbers of the whole account. ``series_id`` is ``<platform>/<artist or 'account'>/<metric>``.

| metric | from |
|---|---|
| streams | `v_streams_daily` totals (`track IS NULL`): per artist, and the account (`v_streams_account_daily`) |
| listeners, followers | `fct_audience_daily` (artist dashboards) |
| views, followers | `fct_social_daily` (per account) |
| clicks | `fct_link_clicks_daily` (per page) |

Monthly revenue (``monthly_revenue``) is a separate frame: earnings by sale month from
`fct_royalties`, per artist and for the account.
"""

from __future__ import annotations

import duckdb
import pandas as pd

SERIES_SQL = """
WITH alias AS (SELECT alias, artist FROM dim_artist_alias),
daily AS (
    SELECT date, platform, artist, 'streams' AS metric, streams::DOUBLE AS value
    FROM v_streams_daily WHERE track IS NULL AND artist IS NOT NULL
    UNION ALL
    SELECT date, platform, NULL, 'streams', streams::DOUBLE FROM v_streams_account_daily
    UNION ALL
    SELECT date, platform, artist, 'listeners', listeners::DOUBLE FROM fct_audience_daily WHERE listeners IS NOT NULL
    UNION ALL
    SELECT date, platform, artist, 'followers', followers::DOUBLE FROM fct_audience_daily WHERE followers IS NOT NULL
    UNION ALL
    SELECT date, platform, account, 'views', views::DOUBLE FROM fct_social_daily WHERE views IS NOT NULL
    UNION ALL
    SELECT date, platform, account, 'followers', followers::DOUBLE FROM fct_social_daily WHERE followers IS NOT NULL
    UNION ALL
    SELECT date, platform, account, 'clicks', clicks::DOUBLE FROM fct_link_clicks_daily WHERE clicks IS NOT NULL
),
named AS (
    SELECT d.date, d.platform, coalesce(a.artist, d.artist) AS artist, d.metric, d.value
    FROM daily d LEFT JOIN alias a ON a.alias = d.artist
)
SELECT platform || '/' || coalesce(artist, 'account') || '/' || metric AS series_id,
       artist, platform, metric, date, sum(value) AS value
FROM named
GROUP BY ALL
ORDER BY series_id, date
"""

REVENUE_SQL = """
SELECT 'revenue/' || coalesce(a.artist, 'account') || '/earnings_usd' AS series_id, a.artist,
       'all' AS platform, 'earnings_usd' AS metric, r.sale_month AS date, sum(r.earnings_usd) AS value
FROM fct_royalties r LEFT JOIN dim_artist_alias a ON a.alias = r.artist
GROUP BY ALL
UNION ALL
SELECT 'revenue/account/earnings_usd', NULL, 'all', 'earnings_usd', sale_month, sum(earnings_usd)
FROM fct_royalties GROUP BY ALL
ORDER BY series_id, date
"""


def daily_series(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every daily series in the warehouse (columns of ``viral.SERIES_COLUMNS``)."""
    df = con.execute(SERIES_SQL).df()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df


def monthly_revenue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Earnings per sale month, per artist and for the account (same columns; date = month start)."""
    df = con.execute(REVENUE_SQL).df()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df
