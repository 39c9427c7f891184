"""The device's keys: an X25519 identity (to decrypt) and an Ed25519 key (to sign).

Both are stored age-encrypted to a passphrase (scrypt), so a copy of
``SCELLE_HOME`` without the passphrase reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from scelle.client.state import LocalState, write_private
from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.identity import ScryptIdentity, X25519Identity
from scelle.crypto.age.recipients import ScryptRecipient
from scelle.crypto.errors import CryptoError, NoIdentityMatchError
from scelle.crypto.signing import SigningKey, key_bundle_message, key_fingerprint
from scelle.errors import LocalStateError

__all__ = ["Keyring"]

SCRYPT_LOG_N = 18


@dataclass(frozen=True)
class Keyring:
    """A device identity and signing key, unlocked."""

    identity: X25519Identity
    signing_key: SigningKey

    @classmethod
    def generate(cls) -> Keyring:
        """Fresh keys."""
        return cls(X25519Identity.generate(), SigningKey.generate())

    @property
    def recipient(self) -> str:
        """The public ``age1...`` recipient."""
        return str(self.identity.recipient)

    @property
    def ed25519_public(self) -> bytes:
        return self.signing_key.public_key.to_bytes()

    @property
    def fingerprint(self) -> str:
        """What correspondents pin and compare."""
        return key_fingerprint(self.recipient, self.ed25519_public)

    def self_signature(self) -> bytes:
        """Proof of possession of the bundle, sent when publishing."""
        return self.signing_key.sign(key_bundle_message(self.recipient, self.ed25519_public))

    def save(self, state: LocalState, passphrase: str, *, log_n: int = SCRYPT_LOG_N) -> None:
        """Write both keys, each encrypted to ``passphrase``."""
        state.ensure()
        identity = f"{self.identity}\n".encode()
        write_private(
            state.identity_path, encrypt_bytes(identity, [ScryptRecipient(passphrase, log_n=log_n)])
        )
        write_private(
            state.signing_path,
            encrypt_bytes(self.signing_key.to_pem(), [ScryptRecipient(passphrase, log_n=log_n)]),
        )

    @classmethod
    def exists(cls, state: LocalState) -> bool:
        return state.identity_path.exists() and state.signing_path.exists()

    @classmethod
    def load(cls, state: LocalState, passphrase: str) -> Keyring:
        """Unlock the keys; LocalStateError for no keys or a wrong passphrase."""
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
            identity = X25519Identity.parse(identity_text.decode().strip())
            signing_key = SigningKey.from_pem(pem)
        except (CryptoError, UnicodeDecodeError):
            raise LocalStateError(f"the key files in {state.home} are damaged") from None
        return cls(identity, signing_key)
