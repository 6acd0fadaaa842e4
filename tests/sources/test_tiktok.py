"""TikTok Studio exports: daily Overview / FollowerHistory / Viewers into fct_social_daily, Content
into fct_social_videos, FollowerTopTerritories into fct_social_territories."""

import io
import json
import re
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from assets.sources.base import ParseContext, ParseError
from assets.sources.parsing import MONTHS, Column, date_parts
from assets.sources.tiktok import (
    _social_daily,
    exported_at,
    parse_content,
    parse_follower_history,
    parse_follower_top_territories,
    parse_overview,
    parse_viewers,
    write_samples,
)
from tests.cli_helpers import query, run

LANDED = datetime(2025, 6, 3, 9, 0, tzinfo=timezone.utc)
ZONE = "Overview_2024-05-28_1748345895_zone.a0.zip"
PIG = "Overview_2024-05-28_1748345902_pig1987.zip"
OVERVIEW_HEADER = '"Date","Video Views","Profile Views","Likes","Comments","Shares"'


def ctx(name, as_of=None, **options):
    return ParseContext("tiktok", "x", name, "0" * 64, LANDED, as_of, options)


def csv_bytes(*lines):
    return ("\ufeff" + "\n".join(lines)).encode("utf-8")


def overview(*rows):
    """A bare Overview.csv with these (date, views, profile views, likes, comments, shares) rows."""
    return csv_bytes(OVERVIEW_HEADER, *(",".join(f'"{v}"' for v in r) for r in rows))


def _date_parts(values, lines, column):
    """(year or None, month, day) of each value, as TikTok's Date column is read."""
    parts = date_parts(Column(column, pa.array(values, pa.string()), np.array(list(lines))))
    return [(p["year"], p["month"], p["day"]) for p in parts.to_pylist()]


def zipped(member, payload):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, payload)
    return buf.getvalue()


# --- the real exports -----------------------------------------------------------------------------


def test_real_overview_exports(bedrot):
    folder = bedrot / "tiktok"
    zone = parse_overview((folder / ZONE).read_bytes(), ctx(ZONE))
    assert len(zone) == 365 and zone["views"].sum() == 4_683_142
    assert (zone["date"].min(), zone["date"].max()) == (date(2024, 5, 28), date(2025, 5, 27))
    assert set(zone["account"]) == {"zone.a0"}
    # "December 31" then "January 1": the year turns where the months wrap
    by_day = zone.set_index("date")
    assert by_day.loc[date(2024, 12, 31), "views"] == 20957 and by_day.loc[date(2025, 1, 1), "views"] == 54018
    assert list(zone.columns) == ["date", "account", "views", "profile_views", "likes", "comments", "shares"]
    assert zone[["profile_views", "likes", "comments", "shares"]].sum().tolist() == [44532, 596149, 58221, 34951]
    pig = parse_overview((folder / PIG).read_bytes(), ctx(PIG))
    assert len(pig) == 365 and pig["views"].sum() == 7_816_759 and set(pig["account"]) == {"pig1987"}
    # the epoch in the name is when TikTok made the export (UTC): the lake's observed_at
    assert exported_at(ZONE) == datetime(2025, 5, 27, 11, 38, 15, tzinfo=timezone.utc)
    # the member inside is only `Overview.csv`: a bare copy needs --account, and --as-of for the year
    member = zipfile.ZipFile(folder / ZONE).read("Overview.csv")
    with pytest.raises(ParseError, match="--account"):
        parse_overview(member, ctx("Overview.csv"))
    bare = parse_overview(member, ctx("Overview.csv", as_of=date(2025, 5, 27), account="zone.a0"))
    pd.testing.assert_frame_equal(bare, zone)


# --- years, months and values ---------------------------------------------------------------------


def test_new_year_is_crossed_from_as_of_on_a_bare_file():
    data = overview(("December 30", 1, 0, 0, 0, 0), ("Dec 31", 2, 0, 0, 0, 0), ("January 1", 3, 0, 0, 0, 0),
                    ("Jan 2", 4, 0, 0, 0, 0))
    df = parse_overview(data, ctx("Overview.csv", as_of=date(2025, 1, 3), account="nova"))
    assert df["date"].tolist() == [date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 2)]
    # no --as-of: the day the file landed (2025-06-03) is the export day
    df = parse_overview(data, ctx("Overview.csv", account="nova"))
    assert df["date"].iloc[-1] == date(2025, 1, 2)
    # newest first works too
    rows = [("Jan 2", 4, 0, 0, 0, 0), ("January 1", 3, 0, 0, 0, 0), ("Dec 31", 2, 0, 0, 0, 0)]
    df = parse_overview(overview(*rows), ctx("Overview.csv", as_of=date(2025, 1, 3), account="nova"))
    assert df["date"].tolist() == [date(2025, 1, 2), date(2025, 1, 1), date(2024, 12, 31)]
    # the name's epoch beats --as-of; the account in the name is kept unless --account is given
    name = "Overview_2023-12-30_1704240000_nova.lights.csv"  # 2024-01-03 UTC
    df = parse_overview(data, ctx(name, as_of=date(2025, 1, 3)))
    assert df["date"].iloc[0] == date(2023, 12, 30) and set(df["account"]) == {"nova.lights"}
    assert set(parse_overview(data, ctx(name, account="@other"))["account"]) == {"other"}
    # one day of slack: an export made just after midnight UTC may hold the account's "today"
    df = parse_overview(overview(("May 28", 1, 0, 0, 0, 0)), ctx("Overview_2024-05-28_1748390399_a.csv"))  # 23:59:59 UTC on May 27
    assert df["date"].tolist() == [date(2025, 5, 28)]


def test_spanish_and_other_month_names():
    rows = [("28 de mayo", 1, 0, 0, 0, 0), ("29 may.", 2, 0, 0, 0, 0), ("30 mayo", 3, 0, 0, 0, 0),
            ("31 de may", 4, 0, 0, 0, 0), ("1 de jun.", 5, 0, 0, 0, 0), ("2 de junio", 6, 0, 0, 0, 0)]
    df = parse_overview(overview(*rows), ctx("Overview_2025-05-28_1748995200_ivy_vale.zip"))
    assert df["date"].tolist() == [date(2025, 5, d) for d in range(28, 32)] + [date(2025, 6, 1), date(2025, 6, 2)]
    assert set(df["account"]) == {"ivy_vale"}
    values = ["28. Mai", "1er janvier", "5 de março", "12 dic", "3 août", "mrt 4", "5月28日", "2025年5月28日",
              "5월 28일", "May 28, 2025", "2025-05-28", "28/05/2025", "Sept. 9", "9 settembre"]
    assert _date_parts(values, range(2, 2 + len(values)), "Date") == [
        (None, 5, 28), (None, 1, 1), (None, 3, 5), (None, 12, 12), (None, 8, 3), (None, 3, 4), (None, 5, 28),
        (2025, 5, 28), (None, 5, 28), (2025, 5, 28), (2025, 5, 28), (2025, 5, 28), (None, 9, 9), (None, 9, 9)]
    # an Excel re-save's M/D/YYYY: the column decides, not the row
    assert _date_parts(["5/4/2025", "5/28/2025"], [2, 3], "Date") == [(2025, 5, 4), (2025, 5, 28)]
    assert _date_parts(["05-04-2025", "28-05-2025"], [2, 3], "Date") == [(2025, 4, 5), (2025, 5, 28)]
    assert MONTHS["mayo"] == MONTHS["mai"] == MONTHS["maio"] == 5 and MONTHS["dez"] == MONTHS["dic"] == 12


def test_negative_counts_undefined_and_thousands_separators():
    df = parse_overview(overview(("May 1", "1,234", "undefined", "12", "-3", "0"), ("May 2", "1.234.567", "", "1 234", "2", "-")),
                        ctx("Overview.csv", as_of=date(2025, 5, 3), account="a"))
    assert df["views"].tolist() == [1234, 1234567]
    assert df["profile_views"].isna().all() and df["shares"].iloc[1] is pd.NA
    assert df["comments"].tolist() == [-3, 2]  # a platform correction, kept as reported
    assert df["likes"].tolist() == [12, 1234]
    # a "Total" row is not a day
    df = parse_overview(overview(("May 1", 1, 1, 1, 1, 1), ("Total", 1, 1, 1, 1, 1)), ctx("Overview.csv", as_of=date(2025, 5, 3), account="a"))
    assert len(df) == 1


@pytest.mark.parametrize("data, message", [
    (csv_bytes('"Date","Profile Views","Likes","Comments","Shares"', '"May 1","1","1","1","1"'),
     "line 1 (the header): missing column(s) 'Video Views'"),
    (overview(("May 1", 1, 1, 1, 1, 1), ("Mayo 45", 1, 1, 1, 1, 1)), "column 'Date', line 3: 'Mayo 45' is not a date"),
    (overview(("Smarch 1", 1, 1, 1, 1, 1)), "column 'Date', line 2: 'Smarch 1' is not a date"),
    (overview(("May 1", 1, 1, 1, 1, 1), ("May 2", 1, "12a", 1, 1, 1)), "column 'Profile Views', line 3: '12a' is not a whole number"),
    (overview(("May 1", "1,5", 1, 1, 1, 1)), "column 'Video Views', line 2: '1,5' is not a whole number"),
    (overview(("May 1", 1, 1, 1, 1, 1), ("May 1", 1, 1, 1, 1, 1)), "column 'Date', line 3: 'May 1' is the same day (2025-05-01) as line 2"),
    (csv_bytes(OVERVIEW_HEADER, '"May 1","1","1"'), "line 2 has 3 fields, the header has 6"),
    (csv_bytes(OVERVIEW_HEADER), "a header but no data rows"),
    (zipped("Overview.xlsx", b"x"), "the zip holds no CSV file (it holds: Overview.xlsx)"),
    (b"PK\x03\x04broken", "the zip cannot be read"),
])
def test_broken_overview_is_refused_naming_the_column_and_line(data, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_overview(data, ctx("Overview.csv", as_of=date(2025, 5, 3), account="a"))


def test_zip_member_is_found_by_name():
    inner = overview(("May 1", 5, 1, 1, 1, 1)).decode("utf-8")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("notes.csv", "x,y\n1,2\n")
        zf.writestr("export/Overview.csv", inner)
    df = parse_overview(data.getvalue(), ctx("Overview_2025-04-05_1746316800_a.zip"))
    assert df["views"].tolist() == [5]
    with pytest.raises(ParseError, match="several CSV files"):
        parse_follower_history(data.getvalue(), ctx("FollowerHistory_2025-04-05_1746316800_a.zip"))


# --- the documented exports -----------------------------------------------------------------------


def test_follower_history_and_viewers():
    data = csv_bytes('"Date","Followers","Difference in followers from previous day"',
                     '"December 31","1,000","undefined"', '"January 1","998","-2"')
    df = parse_follower_history(data, ctx("FollowerHistory_2024-12-31_1735776000_nova.zip"))
    assert df["date"].tolist() == [date(2024, 12, 31), date(2025, 1, 1)]
    assert df["followers"].tolist() == [1000, 998] and df["followers_change"].iloc[0] is pd.NA
    assert df["followers_change"].iloc[1] == -2
    # header variants, optional columns
    data = csv_bytes("Date,Viewers,New viewers", "2025-01-01,10,7", "2025-01-02,undefined,undefined")
    df = parse_viewers(data, ctx("Viewers.csv", account="nova"))
    assert df["viewers"].tolist()[0] == 10 and df["viewers"].isna().tolist() == [False, True]
    assert df["new_viewers"].tolist()[0] == 7 and df["returning_viewers"].isna().all()
    with pytest.raises(ParseError, match="missing column.*'Total Viewers'"):
        parse_viewers(csv_bytes("Date,New Viewers", "2025-01-01,3"), ctx("Viewers.csv", account="nova"))


CONTENT_HEADER = '"Time","Video title","Video link","Post time","Total likes","Total comments","Total shares","Total views"'


def test_content_per_video():
    data = csv_bytes(
        CONTENT_HEADER,
        '"May 20","first, with a comma","https://www.tiktok.com/@nova/video/7372000000000000001","May 20","1,200","-1","5","10,000"',
        '"","photo post\nover two lines","https://www.tiktok.com/@nova/photo/7372000000000000002","2024-12-24 18:04:00","1","0","0","9"',
        '"","x","https://www.tiktok.com/@nova/video/7372000000000000003?lang=en","Jan 3, 2025 10:12 PM","1","0","0","9"',
        '"","y","7372000000000000004","28 de mayo 09:30","1","0","0","9"',
    )
    df = parse_content(data, ctx("Content_2024-05-28_1748345895_nova.csv"))
    assert df["video_id"].tolist() == [f"737200000000000000{i}" for i in range(1, 5)]
    assert df["snapshot_date"].unique().tolist() == [date(2025, 5, 27)]
    assert df["views"].tolist() == [10000, 9, 9, 9] and df["comments"].iloc[0] == -1
    assert df["title"].iloc[1] == "photo post\nover two lines" and df["title"].iloc[0] == "first, with a comma" and df["time_label"].iloc[0] == "May 20" and df["time_label"].isna().iloc[1]
    assert [t.isoformat() for t in df["posted_at"]] == [
        "2025-05-20T00:00:00+00:00", "2024-12-24T18:04:00+00:00", "2025-01-03T22:12:00+00:00", "2024-05-28T09:30:00+00:00"]
    bad = csv_bytes(CONTENT_HEADER, '"","t","https://www.tiktok.com/@nova","May 1","1","1","1","1"')
    with pytest.raises(ParseError, match="column 'Video link', line 2: .* is not a video link"):
        parse_content(bad, ctx("Content.csv", account="nova"))
    bad = csv_bytes(CONTENT_HEADER, '"","two\nlines","https://www.tiktok.com/@n/video/1","May 1","1","1","1","1"',
                    '"","t","https://www.tiktok.com/@n/video/2","Mayo 45","1","1","1","1"')
    with pytest.raises(ParseError, match="column 'Post time', line 4: 'Mayo 45' is not a date"):
        parse_content(bad, ctx("Content.csv", account="nova"))


def test_follower_top_territories():
    data = csv_bytes('"Top territories","Distribution"', '"United States","41.5%"', '"Mexico","14%"', '"Atlantis","0.5%"')
    df = parse_follower_top_territories(data, ctx("FollowerTopTerritories_2024-05-28_1748345895_nova.csv"))
    assert df["territory"].tolist() == ["US", "MX", "Atlantis"] and df["share"].tolist() == pytest.approx([0.415, 0.14, 0.005])
    assert df["snapshot_date"].iloc[0] == date(2025, 5, 27)
    # codes and fractions; bare numbers over 1 make the whole column percentages
    df = parse_follower_top_territories(csv_bytes("Top territories,Distribution", "br,0.852", "PT,0.003"), ctx("x.csv", account="a"))
    assert df["territory"].tolist() == ["BR", "PT"] and df["share"].tolist() == pytest.approx([0.852, 0.003])
    df = parse_follower_top_territories(csv_bytes("Country,Share", "US,40", "GB,0.5"), ctx("x.csv", account="a"))
    assert df["share"].tolist() == pytest.approx([0.40, 0.005])
    with pytest.raises(ParseError, match="column 'Distribution', line 3: 'lots' is not a share"):
        parse_follower_top_territories(csv_bytes("Top territories,Distribution", "US,1%", "GB,lots"), ctx("x.csv", account="a"))
    with pytest.raises(ParseError, match="column 'Distribution', line 2: '140%' is more than the whole"):
        parse_follower_top_territories(csv_bytes("Top territories,Distribution", "US,140%"), ctx("x.csv", account="a"))


# --- into the conformed model ---------------------------------------------------------------------


def _staged(df, sha, observed):
    return df.assign(sha256=sha, source_file="f", landed_at=pd.Timestamp(LANDED),
                     observed_at=pd.Timestamp(observed, tz="UTC"))


def test_social_daily_merges_the_daily_exports():
    as_of = ctx("Overview.csv", as_of=date(2025, 5, 3), account="a")
    old = _staged(parse_overview(overview(("May 1", 10, 1, 1, 1, 1), ("May 2", 20, 1, 1, 1, 1)), as_of), "old", "2025-05-02")
    new = _staged(parse_overview(overview(("May 2", 25, 1, 1, 1, 1)), as_of), "new", "2025-05-03")
    followers = _staged(parse_follower_history(
        csv_bytes("Date,Followers,Difference in followers from previous day", "May 2,100,3", "May 3,104,4"), as_of),
        "fol", "2025-05-04")
    out = _social_daily({"overview": pd.concat([old, new], ignore_index=True), "follower_history": followers,
                         "viewers": _staged(parse_viewers(csv_bytes("Date,Total Viewers", "May 1,7"), as_of), "vw", "2025-05-05")})
    out = out.set_index("date")
    assert out["views"].isna().tolist() == [False, False, True]
    assert out.loc[date(2025, 5, 2), "views"] == 25  # the newer export wins the day
    assert out["sha256"].tolist() == ["old", "new", "fol"]  # the overview's lineage when it has the day
    assert out.loc[date(2025, 5, 3), "followers"] == 104 and out.loc[date(2025, 5, 1), "viewers"] == 7
    assert out.loc[date(2025, 5, 3), "observed_at"] == pd.Timestamp("2025-05-04", tz="UTC")
    assert set(out["platform"]) == {"tiktok"} and set(out["account"]) == {"a"}


def test_samples_round_trip(tmp_path):
    files = write_samples(tmp_path, seed=3, end=date(2025, 2, 20))
    names = sorted(p.name.split("_")[0] for p in files)
    assert names == sorted(["Overview", "FollowerHistory", "Viewers", "Content", "FollowerTopTerritories"] * 2)
    parsers = {"Overview": parse_overview, "FollowerHistory": parse_follower_history, "Viewers": parse_viewers,
               "Content": parse_content, "FollowerTopTerritories": parse_follower_top_territories}
    for path in files:
        assert exported_at(path.name) == datetime(2025, 2, 21, 10, 30 + ("ivy" in path.name), 15, tzinfo=timezone.utc)
        df = parsers[path.name.split("_")[0]](path.read_bytes(), ctx(path.name))
        if path.name.startswith("Overview"):
            assert len(df) == 365 and (df["date"].min(), df["date"].max()) == (date(2024, 2, 22), date(2025, 2, 20))
            assert (df["comments"] < 0).any()
            recent = df[df["date"] > date(2024, 12, 22)]
            assert recent["views"].max() > 4 * df["views"].median()  # the viral spike in the last 2 months
    assert write_samples(tmp_path / "again", seed=3, end=date(2025, 2, 20))[0].read_bytes() == files[0].read_bytes()


# --- end to end through the CLI -------------------------------------------------------------------


def test_ingest_real_exports_twice(local_env, bedrot):
    result = run("ingest", str(bedrot / "tiktok"), "--json")
    assert result.exit_code == 0, result.output
    assert [(r["dataset"], r["status"], r["rows"]) for r in json.loads(result.stdout)] == [("overview", "loaded", 365)] * 2
    sql = ("SELECT account, count(*) AS days, min(date) AS first, max(date) AS last, sum(views) AS views, "
           "sum(comments) AS comments FROM fct_social_daily WHERE platform = 'tiktok' GROUP BY ALL ORDER BY account")
    figures = [{"account": "pig1987", "days": 365, "first": "2024-05-28", "last": "2025-05-27", "views": 7816759, "comments": 147773},
               {"account": "zone.a0", "days": 365, "first": "2024-05-28", "last": "2025-05-27", "views": 4683142, "comments": 58221}]
    assert query(sql) == figures
    lineage = query("SELECT DISTINCT source, observed_at FROM fct_social_daily WHERE account = 'zone.a0'")
    assert lineage == [{"source": "tiktok", "observed_at": "2025-05-27T11:38:15+00:00"}]
    before = query("SELECT * FROM fct_social_daily ORDER BY account, date")
    again = run("ingest", str(bedrot / "tiktok"), "--json")
    assert again.exit_code == 0, again.output
    assert {r["status"] for r in json.loads(again.stdout)} == {"duplicate"}
    assert query("SELECT * FROM fct_social_daily ORDER BY account, date") == before


def test_ingest_bare_files_samples_and_broken_files(local_env, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Overview.csv").write_bytes(overview(("Dec 30", 5, 1, 1, -2, 1)))
    (bad / "Overview_2024-05-28_1748345895_nova.csv").write_bytes(overview(("May 1", 1, 1, 1, 1, 1), ("Mayo 45", 1, 1, 1, 1, 1)))
    result = run("ingest", str(bad), "--json")
    assert result.exit_code == 3
    reasons = {Path(r["path"]).name: r["reason"] for r in json.loads(result.stdout) if r["status"] == "quarantined"}
    assert "name the account with --account HANDLE" in reasons["Overview.csv"]
    assert "column 'Date', line 3: 'Mayo 45' is not a date" in reasons["Overview_2024-05-28_1748345895_nova.csv"]

    bare = tmp_path / "bare" / "Overview.csv"
    bare.parent.mkdir()
    bare.write_bytes(overview(("Dec 31", 5, 1, 1, -2, 1), ("Jan 1", 7, 1, 1, 1, 1)))
    result = run("ingest", str(bare), "--as-of", "2025-01-02", "--account", "nova", "--json")
    assert result.exit_code == 0, result.output
    assert query("SELECT date, views, comments FROM fct_social_daily WHERE account = 'nova' ORDER BY date") == [
        {"date": "2024-12-31", "views": 5, "comments": -2}, {"date": "2025-01-01", "views": 7, "comments": 1}]

    samples = write_samples(tmp_path / "samples", seed=7)
    result = run("ingest", str(tmp_path / "samples"), "--json")
    assert result.exit_code == 0, result.output
    assert {r["source"] for r in json.loads(result.stdout)} == {"tiktok"} and len(samples) == 10
    daily = query("SELECT account, count(*) AS days, count(views) AS v, count(followers) AS f, count(viewers) AS vw, "
                   "min(comments) < 0 AS negative FROM fct_social_daily WHERE account <> 'nova' GROUP BY ALL ORDER BY account")
    assert daily == [{"account": "ivy_vale", "days": 365, "v": 365, "f": 365, "vw": 364, "negative": True},
                     {"account": "nova.lights", "days": 365, "v": 365, "f": 365, "vw": 364, "negative": True}]
    assert query("SELECT count(*) AS n, count(DISTINCT account) AS a FROM fct_social_videos") == [{"n": 36, "a": 2}]
    assert query("SELECT account, round(sum(share), 3) AS s FROM fct_social_territories GROUP BY ALL ORDER BY account") == [
        {"account": "ivy_vale", "s": 1.0}, {"account": "nova.lights", "s": 1.0}]
