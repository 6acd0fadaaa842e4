"""YouTube: the Studio export (zip or its CSVs) and Analytics API reports into fct_social_daily
and fct_social_posts."""

import io
import json
import zipfile
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.lake.landing import identify
from assets.sources import SOURCES
from assets.sources.base import ParseContext, ParseError, UnusedContent
from assets.sources.youtube import (
    _social_daily,
    _social_posts,
    parse_analytics_api,
    parse_studio_export,
    studio_observed_at,
    write_samples,
)
from tests.cli_helpers import query, run

LANDED = datetime(2025, 4, 2, 9, 0, tzinfo=timezone.utc)
ZIP_NAME = "Content 2025-03-01_2025-03-31 Nova Lights.zip"
TABLE = ("\ufeffContent,Video title,Video publish time,Duration,Views,Watch time (hours),Subscribers,Impressions,"
         "Impressions click-through rate (%)\n"
         "Total,,,,\"1,530\",40.5,12,20000,7.65\n"
         "dQw4w9WgXcQ,Midnight Arcade (Official Video),\"Jan 5, 2025\",212,\"1,200\",33.1,10,15000,8\n"
         "abcDEF12345,\"Glass Harbour, live\",2025-02-11,185,330,7.4,2,5000,6.6\n")
CHART = ("Date,Content,Video title,Video publish time,Duration,Views\n"
         "2025-03-30,dQw4w9WgXcQ,Midnight Arcade (Official Video),\"Jan 5, 2025\",212,40\n"
         "2025-03-31,dQw4w9WgXcQ,Midnight Arcade (Official Video),\"Jan 5, 2025\",212,45\n"
         "2025-03-31,abcDEF12345,\"Glass Harbour, live\",2025-02-11,185,12\n")
TOTALS = "Date,Views\n30-03-2025,52\n31-03-2025,57\n01-04-2025,3\n"


def ctx(name, as_of=None, **options):
    return ParseContext("youtube", "x", name, "0" * 64, LANDED, as_of, options)


def studio_zip(**members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body.encode("utf-8"))
    return buf.getvalue()


def report(dims, metrics, rows):
    return json.dumps({"kind": "youtubeAnalytics#resultTable",
                       "columnHeaders": [{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dims]
                       + [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics],
                       **({"rows": rows} if rows is not None else {})}).encode()


# --- the Studio export -----------------------------------------------------------------------------


def test_studio_zip_total_row_dates_and_window():
    data = studio_zip(**{"Table data.csv": TABLE, "Chart data.csv": CHART, "Totals.csv": TOTALS})
    df = parse_studio_export(data, ctx(ZIP_NAME))
    assert set(df["account"]) == {"Nova Lights"}
    table = df[df["kind"] == "video_window"].set_index("video_id")
    assert list(table.index) == ["dQw4w9WgXcQ", "abcDEF12345"], "the Total row is not a video"
    assert table.loc["dQw4w9WgXcQ", "views"] == 1200 and table.loc["abcDEF12345", "title"] == "Glass Harbour, live"
    assert table.loc["dQw4w9WgXcQ", "watch_time_hours"] == pytest.approx(33.1)
    assert (table["period_start"] == date(2025, 3, 1)).all() and (table["date"] == date(2025, 3, 31)).all()
    assert table.loc["dQw4w9WgXcQ", "published_at"] == pd.Timestamp("2025-01-05", tz="UTC")
    chart = df[df["kind"] == "video_day"]
    assert sorted(zip(chart["date"], chart["video_id"], chart["views"])) == [
        (date(2025, 3, 30), "dQw4w9WgXcQ", 40), (date(2025, 3, 31), "abcDEF12345", 12),
        (date(2025, 3, 31), "dQw4w9WgXcQ", 45)]
    totals = df[df["kind"] == "channel_day"]  # DD-MM-YYYY: 01-04 is the 1st of April, not January 4
    assert list(zip(totals["date"], totals["views"])) == [
        (date(2025, 3, 30), 52), (date(2025, 3, 31), 57), (date(2025, 4, 1), 3)]
    assert totals["video_id"].isna().all()
    assert studio_observed_at(ZIP_NAME) == datetime(2025, 4, 1, tzinfo=timezone.utc)


def test_an_export_by_another_dimension_keeps_only_its_totals():
    geo_table = "Geography,Views,Watch time (hours)\nTotal,100,3.5\nUS,60,2\nDE,40,1.5\n"
    geo_chart = "Date,Geography,Views\n2025-03-30,US,30\n"
    name = "Geography 2025-03-01_2025-03-31 Nova Lights.zip"
    df = parse_studio_export(studio_zip(**{"Table data.csv": geo_table, "Chart data.csv": geo_chart,
                                           "Totals.csv": TOTALS}), ctx(name))
    assert set(df["kind"]) == {"channel_day"} and df["views"].sum() == 52 + 57 + 3
    with pytest.raises(UnusedContent, match="other than video"):
        parse_studio_export(studio_zip(**{"Table data.csv": geo_table}), ctx(name))


def test_bare_members_need_the_channel():
    with pytest.raises(ParseError, match=r"--account"):
        parse_studio_export(TOTALS.encode(), ctx("Totals.csv"))
    df = parse_studio_export(TOTALS.replace("30-03-2025", "2025-03-30").encode(), ctx("Totals.csv", account="@nova"))
    assert set(df["account"]) == {"nova"} and df["date"].min() == date(2025, 3, 30)
    # a bare Table data.csv has no window in its name: it ends on --as-of
    table = parse_studio_export(TABLE.encode(), ctx("Table data.csv", as_of=date(2025, 3, 31), account="nova"))
    assert len(table) == 2 and set(table["date"]) == {date(2025, 3, 31)} and table["period_start"].isna().all()


def test_studio_errors_name_the_file_line_and_value():
    bad = CHART.replace("dQw4w9WgXcQ,Midnight Arcade (Official Video),\"Jan 5, 2025\",212,45", "d Q,x,,212,45")
    with pytest.raises(ParseError, match=r"Chart data.csv.*'Content', line 3: 'd Q' is not a YouTube video id"):
        parse_studio_export(studio_zip(**{"Chart data.csv": bad}), ctx(ZIP_NAME))
    with pytest.raises(ParseError, match=r"column 'Date', line 2: '2025-13-45' is not a date"):
        parse_studio_export(studio_zip(**{"Totals.csv": "Date,Views\n2025-13-45,3\n"}), ctx(ZIP_NAME))
    with pytest.raises(ParseError, match=r"holds none of .*it holds: notes.txt"):
        parse_studio_export(studio_zip(**{"notes.txt": "hello"}), ctx(ZIP_NAME))
    with pytest.raises(ParseError, match=r"'Views', line 2: '1.5' is not a whole number"):
        parse_studio_export(studio_zip(**{"Totals.csv": "Date,Views\n2025-03-01,1.5\n"}), ctx(ZIP_NAME))


def test_recognised_by_name_and_header():
    assert identify(SOURCES, ZIP_NAME, b"PK\x03\x04") == ("youtube", "studio_export")
    for body in (TABLE, CHART, TOTALS):
        assert identify(SOURCES, "export.csv", body.encode()) == ("youtube", "studio_export")
    assert identify(SOURCES, "report.json", report(["day"], ["views"], [])) == ("youtube", "analytics_api")


# --- the Analytics API -----------------------------------------------------------------------------


def test_api_reports_by_day_and_by_video():
    day = parse_analytics_api(report(["day"], ["views", "estimatedMinutesWatched", "likes", "subscribersGained",
                                               "subscribersLost"],
                                     [["2025-03-30", 900, 1800, 40, 5, 2], ["2025-03-31", 950, 1500.5, 41, 1, 3]]),
                              ctx("youtube_analytics_day@Nova Lights_20250402_060000.json"))
    assert list(day["kind"]) == ["channel_day"] * 2 and set(day["account"]) == {"Nova Lights"}
    assert list(day["watch_time_hours"]) == pytest.approx([30.0, 25.00833], rel=1e-4)
    assert list(day["subscribers"]) == [3, -2]
    video = parse_analytics_api(report(["video", "day"], ["views"], [["dQw4w9WgXcQ", "2025-03-31", 12]]), ctx("r.json"))
    assert video.iloc[0][["kind", "video_id", "views", "account"]].tolist() == ["video_day", "dQw4w9WgXcQ", 12, "channel"]


def test_api_empty_other_dimensions_and_damaged_reports():
    with pytest.raises(UnusedContent, match="no rows"):
        parse_analytics_api(report(["day"], ["views"], None), ctx("r.json"))
    with pytest.raises(UnusedContent, match="by country"):
        parse_analytics_api(report(["country"], ["views"], [["US", 3]]), ctx("r.json"))
    with pytest.raises(ParseError, match=r"rows\[1\] has 1 values, 'columnHeaders' name 2"):
        parse_analytics_api(report(["day"], ["views"], [["2025-03-01", 3], ["2025-03-02"]]), ctx("r.json"))
    with pytest.raises(ParseError, match=r"rows\[0\]\[1\] \(views\): 'many' is not a whole number"):
        parse_analytics_api(report(["day"], ["views"], [["2025-03-01", "many"]]), ctx("r.json"))
    with pytest.raises(ParseError, match="YouTube Analytics API error.*Invalid Credentials"):
        parse_analytics_api(b'{"error": {"code": 401, "message": "Invalid Credentials"}}', ctx("r.json"))
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_analytics_api(b'{"kind": "youtubeAnalytics#resultTable", "rows": [', ctx("r.json"))


def test_studio_and_api_of_one_day_meet_in_one_row():
    studio = parse_studio_export(studio_zip(**{"Totals.csv": TOTALS}), ctx(ZIP_NAME)).assign(
        sha256="a" * 64, observed_at=pd.Timestamp("2025-04-01", tz="UTC"))
    api = parse_analytics_api(report(["day"], ["views", "likes"], [["2025-03-31", 60, 7]]),
                              ctx("x@Nova Lights_20250402_060000.json")).assign(
        sha256="b" * 64, observed_at=pd.Timestamp("2025-04-02 06:00", tz="UTC"))
    daily = _social_daily({"studio_export": studio, "analytics_api": api}).set_index("date")
    assert daily.loc[date(2025, 3, 31), ["views", "likes", "sha256"]].tolist() == [60, 7, "b" * 64]  # the newer views
    assert daily.loc[date(2025, 3, 30), ["views", "sha256"]].tolist() == [52, "a" * 64]
    assert pd.isna(daily.loc[date(2025, 3, 30), "likes"])
    posts = _social_posts({"studio_export": parse_studio_export(studio_zip(**{"Table data.csv": TABLE}), ctx(ZIP_NAME))
                          .assign(sha256="a" * 64, observed_at=pd.Timestamp("2025-04-01", tz="UTC"))})
    assert set(posts["period"]) == {"window"} and set(posts["url"]) == {
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=abcDEF12345"}


# --- end to end through the CLI ------------------------------------------------------------------


def test_samples_ingest_into_curated(local_env, tmp_path):
    files = write_samples(tmp_path / "yt", seed=3, end=date(2025, 5, 31))
    assert [f.suffix for f in files] == [".zip", ".json", ".json"]
    assert write_samples(tmp_path / "again", seed=3, end=date(2025, 5, 31))[1].read_bytes() == files[1].read_bytes()
    (tmp_path / "yt" / "Totals.csv").write_text(TOTALS)  # a bare member without --account: refused, saying why
    result = run("ingest", tmp_path / "yt", "--json")
    assert result.exit_code == 3, result.output
    out = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}
    assert out["Totals.csv"]["status"] == "quarantined" and "--account" in out["Totals.csv"]["reason"]
    assert {(r["dataset"], r["status"]) for n, r in out.items() if n != "Totals.csv"} == {
        ("studio_export", "loaded"), ("analytics_api", "loaded")}
    daily = query("SELECT account, count(*) AS days, min(date) AS first, max(date) AS last, count(likes) AS liked "
                  "FROM fct_social_daily WHERE platform = 'youtube' GROUP BY ALL")
    assert daily == [{"account": "Nova Lights", "days": 90, "first": "2025-03-03", "last": "2025-05-31", "liked": 28}]
    posts = query("SELECT period, count(DISTINCT post_id) AS videos, count(*) AS n FROM fct_social_posts "
                  "WHERE platform = 'youtube' GROUP BY ALL ORDER BY period")
    assert [(p["period"], p["videos"]) for p in posts] == [("day", 6), ("window", 6)]
    assert query("SELECT count(*) AS n FROM fct_social_posts WHERE post_id = 'Total'") == [{"n": 0}]
