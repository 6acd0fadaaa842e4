"""The client layer every API puller shares (``resources/pullers/``).

- :class:`ApiClient`: one ``requests`` session with connect/read timeouts. 429, 5xx and connection
  errors are retried by tenacity with exponential backoff, a ``Retry-After`` (seconds or an HTTP
  date) honoured up to ``max_wait``. An expired access token (HTTP 401, or the Graph API's OAuth
  error 190) makes the client ask its :class:`Auth` for a new one once and repeat the call.
- :class:`Lander`: every API response becomes one object in landing,
  ``<source>/<dataset>/<dataset>_<what>[@<account>]_<YYYYMMDD_HHMMSS>.json`` (the stamp is when the pull
  started: staging takes it as the file's ``observed_at``), written through the lake's storage
  with credentials redacted (:func:`resources.redaction.redact_bytes`), bytes otherwise unchanged.
  The landing sensor takes it from there, as for any dropped file.
- :class:`CursorStore`: how far each source got, between runs. It lives in the lake
  (``raw/_pullers/<source>.json``, beside the manifest's ``raw/_manifest/``), not under
  ``$SOUNDLAKE_HOME``: the lake is what every process that pulls shares (the daemon's run in
  docker's code container, a ``soundlake pull`` on a laptop pointed at the same MinIO), so two of
  them never re-pull or skip each other's days. Landing would not do (the sensor ingests what is
  there).
- :class:`Puller`: what a source module declares (its environment variables, its dataset) and
  the run around it: "not configured" when a variable is missing (not a failure), the window from
  the cursor, the cursor saved only after every response of the run was landed and read (a
  response that is not JSON is landed, and keeps the cursor where it was).

Credentials come from ``SOUNDLAKE_<SOURCE>_...`` variables, read when a pull starts. They never
reach logs (requests go with headers, not query parameters, wherever the API allows; urllib3's
logs are filtered), exception messages (an error quotes the redacted URL and the API's own
message, redacted), Dagster metadata (a :class:`PullResult` holds keys, counts and days) or any
zone.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from .redaction import CREDENTIAL_PARAMS, redact, redact_bytes, register_secrets
from .storage import LakeStorage, ObjectInfo

log = logging.getLogger("soundlake.pull")

CURSOR_PREFIX = "_pullers/"  # in the raw zone, beside _manifest/
STAMP_FORMAT = "%Y%m%d_%H%M%S"


class ApiError(RuntimeError):
    """A call that failed for good (a 4xx other than an expired token, retries used up). The
    message names the source and the redacted URL, and quotes what the API said."""


class NotConfigured(Exception):
    """A puller whose credentials are not set: reported, not a failure."""


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass
class ApiResponse:
    status: int
    body: bytes
    url: str  # redacted, for messages
    headers: Mapping[str, str]

    def json(self) -> Any | None:
        """The body as JSON, or None when it is not JSON (it is landed all the same)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


class _Transient(Exception):
    def __init__(self, what: str, retry_after: float | None = None):
        super().__init__(what)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header as seconds to wait: delta-seconds or an HTTP date; None when absent
    or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def strip_params(url: str, names=CREDENTIAL_PARAMS) -> str:
    """``url`` without credential query parameters (a paging link's ``access_token``: the client
    sends the token in a header instead, so it is in no URL that could be logged)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in names]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Auth:
    """How a puller authenticates. ``headers`` go with every call; ``expired`` says whether a
    response means the access token expired; ``refresh`` gets a new one (False when it cannot)."""

    def headers(self) -> dict[str, str]:
        return {}

    def expired(self, response: ApiResponse) -> bool:
        return response.status == 401

    def refresh(self, client: "ApiClient") -> bool:
        return False

    def secrets(self) -> list[str]:
        return []


@dataclass
class ClientOptions:
    """Timeouts and retries; tests make the waits short."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    attempts: int = 5  # calls in all, for 429 / 5xx / connection errors
    backoff: float = 1.0  # first wait; doubles after each attempt
    max_wait: float = 120.0  # no wait longer than this, whatever Retry-After says


class ApiClient:
    """Calls one API for one puller (see the module doc)."""

    def __init__(self, source: str, auth: Auth | None = None, options: ClientOptions | None = None,
                 session: requests.Session | None = None):
        self.source = source
        self.auth = auth or Auth()
        self.options = options or ClientOptions()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = "soundlake-puller"
        self.calls = 0  # HTTP requests made, retries included
        self.retried = 0
        self.refreshed = 0
        register_secrets(*self.auth.secrets())

    def secrets(self) -> list[str]:
        return self.auth.secrets()

    def shown(self, url: str) -> str:
        """``url`` as messages show it: credential parameters and secrets blanked."""
        return redact(redact_bytes(url.encode(), []).decode(), self.secrets())

    # one attempt
    def _once(self, method: str, url: str, params, data, headers) -> ApiResponse:
        self.calls += 1
        try:
            resp = self.session.request(method, url, params=params, data=data, headers=headers,
                                        timeout=(self.options.connect_timeout, self.options.read_timeout))
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"{type(exc).__name__} on {self.shown(url)}") from None  # str(exc) quotes the URL
        except requests.RequestException as exc:  # a bad URL, too many redirects: no retry helps
            raise ApiError(f"{self.source}: {type(exc).__name__} on {self.shown(url)}") from None
        out = ApiResponse(resp.status_code, resp.content, self.shown(resp.url or url), resp.headers)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code} on {out.url}", retry_after_seconds(resp.headers.get("Retry-After")))
        return out

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.options.max_wait)
        return min(self.options.backoff * 2 ** (state.attempt_number - 1), self.options.max_wait)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retried += 1
        exc = state.outcome.exception() if state.outcome else None
        log.info("%s: %s; waiting %.1f s, then attempt %d of %d", self.source, exc,
                 state.upcoming_sleep, state.attempt_number + 1, self.options.attempts)

    def _call(self, method: str, url: str, params, data, auth: bool) -> ApiResponse:
        retrying = Retrying(stop=stop_after_attempt(max(1, self.options.attempts)), wait=self._wait,
                            retry=retry_if_exception_type(_Transient), before_sleep=self._before_sleep, reraise=True)
        headers = self.auth.headers() if auth else {}
        try:
            return retrying(self._once, method, url, params, data, headers)
        except _Transient as exc:
            raise ApiError(f"{self.source}: gave up after {self.options.attempts} attempts: {exc}") from None

    def authenticate(self) -> None:
        """Get an access token before the first call (an OAuth refresh token's first exchange)."""
        if not self.auth.refresh(self):
            raise ApiError(f"{self.source}: could not get an access token")
        register_secrets(*self.auth.secrets())

    def request(self, method: str, url: str, *, params: Mapping | None = None, data: Mapping | None = None,
                auth: bool = True) -> ApiResponse:
        """One call, retried while transient; an expired token is refreshed once and the call
        repeated. A final 4xx raises :class:`ApiError` quoting what the API said."""
        resp = self._call(method, url, params, data, auth)
        if auth and self.auth.expired(resp):
            log.info("%s: the access token expired (HTTP %d); refreshing it", self.source, resp.status)
            if not self.auth.refresh(self):
                raise ApiError(f"{self.source}: the access token expired and cannot be refreshed here "
                               f"({_said(resp, self.secrets())}); make a new one and set it in the environment")
            self.refreshed += 1
            register_secrets(*self.auth.secrets())
            resp = self._call(method, url, params, data, auth)
            if self.auth.expired(resp):
                raise ApiError(f"{self.source}: a refreshed access token was refused too ({_said(resp, self.secrets())})")
        if resp.status >= 400:
            raise ApiError(f"{self.source}: HTTP {resp.status} on {resp.url}: {_said(resp, self.secrets())}")
        return resp

    def get(self, url: str, params: Mapping | None = None, **kw) -> ApiResponse:
        return self.request("GET", url, params=params, **kw)


def _said(resp: ApiResponse, secrets: list[str]) -> str:
    """What an error response says, in a line: the API's own message when it gives one."""
    doc = resp.json()
    said = None
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict):
            said = err.get("message") or err.get("status")
            if err.get("code") is not None:
                said = f"{said} (code {err.get('code')})"
        elif isinstance(err, str):
            said = f"{err}: {doc.get('error_description') or ''}".rstrip(": ")
        elif doc.get("title") or doc.get("detail"):  # MailChimp's problem documents
            said = f"{doc.get('title')}: {doc.get('detail')}"
    if said is None:
        said = resp.body[:200].decode("utf-8", "replace").strip() or f"HTTP {resp.status}"
    return redact(redact_bytes(str(said).encode(), []).decode(), secrets)


# --- landing ---------------------------------------------------------------------------------------


def _slug(what: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "-", what).strip("-") or "response"


class Lander:
    """Lands API responses of one pull (see the module doc)."""

    def __init__(self, storage: LakeStorage, source: str, started: datetime, secrets: Callable[[], list[str]]):
        self.storage, self.source, self.secrets = storage, source, secrets
        self.stamp = started.astimezone(timezone.utc).strftime(STAMP_FORMAT)
        self.keys: list[str] = []

    def land(self, dataset: str, what: str, body: bytes, *, account: str | None = None) -> str:
        """Put one response body into landing (credentials blanked); returns its landing key. An
        ``account`` goes in the name as ``@<account>`` (spaces kept), where the source's parser
        reads whom a response is about when the body does not say."""
        at = " ".join(re.sub(r"[\x00-\x1f/\\@]", " ", account or "").split())
        folder, stem = f"{self.source}/{dataset}", f"{dataset}_{_slug(what)}{'@' + at if at else ''}_{self.stamp}"
        key, n = f"{folder}/{stem}.json", 1
        while key in self.keys or self.storage.stat("landing", key) is not None:  # a pull in the same second
            n += 1
            key = f"{folder}/{stem} ({n}).json"
        self.storage.put("landing", key, redact_bytes(body, self.secrets()))
        self.keys.append(key)
        return key


# --- cursor ----------------------------------------------------------------------------------------


class CursorStore:
    """A source's cursor (a small JSON object) at ``raw/_pullers/<source>.json``."""

    def __init__(self, storage: LakeStorage):
        self.storage = storage

    def key(self, source: str) -> str:
        return f"{CURSOR_PREFIX}{source}.json"

    def get(self, source: str) -> dict:
        try:
            data = self.storage.get("raw", self.key(source))
        except FileNotFoundError:
            return {}
        try:
            doc = json.loads(data)
        except ValueError:
            log.warning("%s: the cursor raw/%s is not JSON; starting over", source, self.key(source))
            return {}
        return doc if isinstance(doc, dict) else {}

    def put(self, source: str, cursor: Mapping) -> None:
        self.storage.put("raw", self.key(source), json.dumps(dict(cursor), sort_keys=True, indent=1).encode())

    def info(self, source: str) -> ObjectInfo | None:
        return self.storage.stat("raw", self.key(source))


# --- pullers ---------------------------------------------------------------------------------------


@dataclass
class PullResult:
    """What one pull did; safe to print and to put in Dagster metadata (no credential in it)."""

    source: str
    status: str  # pulled | not configured
    files: list[str] = field(default_factory=list)  # landing keys
    requests: int = 0
    retried: int = 0
    token_refreshed: int = 0
    window: str | None = None  # the days asked for, "YYYY-MM-DD..YYYY-MM-DD"
    cursor_before: dict = field(default_factory=dict)
    cursor_after: dict = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)  # responses with no rows
    malformed: list[str] = field(default_factory=list)  # responses that are not JSON (landed; raw quarantines them)
    missing: list[str] = field(default_factory=list)  # environment variables not set (not configured)
    note: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


class Puller:
    """One API source. A subclass names its variables and implements :meth:`fetch`, which calls
    :meth:`call` for every response it wants landed and returns the new cursor."""

    source: ClassVar[str]
    title: ClassVar[str]
    dataset: ClassVar[str]  # where its responses land: landing/<source>/<dataset>/
    required: ClassVar[tuple[str, ...]]  # SOUNDLAKE_<SOURCE>_... variables that must be set
    optional: ClassVar[tuple[str, ...]] = ()
    fetches: ClassVar[str]  # what it pulls, in a sentence (README, CLI, Dagster)
    first_days: ClassVar[int] = 90  # how far back the first pull goes

    def __init__(self, env: Mapping[str, str], storage: LakeStorage, *, now: datetime | None = None,
                 options: ClientOptions | None = None, since: date | None = None):
        self.env = {k: v for k, v in env.items() if k.startswith("SOUNDLAKE_")}
        self.storage = storage
        self.now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        self.options = options
        self.since = since  # a backfill: start here whatever the cursor says
        self.cursors = CursorStore(storage)
        self.result = PullResult(self.source, "pulled")

    @classmethod
    def missing(cls, env: Mapping[str, str]) -> list[str]:
        return [v for v in cls.required if not (env.get(v) or "").strip()]

    def var(self, name: str, default: str | None = None) -> str | None:
        value = (self.env.get(name) or "").strip()
        return value or default

    def auth(self) -> Auth:
        return Auth()

    def pull(self) -> PullResult:
        missing = self.missing(self.env)
        if missing:
            self.result.status = "not configured"
            self.result.missing = missing
            self.result.note = f"{self.title}: not configured (set {', '.join(missing)})"
            return self.result
        self.client = ApiClient(self.source, self.auth(), self.options)
        self.lander = Lander(self.storage, self.source, self.now, self.client.secrets)
        cursor = self.cursors.get(self.source)
        self.result.cursor_before = dict(cursor)
        try:
            new = self.fetch(cursor)
        finally:
            self.result.files = list(self.lander.keys)
            self.result.requests, self.result.retried = self.client.calls, self.client.retried
            self.result.token_refreshed = self.client.refreshed
        if self.result.malformed:  # what those responses held is unknown: ask for the same again next time
            new = cursor
            self.result.note = (f"{len(self.result.malformed)} responses were not JSON (landed; raw quarantines them): "
                                "the cursor stays, so the next pull asks for the same days again")
        if new != cursor:
            self.cursors.put(self.source, new)
        self.result.cursor_after = dict(new)
        return self.result

    def fetch(self, cursor: dict) -> dict:
        raise NotImplementedError

    def window(self, through: str | None, *, lag_days: int = 1) -> tuple[date, date] | None:
        """The days to ask for: from the day after ``through`` (the newest day a previous pull got
        data for), or ``first_days`` back on the first pull, or ``since`` for a backfill, up to
        ``lag_days`` before today (today is not over). None when nothing is new."""
        end = self.now.date() - timedelta(days=lag_days)
        if self.since is not None:
            start = self.since
        elif through:
            start = date.fromisoformat(through) + timedelta(days=1)
        else:
            start = end - timedelta(days=self.first_days - 1)
        if start > end:
            self.result.note = f"nothing new: data through {through} was pulled before"
            return None
        self.result.window = f"{start}..{end}"
        return start, end

    def call(self, what: str, url: str, params: Mapping | None = None, *, dataset: str | None = None,
             rows: Callable[[Any], bool] | None = None, account: str | None = None) -> Any | None:
        """GET ``url``, land the response as ``<dataset>_<what>[@<account>]_<stamp>.json`` and return its JSON
        (None when the body is not JSON: it is landed all the same, and raw will quarantine it with
        the parser's reason; the pull goes on). ``rows`` says whether a document holds data, to
        count the empty ones."""
        resp = self.client.get(url, params)
        key = self.lander.land(dataset or self.dataset, what, resp.body, account=account)
        doc = resp.json()
        if doc is None:
            self.result.malformed.append(key)
            log.warning("%s: the response landed as %s is not JSON; landed anyway (raw quarantines it)", self.source, key)
        elif rows is not None and not rows(doc):
            self.result.empty.append(key)
        return doc
