"""MailChimp Marketing API: the campaign reports (``GET /3.0/reports``).

An API key ends in its data centre (``0123...abcd-us21``), which names the host
(``https://us21.api.mailchimp.com``); it goes as HTTP basic auth (any user name, the key as the
password), never in a URL. Reports come a page at a time: ``count`` (100) and ``offset`` until
``offset`` reaches ``total_items``, each page landed as
``landing/mailchimp/reports_api/reports_api_page-NNN_<stamp>.json`` (``{reports: [{id,
campaign_title, send_time, emails_sent, opens: {...}, clicks: {...}, list_stats: {...}, ...}],
total_items}``).

Incremental by send time: the first pull asks for every campaign; later ones for campaigns sent
since ``REVISIT_DAYS`` (14) days before the previous pull, because a campaign's opens and clicks
keep growing for days after it is sent (staging keeps the newest report of a campaign). The cursor
moves only when every page was read.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

from ..api import ApiError, Auth, Puller

PAGE_SIZE = 100
REVISIT_DAYS = 14
_DC = re.compile(r"-([a-z]{2,4}\d{1,3})$")


class ApiKey(Auth):
    def __init__(self, key: str):
        self._key = key
        self._basic = base64.b64encode(f"soundlake:{key}".encode()).decode()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self._basic}"}

    def expired(self, response) -> bool:
        return False  # an API key does not expire: a 401 is a wrong or revoked key, said as such

    def secrets(self) -> list[str]:
        return [self._key, self._basic]


def api_url(key: str) -> str:
    """``https://<dc>.api.mailchimp.com/3.0`` from the key's data-centre suffix."""
    m = _DC.search(key)
    if not m:
        raise ApiError("mailchimp: SOUNDLAKE_MAILCHIMP_API_KEY does not end in its data centre (like '-us21'); "
                       "copy the whole key from Account → Extras → API keys")
    return f"https://{m.group(1)}.api.mailchimp.com/3.0"


class MailChimp(Puller):
    source = "mailchimp"
    title = "MailChimp Marketing API"
    dataset = "reports_api"
    required = ("SOUNDLAKE_MAILCHIMP_API_KEY",)
    optional = ("SOUNDLAKE_MAILCHIMP_API_URL",)
    fetches = ("/3.0/reports: each campaign's sends, opens, clicks, bounces and rates; campaigns sent since "
               f"{REVISIT_DAYS} days before the previous pull (their numbers still grow)")

    def auth(self) -> Auth:
        return ApiKey(self.var("SOUNDLAKE_MAILCHIMP_API_KEY"))

    def fetch(self, cursor: dict) -> dict:
        key = self.var("SOUNDLAKE_MAILCHIMP_API_KEY")
        base = self.var("SOUNDLAKE_MAILCHIMP_API_URL") or api_url(key)
        url = f"{base.rstrip('/')}/reports"
        since = None
        if self.since is not None:
            since = datetime(self.since.year, self.since.month, self.since.day, tzinfo=self.now.tzinfo)
        elif cursor.get("pulled_at"):
            since = datetime.fromisoformat(cursor["pulled_at"]) - timedelta(days=REVISIT_DAYS)
        self.result.window = f"sent since {since.isoformat()}" if since else "every campaign"
        params = {"count": PAGE_SIZE, "sort_field": "send_time", "sort_dir": "ASC"}
        if since is not None:
            params["since_send_time"] = since.isoformat()
        offset, page, complete, newest = 0, 1, False, cursor.get("newest_send_time")
        while True:
            doc = self.call(f"page-{page:03d}", url, {**params, "offset": offset},
                            rows=lambda d: bool(d.get("reports")) if isinstance(d, dict) else False)
            if not isinstance(doc, dict) or not isinstance(doc.get("reports"), list):
                break  # not JSON, or not a reports page: landed, and the cursor stays
            reports = doc["reports"]
            sent = [r.get("send_time") for r in reports if isinstance(r, dict) and r.get("send_time")]
            newest = max([newest, *sent] if newest else sent) if sent else newest
            offset += len(reports)
            total = doc.get("total_items")
            if not reports or not isinstance(total, int) or offset >= total:
                complete = True
                break
            page += 1
        if not complete:
            return cursor
        return {**cursor, "pulled_at": self.now.isoformat(), **({"newest_send_time": newest} if newest else {})}
