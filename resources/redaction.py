"""Secrets kept out of what soundlake writes: logs, errors, landed API responses.

One registry of secrets for the process: :func:`register_secrets` adds them, and a logging
filter on urllib3's and requests' loggers blanks them out of their records (urllib3 logs
``"GET /path?query HTTP/1.1" 200`` at DEBUG: a webhook's path, a token in a query). Code that
writes text a person sees calls :func:`redact`; an API puller lands response bodies through
:func:`redact_bytes`, which also blanks the values of credential query parameters
(``access_token=...`` in the Graph API's paging URLs) whoever they belong to.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable
from urllib.parse import quote

REDACTED = "[redacted]"
MIN_SECRET = 4  # shorter strings are not secrets worth blanking (they would blank ordinary text)

# query parameters whose value is a credential, in URLs inside response bodies (paging links)
CREDENTIAL_PARAMS = ("access_token", "client_secret", "refresh_token", "fb_exchange_token", "input_token",
                     "apikey", "api_key", "appsecret_proof")
# a parameter starts a query or follows a separator: `?` `&` `;`, JSON's `\u0026`, URL-encoded `%26` `%3F`
_PARAM = re.compile(rb"(?:^|(?<=[?&;\"'\s])|(?<=\\u0026)|(?<=%26)|(?<=%3[Ff]))("
                    + b"|".join(p.encode() for p in CREDENTIAL_PARAMS) + rb")(=|%3D)[^&\"'\s\\<>]+", re.IGNORECASE)


def _forms(secrets: Iterable[str | None]) -> list[str]:
    """Each secret as given and URL-encoded (a token with ``|`` or ``/`` in a link), longest first."""
    out = set()
    for s in secrets:
        if s and len(s) >= MIN_SECRET:
            out |= {s, quote(s, safe=""), quote(s, safe="/")}
    return sorted(out, key=len, reverse=True)


def redact(text: str | None, secrets: Iterable[str | None]) -> str | None:
    """``text`` with every secret (longest first) replaced by ``[redacted]``."""
    if text is None:
        return None
    for s in _forms(secrets):
        text = text.replace(s, REDACTED)
    return text


def redact_bytes(data: bytes, secrets: Iterable[str | None]) -> bytes:
    """``data`` with every secret and every credential query parameter's value replaced by
    ``[redacted]``; nothing else changes (a body that is not UTF-8 or not JSON is kept as it is)."""
    data = _PARAM.sub(lambda m: m.group(1) + m.group(2) + REDACTED.encode(), data)
    for s in _forms(secrets):
        data = data.replace(s.encode(), REDACTED.encode())
    return data


class _RedactFilter(logging.Filter):
    """Blanks registered secrets out of records of the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            try:
                msg = record.getMessage()
            except Exception:  # a malformed record is not ours to fix
                return True
            clean = redact(msg, self.secrets)
            if clean != msg:
                record.msg, record.args = clean, None
        return True


_FILTER = _RedactFilter()
_FILTERED_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests")


def register_secrets(*secrets: str | None) -> None:
    """Blank these strings out of urllib3's and requests' log records from now on."""
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    _FILTER.secrets.update(_forms(secrets))
