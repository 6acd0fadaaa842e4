"""TooLost portal JSON: Spotify and Apple Music daily streams into fct_streams_daily."""

import json
from datetime import date, datetime, timezone

import pytest

from assets.sources.base import ParseContext, ParseError
from assets.sources.toolost import parse_apple, parse_spotify, write_samples


def ctx(name):
    return ParseContext("toolost", "x", name, "0" * 64, datetime(2025, 5, 27, tzinfo=timezone.utc))


def test_real_fixtures(bedrot):
    folder = bedrot / "toolost"
    sp = parse_spotify((folder / "toolost_spotify_20250526_141126.json").read_bytes(), ctx("s.json"))
    daily = sp[sp["metric"] == "streams"]
    assert len(daily) == 107 and daily["streams"].sum() == 98286
    assert (daily["date"].min(), daily["date"].max()) == (date(2025, 2, 7), date(2025, 5, 24))
    assert sp[sp["metric"] == "discovery"]["fees_usd"].iloc[0] == pytest.approx(2.93076245)
    ap = parse_apple((folder / "toolost_apple_20250526_141126.json").read_bytes(), ctx("a.json"))
    streams = ap[ap["series"] == "totalStreams"]
    assert len(streams) == 104 and streams["value"].sum() == 2655
    assert ap[ap["series"] == "tracksTotal"]["isrc"].str.len().eq(12).all()
    assert len(ap[ap["series"] == "countryTotal"]) == 45


def test_samples_round_trip(tmp_path):
    sp, ap = write_samples(tmp_path, seed=2, end=date(2025, 6, 30))
    assert parse_spotify(sp.read_bytes(), ctx(sp.name))["date"].max() == date(2025, 6, 30)
    assert len(parse_apple(ap.read_bytes(), ctx(ap.name))) > 100


@pytest.mark.parametrize("doc, message", [
    ({"streams": [{"date": "2025-01-01", "streams": "12a"}]}, "streams.streams', line 1: '12a'"),
    ({"streams": [{"date": "01/02/2025x", "streams": "1"}]}, "streams.date', line 1"),
    ({"discovery": []}, "missing list(s) 'streams'"),
])
def test_spotify_bad_input(doc, message):
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_spotify(json.dumps(doc).encode(), ctx("toolost_spotify_x.json"))


def test_apple_incomplete_export_is_refused():
    doc = {"totalStreams": [{"date": "2025-01-01", "streams": 3}], "streamTotal": 5}
    with pytest.raises(ParseError, match="streamTotal is 5 but the daily totalStreams add up to 3"):
        parse_apple(json.dumps(doc).encode(), ctx("toolost_apple_x.json"))
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_apple(b'{"totalStreams": [', ctx("toolost_apple_x.json"))


def test_ingest_beside_distrokid(local_env, bedrot):
    from click.testing import CliRunner

    from pipelines.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["ingest", str(bedrot / "toolost"), str(bedrot / "distrokid"), "--json"])
    assert result.exit_code == 0, result.output
    out = runner.invoke(main, ["query", "SELECT source, platform, count(*) AS days, sum(streams) AS s FROM "
                                        "fct_streams_daily WHERE source = 'toolost' GROUP BY ALL ORDER BY platform",
                               "--format", "json"])
    assert json.loads(out.stdout) == [{"source": "toolost", "platform": "apple_music", "days": 104, "s": 2655},
                                      {"source": "toolost", "platform": "spotify", "days": 107, "s": 98286}]
    # distributors report their own catalogues: on days both report Spotify, both account rows
    # stay in v_streams_daily (scope = the distributor) and the account's day is their sum
    out = runner.invoke(main, ["query", "SELECT count(*) AS n FROM (SELECT 1 FROM v_streams_daily "
                                        "GROUP BY date, platform, artist, track, scope HAVING count(*) > 1)",
                               "--format", "json"])
    assert json.loads(out.stdout) == [{"n": 0}]
    out = runner.invoke(main, ["query", "SELECT source, scope, streams FROM v_streams_daily WHERE platform = 'spotify' "
                                        "AND date = DATE '2025-03-01' ORDER BY source", "--format", "json"])
    rows = json.loads(out.stdout)
    assert [(r["source"], r["scope"]) for r in rows] == [("distrokid", "distrokid"), ("toolost", "toolost")]
    out = runner.invoke(main, ["query", "SELECT source, streams FROM v_streams_account_daily WHERE platform = 'spotify' "
                                        "AND date = DATE '2025-03-01'", "--format", "json"])
    assert json.loads(out.stdout) == [{"source": "distrokid,toolost", "streams": sum(r["streams"] for r in rows)}]
    # per-track (ISRC) and per-country totals over the window of the file's daily series
    out = runner.invoke(main, ["query", "SELECT source, dimension, min(period_start) AS s, max(period_end) AS e, "
                                        "count(*) AS n, count(isrc) AS isrcs, sum(streams) AS streams "
                                        "FROM fct_streams_totals GROUP BY ALL ORDER BY ALL", "--format", "json"])
    rows = json.loads(out.stdout)
    toolost = [r for r in rows if r["source"] == "toolost"]
    assert [(r["dimension"], r["n"], r["isrcs"], r["streams"], r["s"], r["e"]) for r in toolost] == [
        ("country", 45, 0, 2655, "2025-02-07", "2025-05-22"),
        ("track", 9, 9, 2655, "2025-02-07", "2025-05-22"),
    ]
    # DistroKid's Apple Music page: one-year charts by country and track, ending the day before the save
    dk = {r["dimension"]: r for r in rows if r["source"] == "distrokid"}
    assert set(dk) == {"country", "track"} and dk["country"]["e"] == "2025-05-26"
    assert dk["country"]["streams"] > 10033  # US alone has 10,033
