"""Instagram Graph API: a professional account's insights (``/{ig-user-id}/insights``).

Two kinds of request, each response landed in ``landing/instagram/graph_insights/``:

- ``graph_insights_series-<first day>-page-NNN_<stamp>.json``: ``period=day`` time series
  (``reach``, ``follower_count``) with ``since``/``until`` over at most 30 days a request (the API's
  limit), ``{data: [{name, period, title, description, values: [{value, end_time}]}], paging}``;
  ``paging.next`` is followed while it stays inside the window (it points at the next window);
- ``graph_insights_day-<YYYY-MM-DD>-page-NNN_<stamp>.json``: ``metric_type=total_value`` metrics
  (views, reach, likes, comments, shares, saves, total interactions, profile views, accounts
  engaged, website clicks) for one day, ``{data: [{name, period, title, description, total_value:
  {value}}]}``: the body does not name the day, the file name does.

Titles and descriptions come in the account's language. Two days with the same totals still
make two different files only because the API's ``paging`` links name each day's ``since`` and
``until``: raw keeps one copy of identical bytes, so a response without them would lose a day. The cursor is the newest day whose totals
came back with data; the first pull goes 30 days back (``follower_count`` exists for the last 30
days only).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from .graph import GraphPuller

SERIES = ("reach", "follower_count")
TOTALS = ("views", "reach", "likes", "comments", "shares", "saves", "total_interactions", "profile_views",
          "accounts_engaged", "website_clicks")
MAX_SPAN_DAYS = 30


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())


def _since(url: str) -> int | None:
    value = dict(parse_qsl(urlsplit(url).query)).get("since")
    return int(value) if value and value.isdigit() else None


class Instagram(GraphPuller):
    source = "instagram"
    title = "Instagram Graph API"
    dataset = "graph_insights"
    prefix = "SOUNDLAKE_INSTAGRAM"
    required = ("SOUNDLAKE_INSTAGRAM_ACCESS_TOKEN", "SOUNDLAKE_INSTAGRAM_USER_ID")
    optional = ("SOUNDLAKE_INSTAGRAM_APP_ID", "SOUNDLAKE_INSTAGRAM_APP_SECRET", "SOUNDLAKE_INSTAGRAM_API_URL")
    fetches = ("/{ig-user-id}/insights: daily reach and follower count (period=day), and each day's views, reach, "
               "likes, comments, shares, saves, interactions, profile views, accounts engaged, website clicks "
               "(metric_type=total_value)")
    first_days = 30

    def fetch(self, cursor: dict) -> dict:
        window = self.window(cursor.get("through"))
        if window is None:
            return cursor
        start, end = window
        url = f"{self.api_url()}/{self.var('SOUNDLAKE_INSTAGRAM_USER_ID')}/insights"
        chunk = start
        while chunk <= end:
            last = min(end, chunk + timedelta(days=MAX_SPAN_DAYS - 1))
            until = _epoch(last + timedelta(days=1))
            for _ in self.pages(f"series-{chunk.isoformat()}", url, {
                    "metric": ",".join(SERIES), "period": "day", "since": _epoch(chunk), "until": until},
                    follow=lambda nxt, until=until: (_since(nxt) or 0) < until):
                pass
            chunk = last + timedelta(days=1)
        through = cursor.get("through")
        day = start
        while day <= end:
            got = False
            for doc in self.pages(f"day-{day.isoformat()}", url, {
                    "metric": ",".join(TOTALS), "metric_type": "total_value", "period": "day",
                    "since": _epoch(day), "until": _epoch(day + timedelta(days=1))},
                    follow=lambda nxt: False):
                got = got or (isinstance(doc, dict) and any(isinstance(m, dict) and "total_value" in m
                                                            for m in doc.get("data") or []))
            if got:
                through = day.isoformat()
            day += timedelta(days=1)
        return {**cursor, "through": through} if through else cursor
