"""YouTube Analytics API (``reports.query``): the channel's daily metrics and each top video's.

Authentication is OAuth 2 for an installed app: a refresh token (granted once, with the scope
``https://www.googleapis.com/auth/yt-analytics.readonly``) is exchanged at Google's token endpoint
for an access token at the start of every pull, and again when the API answers 401.

Each pull lands, in ``landing/youtube/analytics_api/``:

- ``analytics_api_channel_<stamp>.json``: ``dimensions=day`` over the window, the channel's
  views, watch time, likes, comments, shares, subscribers gained and lost;
- ``analytics_api_videos_<stamp>.json``: the window's top videos (``dimensions=video``,
  ``sort=-views``, at most ``SOUNDLAKE_YOUTUBE_MAX_VIDEOS``, default 50);
- ``analytics_api_video-<video id>_<stamp>.json`` per top video: ``dimensions=video,day`` with
  ``filters=video==<id>`` (the API refuses ``video,day`` without a one-video filter, "The query
  is not supported"), so every row names its video: ``[video, day, metrics...]``. Two videos with
  the same numbers still make different files, which raw would otherwise keep once as duplicates.

With ``SOUNDLAKE_YOUTUBE_CHANNEL`` set (the channel's name as YouTube Studio shows it), every
name carries it after an ``@`` (``analytics_api_channel@Nova Lights_<stamp>.json``): the body never
names the channel (``ids=channel==MINE``), so this is where staging reads it, and the API's days
meet the Studio exports' under one account. Without it the account is ``channel``.

Every body is the API's ``youtubeAnalytics#resultTable`` (``columnHeaders`` + ``rows``; ``rows`` is
absent when there is no data, and the latest two or three days usually are). The cursor is the
newest day the channel report had a row for, so days YouTube has not finished yet are asked again.
"""

from __future__ import annotations

from typing import Any

from ..api import ApiClient, ApiError, Auth, Puller

API_URL = "https://youtubeanalytics.googleapis.com/v2"
TOKEN_URL = "https://oauth2.googleapis.com/token"
CHANNEL_METRICS = ("views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares,"
                   "subscribersGained,subscribersLost")
VIDEO_METRICS = "views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares,subscribersGained"
MAX_VIDEOS = 50


class GoogleOAuth(Auth):
    """An access token from a refresh token (``grant_type=refresh_token``)."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, refresh_token: str):
        self.token_url, self.client_id = token_url, client_id
        self._client_secret, self._refresh_token = client_secret, refresh_token
        self._tokens: list[str] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._tokens[-1]}"} if self._tokens else {}

    def refresh(self, client: ApiClient) -> bool:
        resp = client.request("POST", self.token_url, auth=False, data={
            "grant_type": "refresh_token", "client_id": self.client_id,
            "client_secret": self._client_secret, "refresh_token": self._refresh_token})
        doc = resp.json()
        token = doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise ApiError(f"youtube: the token endpoint {resp.url} answered without an access_token")
        self._tokens.append(token)
        return True

    def secrets(self) -> list[str]:
        return [self._client_secret, self._refresh_token, *self._tokens]


def _rows(doc: Any) -> list[list]:
    rows = doc.get("rows") if isinstance(doc, dict) else None
    return rows if isinstance(rows, list) else []


def _column(doc: Any, name: str) -> int | None:
    headers = doc.get("columnHeaders") if isinstance(doc, dict) else None
    for i, h in enumerate(headers or []):
        if isinstance(h, dict) and h.get("name") == name:
            return i
    return None


class YouTube(Puller):
    source = "youtube"
    title = "YouTube Analytics API"
    dataset = "analytics_api"
    required = ("SOUNDLAKE_YOUTUBE_CLIENT_ID", "SOUNDLAKE_YOUTUBE_CLIENT_SECRET", "SOUNDLAKE_YOUTUBE_REFRESH_TOKEN")
    optional = ("SOUNDLAKE_YOUTUBE_CHANNEL", "SOUNDLAKE_YOUTUBE_CHANNEL_ID", "SOUNDLAKE_YOUTUBE_MAX_VIDEOS",
                "SOUNDLAKE_YOUTUBE_API_URL", "SOUNDLAKE_YOUTUBE_TOKEN_URL")
    fetches = ("reports.query: the channel's daily views, watch time, likes, comments, shares and subscribers, "
               "the top videos of the window, and each top video's daily metrics (dimensions=video,day)")
    first_days = 90

    def auth(self) -> Auth:
        return GoogleOAuth(self.var("SOUNDLAKE_YOUTUBE_TOKEN_URL", TOKEN_URL), self.var("SOUNDLAKE_YOUTUBE_CLIENT_ID"),
                           self.var("SOUNDLAKE_YOUTUBE_CLIENT_SECRET"), self.var("SOUNDLAKE_YOUTUBE_REFRESH_TOKEN"))

    def fetch(self, cursor: dict) -> dict:
        window = self.window(cursor.get("through"))
        if window is None:
            return cursor
        start, end = window
        self.client.authenticate()  # the first access token of this pull
        url = f"{self.var('SOUNDLAKE_YOUTUBE_API_URL', API_URL).rstrip('/')}/reports"
        named = self.var("SOUNDLAKE_YOUTUBE_CHANNEL")  # whom the landed names say the reports are about
        base = {"ids": f"channel=={self.var('SOUNDLAKE_YOUTUBE_CHANNEL_ID', 'MINE')}",
                "startDate": start.isoformat(), "endDate": end.isoformat()}
        channel = self.call("channel", url, {**base, "dimensions": "day", "metrics": CHANNEL_METRICS, "sort": "day"},
                            rows=_rows, account=named)
        wanted = self.var("SOUNDLAKE_YOUTUBE_MAX_VIDEOS", str(MAX_VIDEOS))
        if not wanted.isdigit() or not 1 <= int(wanted) <= 200:  # the API's maxResults limit for top videos
            raise ApiError(f"youtube: SOUNDLAKE_YOUTUBE_MAX_VIDEOS={wanted!r} is not a number from 1 to 200")
        max_videos = int(wanted)
        top = self.call("videos", url, {**base, "dimensions": "video", "metrics": "views,estimatedMinutesWatched",
                                        "sort": "-views", "maxResults": max_videos}, rows=_rows,
                        account=named)
        video_col = _column(top, "video")
        for row in _rows(top)[:max_videos] if video_col is not None else []:
            self.call(f"video-{row[video_col]}", url, {**base, "dimensions": "video,day", "metrics": VIDEO_METRICS,
                                                       "filters": f"video=={row[video_col]}", "sort": "day"},
                      rows=_rows, account=named)
        day_col = _column(channel, "day")
        days = [r[day_col] for r in _rows(channel) if day_col is not None and isinstance(r[day_col], str)]
        return {**cursor, "through": max(days)} if days else cursor

