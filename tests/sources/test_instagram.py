"""Instagram: Meta Business Suite metric and content exports and Graph API insights into
fct_social_daily and fct_social_posts (the parsers live in meta_business_suite.py)."""

import json
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.lake.landing import identify
from assets.sources import SOURCES
from assets.sources.base import ParseContext, ParseError, UnusedContent
from assets.sources.meta_business_suite import unwrap_lines
from tests.cli_helpers import query, run

IG = SOURCES["instagram"]
LANDED = datetime(2025, 11, 2, 9, 0, tzinfo=timezone.utc)


def ctx(name, as_of=None, **options):
    return ParseContext("instagram", "x", name, "0" * 64, LANDED, as_of, options)


def parse(dataset, data, name, **kw):
    return IG.dataset(dataset).parse(data, ctx(name, **kw))


def metric_file(title, rows, *, encoding="utf-16", sep=","):
    """A Business Suite metric export: UTF-16LE with BOM, `sep=,`, the title, "Date","Primary"."""
    lines = [f"sep={sep}", f'"{title}"', f'"Date"{sep}"Primary"', *(f'"{d}T00:00:00"{sep}"{v}"' for d, v in rows)]
    return "\r\n".join(lines).encode(encoding) if encoding == "utf-16" else ("\ufeff" + "\n".join(lines)).encode(encoding)


def test_metric_file_utf16_title_and_missing_zero_days():
    data = metric_file("Instagram follows", [("2025-10-29", 3), ("2025-10-31", 5)])
    assert data[:2] == b"\xff\xfe"
    df = parse("business_suite", data, "follows_@novalights.csv")
    assert list(zip(df["date"], df["value"])) == [(date(2025, 10, 29), 3), (date(2025, 10, 30), 0), (date(2025, 10, 31), 5)]
    assert set(df["metric"]) == {"new_follows"} and set(df["label"]) == {"Instagram follows"}
    assert set(df["account"]) == {"novalights"}
    # a running total is not a flow: a missing day stays unknown
    followers = parse("business_suite", metric_file("Followers", [("2025-10-29", 300), ("2025-10-31", 305)]), "f@nova.csv")
    assert len(followers) == 2
    # Excel's re-save: `;`-separated UTF-8
    resaved = parse("business_suite", metric_file("Reach", [("2025-10-30", 1200)], encoding="utf-8", sep=";"),
                    "reach.csv", account="nova")
    assert resaved.iloc[0][["metric", "value", "account"]].tolist() == ["reach", 1200, "nova"]


def test_metric_file_errors():
    with pytest.raises(ParseError, match=r"--account"):
        parse("business_suite", metric_file("Views", [("2025-10-30", 1)]), "Views.csv")
    with pytest.raises(ParseError, match=r"Facebook's \('Facebook follows'\).*--source facebook"):
        parse("business_suite", metric_file("Facebook follows", [("2025-10-30", 1)]), "x@nova.csv")
    with pytest.raises(ParseError, match=r"column 'Primary', line 4: 'lots' is not a whole number"):
        parse("business_suite", metric_file("Views", [("2025-10-30", "lots")]), "v@nova.csv")
    with pytest.raises(ParseError, match=r"no title line"):
        parse("business_suite", b'"Date","Primary"\n"2025-10-30T00:00:00","1"\n', "v@nova.csv")


CONTENT_HEADER = ["Post ID", "Account ID", "Account username", "Account name", "Description", "Publish time",
                  "Permalink", "Post type", "Date", "Views", "Reach", "Likes", "Shares", "Follows", "Comments", "Saves"]
ROWS = [["18011", "1784", "novalights", "Nova Lights", "New single out now!\nLink in bio 🎧", "10/31/2025 18:05",
         "https://www.instagram.com/p/abc/", "IG reel", "Lifetime", "9,120", "6000", "700", "80", "12", "45", "90"],
        ["18012", "1784", "novalights", "Nova Lights", 'Say "hi"', "11/01/2025 09:00",
         "https://www.instagram.com/p/def/", "IG image", "Lifetime", "800", "600", "70", "8", "", "4", "9"]]


def csv_line(values):
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


def test_content_export_plain_and_wrapped_line_by_line():
    plain = "\n".join(csv_line(r) for r in [CONTENT_HEADER, *ROWS]) + "\n"
    # every line wrapped in one quoted field, the caption's two lines each wrapped on their own
    wrapped = "\n".join('"' + ln.replace('"', '""') + '"' for ln in plain.rstrip("\n").split("\n")) + "\n"
    assert wrapped.startswith('"""Post ID"",""Account ID""')
    assert unwrap_lines(wrapped).rstrip("\n") == plain.rstrip("\n")
    for body in (plain, wrapped, "\ufeff" + wrapped):
        df = parse("content", body.encode("utf-8"), "content.csv", as_of=date(2025, 11, 2))
        assert df["post_id"].tolist() == ["18011", "18012"] and set(df["account"]) == {"novalights"}
        assert df.loc[0, "title"] == "New single out now!\nLink in bio 🎧" and df.loc[1, "title"] == 'Say "hi"'
        assert df["views"].tolist() == [9120, 800] and pd.isna(df.loc[1, "follows"])
        assert df.loc[0, "posted_at"] == pd.Timestamp("2025-10-31 18:05", tz="UTC")
        assert set(df["snapshot_date"]) == {date(2025, 11, 2)}
    assert identify(SOURCES, "export.csv", wrapped.encode()) == ("instagram", "content")


def insights(*items):
    return json.dumps({"data": list(items), "paging": {
        "previous": "https://graph.facebook.com/v21.0/1784/insights?access_token=EAAB-secret&since=1",
        "next": "https://graph.facebook.com/v21.0/1784/insights?access_token=EAAB-secret&until=2"}}).encode()


def test_graph_insights_values_total_value_and_breakdowns():
    day = {"name": "reach", "period": "day", "title": "Alcance", "id": "17841400000000001/insights/reach/day",
           "values": [{"value": 120, "end_time": "2025-10-30T07:00:00+0000"},
                      {"value": 95, "end_time": "2025-10-31T07:00:00+0000"}]}
    total = {"name": "profile_views", "period": "day", "total_value": {"value": 44},
             "id": "17841400000000001/insights/profile_views/day"}
    breakdown = {"name": "follower_demographics", "period": "lifetime", "total_value": {"value": {"US": 10}},
                 "id": "17841400000000001/insights/follower_demographics/lifetime"}
    df = parse("graph_insights", insights(day, total, breakdown), "insights_20251101_060000.json")
    rows = sorted(zip(df["date"], df["metric"], df["value"]))
    # end_time is the end of the day: 2025-10-30T07:00 closes October 29; the total is the day before the pull
    assert rows == [(date(2025, 10, 29), "reach", 120), (date(2025, 10, 30), "reach", 95),
                    (date(2025, 10, 31), "profile_views", 44)]
    assert set(df["account"]) == {"17841400000000001"}
    assert not df.astype(str).apply(lambda c: c.str.contains("access_token|secret")).any().any()
    as_of = parse("graph_insights", insights(total), "i.json", as_of=date(2025, 10, 20), account="nova")
    assert as_of.iloc[0][["date", "account"]].tolist() == [date(2025, 10, 20), "nova"]
    with pytest.raises(UnusedContent, match="only breakdowns"):
        parse("graph_insights", insights(breakdown), "i.json")
    with pytest.raises(UnusedContent, match="no metrics"):
        parse("graph_insights", insights(), "i.json")
    with pytest.raises(ParseError, match=r"Facebook's \(page_impressions\).*--source facebook"):
        parse("graph_insights", insights({**day, "name": "page_impressions"}), "i.json")
    with pytest.raises(ParseError, match=r"data\[0\].values\[1\].value: 'x' is not a whole number"):
        parse("graph_insights", insights({**day, "values": [day["values"][0], {**day["values"][1], "value": "x"}]}), "i.json")
    with pytest.raises(ParseError, match="Graph API error.*expired"):
        parse("graph_insights", b'{"error": {"message": "Session has expired", "type": "OAuthException", "code": 190}}',
              "i.json")
    assert identify(SOURCES, "insights.json", insights(day)) == ("instagram", "graph_insights")


def test_a_total_value_is_dated_by_the_day_its_file_name_says():
    """The puller asks each day's totals separately and names the day in the file (the body has
    no date); a re-pull of an old day, landed today, is still that day's."""
    total = {"name": "views", "period": "day", "total_value": {"value": 31},
             "id": "17841400000000001/insights/views/day"}
    name = "graph_insights_day-2025-10-12-page-001_20251101_060000.json"
    df = parse("graph_insights", insights(total), name)
    assert df[["date", "metric", "value"]].values.tolist() == [[date(2025, 10, 12), "views", 31]]
    # the series files of the same pull are dated by their own end_time, whatever the name
    series = {"name": "reach", "period": "day", "id": "17841400000000001/insights/reach/day",
              "values": [{"value": 7, "end_time": "2025-10-06T07:00:00+0000"}]}
    assert parse("graph_insights", insights(series), "graph_insights_series-2025-10-02-page-003_20251101_060000.json"
                 )["date"].tolist() == [date(2025, 10, 5)]
    assert parse("graph_insights", insights(total), name, as_of=date(2025, 10, 20)).iloc[0]["date"] == date(2025, 10, 20)
    with pytest.raises(ParseError, match=r"day-2025-02-30, which is not a date"):
        parse("graph_insights", insights(total), "graph_insights_day-2025-02-30-page-001_20251101_060000.json")


def test_daily_metrics_meet_in_one_row():
    frames = {}
    for name, title, rows in (("a", "Views", [("2025-10-30", 900)]), ("b", "Reach", [("2025-10-30", 500)])):
        df = parse("business_suite", metric_file(title, rows), f"{name}@nova.csv")
        frames[name] = df.assign(sha256=name * 64, observed_at=pd.Timestamp("2025-11-01", tz="UTC"))
    build = next(m.build for m in IG.mappings if m.table == "fct_social_daily")
    out = build({"business_suite": pd.concat(frames.values(), ignore_index=True)})
    assert out[["date", "account", "views", "reach", "platform"]].values.tolist() == [
        [date(2025, 10, 30), "nova", 900, 500, "instagram"]]


def test_samples_ingest_into_curated(local_env, tmp_path):
    files = IG.samples(tmp_path / "ig", 3)
    result = run("ingest", tmp_path / "ig", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {r["source"] for r in out} == {"instagram"} and len(out) == len(files) == 7
    assert sorted({r["dataset"] for r in out}) == ["business_suite", "content", "graph_insights"]
    daily = query("SELECT account, count(*) AS days, count(views) AS v, count(reach) AS r, count(profile_views) AS p "
                  "FROM fct_social_daily WHERE platform = 'instagram' GROUP BY ALL")
    assert daily == [{"account": "novalights", "days": 90, "v": 90, "r": 90, "p": 1}]
    assert query("SELECT count(*) AS n FROM fct_social_posts WHERE platform = 'instagram' AND period = 'lifetime'") == [
        {"n": 6}]
