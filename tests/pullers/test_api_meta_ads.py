"""The Meta Marketing insights puller against a local Graph API; what it lands parses with
assets/sources/meta_ads.py and goes through the lake into fct_ad_performance."""

from __future__ import annotations

import json
from datetime import timedelta

from assets.lake import Lake
from resources.pullers import MetaAds

from .conftest import NOW, landed, pull
from .platforms import AD_ACCOUNT, GRAPH_TOKEN

INSIGHTS = f"/graph/v21.0/act_{AD_ACCOUNT}/insights"
STAMP = "20250520_050007"


def test_cursor_pagination_of_daily_campaign_insights(platforms, lake):
    platforms.rows_per_page = 40  # 2 campaigns × 49 days = 98 rows: three pages
    result, _ = pull(MetaAds, platforms, lake)
    asked = [r[1] for r in platforms.of(INSIGHTS)]
    assert len(asked) == 3
    first = asked[0]
    assert (first["level"], first["time_increment"]) == ("campaign", "1")
    assert json.loads(first["time_range"]) == {"since": "2025-02-19", "until": "2025-05-19"}
    assert "account_currency" in first["fields"].split(",")
    pages = [json.loads(landed(lake, k)) for k in result.files if k.startswith("meta_ads/insights/")]
    assert [len(p["data"]) for p in pages] == [40, 40, 18]
    # each next page is asked with the previous page's `after` cursor, without the token in the URL
    assert [a.get("after") for a in asked] == [None, pages[0]["paging"]["cursors"]["after"],
                                               pages[1]["paging"]["cursors"]["after"]]
    assert not any("access_token" in a for a in asked)
    assert b"access_token=[redacted]" in landed(lake, result.files[1]) and \
        GRAPH_TOKEN.encode() not in landed(lake, result.files[1])
    assert result.files[0] == f"meta_ads/campaigns/campaigns_act-{AD_ACCOUNT}-page-001_{STAMP}.json"
    assert result.files[1] == f"meta_ads/insights/insights_act-{AD_ACCOUNT}-page-001_{STAMP}.json"
    assert result.cursor_after == {"through": "2025-05-19"}


def test_the_next_pull_asks_for_new_days_and_gets_a_campaign_created_since(platforms, lake):
    platforms.rows_per_page = 500
    pull(MetaAds, platforms, lake)
    platforms.requests.clear()
    platforms.ad_campaigns["120210000000000301"] = NOW.date()  # created after the first pull
    result, _ = pull(MetaAds, platforms, lake, now=NOW + timedelta(days=1))
    (asked,) = [r[1] for r in platforms.of(INSIGHTS)]
    assert json.loads(asked["time_range"]) == {"since": "2025-05-20", "until": "2025-05-20"}
    assert "filtering" not in asked  # no list of known campaigns that would leave the new one out
    (page,) = [json.loads(landed(lake, k)) for k in result.files if "/insights/" in k]
    assert sorted(r["campaign_id"] for r in page["data"]) == ["120210000000000101", "120210000000000201",
                                                              "120210000000000301"]
    assert result.cursor_after == {"through": "2025-05-20"}


def test_landed_pages_ingest_into_fct_ad_performance(platforms, lake):
    platforms.rows_per_page = 40
    result, _ = pull(MetaAds, platforms, lake)
    house = Lake(lake)
    claimed, refused = house.adopt("batch-1")
    assert refused == [] and {(i.source, i.dataset) for i in claimed} == {("meta_ads", "insights"),
                                                                           ("meta_ads", "campaigns")}
    assert {r.status for r in house.to_raw(claimed)} == {"loaded"}
    staged = house.stage(source="meta_ads")
    assert {r.status for r in staged.values()} == {"loaded"}, [r.reason for r in staged.values()]
    house.build_curated(["fct_ad_performance", "dim_ad_campaign"])
    facts = house.read_staging("meta_ads", "insights")
    assert len(facts) == 98 and facts["adset_id"].isna().all()  # level=campaign: one row per campaign and day
    perf = __import__("pandas").read_parquet(lake.uri("curated", "fct_ad_performance"))
    assert len(perf) == 98 and set(perf["platform"]) == {"meta"} and set(perf["currency"]) == {"USD"}
    day = perf[(perf["campaign_id"] == "120210000000000101") & (perf["date_start"].astype(str) == "2025-05-19")]
    assert day[["spend_usd", "impressions", "clicks", "reach"]].iloc[0].tolist() == [6.9, 1019, 29, 819]
    # observed_at is the pull's stamp in the file names
    loaded = house.manifest()
    assert set(loaded["observed_at"].astype(str)) == {"2025-05-20 05:00:07+00:00"}


def test_on_either_backend_pages_land_once_each_and_the_cursor_is_shared(platforms, storage):
    """The same pull on the local folder and on S3 (moto): each page an object of its own (two
    pulls in the same second do not overwrite each other), the cursor in the lake."""
    platforms.rows_per_page = 60
    result, _ = pull(MetaAds, platforms, storage)
    again, _ = pull(MetaAds, platforms, storage, since=NOW.date() - timedelta(days=90))  # a backfill, same second
    assert len(result.files) == len(again.files) == 3 and not set(result.files) & set(again.files)
    assert again.files[1].endswith(f"insights_act-{AD_ACCOUNT}-page-001_{STAMP} (2).json")
    waiting = sorted(o.key for o in storage.list("landing"))
    assert waiting == sorted(result.files + again.files)
    assert json.loads(storage.get("raw", "_pullers/meta_ads.json")) == {"through": "2025-05-19"}


def test_the_landing_sensor_takes_the_pulled_pages_from_there(platforms, local_env):
    import dagster as dg

    from assets.factory import LANDING_OP
    from assets.lakehouse import Lakehouse
    from pipelines import launch
    from resources.lake_resource import LakeResource
    from sensors.landing import landing_sensor

    house = Lakehouse.from_env()
    platforms.rows_per_page = 60
    result, _ = pull(MetaAds, platforms, house.storage)
    with launch.instance(house.settings) as instance, \
            dg.build_sensor_context(instance=instance, resources={"lake": LakeResource()}) as ctx:
        request = landing_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    assert request.run_config == {"ops": {LANDING_OP: {"config": {"keys": sorted(result.files)}}}}
    selected = {k.to_user_string() for k in request.asset_selection}
    assert {"landing/meta_ads", "staging/meta_ads/insights", "staging/meta_ads/campaigns",
            "curated/fct_ad_performance", "curated/dim_ad_campaign"} <= selected
    assert not any(k.startswith("api/") for k in selected)
