"""Local stand-ins for the four platforms' APIs on one real HTTP server on loopback
(pytest-httpserver), speaking their documented shapes:

- Google's token endpoint (``POST /youtube/token``, ``grant_type=refresh_token``) and the YouTube
  Analytics API (``GET /youtube/v2/reports``: ``youtubeAnalytics#resultTable``, ``rows`` absent when
  there is no data, data only up to three days before ``today``; ``dimensions=video,day`` only
  with a one-video filter);
- MailChimp's ``GET /mailchimp/3.0/reports`` (basic auth with the API key; ``count``/``offset``,
  ``total_items``; ``since_send_time``);
- the Graph API (``/graph/v21.0``): ``/{ig-user-id}/insights`` (``period=day`` series paged with
  ``paging.next`` links that carry ``access_token``, ``metric_type=total_value``),
  ``/act_<id>/insights`` (``level=campaign``, ``time_increment=1``, cursor paging
  ``paging.cursors.after`` / ``paging.next``), ``/act_<id>/campaigns``, and
  ``/oauth/access_token`` (``fb_exchange_token``); an expired token is OAuth error 190.

``faults[endpoint]`` lists what the next requests to an endpoint get instead of an answer:
``"429"`` (with ``Retry-After: 1``), ``"500"``, ``"malformed"`` (a body that is not JSON), ``"ok"``
(the real answer: to let earlier requests through). Every
request is recorded in ``requests`` as ``(endpoint, args, headers)``.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from werkzeug import Request, Response

# distinctive, so tests can look for them anywhere
YOUTUBE_CLIENT_ID = "1234-soundlake.apps.googleusercontent.com"
YOUTUBE_CLIENT_SECRET = "GOCSPX-planted-client-secret-91ab"
YOUTUBE_REFRESH_TOKEN = "1//planted-refresh-token-5c7d"
MAILCHIMP_KEY = "planted0mailchimp0key0e4f1a2b3c-us21"
GRAPH_TOKEN = "EAAGplantedGraphToken0d9e8f7a6b"
GRAPH_APP_ID = "918273645"
GRAPH_APP_SECRET = "planted-app-secret-3b2a1c"
IG_USER_ID = "17841400000000001"
AD_ACCOUNT = "1029384756"


def _json(doc, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(doc), status=status, headers=headers, content_type="application/json")


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _epoch_day(value: str) -> date:
    return datetime.fromtimestamp(int(value), timezone.utc).date() if value.isdigit() else date.fromisoformat(value)


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())


class Platforms:
    def __init__(self, httpserver, today: date):
        self.server = httpserver
        self.today = today
        self.requests: list[tuple[str, dict, dict]] = []
        self.faults: dict[str, list[str]] = {}
        self.google_tokens: list[str] = []
        self.expired: set[str] = set()  # access tokens the APIs refuse as expired
        self.expire_issued = 0  # how many of the next Google access tokens are already expired when used
        self.graph_tokens = [GRAPH_TOKEN]
        self.videos = ["dQw4w9WgXcQ", "a-b_C1d2e3F"]
        self.mailchimp_campaigns = [
            {"id": f"c{n:04d}", "campaign_title": f"Newsletter {n}", "type": "regular", "list_id": "l0001",
             "list_name": "Fans", "subject_line": f"News {n} \U0001f3b6", "emails_sent": 1000 + n,
             "abuse_reports": n % 2, "unsubscribed": 3 + n,
             "bounces": {"hard_bounces": 1, "soft_bounces": n, "syntax_errors": 0},
             "send_time": (datetime(2025, 4, 1, 9, tzinfo=timezone.utc) + timedelta(days=7 * n)).isoformat(),
             "opens": {"opens_total": 500 + n, "unique_opens": 400 + n, "open_rate": 0.4},
             "clicks": {"clicks_total": 90 + n, "unique_clicks": 60 + n, "unique_subscriber_clicks": 55,
                        "click_rate": 0.055},
             "list_stats": {"sub_rate": 1.2, "unsub_rate": 0.1, "open_rate": 41.5, "click_rate": 5.5}}
            for n in range(5)]
        # campaign id -> first day with delivery (a campaign can be created between two pulls)
        self.ad_campaigns = {"120210000000000101": date(2025, 4, 1), "120210000000000201": date(2025, 4, 1)}
        self.rows_per_page = 3  # Meta insights page size (the server's, whatever `limit` says)
        for path, handler in (("/youtube/token", self._google_token), ("/youtube/v2/reports", self._youtube),
                              ("/mailchimp/3.0/reports", self._mailchimp),
                              ("/graph/v21.0/oauth/access_token", self._graph_exchange),
                              (f"/graph/v21.0/{IG_USER_ID}/insights", self._instagram),
                              (f"/graph/v21.0/act_{AD_ACCOUNT}/insights", self._meta_insights),
                              (f"/graph/v21.0/act_{AD_ACCOUNT}/campaigns", self._meta_campaigns)):
            httpserver.expect_request(path).respond_with_handler(self._wrap(path, handler))

    # the environment a pull needs to reach this server
    def env(self, *sources: str) -> dict[str, str]:
        url = self.server.url_for("")
        out = {}
        if "youtube" in sources:
            out |= {"SOUNDLAKE_YOUTUBE_CLIENT_ID": YOUTUBE_CLIENT_ID, "SOUNDLAKE_YOUTUBE_CLIENT_SECRET": YOUTUBE_CLIENT_SECRET,
                    "SOUNDLAKE_YOUTUBE_REFRESH_TOKEN": YOUTUBE_REFRESH_TOKEN,
                    "SOUNDLAKE_YOUTUBE_API_URL": f"{url}youtube/v2", "SOUNDLAKE_YOUTUBE_TOKEN_URL": f"{url}youtube/token"}
        if "mailchimp" in sources:
            out |= {"SOUNDLAKE_MAILCHIMP_API_KEY": MAILCHIMP_KEY, "SOUNDLAKE_MAILCHIMP_API_URL": f"{url}mailchimp/3.0"}
        if "instagram" in sources:
            out |= {"SOUNDLAKE_INSTAGRAM_ACCESS_TOKEN": GRAPH_TOKEN, "SOUNDLAKE_INSTAGRAM_USER_ID": IG_USER_ID,
                    "SOUNDLAKE_INSTAGRAM_APP_ID": GRAPH_APP_ID, "SOUNDLAKE_INSTAGRAM_APP_SECRET": GRAPH_APP_SECRET,
                    "SOUNDLAKE_INSTAGRAM_API_URL": f"{url}graph/v21.0"}
        if "meta_ads" in sources:
            out |= {"SOUNDLAKE_META_ADS_ACCESS_TOKEN": GRAPH_TOKEN, "SOUNDLAKE_META_ADS_ACCOUNT_ID": f"act_{AD_ACCOUNT}",
                    "SOUNDLAKE_META_ADS_APP_ID": GRAPH_APP_ID, "SOUNDLAKE_META_ADS_APP_SECRET": GRAPH_APP_SECRET,
                    "SOUNDLAKE_META_ADS_API_URL": f"{url}graph/v21.0"}
        return out

    def of(self, path_part: str) -> list[tuple[str, dict, dict]]:
        return [r for r in self.requests if path_part in r[0]]

    def _wrap(self, path, handler):
        def handle(request: Request) -> Response:
            args = {**request.args.to_dict(), **request.form.to_dict()}
            self.requests.append((path, args, dict(request.headers)))
            pending = self.faults.get(path)
            if pending:
                fault = pending.pop(0)
                if fault == "429":
                    return _json({"error": {"message": "rate limited", "code": 4}}, 429, {"Retry-After": "1"})
                if fault == "500":
                    return _json({"error": {"message": "backend error", "code": 2}}, 500)
                if fault == "ok":
                    return handler(request, args)
                if fault == "malformed":
                    return Response('{"data": [{"name": "reach", "values": [', status=200,
                                    content_type="application/json")
            return handler(request, args)
        return handle

    # --- Google ---------------------------------------------------------------------------------
    def _google_token(self, request: Request, args: dict) -> Response:
        if request.method != "POST" or args.get("grant_type") != "refresh_token" or \
                (args.get("client_id"), args.get("client_secret"), args.get("refresh_token")) != \
                (YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET, YOUTUBE_REFRESH_TOKEN):
            return _json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        token = f"ya29.planted-access-{len(self.google_tokens) + 1}-8e7d"
        self.google_tokens.append(token)
        if self.expire_issued:
            self.expire_issued -= 1
            self.expired.add(token)
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                      "scope": "https://www.googleapis.com/auth/yt-analytics.readonly"})

    def _youtube(self, request: Request, args: dict) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.google_tokens or token in self.expired:
            return _json({"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                    "status": "UNAUTHENTICATED"}}, 401)
        start, end = date.fromisoformat(args["startDate"]), date.fromisoformat(args["endDate"])
        days = [d for d in _days(start, end) if d <= self.today - timedelta(days=3)]  # the latest days are missing
        metrics = args["metrics"].split(",")
        dims = args["dimensions"].split(",")
        headers = [{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dims] + \
                  [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics]
        if dims == ["video"]:
            rows = [[v, 1000 - 10 * i, 300] for i, v in enumerate(self.videos)] if days else []
        elif dims == ["video", "day"]:  # only for one video at a time
            video = args.get("filters", "").removeprefix("video==")
            if not video or "," in video or ";" in video:
                return _json({"error": {"code": 400, "message": "The query is not supported. Check the documentation "
                                        "at https://developers.google.com/youtube/analytics/v2/available_reports for "
                                        "a list of supported queries.", "status": "INVALID_ARGUMENT"}}, 400)
            rows = [[video, d.isoformat(), *[(100 + d.day) // 3 for _ in metrics]] for d in days]
        else:
            rows = [[d.isoformat(), *[100 + d.day for _ in metrics]] for d in days]
        doc = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        if rows:
            doc["rows"] = rows
        return _json(doc)

    # --- MailChimp -------------------------------------------------------------------------------
    def _mailchimp(self, request: Request, args: dict) -> Response:
        expected = "Basic " + base64.b64encode(f"soundlake:{MAILCHIMP_KEY}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _json({"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": "API Key Invalid",
                          "status": 401, "detail": "Your API key may be invalid, or you've attempted to access the "
                                                   "wrong datacenter."}, 401)
        reports = self.mailchimp_campaigns
        if args.get("since_send_time"):
            since = datetime.fromisoformat(args["since_send_time"])
            reports = [r for r in reports if datetime.fromisoformat(r["send_time"]) >= since]
        count, offset = int(args.get("count", 10)), int(args.get("offset", 0))
        return _json({"reports": reports[offset:offset + count], "total_items": len(reports),
                      "_links": [{"rel": "self", "href": "https://us21.api.mailchimp.com/schema/3.0/Reports"}]})

    # --- Graph API --------------------------------------------------------------------------------
    def _graph_token_ok(self, request: Request, args: dict) -> Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or args.get("access_token", "")
        if token in self.expired:
            return _json({"error": {"message": "Error validating access token: Session has expired on Monday, "
                                               "05-May-25 10:00:00 PDT.", "type": "OAuthException", "code": 190,
                                    "error_subcode": 463, "fbtrace_id": "AbCdEf"}}, 400)
        if token not in self.graph_tokens:
            return _json({"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                                    "type": "OAuthException", "code": 190, "fbtrace_id": "AbCdEg"}}, 400)
        return None

    def _next(self, path: str, args: dict, **change) -> str:
        # Graph paging links are absolute and carry the access token
        query = {**{k: v for k, v in args.items() if k != "access_token"}, **change, "access_token": self.graph_tokens[-1]}
        return f"{self.server.url_for(path)}?{urlencode(query)}"

    def _graph_exchange(self, request: Request, args: dict) -> Response:
        if (args.get("grant_type"), args.get("client_id"), args.get("client_secret")) != \
                ("fb_exchange_token", GRAPH_APP_ID, GRAPH_APP_SECRET) or args.get("fb_exchange_token") not in self.graph_tokens:
            return _json({"error": {"message": "Invalid client_secret", "type": "OAuthException", "code": 1}}, 400)
        token = f"EAAGplantedRefreshed{len(self.graph_tokens)}x9y8"
        self.graph_tokens.append(token)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": 5183944})

    def _instagram(self, request: Request, args: dict) -> Response:
        refused = self._graph_token_ok(request, args)
        if refused:
            return refused
        path = f"/graph/v21.0/{IG_USER_ID}/insights"
        since, until = _epoch_day(args["since"]), _epoch_day(args["until"])
        metrics = args["metric"].split(",")
        if args.get("metric_type") == "total_value":
            # a day's reach is the same number as the series' (the platform is consistent)
            data = [{"name": m, "period": "day", "title": m.replace("_", " ").capitalize(), "description": "…",
                     "total_value": {"value": (50 if m == "reach" else 10) + since.day},
                     "id": f"{IG_USER_ID}/insights/{m}/day"} for m in metrics]
            return _json({"data": data, "paging": {
                "previous": self._next(path, args, since=_epoch(since - timedelta(days=1)), until=_epoch(since)),
                "next": self._next(path, args, since=_epoch(until), until=_epoch(until + timedelta(days=1)))}})
        # a series: at most two days a page here, so a window takes several pages
        last = min(until, since + timedelta(days=2))
        days = _days(since, last - timedelta(days=1))
        data = [{"name": m, "period": "day", "title": m, "description": "…", "id": f"{IG_USER_ID}/insights/{m}/day",
                 "values": [{"value": 50 + d.day, "end_time": f"{(d + timedelta(days=1)).isoformat()}T07:00:00+0000"}
                            for d in days]} for m in metrics]
        return _json({"data": data, "paging": {
            "previous": self._next(path, args, since=_epoch(since - timedelta(days=2)), until=_epoch(since)),
            "next": self._next(path, args, since=_epoch(last), until=_epoch(last + timedelta(days=2)))}})

    def _meta_campaigns(self, request: Request, args: dict) -> Response:
        refused = self._graph_token_ok(request, args)
        if refused:
            return refused
        data = [{"id": cid, "name": f"Campaign {cid[-3:]}", "status": "ACTIVE", "effective_status": "ACTIVE",
                 "objective": "OUTCOME_TRAFFIC", "start_time": f"{first.isoformat()}T09:00:00-0700",
                 "created_time": f"{(first - timedelta(days=1)).isoformat()}T18:00:00-0700",
                 "updated_time": f"{first.isoformat()}T09:00:00-0700"} for cid, first in self.ad_campaigns.items()]
        return _json({"data": data, "paging": {"cursors": {"before": "QVFIUmZA", "after": "QVFIUmZB"}}})

    def _meta_insights(self, request: Request, args: dict) -> Response:
        refused = self._graph_token_ok(request, args)
        if refused:
            return refused
        window = json.loads(args["time_range"])
        assert args["level"] == "campaign" and args["time_increment"] == "1"
        rows = []
        for d in _days(date.fromisoformat(window["since"]), date.fromisoformat(window["until"])):
            for cid, first in sorted(self.ad_campaigns.items()):
                if d < first:
                    continue
                spend, impressions = 5 + d.day / 10, 1000 + d.day
                rows.append({"account_id": AD_ACCOUNT, "account_currency": "USD", "campaign_id": cid,
                             "campaign_name": f"Campaign {cid[-3:]}", "spend": f"{spend:.2f}",
                             "impressions": str(impressions), "clicks": str(10 + d.day), "reach": str(800 + d.day),
                             "frequency": f"{impressions / (800 + d.day):.6f}", "cpc": f"{spend / (10 + d.day):.6f}",
                             "ctr": f"{100 * (10 + d.day) / impressions:.6f}", "date_start": d.isoformat(),
                             "date_stop": d.isoformat()})
        offset = int(base64.b64decode(args["after"]).decode()) if args.get("after") else 0
        page = rows[offset:offset + self.rows_per_page]
        paging = {"cursors": {"before": base64.b64encode(str(offset).encode()).decode(),
                              "after": base64.b64encode(str(offset + len(page)).encode()).decode()}}
        if offset + len(page) < len(rows):
            paging["next"] = self._next(f"/graph/v21.0/act_{AD_ACCOUNT}/insights", args,
                                        after=paging["cursors"]["after"])
        return _json({"data": page, "paging": paging})
