"""Server-side settings, read from ``SCELLE_*`` environment variables.

The embedded default needs none of them: ``scelle serve`` keeps SQLite and the
blobs under ``--data`` (default ``./scelle-data``). Secrets are ``SecretStr`` so
they never show in a ``repr`` or a log line.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "load_settings"]

DEFAULT_DATA_DIR = Path("scelle-data")
SERVER_SECRET_FILE = "server-secret.key"  # noqa: S105  (a file name)


class Settings(BaseSettings):
    """Everything the server, the worker and the admin commands read from their host."""

    model_config = SettingsConfigDict(env_prefix="SCELLE_", extra="ignore")

    data: Path = Field(default=DEFAULT_DATA_DIR, description="data folder (SQLite, blobs, keys)")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in DATA")
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str | None = Field(default=None, description="URL the clients use, for links")

    # Secret used to encrypt server-held secrets at rest (TOTP seeds). Generated
    # into DATA/server-secret.key on first start when not given.
    secret_key: SecretStr | None = None

    max_upload_bytes: int = 64 * 1024**3
    default_expiry: timedelta = timedelta(days=7)
    max_expiry: timedelta = timedelta(days=30)
    upload_expiry: timedelta = timedelta(hours=24)
    enrolment_expiry: timedelta = timedelta(hours=72)
    token_lifetime: timedelta = timedelta(days=30)
    purge_interval_seconds: float = 60.0

    # Shared state for several server processes (throttling counts, upload locks).
    redis_url: str | None = Field(default=None, description="redis://host:port/db; memory if unset")
    rate_limit_prefix: str = Field(default="scelle", description="prefix of the Redis keys")
    # Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Throttling rules, ``limits`` notation ("5/minute;20/hour"); empty disables a rule.
    throttle_login_ip: str = "30/minute;300/hour"  # every login attempt from one address
    throttle_login_account: str = "10/minute;100/hour"  # failures on one e-mail, any address
    throttle_login_account_ip: str = "5/minute;10/10minutes;20/hour"  # failures, backoff tiers
    throttle_mfa_account: str = "5/minute;20/hour"  # second-factor failures on one account
    throttle_enrol_ip: str = "10/minute;50/hour"  # failed enrolments from one address
    throttle_token_ip: str = "120/minute;1000/hour"  # noqa: S105  (invalid tokens per address)
    throttle_token_account: str = "1200/minute"  # noqa: S105  (API calls per account)

    # Web sessions (cookies): idle and absolute timeouts.
    session_idle_timeout: timedelta = timedelta(minutes=30)
    session_absolute_timeout: timedelta = timedelta(hours=12)

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("data")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The database URL, with PostgreSQL URLs steered to psycopg 3."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{self.data / 'scelle.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.data / "blobs"

    @property
    def log_dir(self) -> Path:
        return self.data / "logs"

    def server_secret(self) -> bytes:
        """The 32-byte server secret: from settings, or created once in the data folder."""
        if self.secret_key is not None:
            raw = self.secret_key.get_secret_value().encode()
            if len(raw) < 32:
                raise ValueError("SCELLE_SECRET_KEY must be at least 32 characters")
            return raw
        path = self.data / SERVER_SECRET_FILE
        if not path.exists():
            self.data.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (CLI options) on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
