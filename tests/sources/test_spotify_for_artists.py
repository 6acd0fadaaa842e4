"""Spotify for Artists exports: audience timelines (both headers), per-song timelines, song lists
and the web app's song-table JSON. No real file is in the fixtures (FORMATS.md: "seen
elsewhere"/documented), so every file here is written by the test, one per known trap."""

import json
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from assets.sources.base import ParseContext, ParseError
from assets.sources.spotify_for_artists import (
    AUDIENCE_TIMELINE,
    NAME,
    SONG_TIMELINE,
    _streams_totals,
    parse_audience_timeline,
    parse_song_list,
    parse_song_table,
    parse_song_timeline,
    song_timeline_names,
    window_label,
    write_samples,
)

OLD_HEADER = "date,listeners,streams,followers"
NEW_HEADER = ("date, listeners, monthly listeners, monthly active listeners, super listeners, streams, "
              "playlist adds, saves, followers")


def ctx(name, **options):
    return ParseContext(NAME, "x", name, "0" * 64, datetime(2025, 6, 2, tzinfo=timezone.utc), options=options)


def csv_bytes(lines, sep="\n", bom=True, encoding="utf-8"):
    return (("\ufeff" if bom else "") + sep.join(lines) + sep).encode(encoding)


def rx(text):
    """``text`` as a literal regular expression."""
    import re

    return re.escape(text)


# --- audience timeline --------------------------------------------------------------------------


def test_audience_old_header_bom_quotes_crlf_thousands_total_and_trailing_lines():
    data = csv_bytes([
        '"date","listeners","streams","followers"',
        '"2025-01-01","1,204","2,345","310"',
        '"2025-01-02","1,100","12,001","312"',
        '"Total","2,304","14,346",""',  # added in a spreadsheet: dropped, it would double the sums
        ",,,",  # Excel's line of separators
        "", "",
    ], sep="\r\n")
    df = parse_audience_timeline(data, ctx("ZONE A0-audience-timeline.csv"))
    assert df["date"].tolist() == [date(2025, 1, 1), date(2025, 1, 2)]
    assert df["streams"].tolist() == [2345, 12001]
    assert df["listeners"].tolist() == [1204, 1100]
    assert df["followers"].tolist() == [310, 312]
    assert df["artist"].unique().tolist() == ["ZONE A0"]
    assert df["monthly_listeners"].isna().all() and df["saves"].isna().all()


@pytest.mark.parametrize("header", [
    NEW_HEADER,
    "Date,Listeners,Monthly Listeners,Monthly_Active_Listeners,SUPER LISTENERS,Streams,Playlist-Adds,Saves,Followers",
    "date;listeners;monthly listeners;monthly active listeners;super listeners;streams;playlist adds;saves;followers",
])
def test_audience_newer_header_matched_case_and_space_insensitively(header):
    sep = ";" if ";" in header else ","
    row = sep.join(["2025-03-01", "40", "900", "310", "12", "55", "3", "4", "120"])
    df = parse_audience_timeline(csv_bytes([header, row], sep="\r"), ctx("ZONE A0-audience-timeline.csv"))
    assert df.iloc[0].to_dict() == {
        "artist": "ZONE A0", "date": date(2025, 3, 1), "listeners": 40, "monthly_listeners": 900,
        "monthly_active_listeners": 310, "super_listeners": 12, "streams": 55, "playlist_adds": 3,
        "saves": 4, "followers": 120,
    }


def test_audience_other_subset_and_extra_columns():
    # a variant seen in the wild: playlist adds and saves without the monthly columns; an unknown
    # extra column is ignored
    data = csv_bytes(["date,listeners,streams,followers,playlist adds,saves,notes", "2025-03-01,4,5,6,7,8,hi"])
    row = parse_audience_timeline(data, ctx("A-audience-timeline.csv")).iloc[0]
    assert (row["playlist_adds"], row["saves"], row["followers"]) == (7, 8, 6)
    assert pd.isna(row["monthly_listeners"])


@pytest.mark.parametrize("dates, expected", [
    (["2025-01-31", "2025-02-01"], [date(2025, 1, 31), date(2025, 2, 1)]),
    (["1/31/2025", "2/1/2025"], [date(2025, 1, 31), date(2025, 2, 1)]),  # Excel (US) re-save
    (["1/31/25", "2/1/25"], [date(2025, 1, 31), date(2025, 2, 1)]),  # ... with a two-digit year
    (["31/1/2025", "1/2/2025"], [date(2025, 1, 31), date(2025, 2, 1)]),  # a day-first re-save
    (["2025-01-31 00:00:00", "2025-02-01 00:00:00"], [date(2025, 1, 31), date(2025, 2, 1)]),
])
def test_audience_dates_iso_or_excel(dates, expected):
    data = csv_bytes([OLD_HEADER] + [f"{d},1,2,3" for d in dates], bom=False)
    assert parse_audience_timeline(data, ctx("A-audience-timeline.csv"))["date"].tolist() == expected


@pytest.mark.parametrize("name, options, artist", [
    ("ZONE A0-audience-timeline.csv", {}, "ZONE A0"),
    ("ZONE A0-audience-timeline (2).csv", {}, "ZONE A0"),
    ("zone a0-audience-timeline-2025.csv", {}, "zone a0"),
    ("PIG1987-audience-timeline_20250527_102936.csv", {}, "PIG1987"),
    ("ZONE A0-audience-timeline.csv", {"artist": "PIG1987"}, "PIG1987"),  # --artist wins
    ("62owJQCD2XzVB2o19CVsFM-audience-timeline.csv", {"artist": "ZONE A0"}, "ZONE A0"),
    ("export.csv", {"artist": "ZONE A0"}, "ZONE A0"),
])
def test_audience_artist_from_name_or_option(name, options, artist):
    data = csv_bytes([OLD_HEADER, "2025-01-01,1,2,3"])
    assert parse_audience_timeline(data, ctx(name, **options))["artist"].iloc[0] == artist


@pytest.mark.parametrize("name, message", [
    ("audience-timeline.csv", "no artist: the file name 'audience-timeline.csv' is not like "
                              "'<Artist>-audience-timeline.csv'; ingest it with --artist NAME"),
    ("62owJQCD2XzVB2o19CVsFM-audience-timeline.csv", "Spotify's artist id '62owJQCD2XzVB2o19CVsFM', not the "
                                                     "artist's name; ingest it with --artist NAME"),
])
def test_audience_without_artist_asks_for_it(name, message):
    with pytest.raises(ParseError, match=rx(message)):
        parse_audience_timeline(csv_bytes([OLD_HEADER, "2025-01-01,1,2,3"]), ctx(name))


@pytest.mark.parametrize("lines, message", [
    (["date,listeners,followers", "2025-01-01,1,3"], "missing column(s) 'streams'; the header has 'date', "
                                                     "'listeners', 'followers'"),
    ([OLD_HEADER, "2025-01-01,1,2,3", "2025-02-30,1,2,3"], "column 'date', line 3: '2025-02-30' is not a date"),
    ([OLD_HEADER, "2025-01-01,1,2,3", "1/2/2025,1,2,3"], "column 'date', line 3: '1/2/2025' is not a date "
                                                        "(expected like the file's other dates, e.g. 2025-01-31)"),
    ([OLD_HEADER, "1/1/2025,1,2,3", "13/13/2025,1,2,3"], "column 'date', line 3: '13/13/2025' is not a date"),
    ([OLD_HEADER, "yesterday,1,2,3"], "column 'date', line 2: 'yesterday' is not a date"),
    ([OLD_HEADER, ",1,2,3"], "column 'date', line 2: no date"),
    ([OLD_HEADER, "2025-01-01,1,2,3", "", "2025-01-02,1,12a,3"], "column 'streams', line 4: '12a' is not a whole number"),
    (["Date,Listeners,Streams,Followers", "2025-01-01,1,2,3.5"], "column 'Followers', line 2: '3.5' is not a whole"),
    ([OLD_HEADER, "2025-01-01,1,1.234,3"], "a '.' thousands separator is not accepted"),
    ([OLD_HEADER, "2025-01-01,1,2,3", "2025-01-02,1"], "line 3 has 2 fields, the header has 4"),
    ([OLD_HEADER], "no data rows"),
    ([OLD_HEADER, "Total,1,2,3"], "no data rows"),
    (["date,listeners,streams,streams,followers", "2025-01-01,1,2,2,3"], "the header names 'streams' twice"),
])
def test_audience_bad_input_names_column_and_line(lines, message):
    with pytest.raises(ParseError, match=rx(message)):
        parse_audience_timeline(csv_bytes(lines), ctx("ZONE A0-audience-timeline.csv"))


@pytest.mark.parametrize("data, message", [(b"", "empty"), (bytes(range(256)) * 20, "binary")])
def test_audience_empty_or_binary(data, message):
    with pytest.raises(ParseError, match=message):
        parse_audience_timeline(data, ctx("ZONE A0-audience-timeline.csv"))


def test_observed_at_is_the_day_after_the_last_day():
    hook = AUDIENCE_TIMELINE.observed_at
    iso = csv_bytes([OLD_HEADER, "2025-03-31,1,2,3", "2025-01-01,1,2,3", "Total,2,4,6"])
    assert hook("a.csv", iso) == datetime(2025, 4, 1, tzinfo=timezone.utc)
    excel = csv_bytes([OLD_HEADER, "5/30/2025,1,2,3", "5/31/2025,1,2,3"], sep="\r\n", bom=False)
    assert hook("a.csv", excel) == datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert SONG_TIMELINE.observed_at("s.csv", csv_bytes(["date,streams", "2024-12-31,5"])) == datetime(
        2025, 1, 1, tzinfo=timezone.utc)
    for junk in (b"", b"\x00\x01", csv_bytes(["date,streams", "soon,5"]), csv_bytes(["day,streams", "2025-01-01,5"])):
        assert hook("a.csv", junk) is None  # never raises: the lake falls back to --as-of / landing time


# --- per-song timeline --------------------------------------------------------------------------


@pytest.mark.parametrize("name, options, expected", [
    ("Nova Lights-Glass Harbour-timeline.csv", {}, ("Nova Lights", "Glass Harbour")),
    ("Nova Lights-Glass Harbour-timeline (2).csv", {}, ("Nova Lights", "Glass Harbour")),
    ("Nova Lights-Glass Harbour-timeline-20250601_101010.csv", {}, ("Nova Lights", "Glass Harbour")),
    ("Nova Lights-Glass Harbour-1year.csv", {}, ("Nova Lights", "Glass Harbour")),
    ("Nova Lights-Tide - Radio Edit-timeline.csv", {}, ("Nova Lights", "Tide - Radio Edit")),
    # Spotify's own name is the song alone: the artist comes from --artist
    ("Glass Harbour-timeline.csv", {}, (None, "Glass Harbour")),
    ("Tide - Radio Edit-timeline.csv", {}, (None, "Tide - Radio Edit")),
    ("Glass Harbour-timeline.csv", {"artist": "Nova Lights"}, ("Nova Lights", "Glass Harbour")),
    ("Half-Life-timeline.csv", {"artist": "Nova Lights"}, ("Nova Lights", "Half-Life")),
    ("nova lights-Half-Life-timeline.csv", {"artist": "Nova Lights"}, ("Nova Lights", "Half-Life")),
    ("Nova Lights-Half-Life-timeline.csv", {"track": "Half-Life"}, ("Nova Lights", "Half-Life")),
    ("anything.csv", {"artist": "A", "track": "T"}, ("A", "T")),
    ("Nova Lights-Timeline-timeline.csv", {}, ("Nova Lights", "Timeline")),
])
def test_song_timeline_names(name, options, expected):
    assert song_timeline_names(name, options) == expected


def test_song_timeline_parse():
    data = csv_bytes(['"date","streams"', '"6/1/2025","1,024"', '"6/2/2025","998"'], sep="\r\n")
    df = parse_song_timeline(data, ctx("Nova Lights-Glass Harbour-timeline.csv"))
    assert df.drop(columns="listeners").to_dict("list") == {
        "artist": ["Nova Lights"] * 2, "track": ["Glass Harbour"] * 2,
        "date": [date(2025, 6, 1), date(2025, 6, 2)], "streams": [1024, 998]}
    assert df["listeners"].isna().all()
    df = parse_song_timeline(data, ctx("x-timeline.csv", artist="Ivy Vale", track="Low Tide Radio"))
    assert (df["artist"].iloc[0], df["track"].iloc[0]) == ("Ivy Vale", "Low Tide Radio")


@pytest.mark.parametrize("name, lines, message", [
    ("Nova Lights-songs-1year.csv", ["date,streams", "2025-01-01,1"], "cannot tell which song"),
    ("Glass Harbour-timeline.csv", ["date,streams", "2025-01-01,1"], "ingest it with --artist NAME"),
    ("A-B-timeline.csv", ["date,listeners", "2025-01-01,1"], "missing column(s) 'streams'"),
    ("A-B-timeline.csv", ["date,streams", "2025-01-01,many"], "column 'streams', line 2: 'many'"),
    ("A-B-timeline.csv", ["date,streams", "01.02.2025,1"], "column 'date', line 2: '01.02.2025' is not a date"),
])
def test_song_timeline_bad_input(name, lines, message):
    with pytest.raises(ParseError, match=rx(message)):
        parse_song_timeline(csv_bytes(lines), ctx(name))


# --- song list ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, period", [
    ("Nova Lights-songs-1year.csv", "1year"),
    ("Nova Lights-songs-12months (2).csv", "1year"),
    ("Nova Lights-songs-28days.csv", "28days"),
    ("Nova Lights-songs-7day_20250601_120000.csv", "7days"),
    ("Nova Lights-songs-all.csv", "all"),
    ("Nova Lights-songs.csv", "export"),
    ("The Songs-songs-1year.csv", "1year"),
])
def test_song_list_period_from_name(name, period):
    data = csv_bytes(["song,listeners,streams,saves,release_date", "Glass Harbour,1,2,3,2024-01-05"])
    df = parse_song_list(data, ctx(name))
    assert (df["artist"].iloc[0], df["period"].iloc[0]) == (name.split("-songs")[0], period)


def test_song_list_traps():
    data = csv_bytes([
        '"song","listeners","streams","saves","release_date"',
        '"Glass Harbour","1,204","10,345","88","2024-01-05"',
        '"Total","1","2","3","2023-02-02"',  # a song called Total: it has a release date, so it stays
        '"Total","1,205","10,347","91",""',  # a spreadsheet's total row: no release date, dropped
    ], sep="\r")
    df = parse_song_list(data, ctx("Nova Lights-songs-1year.csv"))
    assert df["song"].tolist() == ["Glass Harbour", "Total"]
    assert df["streams"].tolist() == [10345, 2]
    assert df["release_date"].tolist() == [date(2024, 1, 5), date(2023, 2, 2)]
    excel = csv_bytes(["song,listeners,streams,saves,release_date", "A,1,2,3,1/5/2024", "B,1,2,3,"], bom=False)
    assert parse_song_list(excel, ctx("X-songs-1year.csv"))["release_date"].tolist() == [date(2024, 1, 5), None]


@pytest.mark.parametrize("lines, message", [
    (["song,listeners,saves", "A,1,2"], "missing column(s) 'streams'"),
    (["song,listeners,streams,saves,release_date", "A,1,2,lots,2024-01-01"], "column 'saves', line 2: 'lots'"),
    (["song,listeners,streams,saves,release_date", "A,1,2,3,2024-01-01", "B,1,2,3,soon"],
     "column 'release_date', line 3: 'soon' is not a date"),
])
def test_song_list_bad_input(lines, message):
    with pytest.raises(ParseError, match=rx(message)):
        parse_song_list(csv_bytes(lines), ctx("Nova Lights-songs-1year.csv"))


# --- song table (JSON) --------------------------------------------------------------------------


def song(name, streams, **kw):
    return {"id": kw.get("id", "1"), "trackName": name, "trackUri": kw.get("uri", f"spotify:track:{name[:4]}"),
            "releaseDate": kw.get("released", "2024-03-01"), "numStreams": streams, "numListeners": kw.get("listeners", 5),
            "numSavers": "2", "numCanvasViews": None}


@pytest.mark.parametrize("name, doc, expected", [
    ("Ivy Vale-song-table-28day.json", [song("Paper Satellites", 10)], [("28days", "Paper Satellites", 10)]),
    ("Ivy Vale-song-table.json", [song("Paper Satellites", 10)], [("export", "Paper Satellites", 10)]),
    ("Ivy Vale-songs-1year.json", {"timeFilter": "1year", "songs": [song("Paper Satellites", "1,234")]},
     [("1year", "Paper Satellites", 1234)]),
    ("Ivy Vale-song-table.json", {"timeFilter": "28day", "rows": [song("A", 1)], "artistId": "x"}, [("28days", "A", 1)]),
    ("Ivy Vale-songs-7day.json", {"data": {"songs": [song("A", 1)]}}, [("7days", "A", 1)]),
    ("Ivy Vale-song-table.json", {"7day": [song("A", 1)], "1year": {"rows": [song("A", 30)]}, "extractedAt": "x"},
     [("7days", "A", 1), ("1year", "A", 30)]),
    ("capture.json", {"artistName": "Ivy Vale", "12months": {"timeFilter": "all", "songs": [song("A", 99.0)]}},
     [("all", "A", 99)]),
])
def test_song_table_shapes(name, doc, expected):
    df = parse_song_table(json.dumps(doc).encode(), ctx(name))
    assert list(zip(df["period"], df["track"], df["streams"])) == expected
    assert df["artist"].unique().tolist() == ["Ivy Vale"]
    assert df["saves"].iloc[0] == 2 and pd.isna(df["canvas_views"].iloc[0])
    assert df["release_date"].iloc[0] == date(2024, 3, 1)


@pytest.mark.parametrize("name, doc, message", [
    ("I-song-table.json", {"1year": [song("A", "lots")]}, "song table: $.1year[0].numStreams: 'lots' is not a whole"),
    ("I-song-table.json", {"songs": [song("A", 1.5)]}, "$.songs[0].numStreams: 1.5 is not a whole number"),
    ("I-song-table.json", {"songs": [song("A", 1, released="March")]}, "$.songs[0].releaseDate: 'March' is not a date"),
    ("I-song-table.json", {"songs": [{"numStreams": 1}]}, "$.songs[0].trackName is missing"),
    ("I-song-table.json", {"songs": ["A"]}, "$.songs[0] is not an object"),
    ("I-song-table.json", {"status": "ok"}, "no list of songs at $"),
    ("I-song-table.json", {"songs": []}, "no songs in the file"),
    ("capture.json", [song("A", 1)], "ingest it with --artist NAME"),
    ("spotify_songs_62owJQCD2XzVB2o19CVsFM_1year_20251202_132232.json", [song("A", 1)],
     "Spotify's artist id '62owJQCD2XzVB2o19CVsFM'"),
])
def test_song_table_bad_input(name, doc, message):
    with pytest.raises(ParseError, match=rx(message)):
        parse_song_table(json.dumps(doc).encode(), ctx(name))
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_song_table(b'{"songs": [', ctx("I-song-table.json"))


@pytest.mark.parametrize("text, label", [
    ("1year", "1year"), ("12months", "1year"), ("365 days", "1year"), ("28day", "28days"), ("4weeks", "28days"),
    ("7day", "7days"), ("24hours", "1day"), ("1day", "1day"), ("all", "all"), ("alltime", "all"),
    ("since2015", "all"), ("90days", "90days"), ("last5years", "5years"), ("last28days", "28days"), ("nothing here", None),
])
def test_window_labels(text, label):
    assert window_label(text) == label


def test_totals_windows_all_time_zeros_and_repeated_titles():
    observed = pd.Timestamp("2025-06-02T00:00:00Z")
    song_list = pd.DataFrame({
        "artist": "A", "period": ["1year", "1year", "28days", "all", "all"],
        "song": ["Tide", "Tide", "Tide", "Tide", "Pier"],
        "release_date": [date(2024, 1, 1), date(2024, 5, 1), date(2024, 1, 1), date(2024, 1, 1), date(2024, 2, 1)],
        "listeners": pd.array([10, 20, 5, 0, 0], dtype="Int64"), "streams": pd.array([100, 200, 50, 900, 80], dtype="Int64"),
        "saves": pd.array([1, 2, 3, 0, 4], dtype="Int64"), "sha256": "s", "observed_at": observed,
    })
    out = _streams_totals({"song_list": song_list, "song_table": pd.DataFrame()})
    rows = {(r.period, r.item): r for r in out.itertuples()}
    assert set(rows) == {("1year", "Tide [2024-01-01]"), ("1year", "Tide [2024-05-01]"), ("28days", "Tide"),
                         ("all", "Tide"), ("all", "Pier")}
    year = rows[("1year", "Tide [2024-01-01]")]
    assert (year.period_start, year.period_end) == (date(2024, 6, 3), date(2025, 6, 2))
    assert rows[("28days", "Tide")].period_start == date(2025, 5, 6)
    assert rows[("all", "Tide")].period_start is None
    # the all-time window's listeners are all 0 (Spotify does not count them there): unknown
    assert pd.isna(rows[("all", "Tide")].listeners) and rows[("all", "Pier")].saves == 4
    assert set(out["dimension"]) == {"track"} and set(out["platform"]) == {"spotify"}


# --- recognising the files ----------------------------------------------------------------------


@pytest.mark.parametrize("name, head, dataset", [
    ("ZONE A0-audience-timeline (2).csv", OLD_HEADER, "audience_timeline"),
    ("export.csv", NEW_HEADER, "audience_timeline"),  # by content alone: the exact header
    ("Nova Lights-songs-1year.csv", "song,listeners,streams,saves,release_date", "song_list"),
    ("Nova Lights-songs-1year.csv", "date,streams", "song_timeline"),  # the content decides
    ("Glass Harbour-timeline.csv", "date,streams", "song_timeline"),
    ("Nova Lights-Glass Harbour-1year.csv", "date,streams", "song_timeline"),
    ("capture_20250601_101010.json", '{"songs": [{"trackName": "A", "numStreams": 1}]}', "song_table"),
])
def test_files_are_recognised(name, head, dataset):
    from assets.lake import Lake

    assert Lake(None).identify(name, head.encode() + b"\n") == (NAME, dataset)


def test_a_bare_date_streams_file_is_not_claimed():
    from assets.lake import Lake

    ident = Lake(None).identify("plays.csv", b"date,streams\n2025-01-01,4\n")
    assert ident is None or ident[0] != NAME


# --- samples ------------------------------------------------------------------------------------


def test_samples_parse(tmp_path):
    from assets.sources.samples import sample_spotify_daily

    paths = write_samples(tmp_path, seed=3, end=date(2025, 6, 30))
    by_name = {p.name: p for p in paths}
    assert len(paths) == 5
    nova = parse_audience_timeline(by_name["Nova Lights-audience-timeline.csv"].read_bytes(),
                                   ctx("Nova Lights-audience-timeline.csv"))
    assert nova["streams"].tolist() == [v for _, v in sample_spotify_daily(3, date(2025, 6, 30))]
    assert nova["monthly_listeners"].notna().all() and nova["date"].max() == date(2025, 6, 30)
    ivy = parse_audience_timeline(by_name["Ivy Vale-audience-timeline.csv"].read_bytes(),
                                  ctx("Ivy Vale-audience-timeline.csv"))
    assert ivy["monthly_listeners"].isna().all() and len(ivy) == 365
    assert AUDIENCE_TIMELINE.observed_at("x", by_name["Ivy Vale-audience-timeline.csv"].read_bytes()) == datetime(
        2025, 7, 1, tzinfo=timezone.utc)


# --- end to end through the CLI -----------------------------------------------------------------


@pytest.fixture
def drop(tmp_path):
    """Where the test puts its exports: beside, not above, the lake home of ``local_env``."""
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def invoke(*args):
    from click.testing import CliRunner

    from pipelines.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def ingest(*paths, options=()):
    result = invoke("ingest", *paths, *options, "--json")
    return result.exit_code, json.loads(result.stdout), result.output


def query(sql):
    result = invoke("query", sql, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def days(first, last):
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# export A: 2025-01-01..03-31, ISO dates, as Spotify writes it
A_DAYS = days(date(2025, 1, 1), date(2025, 3, 31))
A_ROWS = {d: (100 + i, 50 + i, 1000 + i) for i, d in enumerate(A_DAYS)}  # streams, listeners, followers
# export B: 2025-03-01..05-31 with other numbers on the shared days, re-saved by Excel (M/D/YYYY, CRLF, no BOM)
B_DAYS = days(date(2025, 3, 1), date(2025, 5, 31))
B_ROWS = {d: (5000 + i, 2000 + i, 3000 + i) for i, d in enumerate(B_DAYS)}


def export_a() -> bytes:
    return csv_bytes([OLD_HEADER] + [f"{d.isoformat()},{li},{s},{f}" for d, (s, li, f) in A_ROWS.items()])


def export_b() -> bytes:
    return csv_bytes([OLD_HEADER] + [f'{d.month}/{d.day}/{d.year},{li},"{s:,}",{f}' for d, (s, li, f) in B_ROWS.items()],
                     sep="\r\n", bom=False)


def expected_union():
    return {**{d: v for d, v in A_ROWS.items() if d < B_DAYS[0]}, **B_ROWS}


def assert_union_with_newer_numbers():
    rows = query("SELECT CAST(date AS VARCHAR) AS d, streams, listeners FROM fct_streams_daily "
                 "WHERE source = 'spotify_for_artists' ORDER BY date")
    expected = expected_union()
    assert [r["d"] for r in rows] == [d.isoformat() for d in sorted(expected)], "every day of the union, once"
    assert {date.fromisoformat(r["d"]): (r["streams"], r["listeners"]) for r in rows} == {
        d: (s, li) for d, (s, li, _) in expected.items()}
    assert query("SELECT DISTINCT artist, platform, track FROM fct_streams_daily WHERE source = 'spotify_for_artists'") == [
        {"artist": "ZONE A0", "platform": "spotify", "track": None}]
    audience = query("SELECT CAST(date AS VARCHAR) AS d, followers FROM fct_audience_daily WHERE artist = 'ZONE A0' "
                     "AND date IN ('2025-02-28', '2025-03-15', '2025-05-31') ORDER BY date")
    assert [r["followers"] for r in audience] == [A_ROWS[date(2025, 2, 28)][2], B_ROWS[date(2025, 3, 15)][2],
                                                 B_ROWS[date(2025, 5, 31)][2]]


@pytest.mark.parametrize("order", ["one call", "A then B", "B then A"])
def test_overlapping_exports_newer_wins_in_any_order(local_env, drop, order):
    # both under Spotify's one name for the export, in two folders
    a = drop / "march" / "ZONE A0-audience-timeline.csv"
    b = drop / "june" / "ZONE A0-audience-timeline.csv"
    for path, data in ((a, export_a()), (b, export_b())):
        path.parent.mkdir()
        path.write_bytes(data)
    batches = {"one call": [[drop]], "A then B": [[a], [b]], "B then A": [[b], [a]]}[order]
    for paths in batches:
        code, results, output = ingest(*paths)
        assert code == 0, output
        assert all(r["status"] == "loaded" for r in results), results
    assert_union_with_newer_numbers()
    if order == "one call":  # ingesting again changes nothing (once is enough: it is slow)
        code, results, output = ingest(b, a)
        assert code == 0 and {r["status"] for r in results} == {"duplicate"}, output
        assert_union_with_newer_numbers()


def test_same_file_under_one_name_in_two_folders(local_env, drop):
    for folder, data in (("a", export_a()), ("b", export_a()), ("c", export_b())):
        (drop / folder).mkdir()
        (drop / folder / "ZONE A0-audience-timeline.csv").write_bytes(data)
    code, results, output = ingest(drop)
    assert code == 0, output
    assert [r["status"] for r in results] == ["loaded", "duplicate", "loaded"]
    assert_union_with_newer_numbers()
    names = query("SELECT original_name, status FROM lake_files ORDER BY original_name")
    assert [n["original_name"] for n in names] == ["ZONE A0-audience-timeline (2).csv",
                                                   "ZONE A0-audience-timeline (3).csv",
                                                   "ZONE A0-audience-timeline.csv"]


def test_broken_files_are_quarantined_with_a_reason(local_env, drop):
    (drop / "ZONE A0-audience-timeline.csv").write_bytes(csv_bytes([OLD_HEADER, "2025-01-01,1,2,3",
                                                                       "2025-01-02,1,12a,3"]))
    (drop / "Glass Harbour-timeline.csv").write_bytes(csv_bytes(["date,streams", "2025-01-01,4"]))
    code, results, output = ingest(drop)
    assert code == 3, output
    reasons = {r["path"].rsplit("/", 1)[-1]: (r["status"], r["reason"]) for r in results}
    assert reasons["ZONE A0-audience-timeline.csv"] == (
        "quarantined", "ZONE A0-audience-timeline.csv: column 'streams', line 3: '12a' is not a whole number")
    status, reason = reasons["Glass Harbour-timeline.csv"]
    assert status == "quarantined" and "ingest it with --artist NAME" in reason
    assert query("SELECT count(*) AS n FROM fct_streams_daily WHERE source = 'spotify_for_artists'") == [{"n": 0}]


def test_artist_and_track_options_reach_the_parser(local_env, drop):
    path = drop / "Half-Life-timeline.csv"
    path.write_bytes(csv_bytes(["date,streams", "2025-01-01,4", "2025-01-02,6"]))
    code, results, output = ingest(path, options=("--artist", "Nova Lights"))
    assert code == 0, output
    assert query("SELECT artist, track, sum(streams) AS s FROM fct_streams_daily GROUP BY ALL") == [
        {"artist": "Nova Lights", "track": "Half-Life", "s": 10}]


def test_a_file_quarantined_for_want_of_an_artist_loads_when_ingested_with_one(local_env, drop):
    """The quarantine reason says "ingest it with --artist": doing so parses the same bytes again
    with the option, and the earlier landing no longer counts as quarantined."""
    path = drop / "Glass Harbour-timeline.csv"
    path.write_bytes(csv_bytes(["date,streams", "2025-01-01,4"]))
    assert ingest(path)[0] == 3
    code, results, output = ingest(path, options=("--artist", "Nova Lights"))
    assert code == 0 and [r["status"] for r in results] == ["loaded"], output
    assert query("SELECT artist, track, streams FROM fct_streams_daily") == [
        {"artist": "Nova Lights", "track": "Glass Harbour", "streams": 4}]
    assert query("SELECT status, count(*) AS n FROM lake_files GROUP BY 1 ORDER BY 1") == [
        {"status": "loaded", "n": 1}, {"status": "superseded", "n": 1}]
    # the same bytes with the same option again: a plain duplicate
    code, results, _ = ingest(path, options=("--artist", "Nova Lights"))
    assert code == 0 and [r["status"] for r in results] == ["duplicate"]


def test_samples_ingest_without_options(local_env, drop):
    from assets.sources.samples import sample_spotify_daily

    end = date(2025, 6, 30)
    paths = write_samples(drop, seed=5, end=end)
    code, results, output = ingest(drop)
    assert code == 0, output
    assert [(r["source"], r["status"]) for r in results] == [(NAME, "loaded")] * len(paths)
    daily = query("SELECT artist, coalesce(track, '') AS track, count(*) AS n, sum(streams) AS s, "
                  "CAST(max(date) AS VARCHAR) AS last FROM fct_streams_daily GROUP BY ALL ORDER BY ALL")
    main = sum(v for _, v in sample_spotify_daily(5, end))
    assert [(r["artist"], r["track"], r["n"], r["last"]) for r in daily] == [
        ("Ivy Vale", "", 365, "2025-06-30"), ("Nova Lights", "", 365, "2025-06-30"),
        ("Nova Lights", "Glass Harbour", 365, "2025-06-30")]
    assert daily[1]["s"] == main
    totals = query("SELECT artist, period, CAST(period_start AS VARCHAR) AS start, CAST(period_end AS VARCHAR) AS "
                   "stop, count(*) AS n, sum(streams) AS s FROM fct_streams_totals GROUP BY ALL ORDER BY ALL")
    assert [(t["artist"], t["period"], t["start"], t["stop"], t["n"]) for t in totals] == [
        ("Ivy Vale", "1year", "2024-07-02", "2025-07-01", 2), ("Ivy Vale", "28days", "2025-06-04", "2025-07-01", 2),
        ("Ivy Vale", "7days", "2025-06-25", "2025-07-01", 2), ("Nova Lights", "1year", "2024-07-02", "2025-07-01", 3)]
    assert totals[-1]["s"] == main, "the song list shares out the year's streams"
    assert query("SELECT count(*) AS n, count(monthly_listeners) AS m FROM fct_audience_daily") == [{"n": 730, "m": 365}]
    code, results, output = ingest(drop)
    assert code == 0 and {r["status"] for r in results} == {"duplicate"}, output
    assert query("SELECT count(*) AS n FROM fct_streams_daily") == [{"n": 365 * 3}]
