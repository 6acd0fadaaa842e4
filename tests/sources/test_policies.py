"""Where platforms write numbers differently, each source states its policy; one test per
platform, through its own parser, for the values they disagree on (``1.234``, ``1,234``, ``312.0``)."""

import json
import re
from datetime import date, datetime, timezone

import pytest

from assets.sources import distrokid, linktree, meta_ads, spotify_for_artists, tiktok, toolost
from assets.sources.base import ParseContext, ParseError

LANDED = datetime(2025, 6, 2, tzinfo=timezone.utc)
REFUSED = "refused"


def ctx(name, **options):
    return ParseContext("x", "x", name, "0" * 64, LANDED, date(2025, 5, 3), options)


def distrokid_quantity(value):
    header = ["Reporting Date", "Sale Month", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity",
              "Team Percentage", "Song/Album", "Country of Sale", "Songwriter Royalties Withheld", "Earnings (USD)"]
    row = ["2024-10-05", "2024-08", "Spotify", "A", "T", "I", "U", value, "100", "Song", "US", "0", "0.1"]
    data = "\r".join(["\t".join(header), "\t".join(row)]).encode()
    return distrokid.parse_bank_details(data, ctx("dk_bank_details.tsv"))["quantity"].iloc[0]


def toolost_streams(value):
    doc = {"streams": [{"date": "2025-01-01", "streams": value}]}
    return toolost.parse_spotify(json.dumps(doc).encode(), ctx("toolost_spotify.json"))["streams"].iloc[0]


def spotify_streams(value):
    data = f'date,listeners,streams,followers\n2025-01-01,1,"{value}",3\n'.encode()
    return spotify_for_artists.parse_audience_timeline(data, ctx("A-audience-timeline.csv"))["streams"].iloc[0]


def tiktok_views(value):
    data = f'"Date","Video Views","Profile Views","Likes","Comments","Shares"\n"May 1","{value}","1","1","1","1"'
    return tiktok.parse_overview(data.encode(), ctx("Overview.csv", account="a"))["views"].iloc[0]


def ads_manager_impressions(value, sep=","):
    head = ["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (EUR)", "Impressions"]
    spent = "1,50" if sep == ";" else "1.50"  # says the file's decimal mark
    row = ["2025-04-01", "2025-04-30", "C", f'"{spent}"', f'"{value}"']
    data = "\r\n".join([sep.join(head), sep.join(row)]).encode()
    return meta_ads.parse_ads_manager(data, ctx("x.csv"))["impressions"].iloc[0]


def graph_api_impressions(value):
    rows = [{"campaign_id": "1", "adset_id": "2", "spend": "1.5", "impressions": value,
             "date_start": "2025-05-01", "date_stop": "2025-05-02"}]
    return meta_ads.parse_insights(json.dumps(rows).encode(), ctx("insights_x.json"))["impressions"].iloc[0]


def linktree_views(value):
    doc = {"data": {"getAccountAnalytics": {"overview": {"timeseries": [
        {"date": "2025-01-01", "totalViews": value, "totalClicks": 1}]}}}}
    return linktree.parse_graphql(json.dumps(doc).encode(), ctx("graphql_x.json"))["views"].iloc[0]


@pytest.mark.parametrize("read, values", [
    # DistroKid and TooLost: "," groups thousands, "12.0" (a spreadsheet's) is 12
    (distrokid_quantity, {"1,234": 1234, "1.234": REFUSED, "312.0": 312, "1 234": REFUSED}),
    (toolost_streams, {"1,234": 1234, "1.234": REFUSED, "312.0": 312}),
    # Spotify for Artists: ",", spaces or "'" group thousands; a "." is never guessed
    (spotify_streams, {"1,234": 1234, "1 234": 1234, "1'234": 1234, "1.234": REFUSED, "312.0": REFUSED}),
    # TikTok: the account's locale groups thousands with any of them; "1,5" is no count
    (tiktok_views, {"1,234": 1234, "1.234": 1234, "1 234": 1234, "1,5": REFUSED, "312.0": 312}),
    # Ads Manager: the file's decimal mark decides; the other mark groups thousands
    (ads_manager_impressions, {"1,234": 1234, "1.234": REFUSED, "312.0": REFUSED}),
    (lambda v: ads_manager_impressions(v, sep=";"), {"1.234": 1234, "1,234": REFUSED}),
    # the Graph API writes plain digits; anything else is a damaged file
    (graph_api_impressions, {"1234": 1234, "1,234": REFUSED, "n/a": REFUSED}),
    # Linktree's admin app: "," grouping, "5.0" for 5
    (linktree_views, {"1,234": 1234, "1.234": REFUSED, "312.0": 312}),
])
def test_each_platform_states_its_thousands_policy(read, values):
    for value, expected in values.items():
        if expected is REFUSED:
            with pytest.raises(ParseError, match=re.escape(f"{value!r} is not a whole number")):
                read(value)
        else:
            assert read(value) == expected, value


def test_policies_are_declared_in_the_modules():
    assert (distrokid.THOUSANDS, toolost.THOUSANDS, spotify_for_artists.THOUSANDS, tiktok.THOUSANDS,
            linktree.THOUSANDS) == (",", ",", ", '", "any", ",")
