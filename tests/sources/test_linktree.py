"""Linktree admin-app GraphQL captures: daily views/clicks into fct_link_clicks_daily, locations,
referrers and links into fct_link_breakdown, other queries recorded as unused."""

import json
import re
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from assets.sources.base import ParseContext, ParseError, UnusedContent
from assets.sources.linktree import GRAPHQL, SOURCE, parse_graphql, write_samples

FIXTURE = "graphql_20250527_141844_257580.json"
OVERVIEW = "data.getAccountAnalytics.overview"


def ctx(name="graphql_20250601_120000_000000.json", **options):
    return ParseContext("linktree", "graphql", name, "0" * 64, datetime(2025, 5, 27, tzinfo=timezone.utc),
                        options=options)


def parse(doc, **options):
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return parse_graphql(data, ctx(**options))


def capture(**fields):
    return {"data": {"getAccountAnalytics": {**fields, "__typename": "AccountAnalytics"}}}


def day(d, views, clicks, **more):
    return {"date": d, "totalViews": views, "totalClicks": clicks, "uniqueViews": views, "uniqueClicks": clicks,
            "clickThroughRate": 0.5, "__typename": "AccountActivity", **more}


def overview(series, **totals):
    return capture(overview={"timeseries": series, **totals})


def days(n, start=date(2025, 1, 1)):
    return [day((start + timedelta(days=i)).isoformat(), 2, 1) for i in range(n)]


def cli():
    from click.testing import CliRunner

    from pipelines.cli import main

    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args])

    def query(sql):
        out = run("query", sql, "--format", "json")
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    return run, query


# --- the real capture -------------------------------------------------------------------------


def test_real_fixture(bedrot):
    raw = (bedrot / "linktree" / FIXTURE).read_bytes()
    df = parse_graphql(raw, ctx(FIXTURE))
    assert set(df["section"]) == {"overview"}
    assert len(df) == 365 and df["date"].is_unique
    assert (df["date"].min(), df["date"].max()) == (date(2024, 5, 28), date(2025, 5, 27))
    assert df["views"].sum() == 3502 and df["clicks"].sum() == 1767
    assert df["unique_views"].sum() == 2309 and df["unique_clicks"].sum() == 979
    # the capture's window is the timeseries' own; no page is named, so the account is null
    assert (df["period_start"].iloc[0], df["period_end"].iloc[0]) == (date(2024, 5, 28), date(2025, 5, 27))
    assert df["account"].isna().all()
    spike = df.loc[df["views"].idxmax()]
    assert (spike["date"], spike["views"], spike["clicks"], spike["click_through_rate"]) == (
        date(2025, 2, 15), 163, 81, pytest.approx(0.4969))
    # more clicks than views on a day happens (CTR 1.5), and is kept as reported
    assert df["click_through_rate"].max() == pytest.approx(1.5)
    assert parse_graphql(raw, ctx(FIXTURE, account="bedrot"))["account"].eq("bedrot").all()


def test_real_fixture_totals_equal_the_timeseries(bedrot):
    doc = json.loads((bedrot / "linktree" / FIXTURE).read_text())
    ov = doc["data"]["getAccountAnalytics"]["overview"]
    assert (ov["totalViews"], ov["totalClicks"]) == (3502, 1767)
    assert sum(d["totalViews"] for d in ov["timeseries"]) == ov["totalViews"]
    assert sum(d["totalClicks"] for d in ov["timeseries"]) == ov["totalClicks"]
    assert ov["clickThroughRate"] == pytest.approx(1767 / 3502, abs=1e-4)


def test_recognised_by_name_and_by_content(bedrot):
    from assets.lake import Lake

    raw = (bedrot / "linktree" / FIXTURE).read_bytes()
    lake = Lake(storage=None)
    assert lake.identify(FIXTURE, raw[:65536]) == ("linktree", "graphql")
    # renamed: the query name in the content still says Linktree
    assert lake.identify("analytics (1).json", raw[:65536]) == ("linktree", "graphql")
    assert GRAPHQL.sniff("x.json", b"\xef\xbb\xbf" + raw[:4096])
    # another source's JSON is not taken
    assert not GRAPHQL.sniff("toolost_spotify_x.json", b'{"streams": [], "discovery": []}')
    assert not GRAPHQL.matches_name("instagram_graphql_20250101.json")
    # a capture of another query is recognised by its name (and then recorded as unused)
    assert lake.identify("graphql_20250527_141900_000001.json", b'{"data":{"me":{}}}') == ("linktree", "graphql")


def test_observed_at_when_the_name_has_no_stamp(bedrot):
    raw = (bedrot / "linktree" / FIXTURE).read_bytes()
    assert GRAPHQL.observed_at("capture.json", raw) == datetime(2025, 5, 27, tzinfo=timezone.utc)
    doc = capture(dateRange={"startDate": "2025-03-01", "endDate": "2025-03-28"}, links=[])
    assert GRAPHQL.observed_at("c.json", json.dumps(doc).encode()) == datetime(2025, 3, 28, tzinfo=timezone.utc)
    assert GRAPHQL.observed_at("c.json", b"{not json") is None


# --- lenient shapes ---------------------------------------------------------------------------


def test_numbers_as_strings_and_nulls():
    series = [day("2025-01-01", "1,204", "7", clickThroughRate="0.0058"),
              day("2025-01-02T00:00:00.000Z", None, 3, uniqueViews="null", clickThroughRate=None),
              day("2025-01-03", 5.0, "", clickThroughRate="40%")]
    df = parse(overview(series, totalViews="1209", totalClicks=10))
    assert df["date"].tolist() == [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]
    assert df["views"].tolist() == [1204, pd.NA, 5]
    assert df["clicks"].tolist() == [7, 3, pd.NA]
    assert df["unique_views"].isna().tolist() == [False, True, False]
    assert df["click_through_rate"].tolist()[0] == pytest.approx(0.0058)
    assert df["click_through_rate"].tolist()[2] == pytest.approx(0.4)


def test_breakdowns_with_a_capture_window():
    doc = capture(
        dateRange={"startDate": "2025-05-01", "endDate": "2025-05-28"},
        locations=[{"countryCode": "US", "country": "United States", "totalViews": 120, "totalClicks": "61"},
                   {"country": "Japan", "totalViews": 9, "totalClicks": 4},
                   {"countryCode": "DE", "city": "Berlin", "totalClicks": 2},
                   {"country": None, "totalViews": 3, "totalClicks": 0}],
        referrers={"edges": [{"node": {"referrer": "instagram.com", "totalViews": 80, "totalClicks": 40}},
                             {"node": {"referrer": "", "totalViews": 12, "totalClicks": 5}}]},
        links={"items": [{"id": "1", "title": "Spotify", "url": "https://open.spotify.com/a", "totalClicks": 30},
                         {"id": "2", "title": "Spotify", "url": "https://open.spotify.com/b", "totalClicks": 3},
                         {"id": "3", "title": "", "url": "https://youtu.be/x", "totalClicks": 8}]},
    )
    df = parse(doc, account="bedrot").set_index(["section", "item"])
    assert df.index.tolist() == [
        ("location", "US"), ("location", "Japan"), ("location", "Berlin, DE"), ("location", "(unknown)"),
        ("referrer", "instagram.com"), ("referrer", "(direct)"),
        ("link", "Spotify (https://open.spotify.com/a)"), ("link", "Spotify (https://open.spotify.com/b)"),
        ("link", "https://youtu.be/x"),
    ]
    assert df.loc[("location", "US"), "clicks"] == 61
    assert df.loc[("link", "https://youtu.be/x"), "link_id"] == "3"
    assert df["date"].isna().all() and df["account"].eq("bedrot").all()
    assert set(df["period_start"]) == {date(2025, 5, 1)} and set(df["period_end"]) == {date(2025, 5, 28)}


def test_breakdown_window_from_the_timeseries_else_unknown():
    doc = capture(overview={"timeseries": days(3), "totalViews": 6, "totalClicks": 3},
                  links=[{"id": "1", "title": "Merch", "url": "https://x", "totalClicks": 2}])
    df = parse(doc)
    assert set(df["section"]) == {"overview", "link"}
    link = df[df["section"] == "link"].iloc[0]
    assert (link["period_start"], link["period_end"]) == (date(2025, 1, 1), date(2025, 1, 3))
    alone = parse(capture(topReferrers=[{"referrer": "tiktok.com", "totalClicks": 1}]))
    assert alone["period_start"].isna().all() and alone["period_end"].isna().all()
    # the window may also be given as startDate/endDate beside the sections
    flat = parse(capture(startDate="2025-02-01", endDate="2025-02-28", countries=[{"country": "FR", "clicks": 1}]))
    assert (flat["period_start"].iloc[0], flat["period_end"].iloc[0]) == (date(2025, 2, 1), date(2025, 2, 28))


# --- queries soundlake does not use -----------------------------------------------------------


@pytest.mark.parametrize("doc, reason", [
    ({"data": {"getLinkAppSettings": {"theme": "x"}}},
     "holds the GraphQL query getLinkAppSettings, which soundlake does not use"),
    ({"data": {"me": {"id": 1}, "getLinks": [], "__typename": "Query"}},
     "holds the GraphQL queries me, getLinks, which soundlake does not use"),
    (capture(subscribers={"total": 3}), "holds getAccountAnalytics.subscribers, which soundlake does not use"),
    (capture(overview={"totalViews": 3, "totalClicks": 1}), "holds only the overview totals"),
])
def test_unused_queries(doc, reason):
    with pytest.raises(UnusedContent, match=re.escape(reason)):
        parse(doc)


# --- broken captures --------------------------------------------------------------------------


def _with(series_index, **changes):
    series = days(20)
    series[series_index] = {**series[series_index], **changes}
    return overview(series)


@pytest.mark.parametrize("doc, message", [
    (_with(12, totalClicks="12a"), f"{OVERVIEW}.timeseries[12].totalClicks: '12a' is not a whole number"),
    (_with(3, totalViews=2.5), f"{OVERVIEW}.timeseries[3].totalViews: 2.5 is not a whole number"),
    (_with(4, totalViews=[1]), f"{OVERVIEW}.timeseries[4].totalViews: expected a count, found a list"),
    (_with(5, uniqueClicks=-2), f"{OVERVIEW}.timeseries[5].uniqueClicks: -2 is negative"),
    (_with(6, clickThroughRate="high"), f"{OVERVIEW}.timeseries[6].clickThroughRate: 'high' is not a number"),
    (_with(7, date=None), f"{OVERVIEW}.timeseries[7].date: the date is missing"),
    (_with(8, date="27/05/2025"), f"{OVERVIEW}.timeseries[8].date: '27/05/2025' is not a date"),
    (_with(9, date="2025-02-30"), f"{OVERVIEW}.timeseries[9].date: '2025-02-30' is not a date"),
    (_with(10, date="2025-01-02"), f"{OVERVIEW}.timeseries[10].date: 2025-01-02 appears twice (also at {OVERVIEW}.timeseries[1])"),
    (overview(days(3), totalViews=7, totalClicks=3),
     f"{OVERVIEW}.totalViews is 7 but the timeseries' totalViews add up to 6: an incomplete capture?"),
    (overview(days(3), totalViews=6, totalClicks="4"), f"{OVERVIEW}.totalClicks is 4 but the timeseries' totalClicks add up to 3"),
    (overview({"x": 1}), f"{OVERVIEW}.timeseries: expected a list, found an object"),
    (overview([1]), f"{OVERVIEW}.timeseries[0]: expected an object, found a number"),
    (capture(overview=[]), f"{OVERVIEW}: expected an object, found a list"),
    (capture(locations=[{"country": "US"}]), "data.getAccountAnalytics.locations[0]: has neither totalClicks nor totalViews"),
    (capture(locations=[{"region": "X", "totalClicks": 1}]), "data.getAccountAnalytics.locations[0]: no country"),
    (capture(referrers=[{"totalClicks": 1}]), "data.getAccountAnalytics.referrers[0]: no referrer"),
    (capture(links=[{"totalClicks": 1}]), "data.getAccountAnalytics.links[0]: a link with neither title, url nor id"),
    (capture(links="none"), "data.getAccountAnalytics.links: expected a list, found a string"),
    (capture(dateRange={"startDate": "2025-05-28", "endDate": "2025-05-01"}, links=[]), "starts 2025-05-28 after it ends"),
    (capture(dateRange={"startDate": "May 1", "endDate": "2025-05-01"}, links=[]),
     "data.getAccountAnalytics.dateRange.startDate: 'May 1' is not a date"),
    (capture(), "holds no overview, locations, referrers or links"),
    ({"data": {"getAccountAnalytics": None}}, "data.getAccountAnalytics: expected an object, found null"),
    ({"errors": [{"message": "Unauthorized: session expired", "path": ["getAccountAnalytics"]}, {"message": "x"}],
      "data": None}, "the capture is a GraphQL error response: 'Unauthorized: session expired' (and 1 more)"),
    ({"errors": [{"message": "timeout"}], "data": {"getAccountAnalytics": {"overview": None}}}, "'timeout'; its data is partial"),
    ({"data": {}}, "data is empty"),
    ({"data": None}, "data: expected an object, found null"),
    ({"result": {}}, "not a GraphQL response: no 'data'; the top level has ['result']"),
    ([{"data": {}}], "expected a GraphQL response (a JSON object) at the top, found a list"),
    (b'{"data":{"getAccountAnalytics":{"overview":{"timeseries":[{"date":"2025-01-01","totalVi',
     "not valid JSON (Unterminated string"),
    (b"", "the file is empty"),
])
def test_bad_input(doc, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse(doc)


# --- samples ----------------------------------------------------------------------------------


def test_samples_round_trip(tmp_path):
    from assets.sources.samples import sample_spotify_daily

    end = date(2025, 6, 30)
    ov_path, bd_path, unused_path = write_samples(tmp_path, seed=3, end=end)
    assert write_samples(tmp_path / "again", seed=3, end=end)[0].read_bytes() == ov_path.read_bytes()
    assert all(GRAPHQL.matches_name(p.name) for p in (ov_path, bd_path, unused_path))
    ov = parse_graphql(ov_path.read_bytes(), ctx(ov_path.name))
    assert len(ov) == 365 and ov["date"].max() == end
    # the release-day spike is the day the demo's Spotify streams break out
    release = sample_spotify_daily(3, end)[-70][0]
    assert ov.loc[ov["views"].idxmax(), "date"] == release
    assert (ov["unique_views"] <= ov["views"]).all() and (ov["clicks"] <= ov["views"]).all()
    bd = parse_graphql(bd_path.read_bytes(), ctx(bd_path.name))
    last28 = ov[ov["date"] > end - timedelta(days=28)]
    for section in ("location", "referrer"):
        part = bd[bd["section"] == section]
        assert part["views"].sum() == last28["views"].sum() and part["clicks"].sum() == last28["clicks"].sum()
    assert bd[bd["section"] == "link"]["clicks"].sum() == last28["clicks"].sum()
    assert set(bd["period_start"]) == {end - timedelta(days=27)}
    with pytest.raises(UnusedContent, match="getLinkAppSettings"):
        parse_graphql(unused_path.read_bytes(), ctx(unused_path.name))


# --- end to end, through the CLI --------------------------------------------------------------


def test_ingest_real_capture(local_env, bedrot, tmp_path):
    run, query = cli()
    path = bedrot / "linktree" / FIXTURE
    result = run("ingest", path, "--json")
    assert result.exit_code == 0, result.output
    assert [(r["source"], r["dataset"], r["status"], r["rows"]) for r in json.loads(result.stdout)] == [
        ("linktree", "graphql", "loaded", 365)]
    figures = ("SELECT platform, account, count(*) AS days, min(date) AS first, max(date) AS last, sum(views) AS views, "
               "sum(clicks) AS clicks, sum(unique_views) AS uv FROM fct_link_clicks_daily GROUP BY ALL")
    expected = [{"platform": "linktree", "account": None, "days": 365, "first": "2024-05-28", "last": "2025-05-27",
                 "views": 3502, "clicks": 1767, "uv": 2309}]
    assert query(figures) == expected
    everything = query("SELECT * FROM fct_link_clicks_daily ORDER BY date")
    assert everything[0]["source"] == "linktree" and everything[0]["observed_at"].startswith("2025-05-27T14:18:44")

    again = run("ingest", path, "--json")
    assert again.exit_code == 0, again.output
    assert [r["status"] for r in json.loads(again.stdout)] == ["duplicate"]
    assert query("SELECT * FROM fct_link_clicks_daily ORDER BY date") == everything

    # a capture of another query: kept in raw as unused, not an error
    unused = tmp_path / "graphql_20250527_141900_000001.json"
    unused.write_text(json.dumps({"data": {"getLinkAppSettings": {"theme": "x", "__typename": "LinkAppSettings"}}}))
    result = run("ingest", unused, "--json")
    assert result.exit_code == 0, result.output
    reason = f"{unused.name}: holds the GraphQL query getLinkAppSettings, which soundlake does not use"
    assert [(r["status"], r["reason"]) for r in json.loads(result.stdout)] == [("unused", reason)]
    assert query(f"SELECT source, dataset, status, reason FROM lake_files WHERE original_name = '{unused.name}'") == [
        {"source": "linktree", "dataset": "graphql", "status": "unused", "reason": reason}]

    # a broken capture is quarantined with its JSON path; the good days stay
    broken = tmp_path / "graphql_20250601_090000_000002.json"
    doc = json.loads(path.read_text())
    doc["data"]["getAccountAnalytics"]["overview"]["timeseries"][12]["totalClicks"] = "n/a?"
    broken.write_text(json.dumps(doc))
    result = run("ingest", broken, "--json")
    assert result.exit_code == 3, result.output
    (r,) = json.loads(result.stdout)
    assert r["status"] == "quarantined"
    assert f"{OVERVIEW}.timeseries[12].totalClicks: 'n/a?' is not a whole number" in r["reason"]
    assert query(figures) == expected


def test_ingest_samples(local_env, tmp_path):
    run, query = cli()
    end = date(2025, 6, 30)
    write_samples(tmp_path / "linktree", seed=7, end=end)
    result = run("ingest", tmp_path / "linktree", "--account", "sample.page", "--json")
    assert result.exit_code == 0, result.output
    assert sorted(r["status"] for r in json.loads(result.stdout)) == ["loaded", "loaded", "unused"]
    assert query("SELECT count(*) AS days, max(date) AS last, min(account) AS account FROM fct_link_clicks_daily") == [
        {"days": 365, "last": "2025-06-30", "account": "sample.page"}]
    rows = query("SELECT dimension, count(*) AS n, sum(clicks) AS clicks, min(period_start) AS ps, max(period_end) AS pe "
                 "FROM fct_link_breakdown GROUP BY ALL ORDER BY dimension")
    clicks28 = query("SELECT sum(clicks) AS c FROM fct_link_clicks_daily WHERE date > DATE '2025-06-02'")[0]["c"]
    assert [(r["dimension"], r["n"], r["clicks"], r["ps"], r["pe"]) for r in rows] == [
        ("link", 4, clicks28, "2025-06-03", "2025-06-30"),
        ("location", 6, clicks28, "2025-06-03", "2025-06-30"),
        ("referrer", 4, clicks28, "2025-06-03", "2025-06-30")]
    assert query("SELECT url FROM fct_link_breakdown WHERE item = 'Merch'") == [{"url": "https://sample.bandcamp.com/merch"}]


def test_source_declaration():
    assert SOURCE.name == "linktree" and SOURCE.title == "Linktree"
    assert SOURCE.acquisition == ("file drop (GraphQL responses captured from the admin app), or its browser extractor "
                                  "(soundlake extract linktree)")
    assert {m.table for m in SOURCE.mappings} == {"fct_link_clicks_daily", "fct_link_breakdown"}
