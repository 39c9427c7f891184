"""The official age test kit (C2SP CCTV, ../shared/vectors/age): every case we can run.

A case whose identities are all of a type we do not implement (the
post-quantum ``mlkem768x25519`` hybrid) cannot be run; those are listed by
name in UNSUPPORTED and the list itself is checked, so it cannot grow silently.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scelle.crypto.age.decrypt import decrypt, decrypt_bytes
from scelle.crypto.age.identity import Identity, ScryptIdentity, X25519Identity
from scelle.crypto.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HMACError,
    NoIdentityMatchError,
    PayloadError,
)

VECTORS = Path(__file__).resolve().parents[4] / "shared" / "vectors" / "age"
EXPECTED_ERRORS: dict[str, type[AgeError]] = {
    "header failure": HeaderError,
    "HMAC failure": HMACError,
    "payload failure": PayloadError,
    "armor failure": ArmorError,
    "no match": NoIdentityMatchError,
}
PQ_IDENTITY = "AGE-SECRET-KEY-PQ-1"
# Cases that need a post-quantum hybrid (mlkem768x25519) identity: not implemented.
UNSUPPORTED = {
    "armor_hybrid",
    "hybrid",
    "hybrid_and_x25519",
    "hybrid_bad_tag",
    "hybrid_currupted_enc_mlkem",
    "hybrid_currupted_enc_x25519",
    "hybrid_extra_argument",
    "hybrid_grease",
    "hybrid_identity",
    "hybrid_long_file_key",
    "hybrid_long_share",
    "hybrid_low_order",
    "hybrid_multiple_recipients",
    "hybrid_no_match",
    "hybrid_not_canonical_body",
    "hybrid_not_canonical_enc",
    "hybrid_short_share",
    "hybrid_uppercase",
}


@dataclass
class Vector:
    name: str
    expect: str
    body: bytes
    payload_sha256: str = ""
    armored: bool = False
    x25519: list[str] = field(default_factory=list)
    pq: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return not self.pq or bool(self.x25519 or self.passphrases)

    def identities(self) -> list[Identity]:
        found: list[Identity] = [X25519Identity.parse(text) for text in self.x25519]
        found += [ScryptIdentity(text) for text in self.passphrases]
        return found


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    vector = Vector(name=path.name, expect="", body=body)
    compressed = False
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        if key == "expect":
            vector.expect = value
        elif key == "payload":
            vector.payload_sha256 = value
        elif key == "armored":
            vector.armored = value == "yes"
        elif key == "compressed":
            compressed = value == "zlib"
        elif key == "passphrase":
            vector.passphrases.append(value)
        elif key == "identity":
            (vector.pq if value.startswith(PQ_IDENTITY) else vector.x25519).append(value)
    if compressed:
        vector.body = zlib.decompress(vector.body)
    return vector


ALL = sorted((load(p) for p in VECTORS.iterdir() if p.name != "README.md"), key=lambda v: v.name)
RUNNABLE = [v for v in ALL if v.supported]


def test_the_kit_is_complete_and_only_post_quantum_cases_are_unsupported() -> None:
    assert len(ALL) == 143
    assert {v.name for v in ALL if not v.supported} == UNSUPPORTED


@pytest.mark.parametrize("vector", RUNNABLE, ids=lambda v: v.name)
def test_vector(vector: Vector) -> None:
    out = io.BytesIO()
    if vector.expect == "success":
        decrypt(io.BytesIO(vector.body), out, vector.identities(), armor=vector.armored)
        assert hashlib.sha256(out.getvalue()).hexdigest() == vector.payload_sha256
        return
    with pytest.raises(EXPECTED_ERRORS[vector.expect]):
        decrypt(io.BytesIO(vector.body), out, vector.identities(), armor=vector.armored)


@pytest.mark.parametrize(
    "vector", [v for v in RUNNABLE if v.expect != "success"], ids=lambda v: v.name
)
def test_failing_vector_releases_no_plaintext_through_decrypt_bytes(vector: Vector) -> None:
    with pytest.raises(AgeError):
        decrypt_bytes(vector.body, vector.identities())


@pytest.mark.parametrize("vector", [v for v in ALL if not v.supported], ids=lambda v: v.name)
def test_unsupported_vector_never_decrypts_with_a_foreign_identity(vector: Vector) -> None:
    with pytest.raises(AgeError):
        decrypt_bytes(vector.body, [X25519Identity.generate()])
