"""Amazon Music for Artists (shape from Amazon's help pages, no real export known): header
variants, an artist column, countries, preamble lines, errors, samples and the CLI ingest."""

import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.sources.amazon_music import SOURCE, STREAMS, write_samples
from assets.sources.base import ParseContext, ParseError
from assets.sources.samples import delimited_bytes
from tests.cli_helpers import query, run

# the dataset's parser and its mappings into curated (assets/sources/dashboards.py makes them)
_streams_daily, _streams_totals = ({m.table: m.build for m in SOURCE.mappings}[t]
                                   for t in ("fct_streams_daily", "fct_streams_totals"))
parse_streams = STREAMS.parse


def ctx(name="amazon_music_streams.csv", **options):
    return ParseContext("amazon_music", "streams", name, "0" * 64, datetime(2025, 7, 1, tzinfo=timezone.utc), None,
                        options)


@pytest.mark.parametrize("rows", [
    [["Date", "Artist", "Song", "Streams", "Listeners"], ["2025-06-01", "Nova Lights", "Glass Harbour", "12", "9"]],
    [["Stream Date", "Artist Name", "Track Name", "Total Streams", "Total Listeners"],
     ["Jun 1, 2025", "Nova Lights", "Glass Harbour", "12", "9"]],
    [["Amazon Music for Artists"], ["Nova Lights · Last 28 days"], [],
     ["Day", "Artist Name", "Title", "Streams", "Unique Listeners"], ["01-06-2025", "Nova Lights", "Glass Harbour", "12", "9"]],
])
def test_header_variants_and_preamble(rows):
    df = parse_streams(delimited_bytes(rows, newline="\r\n"), ctx())
    assert df[["date", "artist", "track", "streams", "listeners"]].values.tolist() == [
        [date(2025, 6, 1), "Nova Lights", "Glass Harbour", 12, 9]]


def test_countries_add_up_per_day_and_total_per_window():
    rows = [["Date", "Country", "Streams", "Listeners"], ["2025-06-01", "US", "10", "8"], ["2025-06-01", "JP", "2", "2"],
            ["2025-06-02", "US", "5", "4"], ["2025-06-02", "JP", "0", "0"]]
    df = parse_streams(delimited_bytes(rows), ctx("Nova Lights - amazon music.csv"))
    assert set(df["artist"]) == {"Nova Lights"}, "the artist from the name, before 'amazon music'"
    staged = df.assign(sha256="s", observed_at=pd.Timestamp("2025-06-03", tz="UTC"))
    daily = _streams_daily({"streams": staged})
    assert daily["streams"].tolist() == [12, 5] and set(daily["platform"]) == {"amazon_music"}
    totals = _streams_totals({"streams": staged})
    assert totals[["period", "item", "streams"]].values.tolist() == [["2days", "US", 15], ["2days", "JP", 2]]


@pytest.mark.parametrize("rows, message", [
    ([["Date", "Artist", "Listeners"], ["2025-06-01", "Nova", "3"]], "no header line with the columns 'Date'+'Streams'"),
    ([["Date", "Artist", "Streams"], ["2025-06-01", "", "3"]], "column 'Artist', line 2: the artist is empty"),
    ([["Date", "Artist", "Streams"], ["2025-06-01", "Nova", "-"], ["yesterday", "Nova", "1"]],
     "column 'Date', line 3: 'yesterday' is not a date"),
    ([["Date", "Artist", "Streams"], ["2025-06-01", "Nova", "1"], ["2025-06-02", "Nova"]], "line 3 has 2 fields"),
])
def test_bad_files_name_the_problem(rows, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_streams(delimited_bytes(rows), ctx())


def test_samples_round_trip(tmp_path):
    [path] = write_samples(tmp_path, seed=3, end=date(2025, 6, 30))
    assert STREAMS.matches_name(path.name) and b"\r\n" in path.read_bytes()
    df = parse_streams(path.read_bytes(), ctx(path.name))
    assert len(df) == 60 * 4 and df["date"].max() == date(2025, 6, 30) and set(df["artist"]) == {"Nova Lights"}


def test_ingest_samples(local_env, tmp_path):
    [path] = write_samples(tmp_path / "amazon", seed=7)
    result = run("ingest", tmp_path / "amazon", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["source"], r["dataset"], r["status"]) for r in json.loads(result.stdout)] == [
        ("amazon_music", "streams", "loaded")]
    expected = parse_streams(path.read_bytes(), ctx(path.name))["streams"].sum()
    assert query("SELECT platform, artist, count(*) AS days, sum(streams) AS streams FROM v_streams_daily "
                 "GROUP BY ALL") == [{"platform": "amazon_music", "artist": "Nova Lights", "days": 60,
                                      "streams": expected}]
    assert query("SELECT count(*) AS n FROM fct_streams_totals WHERE source = 'amazon_music'") == [{"n": 4}]
