"""Where soundlake keeps things, read from the environment when asked (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str
    secret_key: str
    secure: bool
    region: str = "us-east-1"
    bucket_prefix: str = ""


@dataclass(frozen=True)
class Settings:
    home: Path
    s3: S3Settings | None = None

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

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
            )
        return cls(home=home, s3=s3)
