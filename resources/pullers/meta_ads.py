"""Meta Marketing API: daily insights of every campaign of an ad account.

``/act_<id>/insights?level=campaign&time_increment=1&time_range={since, until}``: one row per
campaign and day with delivery, for every campaign of the account, so a campaign created since the
last pull is in the next one without being named (no campaign list is kept to filter by). Pages
follow ``paging.next`` (``paging.cursors.after``) to the end; each lands as
``landing/meta_ads/insights/insights_act-<id>-page-NNN_<stamp>.json``, the ``{data, paging}``
envelope that ``assets/sources/meta_ads.py`` parses (numbers as strings, ``account_currency`` asked
for so money keeps its currency). The account's campaigns (``/act_<id>/campaigns``: name, status,
objective, times) land beside them in ``landing/meta_ads/campaigns/`` for ``dim_ad_campaign``.

The cursor is the newest ``date_stop`` a row had; the first pull goes 90 days back.
"""

from __future__ import annotations

import json

from .graph import GraphPuller

INSIGHT_FIELDS = ("account_id,account_currency,campaign_id,campaign_name,spend,impressions,clicks,reach,frequency,"
                  "cpc,ctr,date_start,date_stop")
CAMPAIGN_FIELDS = "id,name,status,effective_status,objective,start_time,stop_time,created_time,updated_time"
PAGE_SIZE = 500


class MetaAds(GraphPuller):
    source = "meta_ads"
    title = "Meta Marketing API"
    dataset = "insights"
    prefix = "SOUNDLAKE_META_ADS"
    required = ("SOUNDLAKE_META_ADS_ACCESS_TOKEN", "SOUNDLAKE_META_ADS_ACCOUNT_ID")
    optional = ("SOUNDLAKE_META_ADS_APP_ID", "SOUNDLAKE_META_ADS_APP_SECRET", "SOUNDLAKE_META_ADS_API_URL")
    fetches = ("/act_<id>/insights (level=campaign, time_increment=1): each campaign's daily spend, impressions, "
               "clicks, reach; and the account's campaigns")

    def fetch(self, cursor: dict) -> dict:
        window = self.window(cursor.get("through"))
        if window is None:
            return cursor
        start, end = window
        account = "act_" + self.var("SOUNDLAKE_META_ADS_ACCOUNT_ID").removeprefix("act_")
        base = f"{self.api_url()}/{account}"
        tag = account.replace("_", "-")
        for _ in self.pages(tag, f"{base}/campaigns", {"fields": CAMPAIGN_FIELDS, "limit": PAGE_SIZE},
                            dataset="campaigns"):
            pass
        newest = cursor.get("through")
        for doc in self.pages(tag, f"{base}/insights", {
                "level": "campaign", "time_increment": 1, "fields": INSIGHT_FIELDS, "limit": PAGE_SIZE,
                "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()})}):
            rows = doc.get("data") if isinstance(doc, dict) else None
            stops = [r["date_stop"] for r in rows or [] if isinstance(r, dict) and isinstance(r.get("date_stop"), str)]
            if stops:
                newest = max([newest, *stops]) if newest else max(stops)
        return {**cursor, "through": newest} if newest else cursor
