"""What the Instagram and Meta Marketing pullers share: the Graph API's token, its errors and its
cursor paging.

The access token goes in an ``Authorization: Bearer`` header. Paging links (``paging.next``)
carry it as ``access_token=`` in their query: the link is followed without it (the header is
enough), and the landed body has it redacted. An expired token is HTTP 401 or the error
``{"error": {"type": "OAuthException", "code": 190}}`` (HTTP 400); with the app's id and secret set
it is exchanged once for a new long-lived token (``/oauth/access_token?grant_type=fb_exchange_token``)
and the call repeated. Without them (or when Meta refuses the exchange: a token past its expiry
cannot be renewed) the pull fails saying to make a new token. The new token serves this pull only;
unattended pulls want a system user's token, which does not expire.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from ..api import ApiClient, ApiResponse, Auth, Puller, strip_params

API_URL = "https://graph.facebook.com/v21.0"
MAX_PAGES = 1000  # a server that keeps sending `next` must not keep a pull going forever


class GraphToken(Auth):
    def __init__(self, token: str, token_url: str, app_id: str | None, app_secret: str | None):
        self._tokens = [token]
        self.token_url, self.app_id, self._app_secret = token_url, app_id, app_secret

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._tokens[-1]}"}

    def expired(self, response: ApiResponse) -> bool:
        if response.status == 401:
            return True
        doc = response.json() if response.status in (400, 403) else None
        err = doc.get("error") if isinstance(doc, dict) else None
        return isinstance(err, dict) and err.get("code") == 190

    def refresh(self, client: ApiClient) -> bool:
        if not (self.app_id and self._app_secret):
            return False
        resp = client.request("GET", self.token_url, auth=False, params={
            "grant_type": "fb_exchange_token", "client_id": self.app_id, "client_secret": self._app_secret,
            "fb_exchange_token": self._tokens[-1]})
        doc = resp.json()
        token = doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            return False
        self._tokens.append(token)
        return True

    def secrets(self) -> list[str]:
        return [*self._tokens, self._app_secret]


class GraphPuller(Puller):
    """A puller of the Graph API; ``prefix`` is its variables' (``SOUNDLAKE_META_ADS``)."""

    prefix: str

    def api_url(self) -> str:
        return self.var(f"{self.prefix}_API_URL", API_URL).rstrip("/")

    def auth(self) -> Auth:
        return GraphToken(self.var(f"{self.prefix}_ACCESS_TOKEN"), f"{self.api_url()}/oauth/access_token",
                          self.var(f"{self.prefix}_APP_ID"), self.var(f"{self.prefix}_APP_SECRET"))

    def pages(self, what: str, url: str, params: Mapping, *, dataset: str | None = None,
              follow: Callable[[str], bool] | None = None) -> Iterator[Any]:
        """Each page's JSON (None for a body that is not JSON, which ends the paging), following
        ``paging.next`` while ``follow(next_url)`` allows it."""
        seen: set[str] = set()
        has_rows = lambda d: bool(d.get("data")) if isinstance(d, dict) else False  # noqa: E731
        doc = self.call(f"{what}-page-001", url, params, dataset=dataset, rows=has_rows)
        yield doc
        for page in range(2, MAX_PAGES + 1):
            paging = doc.get("paging") if isinstance(doc, dict) else None
            nxt = paging.get("next") if isinstance(paging, dict) else None
            if not isinstance(nxt, str) or not nxt:
                return
            nxt = strip_params(nxt)
            if nxt in seen or (follow is not None and not follow(nxt)):
                return
            seen.add(nxt)
            doc = self.call(f"{what}-page-{page:03d}", nxt, None, dataset=dataset, rows=has_rows)
            yield doc
