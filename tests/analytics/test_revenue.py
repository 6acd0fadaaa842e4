"""Revenue analytics (assets/analytics/revenue.py): revenue per stream, payment delay and expected
against actual revenue, on a small in-memory warehouse and on the real BEDROT statements."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from assets.analytics.revenue import (
    PAYMENT_DELAY_COLUMNS,
    REVENUE_EXPECTED_COLUMNS,
    REVENUE_PER_STREAM_COLUMNS,
    RevenueConfig,
    revenue_tables,
    usual_delay,
)
from assets.model import ANALYTICS_TABLES
from tests.cli_helpers import query

DDL = """
CREATE TABLE fct_royalties (reporting_date DATE, sale_month DATE, store VARCHAR, platform VARCHAR, artist VARCHAR,
    title VARCHAR, quantity BIGINT, earnings_usd DOUBLE, item_type VARCHAR, source VARCHAR);
CREATE TABLE v_streams_daily (date DATE, platform VARCHAR, artist VARCHAR, track VARCHAR, streams BIGINT, source VARCHAR);
CREATE TABLE v_streams_account_daily (date DATE, platform VARCHAR, source VARCHAR, streams BIGINT);
"""


def month(m: int, year: int = 2025) -> dt.date:
    return dt.date(year + (m - 1) // 12, (m - 1) % 12 + 1, 1)


def line(con, sale: int, delay: int, store: str, platform: str, quantity: int, earnings: float,
         item_type: str = "Song", source: str = "distrokid", n: int = 1) -> None:
    reported = month(sale + delay) + dt.timedelta(days=4)
    for _ in range(n):
        con.execute("INSERT INTO fct_royalties VALUES (?, ?, ?, ?, 'Nova Lights', 'Song A', ?, ?, ?, ?)",
                    [reported, month(sale), store, platform, quantity, earnings, item_type, source])


def daily_streams(con, table: str, first: dt.date, last: dt.date, platform: str, source: str, streams: int) -> None:
    days = pd.date_range(first, last, freq="D").date
    if table == "v_streams_daily":
        con.executemany("INSERT INTO v_streams_daily VALUES (?, ?, NULL, NULL, ?, ?)",
                        [(d, platform, streams, source) for d in days])
    else:
        con.executemany("INSERT INTO v_streams_account_daily VALUES (?, ?, ?, ?)",
                        [(d, platform, source, streams) for d in days])


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """Spotify: 1,000 streams a day from DistroKid (Jan 1 – Aug 20, 2025) and 500 from TooLost
    (whose statements are not loaded); DistroKid pays $0.003 a stream for Jan–Feb, nothing for
    March, $0.004 for April–June; 90 % of the money two months after the sale month, 10 % after
    one. Apple Music streams only from an artist dashboard."""
    c = duckdb.connect()
    c.execute(DDL)
    for sale, rate in ((1, 0.003), (2, 0.003), (4, 0.004), (5, 0.004), (6, 0.004)):
        days = (month(sale + 1) - month(sale)).days
        q = days * 1000
        line(c, sale, 2, "Spotify", "spotify", int(q * 0.9), q * 0.9 * rate, n=1)
        line(c, sale, 1, "Spotify", "spotify", int(q * 0.1), q * 0.1 * rate, n=1)
    line(c, 4, 2, "iTunes Songs", "itunes", 2, 1.4)  # downloads: paid, but not in the stream rate
    line(c, 4, 2, "Spotify", "spotify", 3, 10.0, item_type="Album")  # an album sale on a streaming store
    line(c, 5, 2, "YouTube (Ads)", "youtube", 0, 0.5)  # an adjustment without units
    line(c, 5, 2, "Apple Music", "apple_music", 2000, 12.0)
    daily_streams(c, "v_streams_daily", dt.date(2025, 1, 1), dt.date(2025, 8, 20), "spotify", "distrokid", 1000)
    daily_streams(c, "v_streams_daily", dt.date(2025, 3, 1), dt.date(2025, 8, 20), "spotify", "toolost", 500)
    daily_streams(c, "v_streams_account_daily", dt.date(2025, 4, 1), dt.date(2025, 6, 30), "apple_music",
                  "spotify_for_artists", 70)
    return c


def test_columns_match_the_model(con):
    tables = revenue_tables(con)
    for name, columns in (("revenue_per_stream", REVENUE_PER_STREAM_COLUMNS), ("payment_delay", PAYMENT_DELAY_COLUMNS),
                          ("revenue_expected", REVENUE_EXPECTED_COLUMNS)):
        assert list(tables[name].columns) == columns
        assert set(ANALYTICS_TABLES[name].column_names) == {*columns, "created_at"}


def test_revenue_per_stream_per_store_and_month(con):
    df = revenue_tables(con)["revenue_per_stream"].set_index(["sale_month", "store"])
    jan = df.loc[(month(1), "Spotify")]
    assert (jan["quantity"], jan["lines"], jan["platform"]) == (31_000, 2, "spotify")
    assert jan["revenue_per_stream"] == pytest.approx(0.003)
    assert df.loc[(month(4), "iTunes Songs"), "revenue_per_stream"] == pytest.approx(0.7)  # per download
    assert pd.isna(df.loc[(month(5), "YouTube (Ads)"), "revenue_per_stream"])  # no units: no rate
    assert (month(3), "Spotify") not in df.index
    assert df["earnings_usd"].sum() == pytest.approx(con.execute("SELECT sum(earnings_usd) FROM fct_royalties").fetchone()[0])


def test_payment_delay_shares(con):
    df = revenue_tables(con)["payment_delay"]
    assert list(df["delay_months"]) == [1, 2] and set(df["source"]) == {"distrokid"}
    one, two = df.iloc[0], df.iloc[1]
    total = one["earnings_usd"] + two["earnings_usd"]
    assert one["share"] == pytest.approx(one["earnings_usd"] / total) and 0.05 < one["share"] < 0.15
    assert two["cumulative_share"] == pytest.approx(1.0) and one["cumulative_share"] == pytest.approx(one["share"])
    assert one["lines"] == 5


def test_usual_delay():
    delays = pd.DataFrame({"delay_months": [1, 2, 3], "earnings_usd": [10.0, 85.0, 5.0]})
    assert usual_delay(delays, 0.9) == 2 and usual_delay(delays, 0.96) == 3 and usual_delay(delays, 0.1) == 1
    assert usual_delay(delays.assign(earnings_usd=0.0), 0.9) is None


def test_expected_against_actual(con):
    df = revenue_tables(con)["revenue_expected"]
    spotify = df[df["platform"] == "spotify"].set_index("sale_month")
    assert list(spotify.index) == [month(m) for m in range(1, 9)]
    # TooLost's streams have no statements here: only DistroKid's are expected to pay
    assert (spotify["streams"] == spotify["stream_days"] * 1000).all()
    jan, feb, mar, apr = (spotify.loc[month(m)] for m in (1, 2, 3, 4))
    # January has no earlier month: the all-time streaming rate, flagged by rate_months 0
    assert jan["rate_months"] == 0
    assert feb["rate_months"] == 1 and feb["rate_usd"] == pytest.approx(0.003)
    assert feb["expected_usd"] == pytest.approx(28_000 * 0.003) and feb["difference_usd"] == pytest.approx(0, abs=1e-9)
    # March: streams but no statement line, long past the usual two months
    assert mar["status"] == "missing" and mar["actual_usd"] == 0 and mar["difference_usd"] == pytest.approx(-93.0)
    # April is checked against the months before it (January, February at $0.003), not its own $0.004;
    # its actual includes the album line (the iTunes downloads are the itunes platform's)
    assert apr["rate_months"] == 2 and apr["rate_usd"] == pytest.approx(0.003)
    assert apr["actual_usd"] == pytest.approx(30_000 * 0.004 + 10.0)
    assert apr["status"] == "reported"
    # the newest statement is from August: July is within the usual delay, August too (and incomplete)
    assert spotify.loc[month(7), "status"] == "partial" and spotify.loc[month(7), "actual_usd"] == 0
    aug = spotify.loc[month(8)]
    assert aug["status"] == "partial" and aug["stream_days"] == 20 and pd.isna(aug["expected_usd"])
    assert spotify.loc[month(6), "status"] == "reported"
    # Apple Music: no distributor rows, so the artist dashboard's streams
    apple = df[df["platform"] == "apple_music"].set_index("sale_month")
    assert apple.loc[month(5), "streams"] == 31 * 70 and apple.loc[month(5), "actual_usd"] == pytest.approx(12.0)
    assert apple.loc[month(4), "status"] == "missing"


def test_trailing_months_setting(con):
    df = revenue_tables(con, RevenueConfig(rate_months=1))["revenue_expected"].set_index(["sale_month", "platform"])
    assert df.loc[(month(5), "spotify"), "rate_usd"] == pytest.approx(0.004)  # April only
    assert df.loc[(month(5), "spotify"), "rate_months"] == 1


def test_no_statements_no_comparison():
    c = duckdb.connect()
    c.execute(DDL)
    daily_streams(c, "v_streams_daily", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "spotify", "distrokid", 1000)
    tables = revenue_tables(c)
    assert all(t.empty for t in tables.values())
    assert all(t.empty for t in revenue_tables(duckdb.connect()).values())  # no tables at all


# --- the real statements -------------------------------------------------------------------------------


def test_real_revenue_per_stream(at_bedrot):
    rows = query("SELECT * FROM revenue_per_stream")
    # every statement line is in it: 8,635 lines, $1,587.06, 16 stores
    assert sum(r["lines"] for r in rows) == 8635
    assert sum(r["earnings_usd"] for r in rows) == pytest.approx(1587.06, abs=0.01)
    assert len({r["store"] for r in rows}) == 16
    spotify = [r for r in rows if r["store"] == "Spotify" and r["quantity"] >= 1000]
    assert len(spotify) >= 6
    # a Spotify stream pays a fraction of a cent
    assert all(0.0015 < r["revenue_per_stream"] < 0.005 for r in spotify)
    apple = [r for r in rows if r["store"] == "Apple Music" and r["quantity"] >= 1000]
    assert all(0.004 < r["revenue_per_stream"] < 0.009 for r in apple)


def test_real_payment_delay(at_bedrot):
    rows = query("SELECT * FROM payment_delay ORDER BY delay_months")
    assert {r["source"] for r in rows} == {"distrokid"}
    by = {r["delay_months"]: r for r in rows}
    # DistroKid reports most of the money two months after the sale month
    assert max(by.values(), key=lambda r: r["earnings_usd"])["delay_months"] == 2
    assert by[1]["cumulative_share"] < 0.5 < 0.9 < by[2]["cumulative_share"]
    assert rows[-1]["cumulative_share"] == pytest.approx(1.0)
    assert sum(r["lines"] for r in rows) == 8635


def test_real_expected_against_actual(at_bedrot):
    rows = {(r["sale_month"], r["platform"]): r for r in query("SELECT * FROM revenue_expected")}
    spotify = {m: r for (m, p), r in rows.items() if p == "spotify"}
    # DistroKid's daily streams run 2024-08-23 .. 2025-05-25; TooLost's streams (no statements
    # loaded) are not expected to pay
    assert spotify["2024-10-01"]["streams"] == query(
        "SELECT sum(streams) AS s FROM v_streams_daily WHERE platform = 'spotify' AND artist IS NULL AND track IS NULL "
        "AND source = 'distrokid' AND date BETWEEN '2024-10-01' AND '2024-10-31'")[0]["s"]
    compared = [r for r in spotify.values()
                if r["expected_usd"] is not None and r["status"] == "reported" and r["rate_months"] >= 1]
    assert len(compared) >= 5
    for r in compared:  # the streams and the statements agree within a quarter
        assert abs(r["difference_usd"]) < 0.25 * r["expected_usd"], r
        assert 0.0015 < r["rate_usd"] < 0.005
    assert spotify["2024-09-01"]["rate_months"] == 0  # the first month: the all-time rate
    assert spotify["2025-04-01"]["status"] == spotify["2025-05-01"]["status"] == "partial"
    assert spotify["2024-08-01"]["expected_usd"] is None  # 9 days of streams: not a whole month
