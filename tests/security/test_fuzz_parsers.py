"""Property-based fuzzing of every parser that reads bytes an attacker chooses.

For arbitrary and for mutated-valid inputs, each parser either succeeds or
raises its documented error (never another exception), and a hostile input
cannot make it hold more than a bounded amount of memory. Hypothesis shrinks
any counterexample to a minimal input.
"""

from __future__ import annotations

import contextlib
import io
import tracemalloc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scelle.crypto.age.armor import ArmoredReader
from scelle.crypto.age.decrypt import decrypt
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.header import MAX_HEADER, read_header
from scelle.crypto.age.identity import X25519Identity
from scelle.crypto.errors import AgeError, CryptoError, HeaderError
from scelle.errors import BadRequest
from scelle.server.container import Services
from scelle.uploads.service import parse_metadata
from tests import factories

IDENTITY = X25519Identity.generate()
VALID = encrypt_bytes(b"x" * 70_000, [IDENTITY.recipient])
HEADER_END = VALID.index(b"\n", VALID.index(b"\n---")) + 1

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, base: bytes, region: int) -> bytes:
    """``base`` with a few bytes replaced, inserted or deleted in its first ``region`` bytes."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, min(region, len(data)) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if action == "replace":
            data[position] = byte
        elif action == "insert":
            data.insert(position, byte)
        else:
            del data[position]
    return bytes(data)


def _decrypts_or_refuses(data: bytes) -> None:
    out = io.BytesIO()
    try:
        decrypt(io.BytesIO(data), out, [IDENTITY])
    except AgeError:
        return
    # A mutation that still decrypts must have been harmless (e.g. inside armor whitespace).
    assert out.getvalue() == b"x" * 70_000


@FUZZ
@given(st.binary(max_size=4096))
def test_the_header_parser_refuses_arbitrary_bytes_cleanly(data: bytes) -> None:
    with contextlib.suppress(HeaderError):
        read_header(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]


@FUZZ
@given(mutated(VALID, HEADER_END))
def test_a_mutated_header_is_refused_with_an_age_error(data: bytes) -> None:
    _decrypts_or_refuses(data)


@FUZZ
@given(mutated(VALID, len(VALID)))
def test_a_mutated_file_anywhere_is_refused_with_an_age_error(data: bytes) -> None:
    _decrypts_or_refuses(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_decrypting_arbitrary_bytes_raises_only_crypto_errors(data: bytes) -> None:
    with pytest.raises(CryptoError):
        decrypt(io.BytesIO(data), io.BytesIO(), [IDENTITY])


ARMORED = encrypt_bytes(b"x" * 70_000, [IDENTITY.recipient], armor=True)


@FUZZ
@given(mutated(ARMORED, len(ARMORED)))
def test_mutated_armor_is_refused_with_an_age_error(data: bytes) -> None:
    _decrypts_or_refuses(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_the_armor_reader_refuses_arbitrary_bytes_cleanly(data: bytes) -> None:
    reader = ArmoredReader(
        io.BufferedReader(io.BytesIO(b"-----BEGIN AGE ENCRYPTED FILE-----\n" + data))
    )  # type: ignore[arg-type]
    with contextlib.suppress(AgeError):
        reader.read()


@FUZZ
@given(st.text(max_size=512))
def test_upload_metadata_parses_or_is_a_bad_request(header: str) -> None:
    try:
        pairs = parse_metadata(header)
    except BadRequest:
        return
    assert all(key and " " not in key for key in pairs)


def _stream(prefix: bytes, filler: bytes, total: int) -> Iterator[bytes]:
    yield prefix
    sent = len(prefix)
    while sent < total:
        yield filler
        sent += len(filler)


class _Generated(io.RawIOBase):
    """An endless hostile file produced on the fly (it never sits in memory itself)."""

    def __init__(self, prefix: bytes, filler: bytes, total: int) -> None:
        self._chunks = _stream(prefix, filler, total)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = next(self._chunks, b"")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


HOSTILE = {
    "one overlong line": (b"age-encryption.org/v1\n-> X25519 ", b"A" * 65536),
    "endless stanzas": (b"age-encryption.org/v1\n", b"-> a\n\n" * 10_000),
    "endless body": (b"age-encryption.org/v1\n-> X25519 abc\n", (b"A" * 64 + b"\n") * 1000),
}


@pytest.mark.parametrize(("prefix", "filler"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_header_is_refused_in_bounded_memory(prefix: bytes, filler: bytes) -> None:
    source = io.BufferedReader(_Generated(prefix, filler, 256 * 1024 * 1024))
    tracemalloc.start()
    try:
        with pytest.raises(HeaderError):
            decrypt(source, io.BytesIO(), [IDENTITY])  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The header is capped at 1 MiB; parsing it may hold a few copies, never the stream.
    assert peak < 8 * MAX_HEADER


@pytest.fixture
def tus_client(services: Services, client: TestClient) -> tuple[TestClient, dict[str, str]]:
    factories.org(services, "lab-x")
    sender = factories.member(services, "lab-x", factories.Role.SENDER)
    return client, {"Authorization": f"Bearer {sender.token}"}


HEADER_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["1.0.0", "sha256 ", "sha1 AAAA", "0x10", "1e3", " 5", "+5", "-0"]),
)


@pytest.mark.integration
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(["POST", "PATCH", "HEAD", "DELETE"]),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "Tus-Resumable",
                "Upload-Length",
                "Upload-Offset",
                "Upload-Metadata",
                "Upload-Checksum",
                "Upload-Defer-Length",
                "Content-Type",
            ]
        ),
        HEADER_VALUES,
    ),
    body=st.binary(max_size=64),
)
def test_tus_requests_with_arbitrary_headers_never_fail_the_server(
    tus_client: tuple[TestClient, dict[str, str]],
    method: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    client, auth = tus_client
    path = "/api/v1/uploads" if method == "POST" else "/api/v1/uploads/up_" + "a" * 26
    response = client.request(method, path, headers={**auth, **headers}, content=body)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
