"""Fixtures of the puller tests: the platforms' local APIs on a real loopback HTTP server, and a
lake in a temporary folder."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from resources.api import ClientOptions
from resources.storage import LocalStorage

from .platforms import Platforms

TODAY = date(2025, 5, 20)
NOW = datetime(2025, 5, 20, 5, 0, 7, tzinfo=timezone.utc)
FAST = ClientOptions(connect_timeout=2, read_timeout=5, attempts=4, backoff=0.01, max_wait=5)


@pytest.fixture
def platforms(httpserver) -> Platforms:
    return Platforms(httpserver, TODAY)


@pytest.fixture
def lake(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "lake")


def pull(puller, platforms: Platforms, lake, *, now: datetime = NOW, **kw):
    """One pull of ``puller`` against the local platforms; returns (result, puller)."""
    p = puller(platforms.env(puller.source), lake, now=now, options=FAST, **kw)
    return p.pull(), p


def landed(lake, key: str) -> bytes:
    return lake.get("landing", key)
