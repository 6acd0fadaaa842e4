"""The YouTube Analytics puller against a local token endpoint and reports.query."""

from __future__ import annotations

import json
from datetime import timedelta

from resources.api import CursorStore
from resources.pullers import YouTube

from .conftest import FAST, NOW, landed, pull
from .platforms import YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET, YOUTUBE_REFRESH_TOKEN

REPORTS = "/youtube/v2/reports"
STAMP = "20250520_050007"


def test_first_pull_lands_the_channel_the_top_videos_and_each_video(platforms, lake):
    result, _ = pull(YouTube, platforms, lake)
    assert result.status == "pulled"
    assert result.files == [f"youtube/analytics_api/analytics_api_{what}_{STAMP}.json"
                            for what in ("channel", "videos", "video-dQw4w9WgXcQ", "video-a-b_C1d2e3F")]
    assert result.window == "2025-02-19..2025-05-19"  # 90 days up to yesterday
    # one access token from the refresh token, sent as a header to every report
    (token_path, form, _), *_ = platforms.requests
    assert token_path == "/youtube/token" and form == {"grant_type": "refresh_token", "client_id": YOUTUBE_CLIENT_ID,
                                                       "client_secret": YOUTUBE_CLIENT_SECRET,
                                                       "refresh_token": YOUTUBE_REFRESH_TOKEN}
    reports = platforms.of(REPORTS)
    assert {r[2]["Authorization"] for r in reports} == {f"Bearer {platforms.google_tokens[0]}"}
    channel, top, *videos = [r[1] for r in reports]
    assert (channel["ids"], channel["dimensions"], channel["startDate"], channel["endDate"]) == \
        ("channel==MINE", "day", "2025-02-19", "2025-05-19")
    assert (top["dimensions"], top["sort"]) == ("video", "-views")
    assert [(v["dimensions"], v["filters"]) for v in videos] == [("video,day", "video==dQw4w9WgXcQ"),
                                                                 ("video,day", "video==a-b_C1d2e3F")]
    # each video's rows name it: two videos with the same numbers are still two files' worth of data
    one, two = (json.loads(landed(lake, k)) for k in result.files[2:])
    assert one["rows"][0][:2] == ["dQw4w9WgXcQ", "2025-02-19"] and two["rows"][0][0] == "a-b_C1d2e3F"
    assert [r[2:] for r in one["rows"]] == [r[2:] for r in two["rows"]]
    # the body as the API sent it
    doc = json.loads(landed(lake, result.files[0]))
    assert doc["kind"] == "youtubeAnalytics#resultTable"
    assert [h["name"] for h in doc["columnHeaders"]][:3] == ["day", "views", "estimatedMinutesWatched"]
    assert doc["rows"][0][0] == "2025-02-19" and doc["rows"][-1][0] == "2025-05-17"  # the last days are not there yet
    # the cursor: the newest day with data, in the lake
    assert result.cursor_after == {"through": "2025-05-17"}
    assert CursorStore(lake).get("youtube") == {"through": "2025-05-17"}
    assert lake.stat("raw", "_pullers/youtube.json") is not None


def test_the_next_pull_asks_only_for_the_days_after_the_newest_one_it_got(platforms, lake):
    pull(YouTube, platforms, lake)
    platforms.requests.clear()
    platforms.today += timedelta(days=1)
    result, _ = pull(YouTube, platforms, lake, now=NOW + timedelta(days=1))
    channel = platforms.of(REPORTS)[0][1]
    assert (channel["startDate"], channel["endDate"]) == ("2025-05-18", "2025-05-20")
    assert result.cursor_before == {"through": "2025-05-17"} and result.cursor_after == {"through": "2025-05-18"}
    # once the data reaches yesterday, a pull the same day asks nothing at all
    platforms.today += timedelta(days=2)
    pull(YouTube, platforms, lake, now=NOW + timedelta(days=1, hours=1))
    assert CursorStore(lake).get("youtube") == {"through": "2025-05-20"}
    platforms.requests.clear()
    again, _ = pull(YouTube, platforms, lake, now=NOW + timedelta(days=1, hours=2))
    assert platforms.requests == [] and again.files == [] and again.note.startswith("nothing new")


def test_an_expired_access_token_is_refreshed_once_and_the_call_repeated(platforms, lake):
    platforms.expire_issued = 1  # the first token the endpoint gives is refused by the API
    result, _ = pull(YouTube, platforms, lake)
    assert result.token_refreshed == 1 and len(platforms.google_tokens) == 2
    first, second = platforms.of(REPORTS)[:2]
    assert first[1] == second[1]  # the same call, again
    assert first[2]["Authorization"] == f"Bearer {platforms.google_tokens[0]}"
    assert second[2]["Authorization"] == f"Bearer {platforms.google_tokens[1]}"
    assert len(result.files) == 4  # the 401 itself is not landed: it is not an answer
    assert result.cursor_after == {"through": "2025-05-17"}


def test_a_report_without_rows_is_landed_and_keeps_the_cursor(platforms, lake):
    platforms.today = NOW.date() - timedelta(days=200)  # nothing reported in the window yet
    result, _ = pull(YouTube, platforms, lake)
    assert result.files == [f"youtube/analytics_api/analytics_api_{w}_{STAMP}.json" for w in ("channel", "videos")]
    assert result.empty == result.files
    doc = json.loads(landed(lake, result.files[0]))
    assert "rows" not in doc and doc["columnHeaders"]
    assert result.cursor_after == {} and lake.stat("raw", "_pullers/youtube.json") is None


def test_a_500_then_an_answer_is_retried(platforms, lake):
    platforms.faults[REPORTS] = ["500"]
    result, _ = pull(YouTube, platforms, lake)
    assert result.retried == 1 and len(result.files) == 4
    assert platforms.of(REPORTS)[0][1] == platforms.of(REPORTS)[1][1]


def test_the_channel_named_in_the_environment_is_in_every_landed_name(platforms, lake):
    # the body never says which channel (ids=channel==MINE): the name does, for staging to read
    env = {**platforms.env("youtube"), "SOUNDLAKE_YOUTUBE_CHANNEL": " Nova Lights "}
    result = YouTube(env, lake, now=NOW, options=FAST).pull()
    assert result.files == [f"youtube/analytics_api/analytics_api_{what}@Nova Lights_{STAMP}.json"
                            for what in ("channel", "videos", "video-dQw4w9WgXcQ", "video-a-b_C1d2e3F")]
    # what cannot be in a name (a folder, a second @) becomes a space
    env["SOUNDLAKE_YOUTUBE_CHANNEL"] = "AC/DC @fans"
    again = YouTube(env, lake, now=NOW + timedelta(days=5), options=FAST, since=NOW.date() - timedelta(days=3)).pull()
    assert again.files[0] == "youtube/analytics_api/analytics_api_channel@AC DC fans_20250525_050007.json"
