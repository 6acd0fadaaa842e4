"""The Instagram insights puller against a local Graph API."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from resources.api import ApiError
from resources.pullers import Instagram

from .conftest import landed, pull
from .platforms import GRAPH_APP_SECRET, GRAPH_TOKEN, IG_USER_ID

INSIGHTS = f"/graph/v21.0/{IG_USER_ID}/insights"
STAMP = "20250520_050007"


def _epoch(d: date) -> str:
    return str(int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()))


def test_series_follow_paging_next_inside_the_window_and_totals_come_per_day(platforms, lake):
    result, _ = pull(Instagram, platforms, lake)
    assert result.window == "2025-04-20..2025-05-19"  # 30 days: follower_count has no more
    asked = [r[1] for r in platforms.of(INSIGHTS)]
    series = [a for a in asked if a.get("metric_type") != "total_value"]
    totals = [a for a in asked if a.get("metric_type") == "total_value"]
    # the server gives two days a page: 15 pages cover the window, the 16th `next` is past it
    assert [a["since"] for a in series] == [_epoch(date(2025, 4, 20 + 2 * i)) if 20 + 2 * i <= 30
                                            else _epoch(date(2025, 5, 2 * i - 10)) for i in range(15)]
    assert series[0]["until"] == _epoch(date(2025, 5, 20)) and series[0]["metric"] == "reach,follower_count"
    assert len(totals) == 30 and totals[0]["since"] == _epoch(date(2025, 4, 20)) and totals[0]["period"] == "day"
    # the token goes as a header, never in a query, also when following a paging link that carried it
    assert not any("access_token" in a for a in asked)
    assert {r[2]["Authorization"] for r in platforms.of(INSIGHTS)} == {f"Bearer {GRAPH_TOKEN}"}
    # landed as the API said it, but for the token in the paging links
    key = f"instagram/graph_insights/graph_insights_series-2025-04-20-page-001_{STAMP}.json"
    assert key in result.files and f"instagram/graph_insights/graph_insights_day-2025-05-19-page-001_{STAMP}.json" \
        in result.files
    body = landed(lake, key)
    assert GRAPH_TOKEN.encode() not in body and b"access_token=[redacted]" in body
    doc = json.loads(body)
    assert [m["name"] for m in doc["data"]] == ["reach", "follower_count"]
    assert doc["data"][0]["values"][0] == {"value": 70, "end_time": "2025-04-21T07:00:00+0000"}
    day = json.loads(landed(lake, result.files[-1]))
    assert day["data"][0]["total_value"] == {"value": 29} and day["data"][0]["name"] == "views"
    assert result.cursor_after == {"through": "2025-05-19"}


def test_oauth_error_190_exchanges_the_token_once_and_repeats_the_call(platforms, lake):
    platforms.expired.add(GRAPH_TOKEN)
    result, _ = pull(Instagram, platforms, lake)
    (exchange,) = platforms.of("/oauth/access_token")
    assert exchange[1]["grant_type"] == "fb_exchange_token" and exchange[1]["fb_exchange_token"] == GRAPH_TOKEN
    assert result.token_refreshed == 1
    first, second = platforms.of(INSIGHTS)[:2]
    assert first[1] == second[1] and second[2]["Authorization"] == f"Bearer {platforms.graph_tokens[-1]}"
    new_token = platforms.graph_tokens[-1].encode()
    for key in result.files:
        body = landed(lake, key)
        assert new_token not in body and GRAPH_TOKEN.encode() not in body and GRAPH_APP_SECRET.encode() not in body


def test_without_the_app_secret_an_expired_token_fails_the_pull_saying_what_to_do(platforms, lake):
    platforms.expired.add(GRAPH_TOKEN)
    env = {k: v for k, v in platforms.env("instagram").items() if "APP_" not in k}
    with pytest.raises(ApiError) as err:
        Instagram(env, lake).pull()
    assert "expired" in str(err.value) and "make a new one" in str(err.value) and "code 190" in str(err.value)
    assert GRAPH_TOKEN not in str(err.value)


def test_a_500_then_success_and_a_page_that_is_not_json(platforms, lake):
    platforms.faults[INSIGHTS] = ["500", "ok", "malformed"]
    result, _ = pull(Instagram, platforms, lake)
    assert result.retried == 1
    # the malformed second page ends that series' paging; the rest of the pull goes on
    assert result.malformed == [f"instagram/graph_insights/graph_insights_series-2025-04-20-page-002_{STAMP}.json"]
    assert len([k for k in result.files if "_day-" in k]) == 30
    assert result.cursor_after == {} and lake.stat("raw", "_pullers/instagram.json") is None
