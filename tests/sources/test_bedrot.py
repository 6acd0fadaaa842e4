"""The whole `../shared/fixtures/bedrot` folder in one `soundlake ingest`, as a user would run it:
exit 0, every figure of FORMATS.md's table out of the curated tables, and a second ingest that
changes nothing."""

import json

import pytest

from tests.cli_helpers import query, run


def curated_bytes(home):
    root = home / "lake" / "curated"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


@pytest.fixture
def ingested(local_env, bedrot):
    result = run("ingest", bedrot, "--json")
    assert result.exit_code == 0, result.output
    return local_env, json.loads(result.stdout)


def test_whole_folder_figures(ingested, bedrot):
    home, results = ingested
    files = sorted(p.name for p in bedrot.rglob("*") if p.is_file())
    assert len(results) == len(files) == 10
    assert {r["status"] for r in results} == {"loaded"}, [r for r in results if r["status"] != "loaded"]
    assert {r["source"] for r in results} == {"distrokid", "linktree", "meta_ads", "tiktok", "toolost"}

    # dk_bank_details: 8,635 lines; quantity 616,709; 1,587.060015 USD; 16 stores; artists' lines
    assert query("SELECT count(*) AS n, sum(quantity) AS q, round(sum(earnings_usd), 6) AS usd, "
                 "count(DISTINCT store) AS stores FROM fct_royalties") == [
        {"n": 8635, "q": 616709, "usd": 1587.060015, "stores": 16}]
    assert query("SELECT artist, count(*) AS n FROM fct_royalties GROUP BY 1 ORDER BY 1") == [
        {"artist": "PIG1987", "n": 3801}, {"artist": "ZONE A0", "n": 4834}]
    # streams_stats trend365day: 276 days 2024-08-23..2025-05-25, 677,589 streams
    assert query("SELECT count(*) AS d, min(date) AS a, max(date) AS b, sum(streams) AS s FROM fct_streams_daily "
                 "WHERE source = 'distrokid' AND platform = 'spotify'") == [
        {"d": 276, "a": "2024-08-23", "b": "2025-05-25", "s": 677589}]
    # TikTok Overview zone.a0: 365 days 2024-05-28..2025-05-27, 4,683,142 video views
    assert query("SELECT count(*) AS d, min(date) AS a, max(date) AS b, sum(views) AS v FROM fct_social_daily "
                 "WHERE platform = 'tiktok' AND account = 'zone.a0'") == [
        {"d": 365, "a": "2024-05-28", "b": "2025-05-27", "v": 4683142}]
    assert query("SELECT count(*) AS d FROM fct_social_daily WHERE account = 'pig1987'") == [{"d": 365}]
    # TooLost: Spotify 107 days 2025-02-07..2025-05-24, 98,286; Apple 104 days, 2,655
    assert query("SELECT platform, count(*) AS d, min(date) AS a, max(date) AS b, sum(streams) AS s "
                 "FROM fct_streams_daily WHERE source = 'toolost' GROUP BY 1 ORDER BY 1") == [
        {"platform": "apple_music", "d": 104, "a": "2025-02-07", "b": "2025-05-22", "s": 2655},
        {"platform": "spotify", "d": 107, "a": "2025-02-07", "b": "2025-05-24", "s": 98286}]
    # Linktree: 365 days, 3,502 views, 1,767 clicks
    assert query("SELECT count(*) AS d, sum(views) AS v, sum(clicks) AS c FROM fct_link_clicks_daily") == [
        {"d": 365, "v": 3502, "c": 1767}]
    # Meta Ads insights: 31 ad-set rows, 1,889.10 USD, 5,255,985 impressions
    assert query("SELECT count(*) AS n, round(sum(spend_usd), 2) AS usd, sum(impressions) AS i "
                 "FROM fct_ad_performance") == [{"n": 31, "usd": 1889.1, "i": 5255985}]
    # one source per date × platform × artist × track in each scope; the two distributors add up
    assert query("SELECT count(*) AS n FROM (SELECT 1 FROM v_streams_daily GROUP BY date, platform, artist, track, "
                 "scope HAVING count(*) > 1)") == [{"n": 0}]
    assert query("SELECT sum(streams) AS s FROM v_streams_account_daily WHERE platform = 'spotify'") == [
        {"s": 677589 + 98286}]

    before = curated_bytes(home)
    again = run("ingest", bedrot, "--json")
    assert again.exit_code == 0
    assert {r["status"] for r in json.loads(again.stdout)} == {"duplicate"}
    assert curated_bytes(home) == before, "ingesting the same folder again changes no curated byte"
