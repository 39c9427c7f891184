"""The device's keys: an X25519 identity (to decrypt) and an Ed25519 key (to sign).

Both are stored age-encrypted to a passphrase (scrypt), so a copy of
``SCELLE_HOME`` without the passphrase reads nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from scelle.client.state import LocalState, write_private
from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.identity import ScryptIdentity, X25519Identity, parse_identity_file
from scelle.crypto.age.recipients import ScryptRecipient
from scelle.crypto.errors import CryptoError, NoIdentityMatchError
from scelle.crypto.signing import (
    SigningKey,
    key_bundle_message,
    key_fingerprint,
    key_rotation_message,
)
from scelle.errors import LocalStateError

__all__ = ["Keyring"]

SCRYPT_LOG_N = 18
PENDING = ".pending"


def _pending(path: Path) -> Path:
    return path.with_name(path.name + PENDING)


@dataclass(frozen=True)
class Keyring:
    """A device identity and signing key, unlocked (never printed by ``repr``)."""

    identity: X25519Identity
    signing_key: SigningKey

    @classmethod
    def generate(cls) -> Keyring:
        """Fresh keys from the operating system's random source."""
        return cls(X25519Identity.generate(), SigningKey.generate())

    @property
    def recipient(self) -> str:
        """The public ``age1...`` recipient."""
        return str(self.identity.recipient)

    @property
    def ed25519_public(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self.signing_key.public_key.to_bytes()

    @property
    def fingerprint(self) -> str:
        """What correspondents pin and compare out of band."""
        return key_fingerprint(self.recipient, self.ed25519_public)

    def self_signature(self) -> bytes:
        """Proof of possession of the bundle, sent when publishing."""
        return self.signing_key.sign(key_bundle_message(self.recipient, self.ed25519_public))

    def rotation_signature(self, successor: Keyring) -> bytes:
        """This key's signature vouching for ``successor`` (a rotation correspondents verify)."""
        return self.signing_key.sign(
            key_rotation_message(self.fingerprint, successor.recipient, successor.ed25519_public)
        )

    @staticmethod
    def retire(state: LocalState, fingerprint: str) -> Path:
        """Move the live key files to ``retired/<fingerprint>/`` (still passphrase-encrypted).

        Transfers already sent to the old key can still be opened from there
        (``age -d retired/.../identity.age > old.txt; age -d -i old.txt FILE``).
        """
        folder = state.home / "retired" / fingerprint.replace(" ", "")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in (state.identity_path, state.signing_path):
            if path.exists():
                os.replace(path, folder / path.name)
        return folder

    def identity_file(self) -> str:
        """The identity as a plain age identity file (readable by ``age -d -i``): a secret."""
        created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        return f"# created: {created}\n# public key: {self.recipient}\n{self.identity}\n"

    def save(
        self,
        state: LocalState,
        passphrase: str,
        *,
        log_n: int = SCRYPT_LOG_N,
        pending: bool = False,
    ) -> None:
        """Write both keys, each age-encrypted to ``passphrase`` (files 0600).

        With ``pending=True`` they are written beside the live files and only
        :meth:`commit_pending` puts them in place (after publishing succeeded).
        """
        if not passphrase:
            raise LocalStateError("the passphrase is empty")
        state.ensure()
        recipients = [ScryptRecipient(passphrase, log_n=log_n)]
        identity_path, signing_path = state.identity_path, state.signing_path
        if pending:
            identity_path, signing_path = _pending(identity_path), _pending(signing_path)
        write_private(identity_path, encrypt_bytes(self.identity_file().encode(), recipients))
        write_private(signing_path, encrypt_bytes(self.signing_key.to_pem(), recipients))

    @staticmethod
    def commit_pending(state: LocalState) -> None:
        """Move keys saved with ``pending=True`` into place (each an atomic rename)."""
        for path in (state.identity_path, state.signing_path):
            os.replace(_pending(path), path)

    @staticmethod
    def discard_pending(state: LocalState) -> None:
        """Remove keys saved with ``pending=True`` (publishing failed)."""
        for path in (state.identity_path, state.signing_path):
            with contextlib.suppress(FileNotFoundError):
                _pending(path).unlink()

    @classmethod
    def exists(cls, state: LocalState) -> bool:
        """Whether this device holds (locked) keys."""
        return state.identity_path.exists() and state.signing_path.exists()

    @classmethod
    def load(cls, state: LocalState, passphrase: str) -> Keyring:
        """Unlock the keys.

        Raises LocalStateError when there are no keys, the passphrase is wrong,
        or a key file is damaged.
        """
        if not cls.exists(state):
            raise LocalStateError(f"no keys in {state.home}: run `scelle keygen` first")
        unlock = [ScryptIdentity(passphrase)]
        try:
            identity_text = decrypt_bytes(state.identity_path.read_bytes(), unlock)
            pem = decrypt_bytes(state.signing_path.read_bytes(), unlock)
        except NoIdentityMatchError:
            raise LocalStateError("wrong passphrase for the local keys") from None
        except CryptoError:
            raise LocalStateError(f"the key files in {state.home} are damaged") from None
        try:
            identities = parse_identity_file(identity_text.decode("utf-8"))
            signing_key = SigningKey.from_pem(pem)
        except (CryptoError, UnicodeDecodeError, ValueError):
            raise LocalStateError(f"the key files in {state.home} are damaged") from None
        return cls(identities[0], signing_key)
