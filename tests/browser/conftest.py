"""The fake dashboards on loopback and a home whose extractors point at them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assets.extract import EXTRACTORS
from resources.browser import Sessions
from resources.settings import Settings

from .fake_dashboards import PASSWORD, USERNAME, FakeDashboards, Server, totp_code

VAULT_KEY = "vault-key-for-tests-7f1c2a9e5b"


@pytest.fixture(autouse=True)
def _logger_levels():
    """`soundlake` commands set logger levels for the process (cli.main); later tests get them back."""
    names = ("soundlake", "great_expectations", "cmdstanpy", "prophet.plot", "")
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


@pytest.fixture(scope="session")
def dashboards():
    with Server(FakeDashboards()) as server:
        yield server


@pytest.fixture
def browser_env(local_env: Path, dashboards, monkeypatch) -> Path:
    """``local_env`` with the vault key set and every extractor pointed at the fake dashboards."""
    monkeypatch.setenv("SOUNDLAKE_VAULT_KEY", VAULT_KEY)
    for source in EXTRACTORS:
        monkeypatch.setenv(f"SOUNDLAKE_EXTRACT_{source.upper()}_URL", dashboards.base(source))
    return local_env


class Answers:
    """The person at the keyboard: answers the login prompts (and remembers what was asked)."""

    def __init__(self, password: str = PASSWORD, code: str | None = None):
        self.password, self.code = password, code
        self.asked: list[tuple[str, bool]] = []

    def __call__(self, field: str, *, secret: bool) -> str:
        self.asked.append((field, secret))
        return {"username": USERNAME, "password": self.password}.get(field) or self.code or totp_code()


def sessions() -> Sessions:
    return Sessions(Settings.from_env())
