"""What a browser extractor declares, and the one way every extractor signs in, reads a
dashboard and lands what it got.

A platform module (``assets/extract/<source>.py``) declares an :class:`Extractor`: the dashboard's
address, its login form (:class:`LoginForm`: every selector in one place) and a function that,
given a signed-in :class:`Dashboard`, returns the :class:`Capture` s of one run (downloads,
captured XHR/JSON responses, saved pages). Everything generic is here: the login (interactive in
a headed window, or driven by a :class:`Prompt`), the saved session, retries with backoff on
navigation errors, telling an expired session from a broken page, and landing.

A run is all or nothing per source: captures are kept in memory and land only once the whole
extraction succeeded; an expired session (the dashboard answers with its login page, or an API
with 401/403) raises :class:`SessionExpired` (``log in again to SOURCE``), records the refusal in
the session file (so the session alert fires) and lands nothing.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Callable, Mapping, Protocol
from urllib.parse import urljoin, urlparse

from resources.browser import BrowserSettings, Sessions, browser_context

log = logging.getLogger("soundlake.extract")

NAV_ATTEMPTS = 3  # a navigation is tried this often (backoff 1 s, 2 s) before the run fails
LOGIN_WAIT_S = 300.0  # how long `soundlake login` waits for the person to finish signing in


class NotConfigured(RuntimeError):
    """No saved session: ``soundlake login SOURCE`` was never run (not a failure of a run)."""


class SessionExpired(RuntimeError):
    """The dashboard refused the saved session."""


class LoginFailed(RuntimeError):
    """The login did not end signed in (wrong password or code, or nobody finished it in time)."""


class ExtractError(RuntimeError):
    """The dashboard did not give what the extractor expects (a page changed, a download failed)."""


class Prompt(Protocol):
    """Asks the person for a login field: ``username``, ``password`` or ``code`` (2FA)."""

    def __call__(self, field: str, *, secret: bool) -> str: ...


@dataclass(frozen=True)
class LoginForm:
    """A dashboard's sign-in: where it is and the selectors of its fields."""

    path: str
    username: str
    password: str
    submit: str
    code: str  # the 2FA code field (a page of its own, or the same page after submit)
    code_submit: str
    signed_in: str  # present only on a signed-in page
    error: str = ".error"  # where the dashboard says what went wrong


@dataclass(frozen=True)
class Capture:
    """One file an extraction got: the dataset it belongs to, the platform's file name (or the
    capture's name), its bytes, and ingest options (``account``, ``artist``) the name cannot carry."""

    dataset: str
    name: str
    data: bytes = field(repr=False)
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Extractor:
    source: str
    title: str
    base_url: str  # the real dashboard; SOUNDLAKE_EXTRACT_<SOURCE>_URL overrides it
    login: LoginForm
    extract: Callable[["Dashboard"], list[Capture]]
    datasets: tuple[str, ...]  # what it lands (landing/<source>/<dataset>/...)
    what: str = ""  # one line for --help and the README

    def url(self, environ: Mapping[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        return (env.get(f"SOUNDLAKE_EXTRACT_{self.source.upper()}_URL") or self.base_url).rstrip("/") + "/"


class Dashboard:
    """A signed-in page of one dashboard with the moves extractors make; every navigation is
    retried with backoff and checked for the login page."""

    def __init__(self, extractor: Extractor, page, base_url: str):
        self.extractor = extractor
        self.page = page
        self.base_url = base_url

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/"))

    # --- navigation ---------------------------------------------------------------------------

    def _retry(self, what: str, action: Callable):
        from playwright.sync_api import Error as PlaywrightError
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        for attempt in Retrying(stop=stop_after_attempt(NAV_ATTEMPTS), wait=wait_exponential(multiplier=1, max=8),
                                retry=retry_if_exception_type(PlaywrightError), reraise=True,
                                before_sleep=lambda s: log.warning("%s: %s failed (%s); trying again",
                                                                   self.extractor.source, what,
                                                                   type(s.outcome.exception()).__name__)):
            with attempt:
                return action()

    def check_signed_in(self, response=None) -> None:
        """:class:`SessionExpired` when the page is the login page (a redirect) or an API
        answered 401/403."""
        path = urlparse(self.page.url).path
        login_path = urlparse(self.url(self.extractor.login.path)).path
        if path == login_path or (response is not None and response.status in (401, 403)) \
                or self.page.locator(self.extractor.login.password).count():
            raise SessionExpired(f"log in again to {self.extractor.source}: the dashboard sent the extractor to its "
                                 f"login page (the saved session expired or was signed out). "
                                 f"Run `soundlake login {self.extractor.source}`.")

    def open(self, path: str):
        """Go to ``path`` (relative to the dashboard); the document's response."""
        response = self._retry(f"opening {path}", lambda: self.page.goto(self.url(path), wait_until="load"))
        self.check_signed_in(response)
        if response is not None and response.status >= 400:
            raise ExtractError(f"{self.extractor.source}: {path} answered HTTP {response.status}")
        return response

    # --- captures -----------------------------------------------------------------------------

    def document(self, path: str, dataset: str, name: str) -> Capture:
        """The page at ``path`` as the server sent it (a saved page)."""
        response = self.open(path)
        return Capture(dataset, name, response.body())

    def download(self, path: str, button: str, dataset: str, name: str | None = None,
                 options: Mapping[str, str] | None = None) -> Capture:
        """Open ``path``, click ``button`` and take the file it downloads (named as the platform
        names it unless ``name`` is given)."""
        self.open(path)

        def click():
            with self.page.expect_download() as info:
                self.page.click(button)
            return info.value

        download = self._retry(f"downloading from {path}", click)
        failure = download.failure()
        if failure:
            raise ExtractError(f"{self.extractor.source}: the download from {path} failed: {failure}")
        with open(download.path(), "rb") as fh:
            data = fh.read()
        self.check_signed_in()
        if not data:
            raise ExtractError(f"{self.extractor.source}: the download from {path} is empty")
        return Capture(dataset, name or download.suggested_filename, data, dict(options or {}))

    def responses(self, path: str, pattern: str, *, count: int = 1, trigger: Callable[[], None] | None = None) -> list:
        """The first ``count`` responses whose URL matches ``pattern`` (a regex) while ``path``
        loads (or, when given, while ``trigger`` runs on the open page)."""
        rx = re.compile(pattern)
        seen: list = []

        def collect(response):
            if rx.search(response.url) and response.request.resource_type in ("xhr", "fetch"):
                seen.append(response)

        def run():
            seen.clear()
            self.page.on("response", collect)
            try:
                if trigger is None:
                    self.page.goto(self.url(path), wait_until="load")
                else:
                    trigger()
                self.page.wait_for_load_state("networkidle")
                deadline = datetime.now() + timedelta(seconds=10)
                while len(seen) < count and datetime.now() < deadline:
                    self.page.wait_for_timeout(100)
            finally:
                self.page.remove_listener("response", collect)
            return list(seen)

        got = self._retry(f"capturing {pattern} on {path}", run)
        self.check_signed_in()
        for r in got:
            if r.status in (401, 403):
                self.check_signed_in(r)
            if r.status >= 400:
                raise ExtractError(f"{self.extractor.source}: {urlparse(r.url).path} answered HTTP {r.status}")
        if len(got) < count:
            raise ExtractError(f"{self.extractor.source}: {path} made {len(got)} of the {count} requests matching "
                               f"{pattern!r} the extractor captures (has the dashboard changed?)")
        return got[:count]

    def text(self, selector: str) -> str:
        loc = self.page.locator(selector)
        if not loc.count():
            raise ExtractError(f"{self.extractor.source}: no {selector!r} on {urlparse(self.page.url).path} "
                               "(has the dashboard changed?)")
        return loc.first.inner_text().strip()


# --- login ------------------------------------------------------------------------------------


def login(extractor: Extractor, sessions: Sessions, *, browser: BrowserSettings | None = None,
          prompt: Prompt | None = None, headless: bool = False, wait_s: float = LOGIN_WAIT_S,
          environ: Mapping[str, str] | None = None) -> dict:
    """Sign in to the dashboard and save the session. With ``prompt`` the form is filled from
    its answers (username, password, then the 2FA code when the dashboard asks); without, the
    person types into the (headed) window and this waits up to ``wait_s`` for the signed-in
    page. Returns the saved session's summary (no values)."""
    browser = browser or BrowserSettings.from_env(environ)
    sessions.vault(create=True)  # no key: say so before anyone types a password
    form = extractor.login
    with browser_context(browser, headless=headless) as context:
        page = context.new_page()
        page.goto(urljoin(extractor.url(environ), form.path.lstrip("/")))
        if prompt is not None:
            page.fill(form.username, prompt("username", secret=False))
            page.fill(form.password, prompt("password", secret=True))
            page.click(form.submit)
            page.wait_for_selector(f"{form.code}, {form.signed_in}, {form.error}")
            _fail_on_error(extractor, page)
            if page.locator(form.code).count():
                page.fill(form.code, prompt("code", secret=True))
                page.click(form.code_submit)
            page.wait_for_selector(f"{form.signed_in}, {form.error}")
            _fail_on_error(extractor, page)
        else:
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            try:
                page.wait_for_selector(form.signed_in, timeout=wait_s * 1000)
            except PlaywrightTimeout:
                raise LoginFailed(f"{extractor.source}: not signed in after {wait_s:.0f} s; run `soundlake login "
                                  f"{extractor.source}` again and finish the sign-in in the window") from None
        state = context.storage_state()
    sessions.save(extractor.source, state)
    log.info("%s: session saved (%d cookies)", extractor.source, len(state.get("cookies") or []))
    return sessions.summary(extractor.source) or {}


def _fail_on_error(extractor: Extractor, page) -> None:
    if page.locator(extractor.login.error).count() and not page.locator(extractor.login.signed_in).count():
        message = page.locator(extractor.login.error).first.inner_text().strip()
        raise LoginFailed(f"{extractor.source}: the dashboard refused the login: {message}")


# --- extraction -------------------------------------------------------------------------------


def extract(extractor: Extractor, sessions: Sessions, *, browser: BrowserSettings | None = None,
            environ: Mapping[str, str] | None = None) -> list[Capture]:
    """One headless run of ``extractor`` with its saved session: every capture, or an error and
    none. The refreshed session is saved after a successful run."""
    state = sessions.load(extractor.source)
    if state is None:
        raise NotConfigured(f"{extractor.source} is not configured: no saved session. "
                            f"Run `soundlake login {extractor.source}` once.")
    browser = browser or BrowserSettings.from_env(environ)
    try:
        with browser_context(browser, headless=True, storage_state=state) as context:
            dashboard = Dashboard(extractor, context.new_page(), extractor.url(environ))
            captures = extractor.extract(dashboard)
            fresh = context.storage_state()
    except SessionExpired as exc:
        sessions.reject(extractor.source, str(exc))
        raise
    sessions.save(extractor.source, fresh)
    wrong = [c for c in captures if c.dataset not in extractor.datasets]
    if wrong:
        raise ExtractError(f"{extractor.source}: captures of unknown datasets {[c.dataset for c in wrong]}")
    return captures


def stamped(name: str, when: datetime) -> str:
    """``<name>_<YYYYMMDD_HHMMSS>.<ext>``: the landing name of a capture taken at ``when`` (UTC)."""
    p = PurePosixPath(name)
    stamp = when.astimezone(timezone.utc).strftime("%Y%m%d_%H%M%S")
    return f"{p.stem}_{stamp}{p.suffix}" if p.suffix else f"{name}_{stamp}"


def land(lake, source: str, captures: list[Capture], *, batch: str | None, when: datetime | None = None) -> list:
    """Land the captures of one run at ``landing/<source>/<dataset>/<name>_<timestamp>`` with a
    ``landed`` manifest row each (their options kept for whichever run takes them). Every capture
    is checked to land where its extractor says before any is written. Returns the landings."""
    when = when or datetime.now(timezone.utc)
    landing = lake.landing
    planned: list = []
    taken = {o.key for o in lake.storage.list("landing", f"{source}/")}
    for c in captures:
        name = stamped(c.name, when)
        before = len(planned)
        landing.land(name, name, c.data, source=source, as_of=None, options=c.options, batch=batch,
                     landed=planned, refused=[], taken=set(taken), dry_run=True)
        got = {(i.source, i.dataset) for i in planned[before:]}
        if got != {(source, c.dataset)}:
            raise ExtractError(f"{source}: the capture {name} would land as {sorted(got) or 'nothing'}, not as "
                               f"{source}/{c.dataset}: the extractor and the source module disagree on its name")
    landed: list = []
    for c in captures:
        name = stamped(c.name, when)
        landing.land(name, name, c.data, source=source, as_of=None, options=c.options, batch=batch,
                     landed=landed, refused=[], taken=taken)
    lake.log.append([item.row(when + timedelta(microseconds=i)) for i, item in enumerate(landed)])
    return landed
