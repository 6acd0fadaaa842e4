"""The Dagster code location: it loads, its graph is what we expect (a snapshot: an accidental
change shows up here), jobs and schedules are what the README says, and the tree keeps its
shape (resources import nothing from assets; no list of steps outside the graph)."""

import re
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.jobs import analytics_selection, ingest_selection, reprocess_selection

REPO = Path(__file__).resolve().parents[2]

SOURCES = ["amazon_music", "apple_music", "bandcamp", "deezer", "distrokid", "facebook", "instagram", "linktree",
           "mailchimp", "meta_ads", "soundcloud", "spotify_for_artists", "tiktok", "toolost", "x", "youtube"]
DATASETS = [
    "amazon_music/streams", "apple_music/plays", "bandcamp/sales_report", "deezer/streams", "soundcloud/plays",
    "soundcloud/revenue",
    "distrokid/applemusic_stats", "distrokid/bank_details", "distrokid/streams_stats", "facebook/business_suite",
    "facebook/content", "facebook/graph_insights", "instagram/business_suite", "instagram/content",
    "instagram/graph_insights", "linktree/graphql", "mailchimp/campaign_list", "mailchimp/campaign_report",
    "mailchimp/reports_api", "meta_ads/ads_manager", "meta_ads/campaigns", "meta_ads/insights",
    "spotify_for_artists/audience_timeline",
    "spotify_for_artists/song_list", "spotify_for_artists/song_table", "spotify_for_artists/song_timeline",
    "tiktok/content", "tiktok/follower_history", "tiktok/follower_top_territories", "tiktok/overview",
    "tiktok/viewers", "toolost/apple", "toolost/spotify", "x/account_overview", "x/content", "x/daily_activity",
    "x/tweet_activity", "youtube/analytics_api", "youtube/studio_export",
]
CURATED = ["dim_ad_campaign", "fct_ad_performance", "fct_audience_daily", "fct_email_campaigns", "fct_link_breakdown",
           "fct_link_clicks_daily", "fct_royalties", "fct_sales", "fct_social_daily", "fct_social_posts",
           "fct_social_territories", "fct_streams_daily", "fct_streams_totals"]
PULLERS = ["instagram", "mailchimp", "meta_ads", "youtube"]
EXTRACTORS = ["distrokid", "linktree", "spotify_for_artists", "tiktok", "toolost"]
FAST = ["ad_attribution", "alerts", "anomalies", "kpis", "lagged_correlation", "market_demand", "payment_delay",
        "revenue_expected", "revenue_per_stream", "viral_moments"]


def _keys(selection) -> set[str]:
    return {k.to_user_string() for k in selection}


def test_code_location_loads():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("ingest") is not None


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    assert keys == sorted(
        [f"analytics/{n}" for n in FAST + ["forecast_backtest", "forecasts", "report"]]
        + ["archive/raw", "warehouse/duckdb"]
        + [f"api/{p}" for p in PULLERS]
        + [f"curated/{t}" for t in CURATED]
        + [f"landing/{s}" for s in SOURCES + ["unidentified"]]
        + [f"raw/{s}" for s in SOURCES + ["unidentified"]]
        + [f"staging/{d}" for d in DATASETS]
        + [f"extract/{s}" for s in EXTRACTORS]
    )
    # lineage: landing → raw → staging → curated → warehouse → analytics
    assert graph.get(dg.AssetKey(["raw", "distrokid"])).parent_keys == {dg.AssetKey(["landing", "distrokid"])}
    assert graph.get(dg.AssetKey(["staging", "distrokid", "bank_details"])).parent_keys == {
        dg.AssetKey(["raw", "distrokid"])}
    royalties = graph.get(dg.AssetKey(["curated", "fct_royalties"]))
    assert royalties.parent_keys == {dg.AssetKey(["staging", "distrokid", "bank_details"]),
                                     dg.AssetKey(["staging", "soundcloud", "revenue"])}
    sales = graph.get(dg.AssetKey(["curated", "fct_sales"]))
    assert sales.parent_keys == {dg.AssetKey(["staging", "bandcamp", "sales_report"])}
    assert graph.get(dg.AssetKey(["analytics", "kpis"])).parent_keys == {dg.AssetKey(["warehouse", "duckdb"])}
    assert graph.get(dg.AssetKey(["analytics", "viral_moments"])).parent_keys == {dg.AssetKey(["warehouse", "duckdb"])}
    predictions = graph.get(dg.AssetKey(["analytics", "forecasts"]))
    assert dg.AssetKey(["analytics", "forecast_backtest"]) in predictions.parent_keys
    groups = {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in keys}
    assert groups == {"api", "landing", "raw", "staging", "curated", "warehouse", "analytics", "forecasts", "report",
                      "archive", "extract"}

    checks = sorted(k.to_user_string() for k in graph.asset_check_keys)
    assert checks == sorted(["raw/unidentified:files_recognised"]
                            + [f"staging/{d}:{c}" for d in DATASETS for c in ("files_parsed", "great_expectations_suite")])


def test_jobs_schedules_and_sensors():
    assert {s.name: s.cron_schedule for s in defs.schedules} == {"archive_daily": "0 4 * * *",
                                                                  "pull_daily": "0 5 * * *",
                                                                  "analytics_daily": "0 6 * * *",
                                                                  "report_weekly": "0 7 * * 1",
                                                                  "extract_daily": "0 5 * * *"}
    # the README says they run: on by default in a new instance
    assert {s.default_status for s in defs.schedules} == {dg.DefaultScheduleStatus.RUNNING}
    assert [s.name for s in defs.sensors] == ["landing_sensor", "alert_on_run_failure"]
    assert {s.default_status for s in defs.sensors} == {dg.DefaultSensorStatus.RUNNING}
    ingest = _keys(defs.resolve_job_def("ingest").asset_layer.executable_asset_keys)
    assert {f"analytics/{n}" for n in FAST} <= ingest, "the fast analytics are the ingest job's"
    assert not {"analytics/forecasts", "analytics/forecast_backtest", "analytics/report", "archive/raw"} & ingest
    analytics = _keys(defs.resolve_job_def("analytics").asset_layer.executable_asset_keys)
    assert analytics == {f"analytics/{n}" for n in FAST + ["forecast_backtest", "forecasts"]}
    assert _keys(defs.resolve_job_def("report").asset_layer.executable_asset_keys) == {"analytics/report"}
    # the pullers write landing only, daily, before the analytics; the sensor ingests what they land
    assert _keys(defs.resolve_job_def("pull").asset_layer.executable_asset_keys) == {f"api/{p}" for p in PULLERS}
    assert not any(k.startswith("api/") for k in ingest)
    assert _keys(defs.resolve_job_def("extract").asset_layer.executable_asset_keys) == {f"extract/{s}" for s in EXTRACTORS}
    assert not {k for k in ingest if k.startswith("extract/")}, "an ingest never starts a browser"
    reprocess = defs.resolve_job_def("reprocess")
    assert reprocess.tags["soundlake/reprocess"] == "true"
    assert _keys(reprocess.asset_layer.executable_asset_keys) == (
        {k for k in ingest if not k.startswith(("landing/", "raw/"))} | {"raw/unidentified"})


def test_a_run_selects_what_its_files_need():
    one = _keys(ingest_selection({("tiktok", "overview")}))
    assert one == {"landing/tiktok", "raw/tiktok", "staging/tiktok/overview", "curated/fct_social_daily",
                   "warehouse/duckdb"} | {f"analytics/{n}" for n in FAST}
    unknown = _keys(ingest_selection({("_unidentified", "_unidentified")}))
    assert unknown == {"landing/unidentified", "raw/unidentified"}
    duplicates = _keys(ingest_selection({("tiktok", "overview")}, changed=set()))
    assert duplicates == {"landing/tiktok", "raw/tiktok"}
    reprocess = _keys(reprocess_selection("toolost"))
    assert {"staging/toolost/apple", "staging/toolost/spotify", "curated/fct_streams_daily"} <= reprocess
    assert not any(k.startswith(("landing/", "raw/", "staging/tiktok")) for k in reprocess)
    assert "raw/unidentified" in _keys(reprocess_selection())
    assert _keys(analytics_selection(forecasts=False)) == {f"analytics/{n}" for n in FAST}


def test_column_descriptions_reach_the_asset_metadata():
    from assets.factory import curated_schema
    from assets.model import TABLES

    schema = curated_schema(TABLES["fct_royalties"])
    docs = {c.name: c.description for c in schema.columns}
    assert docs["earnings_usd"] == "earnings in USD" and all(docs.values())


def test_resources_reach_the_outside_world_and_nothing_else():
    offenders = [f"{p.relative_to(REPO)}:{n}" for p in (REPO / "resources").rglob("*.py")
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if re.match(r"\s*(from assets|import assets)\b", line)]
    assert offenders == []
    # jobs and schedules live in pipelines/, assets do not live in sensors/
    for path in (REPO / "sensors").rglob("*.py"):
        assert "@dg.asset" not in path.read_text() and "define_asset_job" not in path.read_text(), path
    for path in (REPO / "assets").rglob("*.py"):
        text = path.read_text()
        assert "define_asset_job" not in text and "ScheduleDefinition" not in text and "@dg.schedule" not in text, path


def test_no_list_of_steps_outside_the_graph():
    """The CLI launches jobs; it never calls the zone functions itself."""
    for path in (REPO / "pipelines").glob("*.py"):
        text = path.read_text()
        for call in (".stage(", ".build_curated(", ".to_raw(", "refresh_warehouse(", "build_kpis(", "dispatch("):
            assert call not in text, f"{path.name} calls {call} itself"
