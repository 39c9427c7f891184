"""A software WebAuthn authenticator for tests: real keys, real CBOR, real signatures.

It plays the browser and the authenticator together: from the server's JSON
options it builds what ``navigator.credentials.create()`` / ``.get()`` would
give back (``PublicKeyCredential.toJSON()`` form, base64url fields), with a
"none" attestation, and assertions signed over
``authenticatorData || SHA-256(clientDataJSON)`` with EC P-256 (ES256) or
Ed25519 (EdDSA). Knobs let a test lie where an attacker would: another
origin or RP id, a bad signature, a lower counter, no user verification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

Algorithm = Literal["ES256", "EdDSA"]
UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            raw = self.private_key.public_key().public_bytes_raw()
            return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})  # OKP, EdDSA, Ed25519
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


@dataclass
class SoftAuthenticator:
    """One authenticator holding any number of credentials (one per registration)."""

    origin: str
    algorithm: Algorithm = "ES256"
    # Counter step per assertion; 0 models authenticators that keep no counter.
    counter_step: int = 1
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        user_verified: bool = True,
    ) -> dict[str, Any]:
        """The JSON of ``navigator.credentials.create({publicKey: options})``."""
        rp = rp_id or options["rp"]["id"]
        key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey = (
            ed25519.Ed25519PrivateKey.generate()
            if self.algorithm == "EdDSA"
            else ec.generate_private_key(ec.SECP256R1())
        )
        credential = Credential(
            credential_id=secrets.token_bytes(32),
            private_key=key,
            rp_id=rp,
            user_handle=unb64url(options["user"]["id"]),
            sign_count=0,
        )
        flags = UP | AT | (UV if user_verified else 0)
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", credential.sign_count)
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = _client_data("webauthn.create", options["challenge"], origin or self.origin)
        self.credentials[credential.credential_id] = credential
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential_id: bytes | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        bad_signature: bool = False,
        user_verified: bool = True,
    ) -> dict[str, Any]:
        """The JSON of ``navigator.credentials.get({publicKey: options})``.

        The credential is ``credential_id``, else the first one held that the
        options allow. ``sign_count`` forces the counter (a clone's).
        """
        if credential_id is None:
            allowed = [unb64url(c["id"]) for c in options.get("allowCredentials", [])]
            credential_id = next(c for c in allowed if c in self.credentials)
        credential = self.credentials[credential_id]
        if sign_count is None:
            credential.sign_count += self.counter_step
            sign_count = credential.sign_count
        rp = rp_id or credential.rp_id
        flags = UP | (UV if user_verified else 0)
        auth_data = hashlib.sha256(rp.encode()).digest() + bytes([flags])
        auth_data += struct.pack(">I", sign_count)
        client_data = _client_data("webauthn.get", options["challenge"], origin or self.origin)
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        if bad_signature:
            signature = credential.sign(auth_data + hashlib.sha256(b"something else").digest())
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        }
