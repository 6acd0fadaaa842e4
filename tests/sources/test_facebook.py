"""Facebook: the same Meta Business Suite shapes as Instagram's; what differs is how a file is
told to be Facebook's (its name, its title, `page_*` metrics, --source facebook)."""

import json
from datetime import date, datetime, timezone

import pytest

from assets.lake.landing import identify
from assets.sources import SOURCES
from assets.sources.base import ParseContext, ParseError
from tests.cli_helpers import query, run

FB = SOURCES["facebook"]
LANDED = datetime(2025, 11, 2, 9, 0, tzinfo=timezone.utc)


def metric_file(title, rows):
    lines = ["sep=,", f'"{title}"', '"Date","Primary"', *(f'"{d}T00:00:00","{v}"' for d, v in rows)]
    return "\r\n".join(lines).encode("utf-16")


def test_the_name_or_title_decides_the_platform():
    views = metric_file("Views", [("2025-10-30", 10)])
    assert identify(SOURCES, "Views.csv", views) == ("instagram", "business_suite")  # nothing says: Instagram
    assert identify(SOURCES, "facebook_views.csv", views) == ("facebook", "business_suite")
    assert identify(SOURCES, "Nov-01-2025 FB views.csv", views) == ("facebook", "business_suite")
    assert identify(SOURCES, "Views.csv", metric_file("Facebook follows", [("2025-10-30", 1)])) == (
        "facebook", "business_suite")
    assert identify(SOURCES, "Views.csv", views, "facebook") == ("facebook", "business_suite")  # --source facebook
    page = json.dumps({"data": [{"name": "page_impressions", "period": "day", "id": "1000/insights/page_impressions/day",
                                 "values": [{"value": 5, "end_time": "2025-10-31T07:00:00+0000"}]}]}).encode()
    assert identify(SOURCES, "insights.json", page) == ("facebook", "graph_insights")


def test_facebook_parsers():
    ctx = ParseContext("facebook", "business_suite", "views.csv", "0" * 64, LANDED, None, {"account": "Nova Lights"})
    df = FB.dataset("business_suite").parse(metric_file("Facebook Page visits", [("2025-10-30", 7)]), ctx)
    assert df.iloc[0][["metric", "value", "account"]].tolist() == ["profile_views", 7, "Nova Lights"]
    with pytest.raises(ParseError, match=r"Instagram's .*--source instagram"):
        FB.dataset("business_suite").parse(metric_file("Instagram follows", [("2025-10-30", 1)]), ctx)
    page = json.dumps({"data": [{"name": "page_fan_adds", "period": "day", "id": "1000/insights/page_fan_adds/day",
                                 "values": [{"value": 5, "end_time": "2025-10-31T07:00:00+0000"}]}]}).encode()
    ins = FB.dataset("graph_insights").parse(page, ParseContext("facebook", "graph_insights", "p.json", "0" * 64, LANDED))
    assert ins.iloc[0][["date", "metric", "account"]].tolist() == [date(2025, 10, 30), "new_follows", "1000"]
    header = ("Post ID,Page ID,Page name,Title,Description,Publish time,Permalink,Post type,Date,Views,Reach,"
              "\"Reactions, Comments and Shares\",Reactions,Comments,Shares,Link clicks\n")
    body = header + "1234_5678,1000,Nova Lights,,Out now,10/31/2025 18:05,https://www.facebook.com/1,Photos,Lifetime,500,400,30,20,6,4,9\n"
    posts = FB.dataset("content").parse(body.encode(), ParseContext("facebook", "content", "c.csv", "0" * 64, LANDED))
    assert posts.iloc[0][["account", "likes", "engagements", "link_clicks"]].tolist() == ["Nova Lights", 20, 30, 9]
    assert identify(SOURCES, "export.csv", body.encode()) == ("facebook", "content")  # a Page name column: Facebook


def test_source_facebook_and_samples_ingest(local_env, tmp_path):
    bare = tmp_path / "bare" / "Views.csv"
    bare.parent.mkdir()
    bare.write_bytes(metric_file("Views", [("2025-10-29", 4), ("2025-10-31", 6)]))
    result = run("ingest", bare, "--source", "facebook", "--account", "Nova Lights", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["source"], r["dataset"], r["rows"]) for r in json.loads(result.stdout)] == [
        ("facebook", "business_suite", 3)]
    files = FB.samples(tmp_path / "fb", 3)
    result = run("ingest", tmp_path / "fb", "--json")
    assert result.exit_code == 0, result.output
    landed = json.loads(result.stdout)
    assert {r["source"] for r in landed} == {"facebook"} and len(files) == 6
    assert {r["dataset"] for r in landed} == {"business_suite", "content", "graph_insights"}
    assert {r["status"] for r in landed} == {"loaded"}
    assert query("SELECT account, count(*) AS days, sum(views) > 0 AS v FROM fct_social_daily WHERE platform = 'facebook' "
                 "GROUP BY ALL ORDER BY account") == [{"account": "Nova Lights", "days": 3, "v": True},
                                                      {"account": "NovaLights", "days": 90, "v": True}]
    assert query("SELECT count(*) AS n FROM fct_social_posts WHERE platform = 'facebook'") == [{"n": 6}]
