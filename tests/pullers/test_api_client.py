"""The client layer's pieces that the puller tests do not pin down one by one."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from resources.api import retry_after_seconds, strip_params
from resources.redaction import redact_bytes, register_secrets


def test_retry_after_in_seconds_or_as_an_http_date():
    now = datetime(2025, 5, 20, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Tue, 20 May 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 20 May 2025 11:00:00 GMT", now) == 0.0  # in the past: no wait
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_credential_parameters_are_blanked_whoever_minted_them():
    # a token the client never saw (a page link minted with another token), raw and JSON-escaped
    body = (b'{"paging": {"next": "https://graph.facebook.com/v21.0/1/insights?access_token=EAAXunknown1&since=1",'
            b' "previous": "https:\\/\\/x\\/?a=1\\u0026access_token=EAAXunknown2\\u0026b=2"},'
            b' "client_secret_hint": "fine", "x": "refresh_token%3Dabc123"}')
    out = redact_bytes(body, ["knownsecret"])
    assert b"EAAXunknown1" not in out and b"EAAXunknown2" not in out and b"abc123" not in out
    assert b"access_token=[redacted]&since=1" in out and b"\\u0026b=2" in out and b'"client_secret_hint": "fine"' in out
    assert redact_bytes(b"a knownsecret and knownsecret%2F", ["knownsecret"]) == b"a [redacted] and [redacted]%2F"


def test_paging_links_are_followed_without_their_token():
    url = "https://graph.facebook.com/v21.0/act_1/insights?limit=500&access_token=EAAX&after=QVFI"
    assert strip_params(url) == "https://graph.facebook.com/v21.0/act_1/insights?limit=500&after=QVFI"


def test_registered_secrets_are_blanked_from_urllib3_records(caplog):
    register_secrets("s3cr3t-value|x")
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug('"GET /x?client_secret=%s HTTP/1.1" 200', "s3cr3t-value%7Cx")
    assert "s3cr3t" not in caplog.text and "[redacted]" in caplog.text


def test_raw_retention_leaves_the_cursors_where_they_are(tmp_path):
    from datetime import timedelta

    from assets.lake.archive import archive_raw
    from resources.api import CursorStore
    from resources.storage import LocalStorage

    lake = LocalStorage(tmp_path / "lake")
    CursorStore(lake).put("youtube", {"through": "2025-05-17"})
    lake.put("raw", "meta_ads/insights/2025/05/abc.json", b"{}")
    moved = archive_raw(lake, 30, now=datetime.now(timezone.utc) + timedelta(days=400))
    assert moved == ["meta_ads/insights/2025/05/abc.json"]
    assert CursorStore(lake).get("youtube") == {"through": "2025-05-17"}


def test_a_server_that_does_not_answer_is_retried_then_named_without_credentials(tmp_path):
    import socket

    import pytest

    from resources.api import ApiClient, ApiError, ClientOptions
    from resources.pullers.graph import GraphToken

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ApiClient("instagram", GraphToken("EAAXsecret123", "", None, None),
                       ClientOptions(connect_timeout=0.5, attempts=3, backoff=0.01))
    with pytest.raises(ApiError) as err:
        client.get(f"http://127.0.0.1:{port}/v21.0/1/insights?access_token=EAAXsecret123&since=1")
    assert client.calls == 3 and client.retried == 2
    assert "ConnectionError" in str(err.value) and "access_token=[redacted]" in str(err.value)
    assert "EAAXsecret123" not in str(err.value)
