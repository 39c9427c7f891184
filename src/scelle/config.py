"""Server-side settings, read from ``SCELLE_*`` environment variables.

The embedded default needs none of them: ``scelle serve`` keeps SQLite and the
blobs under ``--data`` (default ``./scelle-data``). Secrets are ``SecretStr`` so
they never show in a ``repr`` or a log line.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "load_settings"]

DEFAULT_DATA_DIR = Path("scelle-data")
SERVER_SECRET_FILE = "server-secret.key"  # noqa: S105  (a file name)
AUDIT_LOG_KEY_FILE = "audit-log.key"


class Settings(BaseSettings):
    """Everything the server, the worker and the admin commands read from their host."""

    model_config = SettingsConfigDict(env_prefix="SCELLE_", extra="ignore")

    data: Path = Field(default=DEFAULT_DATA_DIR, description="data folder (SQLite, blobs, keys)")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in DATA")
    database_pool_size: int = Field(
        default=50,
        ge=2,
        le=1000,
        description="database connections per server process (PostgreSQL's max_connections "
        "must cover processes x this)",
    )
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str | None = Field(default=None, description="URL the clients use, for links")
    # The slug of the organisation that runs the service (e.g. the hospital group):
    # its admins also see every organisation and the breach register in the web UI.
    operator_org: str | None = Field(
        default=None, description="slug of the operator's organisation; unset: none"
    )

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
    # The worker re-reads every stored ciphertext against its digest this often.
    scrub_interval_seconds: float = 24 * 3600.0

    # Audit log: the Ed25519 note key that signs checkpoints (a Go-note signer
    # key string, PRIVATE+KEY+...; generated into DATA/audit-log.key when not
    # given), its name (the checkpoint origin, used when the key is generated),
    # how often the worker signs, and a folder the operator controls where
    # every checkpoint is also written (a witness copy).
    audit_log_key: SecretStr | None = None
    audit_log_name: str | None = Field(default=None, description="checkpoint origin")
    checkpoint_interval_seconds: float = 300.0
    witness_dir: Path | None = None
    # An S3-compatible bucket the operator controls, where every checkpoint is
    # also written (<prefix><size>.checkpoint and <prefix>latest.checkpoint).
    witness_s3_bucket: str | None = None
    witness_s3_endpoint: str | None = None
    witness_s3_access_key: str | None = None
    witness_s3_secret_key: SecretStr | None = None
    witness_s3_region: str = "us-east-1"
    witness_s3_prefix: str = ""

    # Shared state for several server processes (throttling counts, upload locks).
    redis_url: str | None = Field(default=None, description="redis://host:port/db; memory if unset")
    rate_limit_prefix: str = Field(
        default="scelle", description="prefix of the Redis keys (throttle counts and upload locks)"
    )
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
    throttle_link_ip: str = "30/minute;300/hour"  # every patient-link API request per address

    # Web sessions (cookies): idle and absolute timeouts.
    session_idle_timeout: timedelta = timedelta(minutes=30)
    session_absolute_timeout: timedelta = timedelta(hours=12)
    # Adding or removing a passkey needs a login at most this old, or the
    # password and a second factor given again with the request.
    reauth_window: timedelta = timedelta(minutes=5)

    # Passkeys (WebAuthn). The relying-party id is a registrable domain (the
    # host of public_url by default, else "localhost"); the origin is the
    # browser's origin of the web UI (the scheme + host + port of public_url by
    # default, else http://localhost:PORT). A passkey is bound to the rp id:
    # changing it makes every registered passkey useless.
    webauthn_rp_id: str | None = Field(default=None, description="WebAuthn relying-party id")
    webauthn_rp_name: str = "Scellé"
    webauthn_origin: str | None = Field(default=None, description="origin of the web UI")
    webauthn_challenge_lifetime: timedelta = timedelta(minutes=5)

    log_level: str = "INFO"
    log_json: bool = False

    # At scale (all optional; the embedded default needs none of them).
    s3_endpoint: str | None = Field(default=None, description="S3-compatible endpoint URL")
    s3_bucket: str | None = Field(default=None, description="bucket holding the ciphertext")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token /metrics asks for; unset: loopback clients only"
    )
    # E-mail notifications (exfiltration alerts, new-device logins). Without
    # smtp_host they are written to the server log, without their body.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "scelle@localhost"
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle for the SMTP server")
    smtp_timeout_seconds: float = 10.0

    # Exfiltration detection: per account, in a sliding window. Crossing one
    # threshold throttles the account's transfer reads for the cool-down and
    # alerts its organisation's admins.
    exfiltration_window: timedelta = timedelta(minutes=10)
    exfiltration_max_downloads: int = 200
    exfiltration_max_listings: int = 600
    exfiltration_max_lookup_failures: int = 30
    exfiltration_cooldown: timedelta = timedelta(minutes=30)

    # New-device login notifications.
    notify_new_device: bool = True

    # OpenID Connect single sign-on (e.g. Pro Santé Connect). Off without an issuer.
    oidc_issuer: str | None = Field(default=None, description="issuer URL (discovery base)")
    oidc_client_id: str | None = None
    oidc_provider_name: str | None = Field(
        default=None, description="the provider's name on the sign-in page (default: its host)"
    )
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email"
    oidc_redirect_url: str | None = Field(default=None, description="this server's callback URL")
    oidc_required_acr: str | None = Field(
        default=None, description="minimum acr; an SSO login at or above it counts as MFA"
    )
    # acr values from weakest to strongest, to compare "at or above" (space-separated).
    oidc_acr_order: str = ""
    oidc_algorithms: str = "RS256 ES256 PS256"
    oidc_email_claim: str = "email"
    oidc_login_lifetime: timedelta = timedelta(minutes=10)
    oidc_leeway_seconds: int = 60

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
    def passkey_rp_id(self) -> str:
        """The WebAuthn relying-party id in force (see ``webauthn_rp_id``)."""
        if self.webauthn_rp_id:
            return self.webauthn_rp_id
        host = urlsplit(self.public_url).hostname if self.public_url else None
        return host or "localhost"

    @property
    def passkey_origin(self) -> str:
        """The browser origin a WebAuthn response must come from (see ``webauthn_origin``)."""
        if self.webauthn_origin:
            return self.webauthn_origin.rstrip("/")
        if self.public_url:
            parts = urlsplit(self.public_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"http://localhost:{self.port}"

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

    def audit_log_key_text(self, generate: Callable[[str], str]) -> str:
        """The audit log's signer key string: from settings, or created once in the data folder.

        ``generate(name)`` makes a new key string named after ``audit_log_name``
        (default: the host of ``public_url``, or ``localhost``, + ``/scelle-audit``).
        """
        if self.audit_log_key is not None:
            return self.audit_log_key.get_secret_value().strip()
        path = self.data / AUDIT_LOG_KEY_FILE
        if not path.exists():
            name = self.audit_log_name
            if not name:
                host = urlsplit(self.public_url).hostname if self.public_url else None
                name = f"{host or 'localhost'}/scelle-audit"
            _create_once(path, generate(name))
        return path.read_text().strip()


def _create_once(path: Path, text: str) -> None:
    """Write ``text`` to a new 0600 file; a file that exists already wins (two processes race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (CLI options) on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
