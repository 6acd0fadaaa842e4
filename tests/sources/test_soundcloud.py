"""SoundCloud for Artists: the revenue export (two preamble rows) into fct_royalties, the plays
export into fct_streams_daily at an artist dashboard's precedence."""

import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.sources.base import ParseContext, ParseError
from assets.sources.samples import delimited_bytes
from assets.sources.soundcloud import (
    PLAYS,
    REVENUE,
    SOURCE,
    _royalties,
    parse_revenue,
    write_samples,
)
from tests.cli_helpers import query, run

# the dataset's parser and its mappings into curated (assets/sources/dashboards.py makes them)
_streams_daily, _streams_totals = ({m.table: m.build for m in SOURCE.mappings}[t]
                                   for t in ("fct_streams_daily", "fct_streams_totals"))
parse_plays = PLAYS.parse

HEADER = ["Reporting Period", "Partner", "Artist(s)", "Release", "Track", "Country", "Units", "Revenue (USD)",
          "Revenue Share (%)", "Split Pay Share (%)"]
PREAMBLE = ["Account ID,4242424", "Report ID,3f1c9a2e-6b1d-4c55-9a1e-0c7d5e8b2f10"]


def ctx(name, **options):
    return ParseContext("soundcloud", "x", name, "0" * 64, datetime(2025, 7, 3, tzinfo=timezone.utc), None, options)


def revenue(*rows, header=HEADER):
    return delimited_bytes([header, *rows], preamble=PREAMBLE)


def line(period, track="Midnight Arcade", country="US", units="100", usd="0.25", partner="SoundCloud"):
    return [period, partner, "Nova Lights", "Midnight Arcade", track, country, units, usd, "55%", "100"]


def test_revenue_preamble_periods_and_countries():
    data = revenue(line("2025-03"), line("May 2025", country="Germany"), line("2025-04-01 - 2025-04-30", partner=""),
                   line("06/2025", units="1,200", usd="$3.00"), line("2025-03"))
    df = parse_revenue(data, ctx("soundcloud_revenue.csv"))
    assert df["sale_month"].tolist() == [date(2025, 3, 1), date(2025, 5, 1), date(2025, 4, 1), date(2025, 6, 1),
                                         date(2025, 3, 1)]
    assert df["reporting_date"].tolist() == [date(2025, 3, 31), date(2025, 5, 31), date(2025, 4, 30),
                                             date(2025, 6, 30), date(2025, 3, 31)]
    assert df["country"].tolist() == ["US", "DE", "US", "US", "US"]
    assert df["partner"].tolist() == ["SoundCloud"] * 5, "an empty partner is SoundCloud itself"
    assert df["units"].tolist() == [100, 100, 100, 1200, 100] and df["revenue_usd"].iloc[3] == 3.0
    assert df["revenue_share"].iloc[0] == 55.0
    assert df["line_seq"].tolist() == [1, 1, 1, 1, 2], "a repeated line of one report stays apart"


def test_revenue_into_royalties():
    df = parse_revenue(revenue(line("2025-03"), line("2025-03", track="", partner="YouTube")), ctx("r.csv"))
    out = _royalties({"revenue": df.assign(sha256="s", observed_at=pd.Timestamp("2025-07-03", tz="UTC"))})
    assert out["store"].tolist() == ["SoundCloud", "YouTube"]
    assert out["platform"].tolist() == ["soundcloud", "unknown"], "an unmapped partner is reported, not guessed"
    assert out["title"].tolist() == ["Midnight Arcade", "Midnight Arcade"]  # no track: the release
    assert out["item_type"].tolist() == ["Song", "Album"]
    assert out["earnings_usd"].tolist() == [0.25, 0.25] and out["quantity"].tolist() == [100, 100]
    assert out["team_percentage"].tolist() == [100.0, 100.0]


@pytest.mark.parametrize("data, message", [
    (revenue(line("2025-03"), header=[*HEADER[:7], "Revenue (EUR)", *HEADER[8:]]),
     "column 'Revenue (EUR)' is in EUR; royalties are kept in USD"),
    (revenue([v for i, v in enumerate(line("2025-03")) if i != 6], header=[h for h in HEADER if h != "Units"]),
     "missing column(s) 'Units'"),
    (revenue(line("2025-03"), line("Smarch 2025")), "column 'Reporting Period', line 5: 'Smarch 2025'"),
    (revenue(line("2025-03", units="many")), "column 'Units', line 4: 'many' is not a whole number"),
    (delimited_bytes([["Account ID", "1"], ["Something", "else"]]), "no header line with the columns 'Reporting Period' or 'Period'"),
])
def test_bad_revenue_names_the_problem(data, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_revenue(data, ctx("soundcloud_revenue.csv"))


def test_plays_per_track_and_country_artist_from_name_option_or_column():
    data = delimited_bytes([["Date", "Track", "Country", "Plays", "Likes", "Reposts"],
                            ["2025-05-01", "Midnight Arcade", "United States", "10", "1", "0"],
                            ["2025-05-01", "Midnight Arcade", "Germany", "5", "0", "0"],
                            ["2025-05-02", "Midnight Arcade", "United States", "1,204", "3", "1"]],
                           preamble=["SoundCloud Insights", "Plays, last 7 days"])
    df = parse_plays(data, ctx("Nova Lights_soundcloud_plays.csv"))
    assert set(df["artist"]) == {"Nova Lights"} and df["country"].tolist() == ["US", "DE", "US"]
    assert df["streams"].tolist() == [10, 5, 1204] and df["likes"].tolist() == [1, 0, 3]
    assert set(parse_plays(data, ctx("plays.csv", artist="Ivy Vale"))["artist"]) == {"Ivy Vale"}
    with pytest.raises(ParseError, match="ingest it with --artist NAME"):
        parse_plays(data, ctx("plays.csv"))
    staged = df.assign(sha256="s", observed_at=pd.Timestamp("2025-05-03", tz="UTC"))
    daily = _streams_daily({"plays": staged})
    assert daily[["date", "platform", "track", "streams"]].values.tolist() == [
        [date(2025, 5, 1), "soundcloud", "Midnight Arcade", 15], [date(2025, 5, 2), "soundcloud", "Midnight Arcade", 1204]]
    totals = _streams_totals({"plays": staged})
    assert totals[["period", "item", "streams"]].values.tolist() == [["2days", "US", 1214], ["2days", "DE", 5]]
    with_artist = delimited_bytes([["Date", "Artist", "Plays"], ["2025-05-01", "Ivy Vale", "3"]])
    assert parse_plays(with_artist, ctx("plays.csv"))["artist"].tolist() == ["Ivy Vale"]


def test_samples_round_trip(tmp_path):
    plays, rev = write_samples(tmp_path, seed=3, end=date(2025, 6, 30))
    assert PLAYS.matches_name(plays.name) and not REVENUE.matches_name(plays.name)
    assert REVENUE.matches_name(rev.name) and REVENUE.sniff(rev.name, rev.read_bytes()[:4096])
    assert rev.read_text().splitlines()[:2] == PREAMBLE
    p = parse_plays(plays.read_bytes(), ctx(plays.name))
    assert len(p) == 360 and p["date"].max() == date(2025, 6, 30) and set(p["artist"]) == {"Nova Lights"}
    r = parse_revenue(rev.read_bytes(), ctx(rev.name))
    assert r["sale_month"].max() == date(2025, 5, 1), "the current month is not reported yet"
    # units are the month's plays of the plays export (split by country, rounded down)
    may = p[(p["date"] >= date(2025, 5, 1)) & (p["date"] <= date(2025, 5, 31))]["streams"].sum()
    assert 0 < may - r[r["sale_month"] == date(2025, 5, 1)]["units"].sum() <= 9


def test_ingest_samples(local_env, tmp_path):
    write_samples(tmp_path / "soundcloud", seed=7)
    result = run("ingest", tmp_path / "soundcloud", "--json")
    assert result.exit_code == 0, result.output
    assert sorted((r["dataset"], r["status"]) for r in json.loads(result.stdout)) == [
        ("plays", "loaded"), ("revenue", "loaded")]
    assert query("SELECT store, platform, count(*) > 0 AS lines FROM fct_royalties GROUP BY ALL") == [
        {"store": "SoundCloud", "platform": "soundcloud", "lines": True}]
    assert query("SELECT DISTINCT source, platform, artist FROM v_streams_daily") == [
        {"source": "soundcloud", "platform": "soundcloud", "artist": "Nova Lights"}]
    assert query("SELECT priority FROM ref_stream_source_precedence WHERE source = 'soundcloud'") == [{"priority": 1}]
    rows = json.loads(run("kpis", "--json").stdout)
    royalties = query("SELECT sum(earnings_usd) AS usd FROM fct_royalties")[0]["usd"]
    assert {r["breakdown"]: r["value"] for r in rows if r["kpi"] == "revenue_usd_by_store"} == {
        "SoundCloud": pytest.approx(royalties)}
