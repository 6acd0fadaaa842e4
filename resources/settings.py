"""Where soundlake keeps things, read from the environment when asked (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str
    secret_key: str
    secure: bool
    region: str = "us-east-1"
    bucket_prefix: str = ""
    connect_timeout: float = 5.0  # seconds to open a connection (SOUNDLAKE_S3_CONNECT_TIMEOUT)
    read_timeout: float = 30.0  # seconds to wait for an answer (SOUNDLAKE_S3_READ_TIMEOUT)
    retries: int = 2  # retries of a failed request, with backoff (SOUNDLAKE_S3_RETRIES)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _number(env, name: str, default: float) -> float:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None
    if number < 0:
        raise ValueError(f"{name}={value!r} must not be negative")
    return number


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (resources/alerts.py). Secrets (the webhook URL, the SMTP password) are
    left out of ``repr`` so they never reach a log or a traceback through this object."""

    webhook_url: str | None = field(default=None, repr=False)  # a Slack webhook URL is itself a secret
    smtp_host: str | None = None
    smtp_port: int | None = None  # default: 465 with SSL, 587 with STARTTLS, else 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str | None = None
    email_to: tuple[str, ...] = ()
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    problems: tuple[str, ...] = ()  # values that could not be read (reported by resources/alerts.py, never raised)

    @classmethod
    def from_env(cls, env) -> "AlertSettings":
        def get(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        port = get("SOUNDLAKE_SMTP_PORT")
        problems = ()
        if port and not port.isdigit():  # a typo here must not stop every command: reported, not raised
            problems, port = (f"SOUNDLAKE_SMTP_PORT={port!r} is not a port number",), None
        return cls(
            webhook_url=get("SOUNDLAKE_ALERT_WEBHOOK_URL"),
            smtp_host=get("SOUNDLAKE_SMTP_HOST"),
            smtp_port=int(port) if port else None,
            smtp_user=get("SOUNDLAKE_SMTP_USER"),
            smtp_password=env.get("SOUNDLAKE_SMTP_PASSWORD") or None,  # not stripped: spaces can be part of it
            smtp_from=get("SOUNDLAKE_SMTP_FROM"),
            email_to=tuple(a.strip() for a in (get("SOUNDLAKE_ALERT_EMAIL_TO") or "").replace(";", ",").split(",")
                           if a.strip()),
            smtp_starttls=_flag(env.get("SOUNDLAKE_SMTP_STARTTLS"), True),
            smtp_ssl=_flag(env.get("SOUNDLAKE_SMTP_SSL"), False),
            problems=problems,
        )


@dataclass(frozen=True)
class Settings:
    home: Path
    s3: S3Settings | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings)

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def sessions_dir(self) -> Path:
        """Browser sessions (Playwright ``storage_state`` JSON, ``<source>.json``): assets/analytics/alerts.py."""
        return self.home / "sessions"

    @property
    def secrets_dir(self) -> Path:
        """The encrypted vault (resources/vault.py): the browser sessions' cookies and storage."""
        return self.home / "secrets"

    @property
    def own_paths(self) -> tuple[Path, ...]:
        """What soundlake itself keeps under the home (never ingested as exports): the lake, the
        warehouse, the Dagster instance, the lock, sessions and secrets."""
        return (self.lake_dir, self.warehouse_path, self.dagster_home, self.sessions_dir, self.secrets_dir,
                self.home / "lake.lock", self.home / "lake.lock.json")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        home = Path(env.get("SOUNDLAKE_HOME") or ".soundlake").expanduser().resolve()
        endpoint = env.get("SOUNDLAKE_S3_ENDPOINT", "").strip()
        s3 = None
        if endpoint:
            s3 = S3Settings(
                endpoint=endpoint,
                access_key=env.get("SOUNDLAKE_S3_ACCESS_KEY", ""),
                secret_key=env.get("SOUNDLAKE_S3_SECRET_KEY", ""),
                secure=env.get("SOUNDLAKE_S3_SECURE", "false").lower() in ("1", "true", "yes"),
                region=env.get("SOUNDLAKE_S3_REGION", "us-east-1"),
                bucket_prefix=env.get("SOUNDLAKE_S3_BUCKET_PREFIX", ""),
                connect_timeout=_number(env, "SOUNDLAKE_S3_CONNECT_TIMEOUT", 5.0),
                read_timeout=_number(env, "SOUNDLAKE_S3_READ_TIMEOUT", 30.0),
                retries=int(_number(env, "SOUNDLAKE_S3_RETRIES", 2)),
            )
        return cls(home=home, s3=s3, alerts=AlertSettings.from_env(env))
