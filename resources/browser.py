"""Browser sessions and the browser: how soundlake signs in to dashboards that have no API.

**Sessions.** A source's signed-in session is Playwright's ``context.storage_state()`` (cookies
and each origin's local storage). It is kept in two files, one contract:

* ``$SOUNDLAKE_HOME/secrets/<source>.vault`` — the whole state, encrypted (:mod:`resources.vault`);
  the only copy of cookie values.
* ``$SOUNDLAKE_HOME/sessions/<source>.json`` — the same state *without values*: each cookie's
  name, domain, path and ``expires``, each origin's storage keys, and a ``soundlake`` block with
  ``saved_at``, the vault file and, once the dashboard refused the session (sent the extractor to
  its login page), ``rejected_at`` and ``rejected_reason``. The session alert
  (``assets/analytics/alerts.py``) reads only this file: an expired, expiring or refused session
  is alerted without the vault key.

Every successful extraction saves the state again (sites roll their cookies), so the expiry the
alert sees is the newest.

**The browser.** Debian's Chromium through Playwright (``SOUNDLAKE_CHROMIUM``, default
``/usr/bin/chromium``), with ``--no-sandbox --disable-gpu --disable-background-networking``
(``SOUNDLAKE_CHROMIUM_ARGS`` replaces them, space separated). Playwright is imported when a
browser is opened, never at import time.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping

from .settings import Settings
from .vault import Vault, write_private

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking")


@dataclass(frozen=True)
class BrowserSettings:
    executable: str = CHROMIUM
    args: tuple[str, ...] = CHROMIUM_ARGS
    timeout_s: float = 30.0  # of one navigation or wait

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "BrowserSettings":
        env = os.environ if environ is None else environ
        args = env.get("SOUNDLAKE_CHROMIUM_ARGS")
        return cls(executable=env.get("SOUNDLAKE_CHROMIUM") or CHROMIUM,
                   args=tuple(args.split()) if args is not None else CHROMIUM_ARGS)


@contextmanager
def browser_context(settings: BrowserSettings, *, headless: bool = True,
                    storage_state: Mapping | None = None) -> Iterator:
    """A fresh Playwright ``BrowserContext`` of Chromium (downloads accepted), with
    ``storage_state`` when given; the browser is closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=settings.executable, headless=headless, args=list(settings.args))
        try:
            context = browser.new_context(accept_downloads=True,
                                          storage_state=dict(storage_state) if storage_state is not None else None)
            context.set_default_timeout(settings.timeout_s * 1000)
            context.set_default_navigation_timeout(settings.timeout_s * 1000)
            yield context
        finally:
            browser.close()


def redact_state(state: Mapping) -> dict:
    """A storage state without its values: what the session alert reads."""
    cookies = [{k: c.get(k) for k in ("name", "domain", "path", "expires", "httpOnly", "secure", "sameSite") if k in c}
               for c in state.get("cookies") or []]
    origins = [{"origin": o.get("origin"), "localStorage": [{"name": i.get("name")} for i in o.get("localStorage") or []]}
               for o in state.get("origins") or []]
    return {"cookies": cookies, "origins": origins}


class Sessions:
    """The saved browser sessions of a ``SOUNDLAKE_HOME``: the vault and the session files."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None):
        self.settings = settings
        self._environ = environ
        self._vault: Vault | None = None

    def vault(self, *, create: bool = False) -> Vault:
        if self._vault is None:
            self._vault = Vault.open(self.settings.secrets_dir, self._environ, create=create)
        return self._vault

    def summary_path(self, source: str) -> Path:
        return self.settings.sessions_dir / f"{source}.json"

    def configured(self, source: str) -> bool:
        """Whether ``soundlake login SOURCE`` saved a session (no key needed to tell)."""
        return (self.settings.secrets_dir / f"{source}.vault").is_file()

    def load(self, source: str) -> dict | None:
        """The saved storage state of ``source`` (decrypted); None when there is none."""
        if not self.configured(source):
            return None
        return self.vault().get(source)

    def summary(self, source: str) -> dict | None:
        try:
            return json.loads(self.summary_path(source).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def save(self, source: str, state: Mapping, now: datetime | None = None) -> Path:
        """Encrypt ``state`` into the vault and write its value-free summary (the alert's file)."""
        now = now or datetime.now(timezone.utc)
        vault_path = self.vault(create=True).put(source, dict(state))
        summary = {**redact_state(state),
                   "soundlake": {"saved_at": now.isoformat(timespec="seconds"),
                                 "vault": str(vault_path.relative_to(self.settings.home))
                                 if vault_path.is_relative_to(self.settings.home) else str(vault_path),
                                 "rejected_at": None, "rejected_reason": None}}
        self._write_summary(source, summary)
        return vault_path

    def reject(self, source: str, reason: str, now: datetime | None = None) -> None:
        """Record that the dashboard refused the saved session (the session alert reports it)."""
        now = now or datetime.now(timezone.utc)
        summary = self.summary(source) or {"cookies": [], "origins": []}
        block = dict(summary.get("soundlake") or {})
        block.update(rejected_at=now.isoformat(timespec="seconds"), rejected_reason=reason)
        summary["soundlake"] = block
        self._write_summary(source, summary)

    def _write_summary(self, source: str, summary: Mapping) -> None:
        write_private(self.summary_path(source), json.dumps(summary, indent=1).encode("utf-8"))
