"""The pullers and the sources together: `soundlake pull SOURCE` against the local platforms
(``platforms.py``), as a user runs it, then the ingest of what landed, down to curated. Every
curated row is checked against what the local API served: days (Instagram's one-day totals are
dated by the day asked, which only the file name says), the account (YouTube's channel, which
only the file name says), video ids, campaign ids, metrics. Nothing is quarantined."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tests.cli_helpers import query, run

from .platforms import IG_USER_ID
from .test_pull_runs import _configure

CHANNEL = "Nova Lights"


def _pull(source: str) -> dict:
    result = run("pull", source, "--json")
    assert result.exit_code == 0, result.output  # 3 would be a quarantined file
    out = json.loads(result.stdout)
    (pulled,) = out["pulls"]
    assert pulled["status"] == "pulled" and not pulled["malformed"], pulled
    assert sorted(f["path"].removeprefix("landing/") for f in out["files"]) == sorted(pulled["files"])
    assert not [f for f in out["files"] if f["status"] not in ("loaded", "unused")], out["files"]
    return out


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_youtube_channel_and_video_days_reach_curated_under_the_named_channel(local_env, platforms, monkeypatch):
    _configure(monkeypatch, platforms, "youtube")
    monkeypatch.setenv("SOUNDLAKE_YOUTUBE_CHANNEL", CHANNEL)
    out = _pull("youtube")
    names = {f["path"].rsplit("/", 1)[1].rsplit("_", 2)[0]: f["status"] for f in out["files"]}
    assert names == {f"analytics_api_{what}@{CHANNEL}": "loaded" for what in
                     ("channel", "video-dQw4w9WgXcQ", "video-a-b_C1d2e3F")} | {
        f"analytics_api_videos@{CHANNEL}": "unused"}  # the top videos of the window: not a daily figure

    # the first pull asks for 90 days up to yesterday; YouTube has data up to three days ago
    days = _days(platforms.today - timedelta(days=90), platforms.today - timedelta(days=3))
    daily = query("SELECT date, account, views, likes, comments, shares, new_follows, unfollows, subscribers, "
                  "round(watch_time_hours, 6) AS hours, impressions FROM fct_social_daily "
                  "WHERE platform = 'youtube' ORDER BY date")
    served = [100 + d.day for d in days]  # every metric of the channel's day d
    assert daily == [{"date": d.isoformat(), "account": CHANNEL, "views": n, "likes": n, "comments": n, "shares": n,
                      "new_follows": n, "unfollows": n, "subscribers": 0, "hours": round(n / 60, 6),
                      "impressions": None} for d, n in zip(days, served)]

    posts = query("SELECT post_id, date, period, account, post_type, url, views, likes, comments, shares, "
                  "round(watch_time_hours, 6) AS hours FROM fct_social_posts WHERE platform = 'youtube' "
                  "ORDER BY post_id, date")
    assert posts == [{"post_id": v, "date": d.isoformat(), "period": "day", "account": CHANNEL, "post_type": "video",
                      "url": f"https://www.youtube.com/watch?v={v}", "views": (100 + d.day) // 3,
                      "likes": (100 + d.day) // 3, "comments": (100 + d.day) // 3, "shares": (100 + d.day) // 3,
                      "hours": round((100 + d.day) // 3 / 60, 6)}
                     for v in sorted(platforms.videos) for d in days]


def test_youtube_without_a_channel_name_lands_under_channel(local_env, platforms, monkeypatch):
    _configure(monkeypatch, platforms, "youtube")
    out = _pull("youtube")
    assert all("@" not in f["path"] for f in out["files"])
    assert query("SELECT DISTINCT account FROM fct_social_daily") == [{"account": "channel"}]
    assert query("SELECT DISTINCT account FROM fct_social_posts") == [{"account": "channel"}]


def test_instagram_series_and_each_days_totals_land_on_their_own_days(local_env, platforms, monkeypatch):
    _configure(monkeypatch, platforms, "instagram")
    out = _pull("instagram")
    window = _days(platforms.today - timedelta(days=30), platforms.today - timedelta(days=1))
    day_files = sorted(f["path"] for f in out["files"] if "graph_insights_day-" in f["path"])
    assert len(day_files) == len(window) == 30
    assert {f["status"] for f in out["files"]} == {"loaded"}

    rows = query("SELECT date, account, views, reach, likes, comments, shares, profile_views, engagements, "
                 "new_follows, unfollows, followers FROM fct_social_daily WHERE platform = 'instagram' ORDER BY date")
    # each day: the series' reach and follower_count (50 + day), the day's totals (10 + day; its
    # reach the series' own), every one on the day it was asked for
    assert rows == [{"date": d.isoformat(), "account": IG_USER_ID, "views": 10 + d.day, "reach": 50 + d.day,
                     "likes": 10 + d.day, "comments": 10 + d.day, "shares": 10 + d.day, "profile_views": 10 + d.day,
                     "engagements": 10 + d.day, "new_follows": 50 + d.day, "unfollows": None, "followers": None}
                    for d in window]
    assert query("SELECT count(*) AS n FROM fct_social_posts") == [{"n": 0}]


def test_mailchimp_report_pages_become_one_row_per_campaign(local_env, platforms, monkeypatch):
    _configure(monkeypatch, platforms, "mailchimp")
    out = _pull("mailchimp")
    assert [f["status"] for f in out["files"]] == ["loaded"]
    rows = query("SELECT * EXCLUDE (sha256, observed_at) FROM fct_email_campaigns ORDER BY campaign_id")
    assert rows == [{"platform": "mailchimp", "source": "mailchimp", "campaign_id": c["id"],
                     "title": c["campaign_title"], "subject": c["subject_line"], "audience": "Fans",
                     "campaign_type": "regular", "sent_at": c["send_time"], "emails_sent": c["emails_sent"],
                     "bounces": 1 + n, "delivered": c["emails_sent"] - 1 - n, "opens": 500 + n, "unique_opens": 400 + n,
                     "open_rate": 0.4, "clicks": 90 + n, "unique_clicks": 60 + n, "click_rate": 0.055,
                     "unsubscribes": 3 + n, "abuse_reports": n % 2}
                    for n, c in enumerate(platforms.mailchimp_campaigns)]
    assert rows[0]["subject"] == "News 0 \U0001f3b6"
