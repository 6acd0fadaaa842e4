"""Deezer for Creators (shape from Deezer's help pages, no real export known): French headers,
`;` Excel re-saves with day-first dates, a title line, header variants, errors, samples and the
CLI ingest."""

import json
import re
from datetime import date, datetime, timezone

import pytest

from assets.sources.base import ParseContext, ParseError
from assets.sources.deezer import STREAMS, write_samples
from assets.sources.samples import delimited_bytes
from tests.cli_helpers import query, run

parse_streams = STREAMS.parse  # assets/sources/dashboards.py makes it


def ctx(name="Ivy Vale - deezer.csv", **options):
    return ParseContext("deezer", "streams", name, "0" * 64, datetime(2025, 7, 1, tzinfo=timezone.utc), None, options)


def test_french_excel_resave_day_first():
    rows = [["Jour", "Titre", "Pays", "Écoutes", "Auditeurs"], ["01/02/2025", "Paper Satellites", "France", "1 204", "800"],
            ["13/02/2025", "Paper Satellites", "France", "7", "5"]]
    data = delimited_bytes(rows, sep=";", bom=True, preamble=["Statistiques"])
    df = parse_streams(data, ctx())
    assert df["date"].tolist() == [date(2025, 2, 1), date(2025, 2, 13)], "13/02 makes the file day-first"
    assert df["streams"].tolist() == [1204, 7] and df["country"].tolist() == ["FR", "FR"]
    assert set(df["artist"]) == {"Ivy Vale"}


def test_english_headers_and_utf16():
    rows = [["Date", "Artist", "Track Title", "Daily Streams", "Daily Listeners", "Favorites"],
            ["2025-02-01", "Ivy Vale", "Low Tide Radio", "3", "2", "1"]]
    df = parse_streams(delimited_bytes(rows, encoding="utf-16", preamble=["sep=,"]), ctx("export.csv"))
    assert df[["artist", "track", "streams", "listeners", "saves"]].values.tolist() == [
        ["Ivy Vale", "Low Tide Radio", 3, 2, 1]]


@pytest.mark.parametrize("rows, message", [
    ([["Jour", "Écoutes"], ["01/02/2025", "3"], ["02/13/2025", "1"], ["13/02/2025", "1"]],
     "mixes day-first and month-first dates"),
    ([["Jour", "Écoutes"], ["01/02/2025", "3,5"]], "column 'Écoutes', line 2: '3,5' is not a whole number"),
    ([["Jour", "Titre", "Écoutes"], ["01/02/2025", "A", "3"]], "ingest it with --artist NAME"),
])
def test_bad_files_name_the_problem(rows, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_streams(delimited_bytes(rows, sep=";"), ctx("export.csv" if "artist" in message else "Ivy Vale_deezer.csv"))


def test_samples_round_trip(tmp_path):
    [path] = write_samples(tmp_path, seed=3, end=date(2025, 6, 30))
    assert STREAMS.matches_name(path.name)
    df = parse_streams(path.read_bytes(), ctx(path.name))
    assert len(df) == 180 and df["date"].max() == date(2025, 6, 30) and set(df["artist"]) == {"Ivy Vale"}
    assert df["isrc"].str.startswith("QZIVY").all()


def test_ingest_samples(local_env, tmp_path):
    [path] = write_samples(tmp_path / "deezer", seed=7)
    result = run("ingest", tmp_path / "deezer", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["source"], r["status"]) for r in json.loads(result.stdout)] == [("deezer", "loaded")]
    expected = parse_streams(path.read_bytes(), ctx(path.name))["streams"].sum()
    assert query("SELECT platform, artist, count(DISTINCT track) AS tracks, sum(streams) AS streams "
                 "FROM v_streams_daily GROUP BY ALL") == [
        {"platform": "deezer", "artist": "Ivy Vale", "tracks": 2, "streams": expected}]
