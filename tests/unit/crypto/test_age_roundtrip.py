"""Round trips through our own encrypt/decrypt, at the STREAM chunk boundaries."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scelle.crypto.age.decrypt import decrypt, decrypt_bytes
from scelle.crypto.age.encrypt import encrypt, encrypt_bytes
from scelle.crypto.age.identity import ScryptIdentity, X25519Identity
from scelle.crypto.age.recipients import ScryptRecipient, X25519Recipient
from scelle.crypto.age.stream import CHUNK_SIZE
from scelle.crypto.errors import (
    HeaderError,
    HMACError,
    NoIdentityMatchError,
    PayloadError,
    ScryptWorkFactorError,
    UnsupportedRecipientError,
)

ALICE = X25519Identity.generate()
BOB = X25519Identity.generate()
BOUNDARIES = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    # Around the 32-chunk blocks handed to worker threads (one chunk of look-ahead).
    32 * CHUNK_SIZE,
    33 * CHUNK_SIZE,
    33 * CHUNK_SIZE + 1,
    65 * CHUNK_SIZE + 5,
]


def _sized(draw_size: int, seed: int) -> bytes:
    return (seed.to_bytes(4, "big") * (draw_size // 4 + 1))[:draw_size]


@pytest.mark.parametrize("size", BOUNDARIES)
@pytest.mark.parametrize("armor", [False, True])
def test_round_trip_at_chunk_boundaries(size: int, armor: bool) -> None:
    data = _sized(size, size)
    sealed = encrypt_bytes(data, [ALICE.recipient, BOB.recipient], armor=armor)
    assert decrypt_bytes(sealed, [BOB]) == data
    assert decrypt_bytes(sealed, [ALICE]) == data


@settings(max_examples=40, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=4096),
        st.integers(min_value=0, max_value=100 * CHUNK_SIZE).map(lambda n: b"\xa5" * n),
    ),
    armor=st.booleans(),
)
def test_round_trip_any_size(data: bytes, armor: bool) -> None:
    assert decrypt_bytes(encrypt_bytes(data, [ALICE.recipient], armor=armor), [ALICE]) == data


@settings(max_examples=25, deadline=None)
@given(data=st.binary(min_size=1, max_size=3 * CHUNK_SIZE), position=st.integers(min_value=0))
def test_any_flipped_byte_is_refused(data: bytes, position: int) -> None:
    sealed = bytearray(encrypt_bytes(data, [ALICE.recipient]))
    sealed[position % len(sealed)] ^= 0x01
    with pytest.raises((HeaderError, HMACError, PayloadError, NoIdentityMatchError)):
        decrypt_bytes(bytes(sealed), [ALICE])


def test_truncation_at_every_chunk_boundary_is_refused() -> None:
    sealed = encrypt_bytes(_sized(70 * CHUNK_SIZE + 10, 7), [ALICE.recipient])
    header_end = sealed.index(b"\n---") + len(b"\n--- ") + 43 + 1
    sealed_chunk = CHUNK_SIZE + 16
    cuts = [header_end + 16 + n * sealed_chunk for n in (0, 1, 32, 33, 64, 65, 70)]
    for cut in [*cuts, len(sealed) - 1]:
        with pytest.raises(PayloadError):
            decrypt_bytes(sealed[:cut], [ALICE])


def test_wrong_identity_is_no_match() -> None:
    with pytest.raises(NoIdentityMatchError):
        decrypt_bytes(encrypt_bytes(b"x", [ALICE.recipient]), [BOB])


def test_passphrase_round_trip_and_wrong_passphrase() -> None:
    sealed = encrypt_bytes(b"secret", [ScryptRecipient("right", log_n=10)])
    assert decrypt_bytes(sealed, [ScryptIdentity("right")]) == b"secret"
    with pytest.raises(NoIdentityMatchError):
        decrypt_bytes(sealed, [ScryptIdentity("wrong")])


def test_scrypt_work_factor_is_capped_on_decrypt() -> None:
    sealed = encrypt_bytes(b"secret", [ScryptRecipient("pw", log_n=12)])
    with pytest.raises(ScryptWorkFactorError):
        decrypt_bytes(sealed, [ScryptIdentity("pw", max_log_n=11)])


def test_passphrase_must_be_the_only_recipient() -> None:
    with pytest.raises(UnsupportedRecipientError):
        encrypt_bytes(b"x", [ScryptRecipient("pw", log_n=10), ALICE.recipient])
    with pytest.raises(UnsupportedRecipientError):
        encrypt_bytes(b"x", [])


def test_streaming_reports_progress_and_accepts_non_seekable_streams() -> None:
    class Pipe(io.RawIOBase):
        """A reader that hands out at most 1000 bytes per call, like a pipe."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(min(1000, len(buffer)))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = _sized(70 * CHUNK_SIZE + 123, 3)
    sealed, seen = io.BytesIO(), []
    encrypt(Pipe(data), sealed, [ALICE.recipient], progress=seen.append)  # type: ignore[arg-type]
    assert sum(seen) == len(data)
    out, decrypted = io.BytesIO(), []
    decrypt(Pipe(sealed.getvalue()), out, [ALICE], progress=decrypted.append)  # type: ignore[arg-type]
    assert out.getvalue() == data
    assert sum(decrypted) == len(data)


def test_recipient_and_identity_strings_round_trip() -> None:
    assert X25519Recipient.parse(str(ALICE.recipient)) == ALICE.recipient
    assert str(X25519Identity.parse(str(ALICE))) == str(ALICE)
    assert str(ALICE).startswith("AGE-SECRET-KEY-1")
    assert str(ALICE.recipient).startswith("age1")
    assert "AGE-SECRET-KEY" not in repr(ALICE)
