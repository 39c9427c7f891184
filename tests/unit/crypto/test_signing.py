"""Ed25519 signing: messages are domain-separated and verification raises."""

from __future__ import annotations

import hashlib

import pytest

from scelle.crypto.errors import BadSignatureError, KeyFormatError
from scelle.crypto.signing import (
    SigningKey,
    VerifyKey,
    key_bundle_message,
    key_fingerprint,
    transfer_signature_message,
)

PAYLOAD = hashlib.sha256(b"payload").digest()
METADATA = hashlib.sha256(b"metadata").digest()


def test_sign_and_verify_a_transfer() -> None:
    key = SigningKey.generate()
    message = transfer_signature_message("tr_abc", PAYLOAD, METADATA)
    key.public_key.verify(key.sign(message), message)


@pytest.mark.parametrize(
    "other",
    [
        transfer_signature_message("tr_abd", PAYLOAD, METADATA),
        transfer_signature_message("tr_abc", METADATA, PAYLOAD),
        key_bundle_message("age1x", PAYLOAD),
    ],
)
def test_a_signature_does_not_carry_over_to_another_message(other: bytes) -> None:
    key = SigningKey.generate()
    signature = key.sign(transfer_signature_message("tr_abc", PAYLOAD, METADATA))
    with pytest.raises(BadSignatureError):
        key.public_key.verify(signature, other)


def test_another_key_does_not_verify() -> None:
    message = b"m"
    with pytest.raises(BadSignatureError):
        SigningKey.generate().public_key.verify(SigningKey.generate().sign(message), message)


def test_pem_round_trip_and_public_bytes() -> None:
    key = SigningKey.generate()
    again = SigningKey.from_pem(key.to_pem())
    assert again.public_key == key.public_key
    assert VerifyKey.from_bytes(key.public_key.to_bytes()) == key.public_key
    assert "PRIVATE" not in repr(key)


@pytest.mark.parametrize("data", [b"", b"x" * 31, b"x" * 33])
def test_malformed_public_keys_are_refused(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        VerifyKey.from_bytes(data)


def test_malformed_pem_is_refused() -> None:
    with pytest.raises(KeyFormatError):
        SigningKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_fingerprint_is_stable_grouped_and_binds_both_keys() -> None:
    public = SigningKey.generate().public_key.to_bytes()
    fingerprint = key_fingerprint("age1abc", public)
    assert fingerprint == key_fingerprint("age1abc", public)
    assert len(fingerprint.split(" ")) == 8
    assert all(len(group) == 4 for group in fingerprint.split(" "))
    assert fingerprint != key_fingerprint("age1abd", public)
    expected = hashlib.sha256(b"scelle/v1/key-bundle\x00age1abc\x00" + public).digest()[:20]
    import base64

    assert fingerprint.replace(" ", "") == base64.b32encode(expected).decode()


def test_digests_must_be_sha256_sized() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        transfer_signature_message("tr_x", b"short", METADATA)
