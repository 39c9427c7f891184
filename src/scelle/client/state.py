"""Local state under ``SCELLE_HOME``: session, keys, pins and the outbox.

::

    SCELLE_HOME/                 (0700; default: ~/.config/scelle)
      session.json               server URL, API token, user id, e-mail (0600)
      device-id                  a random id sent as X-Scelle-Device (new-device notices)
      identity.age               X25519 identity, age-encrypted (scrypt) under the passphrase
      signing.age                Ed25519 key (PKCS#8), age-encrypted the same way
      public.json                this device's public key bundle and fingerprint
      pins.json                  pinned fingerprints per correspondent (TOFU), retired ones too
      retired/<fingerprint>/     keys replaced by `scelle keys rotate`, still passphrase-encrypted
      outbox/<key>/              ciphertext + state of a send not yet sealed, to resume it

Every file is written to a temporary name, fsynced and renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scelle.errors import LocalStateError

__all__ = ["LocalState", "Session", "default_home", "write_private"]


def default_home() -> Path:
    """``SCELLE_HOME``, else ``$XDG_CONFIG_HOME/scelle``, else ``~/.config/scelle``."""
    if os.environ.get("SCELLE_HOME"):
        return Path(os.environ["SCELLE_HOME"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "scelle"


def write_private(path: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path`` with mode 0600."""
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@dataclass
class Session:
    """Who this device is logged in as, where."""

    server: str = ""
    token: str | None = None
    user_id: str | None = None
    email: str | None = None
    org: str | None = None


class LocalState:
    """The files of one device's Scellé state."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).expanduser()

    def ensure(self) -> None:
        """Create the folders (0700)."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.outbox.mkdir(exist_ok=True, mode=0o700)

    @property
    def outbox(self) -> Path:
        """Folder of the sends not yet sealed (one sub-folder each)."""
        return self.home / "outbox"

    @property
    def identity_path(self) -> Path:
        """The passphrase-encrypted X25519 identity."""
        return self.home / "identity.age"

    @property
    def signing_path(self) -> Path:
        """The passphrase-encrypted Ed25519 signing key (PKCS#8 PEM)."""
        return self.home / "signing.age"

    def load_public(self) -> dict[str, str] | None:
        """This device's published bundle (recipient, ed25519_public, fingerprint), if any."""
        data = self._read_json("public.json")
        if data is not None and not isinstance(data, dict):
            raise LocalStateError("public.json is malformed")
        return data

    def save_public(self, bundle: dict[str, str]) -> None:
        """Record this device's public bundle (no secret in it)."""
        self._write_json("public.json", bundle)

    def _read_json(self, name: str) -> Any:
        path = self.home / name
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise LocalStateError(f"{path} is unreadable ({type(exc).__name__})") from None

    def _write_json(self, name: str, data: Any) -> None:
        self.ensure()
        write_private(self.home / name, json.dumps(data, indent=2, sort_keys=True).encode())

    def device_id(self) -> str:
        """This device's random id (128 bits, created on first use): not a secret, not personal."""
        path = self.home / "device-id"
        try:
            value = path.read_text().strip()
        except FileNotFoundError:
            value = ""
        except OSError as exc:
            raise LocalStateError(f"{path} is unreadable ({type(exc).__name__})") from None
        if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
            return value
        self.ensure()
        value = secrets.token_hex(16)
        write_private(path, value.encode())
        return value

    def load_session(self, server: str | None = None) -> Session:
        """The saved session; ``server`` (from --server/SCELLE_SERVER) overrides its URL.

        A different server than the saved one gets an empty session (never
        the other server's token). Raises LocalStateError when no server is
        known at all, or session.json is unreadable.
        """
        saved = self._read_json("session.json") or {}
        session = Session(**{k: v for k, v in saved.items() if k in Session.__dataclass_fields__})
        if server:
            if session.server and session.server.rstrip("/") != server.rstrip("/"):
                session = Session(server=server)  # another server: not its token
            session.server = server
        if not session.server:
            raise LocalStateError("no server: use --server URL or set SCELLE_SERVER")
        return session

    def save_session(self, session: Session) -> None:
        """Write the session (0600: it holds the API token)."""
        self._write_json("session.json", asdict(session))

    def load_pins(self) -> dict[str, dict[str, str]]:
        """Pinned fingerprints by user id: ``{user_id: {email, fingerprint}}``."""
        pins = self._read_json("pins.json") or {}
        if not isinstance(pins, dict):
            raise LocalStateError("pins.json is malformed")
        return pins

    def save_pins(self, pins: dict[str, dict[str, str]]) -> None:
        """Replace the pins file atomically."""
        self._write_json("pins.json", pins)
