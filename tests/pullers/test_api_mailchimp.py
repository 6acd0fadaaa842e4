"""The MailChimp reports puller against a local /3.0/reports."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from resources.api import ApiError
from resources.pullers import MailChimp, mailchimp

from .conftest import NOW, landed, pull
from .platforms import MAILCHIMP_KEY

REPORTS = "/mailchimp/3.0/reports"


def test_the_data_centre_comes_from_the_key():
    assert mailchimp.api_url("0123456789abcdef-us21") == "https://us21.api.mailchimp.com/3.0"
    with pytest.raises(ApiError) as err:
        mailchimp.api_url("0123456789abcdef")
    assert "0123456789abcdef" not in str(err.value) and "-us21" in str(err.value)


def test_offset_pagination_to_total_items(platforms, lake, monkeypatch):
    monkeypatch.setattr(mailchimp, "PAGE_SIZE", 2)
    result, _ = pull(MailChimp, platforms, lake)
    asked = [r[1] for r in platforms.of(REPORTS)]
    assert [(a["offset"], a["count"]) for a in asked] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert "since_send_time" not in asked[0]  # the first pull asks for every campaign
    assert result.files == [f"mailchimp/reports_api/reports_api_page-00{n}_20250520_050007.json" for n in (1, 2, 3)]
    ids = [r["id"] for key in result.files for r in json.loads(landed(lake, key))["reports"]]
    assert ids == [c["id"] for c in platforms.mailchimp_campaigns]
    assert json.loads(landed(lake, result.files[0]))["total_items"] == 5
    # the key goes as basic auth, in no URL
    basic = "Basic " + base64.b64encode(f"soundlake:{MAILCHIMP_KEY}".encode()).decode()
    assert {r[2]["Authorization"] for r in platforms.of(REPORTS)} == {basic}
    assert not any(MAILCHIMP_KEY in json.dumps(r[1]) for r in platforms.requests)
    assert result.cursor_after["pulled_at"] == NOW.isoformat()


def test_the_next_pull_asks_for_campaigns_sent_since_two_weeks_before_the_last(platforms, lake):
    pull(MailChimp, platforms, lake)
    platforms.requests.clear()
    sent = datetime(2025, 5, 20, 18, tzinfo=timezone.utc).isoformat()
    platforms.mailchimp_campaigns.append({**platforms.mailchimp_campaigns[0], "id": "c0099", "send_time": sent})
    result, _ = pull(MailChimp, platforms, lake, now=NOW + timedelta(days=1))
    (asked,) = [r[1] for r in platforms.of(REPORTS)]
    assert datetime.fromisoformat(asked["since_send_time"]) == NOW - timedelta(days=mailchimp.REVISIT_DAYS)
    assert [r["id"] for r in json.loads(landed(lake, result.files[0]))["reports"]] == ["c0099"]
    assert result.cursor_after == {"pulled_at": (NOW + timedelta(days=1)).isoformat(), "newest_send_time": sent}


def test_429_waits_as_long_as_retry_after_says(platforms, lake):
    platforms.faults[REPORTS] = ["429"]
    started = time.monotonic()
    result, _ = pull(MailChimp, platforms, lake)
    assert time.monotonic() - started >= 1.0  # Retry-After: 1, though the backoff would wait 0.01 s
    assert result.retried == 1 and len(result.files) == 1


def test_retries_used_up_fail_the_pull_without_quoting_the_key(platforms, lake):
    platforms.faults[REPORTS] = ["500"] * 4
    with pytest.raises(ApiError) as err:
        pull(MailChimp, platforms, lake)
    assert "gave up after 4 attempts" in str(err.value) and "HTTP 500" in str(err.value)
    assert MAILCHIMP_KEY not in str(err.value)
    assert lake.stat("raw", "_pullers/mailchimp.json") is None


def test_a_page_that_is_not_json_is_landed_and_the_pull_goes_on(platforms, lake):
    platforms.faults[REPORTS] = ["malformed"]
    result, _ = pull(MailChimp, platforms, lake)
    assert result.status == "pulled" and result.malformed == result.files and len(result.files) == 1
    assert landed(lake, result.files[0]).startswith(b'{"data": [{"name": "reach", "values": [')
    assert result.cursor_after == {} and "cursor stays" in result.note
