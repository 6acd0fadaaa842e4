"""A small web app that imitates the five dashboards the browser extractors read, closely enough to
exercise them: per platform (under ``/<source>/``) a login form, a TOTP 2FA page, a cookie session
(persistent cookie plus a token in local storage) that the server can expire, download buttons
that serve exports in the platform's real format (bytes from each source module's sample
generator) and pages whose scripts fetch the JSON/GraphQL responses the extractors capture.

The markup is written here by hand from what each dashboard looks like; it shares nothing with
the extractors' selectors, so a selector that drifts from the page fails the tests.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from assets.sources import SOURCES

USERNAME = "artist@example.com"
PASSWORD = "correct horse battery staple"
TOTP_KEY = b"12345678901234567890"  # RFC 6238's test secret
SESSION_TTL_S = 14 * 86400


def totp_code(at: float | None = None) -> str:
    return TOTP(TOTP_KEY, 6, SHA1(), 30).generate(at or time.time()).decode()


@dataclass(frozen=True)
class Form:
    """How one dashboard's sign-in looks: the attributes of its fields."""

    user: str
    password: str
    submit: str
    code: str
    code_submit: str
    error: str
    cookie: str  # the session cookie's name


FORMS = {
    "distrokid": Form('type="email" name="email"', 'type="password" name="password"', 'type="submit"',
                      'name="otp" inputmode="numeric"', 'type="submit"', 'class="alert alert-danger"', "dk_session"),
    "toolost": Form('id="username" name="username"', 'id="password" type="password" name="password"',
                    'id="login-submit" type="submit"', 'id="totp" name="totp"', 'id="totp-submit" type="submit"',
                    'class="login-error"', "tl_token"),
    "spotify_for_artists": Form('id="login-username" name="username"', 'id="login-password" type="password" name="password"',
                                'id="login-button" type="submit"', 'id="mfa-code" name="code"',
                                'id="mfa-submit" type="submit"', 'data-testid="login-error"', "sp_dc"),
    "tiktok": Form('name="username"', 'type="password" name="password"', 'data-e2e="login-button" type="submit"',
                   'name="verify-code"', 'data-e2e="verify-button" type="submit"', 'data-e2e="login-error"', "sessionid"),
    "linktree": Form('name="username"', 'name="password" type="password"', 'data-testid="login-submit" type="submit"',
                     'name="totp"', 'data-testid="totp-submit" type="submit"', 'data-testid="login-error"', "lt_session"),
}
LOGIN_PATH = {"distrokid": "signin"}  # the others: "login"
HOME = {"distrokid": "dashboard", "toolost": "portal/analytics", "spotify_for_artists": "c/audience",
        "tiktok": "tiktokstudio/analytics/overview", "linktree": "admin/analytics"}
S4A_ARTIST = "Ivy Vale"
TIKTOK_HANDLE = "ivy_vale"


def _page(title: str, body: str, script: str = "", token: str | None = None) -> Response:
    store = f"<script>localStorage.setItem('auth-token', {json.dumps(token)});</script>" if token else ""
    return Response(f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>{body}{store}"
                    f"<script>{script}</script></body></html>", content_type="text/html; charset=utf-8")


def _attachment(data: bytes, name: str, content_type: str) -> Response:
    return Response(data, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class FakeDashboards:
    """The app, its sample exports and its server-side sessions; ``expire(source)`` signs every
    session of a dashboard out (as a platform does when a session ages out)."""

    def __init__(self, seed: int = 7):
        self.samples: dict[str, dict[str, bytes]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for source in FORMS:
                paths = SOURCES[source].samples(Path(tmp) / source, seed)
                self.samples[source] = {p.name: p.read_bytes() for p in paths}
        self.sessions: dict[str, tuple[str, float]] = {}  # token → (source, expires at)
        self.pending: dict[str, str] = {}  # 2FA pending token → source
        self.logins: list[str] = []  # sources signed in with password and code, in order
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def sample(self, source: str, prefix: str) -> tuple[str, bytes]:
        for name, data in sorted(self.samples[source].items()):
            if name.startswith(prefix):
                return name, data
        raise KeyError(f"no {source} sample named {prefix}*")

    def expire(self, source: str) -> None:
        with self._lock:
            self.sessions = {t: v for t, v in self.sessions.items() if v[0] != source}

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.path)
        parts = request.path.strip("/").split("/", 1)
        source, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if source not in FORMS:
            return Response("not found", status=404)(environ, start_response)
        return self.route(source, rest, request)(environ, start_response)

    def signed_in(self, source: str, request: Request) -> str | None:
        token = request.cookies.get(FORMS[source].cookie)
        with self._lock:
            found = self.sessions.get(token or "")
        if found and found[0] == source and found[1] > time.time():
            return token
        return None

    def route(self, source: str, rest: str, request: Request) -> Response:
        login = LOGIN_PATH.get(source, "login")
        if rest == login:
            return self.login(source, request)
        if rest == f"{login}/2fa":
            return self.second_factor(source, request)
        token = self.signed_in(source, request)
        if token is None:
            if "api" in rest.split("/") or rest == "graphql":
                return Response(json.dumps({"error": "unauthorized"}), status=401, content_type="application/json")
            return Response(status=302, headers={"Location": f"/{source}/{login}?next=/{source}/{rest}"})
        handler = getattr(self, f"_{source}")
        return handler(rest, request, token)

    def login(self, source: str, request: Request) -> Response:
        form = FORMS[source]
        error = ""
        if request.method == "POST":
            values = list(request.form.values())
            if values[:2] == [USERNAME, PASSWORD]:
                pending = secrets.token_urlsafe(16)
                self.pending[pending] = source
                response = Response(status=303, headers={"Location": f"/{source}/{LOGIN_PATH.get(source, 'login')}/2fa"})
                response.set_cookie("pending_2fa", pending, httponly=True, path=f"/{source}")
                return response
            error = f"<div {form.error}>Wrong e-mail or password.</div>"
        return _page(f"{source} sign in", f"<h1>Sign in</h1>{error}<form method='post'>"
                     f"<input {form.user}><input {form.password}><button {form.submit}>Log in</button></form>")

    def second_factor(self, source: str, request: Request) -> Response:
        form = FORMS[source]
        pending = request.cookies.get("pending_2fa")
        if self.pending.get(pending or "") != source:
            return Response(status=302, headers={"Location": f"/{source}/{LOGIN_PATH.get(source, 'login')}"})
        error = ""
        if request.method == "POST":
            code = next(iter(request.form.values()), "")
            if code in (totp_code(), totp_code(time.time() - 30)):
                del self.pending[pending]
                token = secrets.token_urlsafe(24)
                expires = time.time() + SESSION_TTL_S
                with self._lock:
                    self.sessions[token] = (source, expires)
                self.logins.append(source)
                response = Response(status=303, headers={"Location": f"/{source}/{HOME[source]}"})
                response.set_cookie(form.cookie, token, expires=int(expires), httponly=True, path="/")
                response.delete_cookie("pending_2fa", path=f"/{source}")
                return response
            error = f"<div {form.error}>That code is not valid.</div>"
        return _page(f"{source} 2FA", f"<h1>Two-step verification</h1>{error}<form method='post'>"
                     f"<input {form.code}><button {form.code_submit}>Verify</button></form>")

    # --- the dashboards -----------------------------------------------------------------------

    def _distrokid(self, rest: str, request: Request, token: str) -> Response:
        if rest == "dashboard":
            return _page("DistroKid", "<div id='dk-dashboard'>Your music</div>", token=token)
        if rest == "bank/details":
            return _page("Bank", "<div id='dk-dashboard'><a id='download-bank-details-tsv' "
                         "href='/distrokid/bank/details.tsv'>See excruciating detail (TSV)</a></div>")
        if rest == "bank/details.tsv":
            _, data = self.sample("distrokid", "dk_bank_details")
            return _attachment(data, "DistroKid_1764662400000.tsv", "text/tab-separated-values")
        if rest == "stats" and request.args.get("store") == "spotify":
            return Response(self.sample("distrokid", "streams_stats")[1], content_type="text/html; charset=utf-8")
        if rest == "stats/applemusic":
            return Response(self.sample("distrokid", "applemusic_stats")[1], content_type="text/html; charset=utf-8")
        return Response("not found", status=404)

    def _toolost(self, rest: str, request: Request, token: str) -> Response:
        if rest == "portal/analytics":
            script = ("for (const p of ['spotify', 'apple']) fetch('/toolost/api/portal/analytics/' + p)"
                      ".then(r => r.json()).then(d => { document.getElementById(p).textContent = 'loaded'; });")
            return _page("TooLost", "<nav class='portal-nav'>Portal</nav><div id='spotify'></div><div id='apple'></div>",
                         script, token=token)
        if rest in ("api/portal/analytics/spotify", "api/portal/analytics/apple"):
            return Response(self.sample("toolost", f"toolost_{rest.rsplit('/', 1)[1]}")[1], content_type="application/json")
        return Response("not found", status=404)

    def _spotify_for_artists(self, rest: str, request: Request, token: str) -> Response:
        header = f"<header><h1 data-testid='artist-name'>{S4A_ARTIST}</h1></header>"
        if rest == "c/audience":
            return _page("Audience", header + "<button data-testid='audience-download' "
                         "onclick=\"location.href='/spotify_for_artists/api/audience.csv'\">Export</button>", token=token)
        if rest == "api/audience.csv":
            return _attachment(self.sample("spotify_for_artists", f"{S4A_ARTIST}-audience-timeline")[1],
                               f"{S4A_ARTIST}-audience-timeline.csv", "text/csv")
        if rest == "c/music/songs":
            buttons = "".join(f"<button data-testid='time-filter' data-value='{v}'>{v}</button>"
                              for v in ("7day", "28day", "1year"))
            script = ("document.querySelectorAll('[data-testid=time-filter]').forEach(b => b.onclick = () => "
                      "fetch('/spotify_for_artists/api/song-table?artist=1&time-filter=' + b.dataset.value)"
                      ".then(r => r.json()).then(d => { document.getElementById('rows').textContent = d.songs.length; }));")
            return _page("Songs", header + buttons + "<div id='rows'></div>", script)
        if rest == "api/song-table":
            table = json.loads(self.sample("spotify_for_artists", f"{S4A_ARTIST}-song-table")[1])
            value = request.args.get("time-filter", "")
            if value not in table:
                return Response(json.dumps({"error": "bad filter"}), status=400, content_type="application/json")
            return Response(json.dumps({"timeFilter": value, "songs": table[value]}), content_type="application/json")
        return Response("not found", status=404)

    def _tiktok(self, rest: str, request: Request, token: str) -> Response:
        handle = f"<span data-e2e='studio-account-handle'>@{TIKTOK_HANDLE}</span>"
        exports = {"overview": "Overview", "followers": "FollowerHistory"}
        if rest.startswith("tiktokstudio/analytics/") and rest.rsplit("/", 1)[1] in exports:
            tab = rest.rsplit("/", 1)[1]
            extra = "<div data-e2e='follower-count'>1,234</div>" if tab == "followers" else ""
            return _page("TikTok Studio", handle + extra + "<button data-e2e='analytics-export' "
                         f"onclick=\"location.href='/tiktok/export/{tab}'\">Download data</button>", token=token)
        if rest.startswith("export/") and rest.split("/", 1)[1] in exports:
            export = exports[rest.split("/", 1)[1]]
            name = next(n for n in sorted(self.samples["tiktok"]) if n.startswith(f"{export}_") and TIKTOK_HANDLE in n)
            return _attachment(self.samples["tiktok"][name], name, "application/zip")
        return Response("not found", status=404)

    def _linktree(self, rest: str, request: Request, token: str) -> Response:
        if rest == "admin/analytics":
            script = ("for (const op of ['getAccountAnalytics', 'getAccountAnalyticsBreakdowns']) "
                      "fetch('/linktree/graphql', {method: 'POST', headers: {'content-type': 'application/json'}, "
                      "body: JSON.stringify({operationName: op, variables: {}})}).then(r => r.json());")
            return _page("Linktree admin", "<nav data-testid='admin-nav'>Admin</nav>", script, token=token)
        if rest == "graphql" and request.method == "POST":
            op = json.loads(request.get_data() or b"{}").get("operationName")
            captures = sorted(self.samples["linktree"].items(), key=lambda kv: -len(kv[1]))  # overview first
            data = {"getAccountAnalytics": captures[0][1], "getAccountAnalyticsBreakdowns": captures[1][1]}.get(op)
            if data is None:
                return Response(json.dumps({"errors": [{"message": f"unknown operation {op}"}]}), content_type="application/json")
            return Response(data, content_type="application/json")
        return Response("not found", status=404)


class Server:
    """The app on a loopback port, served from a thread."""

    def __init__(self, app: FakeDashboards):
        self.app = app
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the test output
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def base(self, source: str) -> str:
        return f"{self.url}/{source}/"
