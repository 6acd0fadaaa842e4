"""Apple Music for Artists (shape from Apple's help pages, no real export known): header
variants, per-song and per-country days, date styles, errors, samples, and the CLI ingest into
fct_streams_daily at an artist dashboard's precedence."""

import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.sources.apple_music import PLAYS, SOURCE, write_samples
from assets.sources.base import ParseContext, ParseError
from assets.sources.samples import delimited_bytes
from tests.cli_helpers import query, run

# the dataset's parser and its mappings into curated (assets/sources/dashboards.py makes them)
_streams_daily, _streams_totals = ({m.table: m.build for m in SOURCE.mappings}[t]
                                   for t in ("fct_streams_daily", "fct_streams_totals"))
parse_plays = PLAYS.parse


def ctx(name="Nova Lights_apple_music.csv", **options):
    return ParseContext("apple_music", "plays", name, "0" * 64, datetime(2025, 7, 1, tzinfo=timezone.utc), None,
                        options)


def staged(df, observed="2025-07-01"):
    return df.assign(sha256="s", observed_at=pd.Timestamp(observed, tz="UTC"))


@pytest.mark.parametrize("header", [
    ["Date", "Song", "ISRC", "Plays", "Listeners", "Shazams"],
    ["day", "song name", "isrc", "total plays", "unique listeners", "shazam count"],
    ["Shazams", "Listeners", "Plays", "Song_Title", "ISRC", "Date"],  # any order
])
def test_header_variants(header):
    order = {"date": "2025-06-01", "day": "2025-06-01", "song": "Midnight Arcade", "isrc": "QZNOV2400001", "plays": "1,234",
             "listeners": "900", "shazam": "3"}
    cells = [next(v for k, v in order.items() if k in h.lower().replace("_", " ")) for h in header]
    df = parse_plays(delimited_bytes([header, cells]), ctx())
    assert df[["date", "artist", "track", "isrc", "streams", "listeners", "shazams"]].values.tolist() == [
        [date(2025, 6, 1), "Nova Lights", "Midnight Arcade", "QZNOV2400001", 1234, 900, 3]]
    assert PLAYS.sniff("x.csv", delimited_bytes([header, cells])), "Shazams tell an Apple file"


def test_countries_excel_dates_and_totals():
    rows = [["Date", "Country or Region", "Plays", "Listeners"],
            ["6/1/2025", "United States", "10", "8"], ["6/1/2025", "Mexico", "4", "4"],
            ["6/13/2025", "United States", "7", "6"], ["Total", "", "21", ""]]
    df = parse_plays(delimited_bytes(rows, quote_all=True, bom=True), ctx())
    assert df["date"].tolist() == [date(2025, 6, 1), date(2025, 6, 1), date(2025, 6, 13)], "the Total row is not a day"
    assert df["country"].tolist() == ["US", "MX", "US"]
    daily = _streams_daily({"plays": staged(df)})
    assert daily[["date", "streams"]].values.tolist() == [[date(2025, 6, 1), 14], [date(2025, 6, 13), 7]]
    assert daily["track"].isna().all() and set(daily["platform"]) == {"apple_music"}
    # listeners of several countries do not add up: unknown on a day split by country
    assert daily["listeners"].isna().tolist() == [True, False]
    totals = _streams_totals({"plays": staged(df)})
    assert totals[["period_start", "period_end", "period", "dimension", "item", "streams"]].values.tolist() == [
        [date(2025, 6, 1), date(2025, 6, 13), "13days", "country", "US", 17],
        [date(2025, 6, 1), date(2025, 6, 13), "13days", "country", "MX", 4]]


@pytest.mark.parametrize("rows, name, message", [
    ([["Date", "Listeners"], ["2025-06-01", "3"]], "Nova Lights_apple_music.csv",
     "no header line with the columns 'Date'+'Plays'"),
    ([["Date", "Plays"], ["2025-06-01", "3"], ["2025-06-31", "4"]], "Nova Lights_apple_music.csv",
     "column 'Date', line 3: '2025-06-31' is not a date"),
    ([["Date", "Plays"], ["2025-06-01", "3"], ["2025-06-02", "4.5"]], "Nova Lights_apple_music.csv",
     "column 'Plays', line 3: '4.5' is not a whole number"),
    ([["Date", "Plays"], ["2025-06-01", "3"]], "export.csv", "no artist"),
    ([["Date", "Plays"], ["2025-06-01", "3"]], "export_apple_music.csv", "no artist"),
    ([["Date", "Plays"], ["2025-06-01", "3"], ["2025-06-01", "4"]], "Nova Lights_apple_music.csv",
     "lines 2 and 3 are the same day, song and country"),
    ([["Date", "Plays"], ["2025-06-01", "3"], ["06/02/2025", "4"]], "Nova Lights_apple_music.csv",
     "column 'Date', line 3: '06/02/2025' is not a date (expected like the file's other dates"),
])
def test_bad_files_name_the_problem(rows, name, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_plays(delimited_bytes(rows), ctx(name))


def test_artist_and_track_options():
    data = delimited_bytes([["Date", "Plays"], ["2025-06-01", "3"]])
    df = parse_plays(data, ctx("export.csv", artist="Ivy Vale", track="Paper Satellites"))
    assert df[["artist", "track"]].values.tolist() == [["Ivy Vale", "Paper Satellites"]]
    assert PLAYS.observed_at("x.csv", data) == datetime(2025, 6, 2, tzinfo=timezone.utc)


def test_samples_round_trip(tmp_path):
    songs, countries = write_samples(tmp_path, seed=3, end=date(2025, 6, 30))
    for path in (songs, countries):
        assert PLAYS.matches_name(path.name)
    s = parse_plays(songs.read_bytes(), ctx(songs.name))
    assert len(s) == 182 * 3 and set(s["artist"]) == {"Nova Lights"} and s["isrc"].notna().all()
    c = parse_plays(countries.read_bytes(), ctx(countries.name))
    assert set(c["country"]) == {"US", "GB", "DE", "MX"} and c["date"].max() == date(2025, 6, 30)


def test_ingest_samples(local_env, tmp_path):
    write_samples(tmp_path / "apple_music", seed=7)
    result = run("ingest", tmp_path / "apple_music", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["source"], r["status"]) for r in json.loads(result.stdout)] == [("apple_music", "loaded")] * 2
    assert query("SELECT platform, scope, count(DISTINCT track) AS tracks, count(*) FILTER (WHERE track IS NULL) AS "
                 "totals FROM v_streams_daily GROUP BY ALL") == [
        {"platform": "apple_music", "scope": "artist", "tracks": 3, "totals": 28}]
    assert query("SELECT source, priority FROM ref_stream_source_precedence WHERE source IN ('apple_music', "
                 "'distrokid') ORDER BY priority") == [{"source": "apple_music", "priority": 1},
                                                       {"source": "distrokid", "priority": 3}]
    assert query("SELECT dimension, count(*) AS n FROM fct_streams_totals GROUP BY ALL") == [
        {"dimension": "country", "n": 4}]
