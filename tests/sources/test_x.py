"""X (Twitter): the current account overview and content exports and the legacy daily and
per-tweet exports into fct_social_daily and fct_social_posts."""

import json
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.lake.landing import identify
from assets.sources import SOURCES
from assets.sources.base import ParseContext, ParseError
from assets.sources.x import (
    _social_daily,
    _social_posts,
    legacy_observed_at,
    parse_account_overview,
    parse_content,
    parse_daily_activity,
    parse_tweet_activity,
    write_samples,
)
from tests.cli_helpers import query, run

LANDED = datetime(2025, 2, 20, 9, 0, tzinfo=timezone.utc)
OVERVIEW = ("Date,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Unfollows,Replies,Reposts,"
            "Profile visits,Create Post,Video views,Media views\n"
            "\"Tue, Feb 18, 2025\",1520,30,75,3,1,6,2,4,5,12,1,300,410\n"
            "\"Mon, Feb 17, 2025\",1410,22,60,2,0,4,1,3,2,9,0,250,390\n")
CONTENT = ("Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Replies,"
           "Reposts,Profile visits\r\n"
           "1891234567890123456,Mon Feb 17 2025,\"New single out Friday,\r\nlink in bio\",https://x.com/nova/status/1891234567890123456,"
           "1410,22,60,2,0,4,3,2,9\r\n")
PROMOTED = ["promoted impressions", "promoted engagements", "promoted retweets"]
LEGACY_DAILY_NAME = "daily_tweet_activity_metrics_novalights_20190101_20190131_en.csv"
LEGACY_DAILY = ('"Date","Tweets published","impressions","engagements","engagement rate","retweets","replies","likes",'
                '"user profile clicks","url clicks","follows",' + ",".join(f'"{p}"' for p in PROMOTED) + "\n"
                '"2019-01-30","2","812.0","31","0.038","2","1","14","5","3","1","-","-","-"\n'
                '"2019-01-31","0","640","20","0.031","1","0","9","2","0","0","120","4","0"\n')
LEGACY_TWEETS_NAME = "tweet_activity_metrics_novalights_20190101_20190131_en.csv"
LEGACY_TWEETS = ('"Tweet id","Tweet permalink","Tweet text","time","impressions","engagements","engagement rate",'
                 '"retweets","replies","likes","user profile clicks","url clicks","follows",'
                 + ",".join(f'"{p}"' for p in PROMOTED) + "\n"
                 '"1090712345678901234","https://twitter.com/novalights/status/1090712345678901234",'
                 '"Rehearsal tonight.\nNew songs,\n""old"" friends","2019-01-30 22:08 +0000","312.0","12.0","0.038",'
                 '"1","0","7","2","1","0","-","-","-"\n')


def ctx(name, as_of=None, **options):
    return ParseContext("x", "x", name, "0" * 64, LANDED, as_of, options)


def test_overview_dates_newest_first_and_the_account():
    df = parse_account_overview(OVERVIEW.encode(), ctx("account_overview_analytics_@nova_lights_20250219_080000.csv"))
    assert list(df["date"]) == [date(2025, 2, 18), date(2025, 2, 17)]
    assert set(df["account"]) == {"nova_lights"}
    assert df.iloc[0][["impressions", "new_follows", "unfollows", "reposts", "profile_visits", "video_views"]].tolist() == [
        1520, 6, 2, 5, 12, 300]
    with pytest.raises(ParseError, match=r"file name 'account_overview_analytics.csv' does not say.*--account"):
        parse_account_overview(OVERVIEW.encode(), ctx("account_overview_analytics.csv"))
    assert set(parse_account_overview(OVERVIEW.encode(), ctx("export.csv", account="@nova"))["account"]) == {"nova"}


def test_content_export_multi_line_text_and_snapshot_day():
    df = parse_content(CONTENT.encode(), ctx("content_@nova.csv", as_of=date(2025, 2, 19)))
    assert df.iloc[0]["text"] == "New single out Friday,\nlink in bio"
    assert df.iloc[0][["post_id", "snapshot_date", "impressions", "replies"]].tolist() == [
        "1891234567890123456", date(2025, 2, 19), 1410, 3]
    assert df.iloc[0]["posted_at"] == pd.Timestamp("2025-02-17", tz="UTC")
    with pytest.raises(ParseError, match=r"'Post id', line 2: '18912x' is not a post id"):
        parse_content(CONTENT.replace("1891234567890123456,Mon", "18912x,Mon").encode(), ctx("c@nova.csv"))


def test_legacy_exports_promoted_dashes_and_point_zero():
    daily = parse_daily_activity(LEGACY_DAILY.encode(), ctx(LEGACY_DAILY_NAME))
    assert set(daily["account"]) == {"novalights"}
    assert daily["impressions"].tolist() == [812, 640] and daily["posts_published"].tolist() == [2, 0]
    assert pd.isna(daily.loc[0, "promoted_impressions"]) and daily.loc[1, "promoted_impressions"] == 120, \
        "'-' is no promotion (null), not 0"
    assert daily["profile_visits"].tolist() == [5, 2] and daily["reposts"].tolist() == [2, 1]
    assert legacy_observed_at(LEGACY_DAILY_NAME) == datetime(2019, 2, 1, tzinfo=timezone.utc)
    tweets = parse_tweet_activity(LEGACY_TWEETS.encode(), ctx(LEGACY_TWEETS_NAME))
    first = tweets.iloc[0]
    assert first["text"] == 'Rehearsal tonight.\nNew songs,\n"old" friends'
    assert first[["impressions", "engagements", "snapshot_date"]].tolist() == [312, 12, date(2019, 1, 31)]
    assert first["posted_at"] == pd.Timestamp("2019-01-30 22:08", tz="UTC")
    assert first["url"].startswith("https://twitter.com/novalights/status/")
    with pytest.raises(ParseError, match=r"'impressions', line 3: '81,2' is not a whole number"):
        parse_daily_activity(LEGACY_DAILY.replace('"640"', '"81,2"').encode(), ctx(LEGACY_DAILY_NAME))


def test_recognised_and_conformed():
    assert identify(SOURCES, "export.csv", OVERVIEW.encode()) == ("x", "account_overview")
    assert identify(SOURCES, "export.csv", CONTENT.encode()) == ("x", "content")
    assert identify(SOURCES, LEGACY_DAILY_NAME, LEGACY_DAILY.encode()) == ("x", "daily_activity")
    assert identify(SOURCES, LEGACY_TWEETS_NAME, LEGACY_TWEETS.encode()) == ("x", "tweet_activity")
    assert identify(SOURCES, "whatever.csv", LEGACY_TWEETS.encode()) == ("x", "tweet_activity")
    ov = parse_account_overview(OVERVIEW.encode(), ctx("o@nova.csv")).assign(
        sha256="a" * 64, observed_at=pd.Timestamp("2025-02-19", tz="UTC"))
    daily = _social_daily({"account_overview": ov}).set_index("date")
    row = daily.loc[date(2025, 2, 18)]
    assert row[["views", "impressions", "comments", "shares", "followers_change", "profile_views"]].tolist() == [
        300, 1520, 4, 6, 4, 12]
    posts = _social_posts({"tweet_activity": parse_tweet_activity(LEGACY_TWEETS.encode(), ctx(LEGACY_TWEETS_NAME))
                           .assign(sha256="b" * 64, observed_at=pd.Timestamp("2019-02-01", tz="UTC"))})
    assert posts.iloc[0][["platform", "period", "post_type", "shares", "comments"]].tolist() == [
        "x", "lifetime", "post", 1, 0]


def test_samples_ingest_into_curated(local_env, tmp_path):
    files = write_samples(tmp_path / "x", seed=3, end=date(2025, 5, 31))
    result = run("ingest", tmp_path / "x", "--json")
    assert result.exit_code == 0, result.output
    assert sorted(r["dataset"] for r in json.loads(result.stdout)) == [
        "account_overview", "content", "daily_activity", "tweet_activity"] and len(files) == 4
    daily = query("SELECT account, count(*) AS days, min(date) AS first, max(date) AS last, count(unfollows) AS uf "
                  "FROM fct_social_daily WHERE platform = 'x' GROUP BY ALL")
    assert daily == [{"account": "novalights", "days": 180, "first": "2024-12-03", "last": "2025-05-31", "uf": 90}]
    posts = query("SELECT count(*) AS n, count(DISTINCT date) AS snapshots, "
                  "max(CASE WHEN title LIKE '%' || chr(10) || '%' THEN 1 ELSE 0 END) AS multiline "
                  "FROM fct_social_posts WHERE platform = 'x'")
    assert posts == [{"n": 10, "snapshots": 2, "multiline": 1}]
