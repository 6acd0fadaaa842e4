"""Alert channels: a webhook that takes Slack-compatible JSON, and e-mail over SMTP.

What an alert is (:class:`Alert`: id, kind, severity, subject, message) and which events become
alerts is decided in ``assets/analytics/alerts.py``; this module only delivers them.

Configuration comes from the environment, read when :func:`channels_from_settings` is called
(through ``resources.settings.AlertSettings``, never at import):

| variable | meaning |
|---|---|
| ``SOUNDLAKE_ALERT_WEBHOOK_URL`` | an incoming-webhook URL (Slack, Mattermost, Discord's ``/slack`` endpoint, or anything that takes a JSON POST) |
| ``SOUNDLAKE_SMTP_HOST`` | SMTP server; e-mail is sent when it and ``SOUNDLAKE_ALERT_EMAIL_TO`` are set |
| ``SOUNDLAKE_SMTP_PORT`` | default 465 with SSL, 587 with STARTTLS, else 25 |
| ``SOUNDLAKE_SMTP_USER`` / ``SOUNDLAKE_SMTP_PASSWORD`` | log in when both are set |
| ``SOUNDLAKE_SMTP_FROM`` | sender address (default the user when it is an address, else ``soundlake@localhost``) |
| ``SOUNDLAKE_ALERT_EMAIL_TO`` | recipients, comma separated |
| ``SOUNDLAKE_SMTP_STARTTLS`` | ``true`` (default): upgrade the connection with STARTTLS before anything else; ``false`` for a local relay without TLS |
| ``SOUNDLAKE_SMTP_SSL`` | ``true``: implicit TLS from the first byte (port 465) instead of STARTTLS |

No channel configured: nothing is sent and nothing fails.

**Webhook.** One POST per alert, body ``{"text": ..., "blocks": [...]}``: ``text`` is the
notification fallback, the blocks are a ``section`` in mrkdwn (subject in bold, then the message)
and a ``context`` line (kind, severity, alert id). ``&``, ``<`` and ``>`` are escaped as Slack
asks. Connection errors, timeouts, HTTP 429 and 5xx are retried (``attempts`` 3 in all, waits
0.5 s then 1 s, doubling, at most 10 s; a 429's ``Retry-After`` is honoured up to that cap); any
other 4xx is final (a deleted webhook, a rejected payload). The first alert that cannot be
delivered stops the channel for this dispatch: the rest stay pending and are retried with it at
the next dispatch.

**E-mail.** One message per dispatch holding every alert of the dispatch (a digest: the subject
is the alert's when there is one, else the count by severity), plain text. All or nothing.

**Secrets.** A Slack webhook URL is a credential (anyone who has it can post), and so is the SMTP
password. Neither appears in ``repr``, in exception messages, in the ``alerts`` table or in logs:
channels are named by host only (``webhook to hooks.slack.com``), errors carry the exception's
type and the HTTP status, never ``str()`` of a ``requests`` exception (which quotes the URL), and
a logging filter on urllib3's loggers blanks the webhook's path out of their debug lines.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol, Sequence
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from .redaction import redact
from .redaction import register_secrets as _register_secret
from .settings import AlertSettings

log = logging.getLogger("soundlake.alerts")

SEVERITIES = ("info", "warning", "critical")
SLACK_SECTION_MAX = 3000  # characters Slack accepts in one section's text
_EMOJI = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


@dataclass(frozen=True)
class Alert:
    """One event to tell a person about. ``alert_id`` is stable: the same event, seen again by a
    later dispatch, has the same id (the deduplication key of the ``alerts`` table)."""

    alert_id: str
    kind: str
    severity: str
    subject: str
    message: str


@dataclass
class SendResult:
    """What one channel did with a batch: the ids it accepted and, when it stopped, why."""

    channel: str
    accepted: list[str] = field(default_factory=list)
    error: str | None = None


class ChannelError(Exception):
    """A channel could not deliver; the message names the channel by host only."""


class Channel(Protocol):
    name: str

    def describe(self) -> str: ...
    def send(self, alerts: Sequence[Alert]) -> SendResult: ...


# --- secrets --------------------------------------------------------------------------------------

def settings_secrets(settings: AlertSettings) -> list[str]:
    """The strings of ``settings`` that must never be shown: the webhook URL and its path, the
    SMTP password."""
    out = [settings.smtp_password]
    if settings.webhook_url:
        out += [settings.webhook_url, *_url_secrets(settings.webhook_url)]
    return [s for s in out if s]


def _url_secrets(url: str) -> list[str]:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    out = [path] if len(path) > 1 else []
    if parts.password:
        out.append(parts.password)
    return out


# --- webhook ----------------------------------------------------------------------------------------

class _Transient(Exception):
    def __init__(self, what: str, retry_after: float | None = None):
        super().__init__(what)
        self.retry_after = retry_after


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict:
    """Slack-compatible JSON for one alert: ``text`` (the notification) plus mrkdwn blocks."""
    emoji = _EMOJI.get(alert.severity, "")
    body = f"{emoji} *{slack_escape(alert.subject)}*\n{slack_escape(alert.message)}"
    if len(body) > SLACK_SECTION_MAX:
        body = body[: SLACK_SECTION_MAX - 1] + "…"
    return {
        "text": f"{emoji} [{alert.severity}] {slack_escape(alert.subject)}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"soundlake · {alert.kind} · {alert.severity} · `{slack_escape(alert.alert_id)}`")}]},
        ],
    }


class WebhookChannel:
    """POSTs each alert as Slack-compatible JSON; retries what may pass (see the module doc)."""

    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 10.0, attempts: int = 3, backoff: float = 0.5,
                 max_wait: float = 10.0, session: requests.Session | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("SOUNDLAKE_ALERT_WEBHOOK_URL is not an http(s) URL")  # the URL itself is not quoted
        self._url = url
        self.host = parts.hostname
        self.timeout, self.attempts, self.backoff, self.max_wait = timeout, max(1, attempts), backoff, max_wait
        self._session = session or requests.Session()
        _register_secret(url, *_url_secrets(url))

    def __repr__(self) -> str:
        return f"WebhookChannel(host={self.host!r})"

    def describe(self) -> str:
        return f"webhook to {self.host}"

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.max_wait)
        return min(self.backoff * 2 ** (state.attempt_number - 1), self.max_wait)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("%s: %s, retrying (attempt %d of %d)", self.describe(), exc, state.attempt_number + 1, self.attempts)

    def _post_once(self, body: dict) -> None:
        try:
            resp = self._session.post(self._url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:  # str(exc) quotes the URL: keep only the type
            raise _Transient(type(exc).__name__) from None
        if resp.status_code == 429 or resp.status_code >= 500:
            retry_after = None
            try:
                retry_after = float(resp.headers.get("Retry-After", ""))
            except ValueError:
                pass
            raise _Transient(f"HTTP {resp.status_code}", retry_after)
        if resp.status_code >= 400:
            said = redact((resp.text or "").strip()[:200], [self._url, *_url_secrets(self._url)])
            raise ChannelError(f"{self.describe()} refused the alert: HTTP {resp.status_code}"
                               + (f" ({said})" if said else ""))

    def post(self, body: dict) -> None:
        """Deliver one JSON body, with retries; :class:`ChannelError` when it cannot."""
        retrying = Retrying(stop=stop_after_attempt(self.attempts), wait=self._wait,
                            retry=retry_if_exception_type(_Transient), before_sleep=self._before_sleep, reraise=True)
        try:
            retrying(self._post_once, body)
        except _Transient as exc:
            raise ChannelError(f"{self.describe()} failed after {self.attempts} attempts: {exc}") from None

    def send(self, alerts: Sequence[Alert]) -> SendResult:
        result = SendResult(self.name)
        for alert in alerts:
            try:
                self.post(slack_payload(alert))
            except ChannelError as exc:
                result.error = str(exc)
                break
            result.accepted.append(alert.alert_id)
        return result


# --- e-mail -----------------------------------------------------------------------------------------

def email_message(alerts: Sequence[Alert], sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The digest of ``alerts`` as one plain-text message."""
    msg = EmailMessage()
    if len(alerts) == 1:
        a = alerts[0]
        msg["Subject"] = f"[soundlake] {a.severity}: {a.subject}"
    else:
        counts = [f"{sum(a.severity == s for a in alerts)} {s}" for s in reversed(SEVERITIES)
                  if any(a.severity == s for a in alerts)]
        msg["Subject"] = f"[soundlake] {len(alerts)} alerts ({', '.join(counts)})"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="soundlake")
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    parts = [f"soundlake: {len(alerts)} alert{'s' if len(alerts) != 1 else ''}", ""]
    for a in sorted(alerts, key=lambda a: order.get(a.severity, len(order))):
        parts += [f"[{a.severity.upper()}] {a.subject}", "", a.message, "", f"({a.kind}, id {a.alert_id})", "", "-" * 60, ""]
    parts.append("Every event is sent once; `soundlake query \"SELECT * FROM alerts\"` lists them.")
    msg.set_content("\n".join(parts))
    return msg


class EmailChannel:
    """Sends the dispatch's alerts as one e-mail (STARTTLS, SSL and login optional)."""

    name = "email"

    def __init__(self, host: str, port: int | None = None, *, sender: str, recipients: Sequence[str],
                 user: str | None = None, password: str | None = None, starttls: bool = True,
                 use_ssl: bool = False, timeout: float = 15.0):
        self.host = host
        self.use_ssl = use_ssl
        self.starttls = starttls and not use_ssl
        self.port = port or (465 if use_ssl else 587 if self.starttls else 25)
        self.sender, self.recipients = sender, list(recipients)
        self.user, self._password = user, password
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"EmailChannel(host={self.host!r}, port={self.port}, recipients={len(self.recipients)})"

    def describe(self) -> str:
        n = len(self.recipients)
        return f"e-mail via {self.host}:{self.port} to {n} recipient{'s' if n != 1 else ''}"

    def _deliver(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user and self._password:
                smtp.login(self.user, self._password)
            refused = smtp.send_message(msg, from_addr=self.sender, to_addrs=self.recipients)
        if refused:
            log.warning("%s: the server refused %d of %d recipients", self.describe(), len(refused), len(self.recipients))

    def send(self, alerts: Sequence[Alert]) -> SendResult:
        result = SendResult(self.name)
        if not alerts:
            return result
        try:
            self._deliver(email_message(alerts, self.sender, self.recipients))
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            detail = redact(str(exc), [self._password])[:300]
            result.error = f"{self.describe()} failed: {type(exc).__name__}" + (f": {detail}" if detail else "")
            return result
        result.accepted = [a.alert_id for a in alerts]
        return result


# --- configuration ------------------------------------------------------------------------------------

def channels_from_settings(settings: AlertSettings) -> tuple[list[Channel], list[str]]:
    """The configured channels, and what is wrong with a half-configured one (which is left out)."""
    channels: list[Channel] = []
    problems: list[str] = list(settings.problems)
    if settings.webhook_url:
        try:
            channels.append(WebhookChannel(settings.webhook_url))
        except ValueError as exc:
            problems.append(str(exc))
    if settings.smtp_host or settings.email_to:
        if not settings.smtp_host:
            problems.append("e-mail alerts: SOUNDLAKE_ALERT_EMAIL_TO is set but SOUNDLAKE_SMTP_HOST is not")
        elif not settings.email_to:
            problems.append("e-mail alerts: SOUNDLAKE_SMTP_HOST is set but SOUNDLAKE_ALERT_EMAIL_TO is not")
        elif any("SOUNDLAKE_SMTP_PORT" in p for p in settings.problems):
            pass  # reported above; no guessing another port
        else:
            user = settings.smtp_user
            sender = settings.smtp_from or (user if user and "@" in user else "soundlake@localhost")
            channels.append(EmailChannel(
                settings.smtp_host, settings.smtp_port, sender=sender, recipients=settings.email_to,
                user=user, password=settings.smtp_password, starttls=settings.smtp_starttls,
                use_ssl=settings.smtp_ssl,
            ))
    _register_secret(*settings_secrets(settings))
    return channels, problems
