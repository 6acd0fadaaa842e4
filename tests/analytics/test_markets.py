"""Market demand (assets/analytics/markets.py): the formula on small hand-made warehouses, then the
table after ingesting the real BEDROT exports and after the demo."""

from __future__ import annotations

import itertools
from datetime import date

import pandas as pd
import pytest

from assets.analytics.markets import (
    MARKET_COLUMNS,
    MarketConfig,
    demand_score,
    market_demand,
    newest_day,
    recommend,
    ticket_demand,
)
from assets.model import MARKET_DEMAND
from tests.cli_helpers import query
from tests.warehouse_helpers import insert, model

# --- a small warehouse ---------------------------------------------------------------------------


def royalties(con, artist: str, lines: dict[tuple[str, str], float], reported: str = "2025-06-25",
              per_stream: float = 0.003) -> None:
    """Statement lines: ``{(sale month 'YYYY-MM', country): quantity}``."""
    insert(con, "fct_royalties", [
        dict(reporting_date=date.fromisoformat(reported), sale_month=date.fromisoformat(f"{month}-01"),
             store="Spotify", platform="spotify", artist=artist, title="Song", isrc="QZ0000000001",
             country=country, quantity=int(q), earnings_usd=q * per_stream, item_type="Song", line_seq=1,
             source="distrokid", sha256="x")
        for (month, country), q in lines.items()])


def by_market(df: pd.DataFrame, artist: str | None = "A") -> dict[str, dict]:
    rows = df[(df["artist"].isna() if artist is None else df["artist"] == artist) & df["city"].isna()]
    return {r["country"]: r for r in rows.to_dict("records")}


def flat(months: list[str], countries: dict[str, float]) -> dict[tuple[str, str], float]:
    return {(m, c): q for m in months for c, q in countries.items()}


# --- the formula -----------------------------------------------------------------------------------


def test_growing_market_scores_above_a_shrinking_one_of_equal_size():
    con = model()
    lines = flat(["2025-01", "2025-02"], {"US": 20_000, "DE": 3_000, "FR": 3_000})
    lines |= {("2025-03", "US"): 20_000, ("2025-03", "DE"): 2_000, ("2025-03", "FR"): 4_000,
              ("2025-04", "US"): 20_000, ("2025-04", "DE"): 4_000, ("2025-04", "FR"): 2_000}
    royalties(con, "A", lines)
    m = by_market(market_demand(con))
    de, fr = m["DE"], m["FR"]
    assert de["streams"] == pytest.approx(fr["streams"]) and de["share"] == pytest.approx(fr["share"])
    assert de["momentum_28d"] == pytest.approx(1.0)  # April 4,000 against March 2,000
    assert fr["momentum_28d"] == pytest.approx(-0.5)
    assert m["US"]["momentum_28d"] == pytest.approx(0.0)
    assert de["demand_score"] > fr["demand_score"]
    assert "Apr 2025 vs Mar 2025" in de["reasons"]


def test_shares_add_up_and_ou_zz_and_others_are_never_markets():
    con = model()
    months = ["2025-02", "2025-03", "2025-04"]
    royalties(con, "A", flat(months, {"US": 6_000, "GB": 2_000, "OU": 1_000, "ZZ": 500, "XK": 500}))
    m = by_market(market_demand(con))
    assert set(m) == {"US", "GB", "XK"}  # Kosovo is a place; OU and ZZ are not
    assert m["US"]["share"] == pytest.approx(6_000 / 10_000)  # OU and ZZ stay in the denominator
    assert sum(r["share"] for r in m.values()) == pytest.approx(0.85)
    assert m["XK"]["country_name"] == "Kosovo"
    # account rows are there too, and agree with the lone artist
    account = by_market(market_demand(con), artist=None)
    assert account["US"]["share"] == pytest.approx(0.6)


def test_one_weak_signal_is_monitor_and_one_strong_signal_cannot_book():
    con = model()
    months = ["2025-02", "2025-03", "2025-04"]
    royalties(con, "A", flat(months, {"US": 200_000, "SE": 400, "DE": 9_600}))
    m = by_market(market_demand(con))
    se = m["SE"]
    assert se["signals"] == "royalties" and se["recommendation"] == "MONITOR"
    assert se["est_ticket_demand"] < MarketConfig().consider_tickets
    assert "MONITOR:" in se["reasons"] and "tickets <" in se["reasons"]
    # the US has it all but one signal: CONSIDER, and the reasons say what BOOK lacks
    us = m["US"]
    assert us["demand_score"] >= MarketConfig().book_score and us["est_ticket_demand"] >= 100
    assert us["recommendation"] == "CONSIDER"
    assert "1 agreeing signal (< 2)" in us["reasons"]
    assert "social territories (TikTok, YouTube)" in us["reasons"]  # what to add


def test_two_agreeing_signals_book_a_strong_market():
    con = model()
    months = ["2025-02", "2025-03", "2025-04"]
    royalties(con, "A", flat(months, {"US": 150_000, "MX": 50_000}))
    insert(con, "fct_social_daily", [dict(date=date(2025, 6, 20), platform="tiktok", account="a", followers=40_000,
                                          source="tiktok", sha256="x")])
    insert(con, "fct_social_territories", [
        dict(snapshot_date=date(2025, 6, 20), platform="tiktok", account="a", territory=t, share=s,
             source="tiktok", sha256="x") for t, s in (("US", 0.5), ("MX", 0.3), ("Others", 0.2))])
    df = market_demand(con)
    m = by_market(df)
    us = m["US"]
    assert us["signals"] == "royalties,tiktok"
    assert us["recommendation"] == "BOOK", us["reasons"]
    # royalties 0.5 and social 0.2, renormalised: 5/7 × 0.75 + 2/7 × 0.5
    assert us["share"] == pytest.approx(5 / 7 * 0.75 + 2 / 7 * 0.5)
    assert "tiktok 50 % of followers (20,000)" in us["reasons"]
    assert "Others" not in set(df["country"])


def test_ticket_conversion_arithmetic():
    assert ticket_demand(30_000) == 150  # 30,000 / 3 streams per listener × 1.5 %
    assert ticket_demand(30_000, MarketConfig(streams_per_listener=2.0, attendance_rate=0.02)) == 300
    assert ticket_demand(float("nan")) is None
    con = model()
    months = ["2025-02", "2025-03", "2025-04"]
    royalties(con, "A", flat(months, {"US": 9_000, "CA": 1_000}))
    m = by_market(market_demand(con))
    per_28 = 10_000 * 28 / (365.25 / 12)  # the royalty pace: all units, per 28 days
    assert m["US"]["streams"] == pytest.approx(0.9 * per_28, abs=0.1)
    assert m["US"]["est_ticket_demand"] == round(0.9 * per_28 / 3 * 0.015)
    assert "÷ 3 streams per listener" in m["US"]["reasons"] and "× 1.5 % attendance" in m["US"]["reasons"]
    assert m["US"]["earnings_usd"] == pytest.approx(9_000 * 0.003 * 28 / (365.25 / 12), rel=1e-6)
    doubled = by_market(market_demand(con, MarketConfig(attendance_rate=0.03)))
    assert doubled["US"]["est_ticket_demand"] == round(0.9 * per_28 / 3 * 0.03)


def test_score_is_monotone_in_each_input_and_bounded():
    streams = [0, 50, 100, 1_000, 10_000, 100_000, 1e6]
    shares = [0.0, 0.01, 0.1, 0.25, 0.9]
    momenta = [-0.9, -0.3, 0.0, 0.3, 3.0]
    agree = [0, 1, 2, 3, 4]
    grid = {(s, sh, m, a): demand_score(s, sh, m, a) for s, sh, m, a in itertools.product(streams, shares, momenta, agree)}
    assert all(0 <= v <= 100 for v in grid.values())
    for axis, values in enumerate((streams, shares, momenta, agree)):
        for key in grid:
            for lo, hi in zip(values, values[1:]):
                if key[axis] == lo:
                    up = list(key)
                    up[axis] = hi
                    assert grid[tuple(up)] >= grid[key], (axis, key, hi)
    # strictly better inside the ranges that matter
    assert demand_score(10_000, 0.1, 0, 1) > demand_score(1_000, 0.1, 0, 1)
    assert demand_score(1_000, 0.2, 0, 1) > demand_score(1_000, 0.1, 0, 1)
    assert demand_score(1_000, 0.1, 0.2, 1) > demand_score(1_000, 0.1, 0.0, 1)
    assert demand_score(1_000, 0.1, 0, 2) > demand_score(1_000, 0.1, 0, 1)
    # unknown momentum is neutral: the same as flat
    assert demand_score(1_000, 0.1, float("nan"), 1) == demand_score(1_000, 0.1, 0.0, 1)
    assert demand_score(100_000, 1.0, 10.0, 5) == 100.0 and demand_score(0, 0, -10.0, 0) == 0.0


def test_recommendation_thresholds():
    assert recommend(70, 150, 2, 0.1)[0] == "BOOK"
    assert recommend(70, 150, 2, float("nan"))[0] == "BOOK"
    assert recommend(70, 150, 2, -0.5)[0] == "CONSIDER"  # collapsing
    assert recommend(70, 150, 1, 0.1)[0] == "CONSIDER"
    assert recommend(70, 99, 3, 0.1)[0] == "CONSIDER"
    assert recommend(50, 40, 3, 0.1)[0] == "CONSIDER"
    assert recommend(44, 400, 3, 0.1)[0] == "MONITOR"
    assert recommend(90, 29, 3, 0.1)[0] == "MONITOR"
    assert recommend(90, None, 3, 0.1)[0] == "MONITOR"


# --- the sources ------------------------------------------------------------------------------------


def test_a_partial_newest_sale_month_is_left_out():
    con = model()
    lines = flat(["2025-02", "2025-03"], {"US": 10_000, "DE": 1_000})
    lines |= {("2025-04", "US"): 300, ("2025-04", "DE"): 5}  # reported a month after: 2 % of its lines
    royalties(con, "A", lines, reported="2025-05-26")
    m = by_market(market_demand(con))
    assert m["US"]["momentum_28d"] == pytest.approx(0.0)  # March against February, not April's crumbs
    assert m["US"]["as_of"] == date(2025, 3, 31)
    assert "royalty statements Feb 2025–Mar 2025" in m["US"]["reasons"]


def test_a_gap_in_the_statements_is_not_a_zero():
    con = model()
    lines = flat(["2025-01", "2025-02", "2025-04"], {"US": 10_000})  # no lines at all for March
    royalties(con, "A", lines)
    assert by_market(market_demand(con))["US"]["momentum_28d"] == pytest.approx(0.0)  # Apr vs Feb
    gaps = flat(["2025-01", "2025-04"], {"US": 10_000})
    con2 = model()
    royalties(con2, "A", gaps)
    assert pd.isna(by_market(market_demand(con2))["US"]["momentum_28d"])  # two months missing: unknown


def test_country_charts_snapshots_give_momentum_only_when_they_can():
    con = model()
    royalties(con, "A", flat(["2025-02", "2025-03", "2025-04"], {"US": 10_000, "JP": 1_000}))

    def chart(source, period, start, end, values):
        insert(con, "fct_streams_totals", [
            dict(period_start=date.fromisoformat(start) if start else None, period_end=date.fromisoformat(end),
                 period=period, platform="apple_music", artist=None, dimension="country", item=c, streams=v,
                 source=source, sha256="x") for c, v in values.items()])

    # TooLost: cumulative exports from the same start; JP's 28 new days ran at twice the old rate
    chart("toolost", "export", "2025-03-01", "2025-05-30", {"US": 910, "JP": 910})
    chart("toolost", "export", "2025-03-01", "2025-06-27", {"US": 910 + 280, "JP": 910 + 560})
    # DistroKid: two one-year charts a month apart overlap: no momentum from them
    chart("distrokid", "1year", "2024-05-29", "2025-05-28", {"US": 3650, "JP": 365})
    chart("distrokid", "1year", "2024-06-27", "2025-06-26", {"US": 3650, "JP": 730})
    df = market_demand(con)
    m = by_market(df, artist=None)
    jp = m["JP"]
    assert jp["signals"] == "royalties,distrokid,toolost"
    assert "toolost +100 %" in jp["reasons"] and "the 28 days to 2025-06-27" in jp["reasons"]
    momentum_text = jp["reasons"].split("Momentum ")[1].split(". ")[0]
    assert "distrokid" not in momentum_text  # overlapping one-year windows say nothing of the last 28 days
    # royalties flat (weight 0.5), TooLost +100 % (the charts' 0.2 split between two charts)
    assert jp["momentum_28d"] == pytest.approx((0.5 * 0 + 0.1 * 1.0) / (0.5 + 0.1), abs=1e-4)
    assert m["US"]["momentum_28d"] == pytest.approx(0.0)  # TooLost's US kept its rate
    # only the newest chart counts for the volume: DistroKid's JP is 730 / 4,380 of its chart
    assert f"distrokid {100 * 730 / 4380:.0f} % of its chart's streams" in jp["reasons"]
    # the charts are account-wide; A, the lone artist, gets them too
    assert by_market(df)["JP"]["signals"] == "royalties,distrokid,toolost"
    assert jp["as_of"] == date(2025, 6, 27)


def test_social_territories_join_through_aliases_and_any_platform():
    con = model()
    royalties(con, "Nova Lights", flat(["2025-02", "2025-03", "2025-04"], {"US": 10_000, "BR": 2_000}))
    royalties(con, "Ivy", flat(["2025-02", "2025-03", "2025-04"], {"US": 5_000}))
    insert(con, "fct_social_daily", [
        dict(date=date(2025, 5, 1), platform="tiktok", account="nova.lights", followers=10_000, source="tiktok", sha256="x"),
        dict(date=date(2025, 6, 1), platform="tiktok", account="nova.lights", followers=12_000, source="tiktok", sha256="x"),
        dict(date=date(2025, 6, 1), platform="youtube", account="novalights", followers=3_000, source="youtube", sha256="x"),
    ])
    terr = [("2025-05-01", "tiktok", "nova.lights", "BR", 0.20), ("2025-05-01", "tiktok", "nova.lights", "US", 0.50),
            ("2025-06-01", "tiktok", "nova.lights", "BR", 0.30), ("2025-06-01", "tiktok", "nova.lights", "US", 0.50),
            ("2025-06-01", "tiktok", "nova.lights", "Others", 0.20),
            ("2025-06-01", "youtube", "novalights", "Brazil", 1.0)]
    insert(con, "fct_social_territories", [dict(snapshot_date=date.fromisoformat(d), platform=p, account=a,
                                                territory=t, share=s, source=p, sha256="x") for d, p, a, t, s in terr])
    df = market_demand(con)
    nova = by_market(df, "Nova Lights")
    assert nova["BR"]["signals"] == "royalties,tiktok,youtube"
    assert "tiktok 30 % of followers (3,600)" in nova["BR"]["reasons"]
    # BR's TikTok followers went 2,000 → 3,600 in 31 days: (1.8)^(28/31) − 1 per 28 days
    growth = 1.8 ** (28 / 31) - 1
    assert f"tiktok {100 * growth:+.0f} %" in nova["BR"]["reasons"]
    assert set(by_market(df, "Ivy")) == {"US"}  # other artists' followers stay theirs
    assert set(df["artist"].dropna()) == {"Nova Lights", "Ivy"}


def test_linktree_cities_split_their_country():
    con = model()
    royalties(con, "A", flat(["2025-02", "2025-03", "2025-04"], {"US": 8_000, "DE": 2_000}))
    items = {"Berlin, DE": 300, "Hamburg, DE": 100, "United States": 600, "Atlantis": 50}
    insert(con, "fct_link_breakdown", [
        dict(period_start=date(2025, 5, 30), period_end=date(2025, 6, 26), platform="linktree", account=None,
             dimension="location", item=k, views=v, clicks=v // 2, source="linktree", sha256="x") for k, v in items.items()])
    df = market_demand(con)
    countries = df[(df["artist"] == "A") & df["city"].isna()]
    assert countries["share"].sum() == pytest.approx(1 - 0.1 / 0.6 * 50 / 1050, abs=1e-9)  # Atlantis: unplaced
    cities = df[(df["artist"] == "A") & df["city"].notna()].set_index("city")
    assert set(cities.index) == {"Berlin", "Hamburg"} and set(cities["country"]) == {"DE"}
    de = countries.set_index("country").loc["DE"]
    assert cities.loc["Berlin", "share"] == pytest.approx(de["share"] * 0.75)
    assert cities.loc["Hamburg", "streams"] == pytest.approx(de["streams"] * 0.25, abs=0.2)
    assert "75 % of the country's linktree visits" in cities.loc["Berlin", "reasons"]


def test_as_of_defaults_to_the_newest_day_and_hides_later_data():
    con = model()
    royalties(con, "A", flat(["2025-01", "2025-02", "2025-03"], {"US": 1_000}), reported="2025-05-26")
    royalties(con, "A", {("2025-04", "US"): 5_000, ("2025-04", "FR"): 5_000}, reported="2025-06-26")
    assert newest_day(con) == date(2025, 6, 26)
    now = by_market(market_demand(con))
    before = by_market(market_demand(con, as_of=date(2025, 6, 1)))
    assert "FR" in now and "FR" not in before
    assert before["US"]["as_of"] == date(2025, 3, 31)
    assert market_demand(con).equals(market_demand(con))  # reruns agree


def test_empty_warehouse_gives_an_empty_table_with_the_columns():
    out = market_demand(model())
    assert out.empty and list(out.columns) == MARKET_COLUMNS
    assert MARKET_COLUMNS == [c for c in MARKET_DEMAND.column_names if c != "created_at"]


def test_a_failing_source_is_left_out_not_fatal(caplog):
    con = model()
    royalties(con, "A", flat(["2025-02", "2025-03", "2025-04"], {"US": 1_000}))
    con.execute("DROP TABLE fct_social_territories")
    con.execute("CREATE TABLE fct_social_territories AS SELECT 1 AS nonsense")  # wrong columns
    out = market_demand(con)
    assert set(out["country"]) == {"US"}
    assert "social territories failed" in caplog.text


# --- the real exports and the demo -----------------------------------------------------------------------


def _table() -> pd.DataFrame:
    return pd.DataFrame(query("SELECT * FROM market_demand"))


def test_real_fixtures(at_bedrot):
    df = _table()
    assert len(df) > 300
    assert set(df["artist"].dropna()) == {"ZONE A0", "PIG1987"} and df["artist"].isna().any()
    assert not ({"OU", "ZZ"} & set(df["country"]))
    assert df["city"].isna().all()  # neither the Linktree capture nor anything else gives cities
    for artist, part in df.groupby(df["artist"].fillna("(account)")):
        assert part["share"].sum() == pytest.approx(1.0, abs=0.001), artist  # only OU is unplaced
        assert part["demand_score"].between(0, 100).all()
    # the top market is what the royalties say: the US, for each artist and the account
    top_royalties = {r["artist"]: r["country"] for r in query(
        "SELECT artist, arg_max(country, q) AS country FROM (SELECT artist, country, sum(quantity) AS q "
        "FROM fct_royalties WHERE country <> 'OU' GROUP BY ALL) GROUP BY artist")}
    assert set(top_royalties.values()) == {"US"}
    top = df.sort_values("share", ascending=False).groupby(df["artist"].fillna("(account)")).head(1)
    assert set(top["country"]) == {"US"}
    # royalties end with April 2025 reported on 24 May: partial, so March is the newest month used
    zone = df[(df["artist"] == "ZONE A0") & (df["country"] == "US")].iloc[0]
    assert str(zone["as_of"])[:10] == "2025-03-31" and zone["signals"] == "royalties"
    assert "Mar 2025 vs Feb 2025" in zone["reasons"]
    # the account adds TooLost's and DistroKid's Apple Music country charts: the US is BOOK there
    account_us = df[df["artist"].isna() & (df["country"] == "US")].iloc[0]
    assert account_us["signals"] == "royalties,distrokid,toolost"
    assert account_us["recommendation"] == "BOOK"
    assert 100 <= account_us["est_ticket_demand"] <= 1_000
    assert (df["recommendation"] == "MONITOR").sum() > 0.9 * len(df)  # the long tail


def test_demo(at_demo):
    df = _table()
    assert set(df["artist"].dropna()) == {"Nova Lights", "Ivy Vale"} and df["artist"].isna().any()
    assert df["city"].isna().all()
    assert df["momentum_28d"].notna().any()
    account = df[df["artist"].isna()].sort_values("demand_score", ascending=False)
    assert account.iloc[0]["country"] == "US"  # the demo's biggest market on every source
    assert set(account.iloc[0]["signals"].split(",")) == {"royalties", "distrokid", "toolost", "tiktok", "linktree",
                                                          "apple_music", "amazon_music"}
    assert set(df["recommendation"]) <= {"BOOK", "CONSIDER", "MONITOR"}
    assert (df["recommendation"] != "MONITOR").any()
    nova = df[df["artist"] == "Nova Lights"]
    assert "tiktok" in ",".join(nova["signals"])  # TikTok's nova.lights is the artist Nova Lights
    # TikTok's "Others" (24 % of followers) is no market: the artists' shares fall short of 1 by its
    # weight (social 0.2 of royalties 0.5 + charts 0.2 (Apple Music, Amazon Music) + social 0.2)
    assert nova["share"].sum() == pytest.approx(1 - 0.2 / 0.9 * 0.24, abs=0.01)
