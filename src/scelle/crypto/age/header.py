"""The age header: stanzas, strict parsing, serialisation and the header MAC.

The parser is strict where the specification is: canonical unpadded base64,
64-column stanza bodies ending with a short line, LF line endings, VCHAR
arguments, and a canonical 32-byte MAC. Anything else is a ``HeaderError``.
"""

from __future__ import annotations

import binascii
import hmac
import re
from dataclasses import dataclass
from hashlib import sha256
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scelle.crypto.errors import HeaderError, HMACError

__all__ = [
    "FILE_KEY_SIZE",
    "INTRO",
    "Header",
    "LineReader",
    "Stanza",
    "b64decode_canonical",
    "b64encode_raw",
    "encode_header",
    "header_mac",
    "hkdf_sha256",
    "read_header",
]

INTRO = b"age-encryption.org/v1\n"
VERSION_PREFIX = b"age-encryption.org/"
FILE_KEY_SIZE = 16
COLUMNS = 64
MAC_PREFIX = b"---"
# Bounds that keep a hostile header from costing memory: post-quantum stanzas
# carry ~1.5 kB arguments, so a line may be long, but a header stays small.
MAX_LINE = 16 * 1024
MAX_HEADER = 1024 * 1024
MAX_STANZAS = 1024

_B64_RAW = re.compile(rb"\A[A-Za-z0-9+/]*\Z")
_VCHAR = re.compile(rb"\A[\x21-\x7e]+\Z")


class LineReader(Protocol):
    """What the header parser needs of a stream: ``readline`` with a limit."""

    def readline(self, size: int | None = -1, /) -> bytes: ...


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA-256 (RFC 5869), as age uses it for every derived key."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def b64encode_raw(data: bytes) -> bytes:
    """Standard base64 without padding (RFC 4648 section 3.2), as in age headers."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=")


def b64decode_canonical(text: bytes) -> bytes:
    """Decode unpadded base64, refusing padding, stray characters and non-canonical bits."""
    if not _B64_RAW.match(text) or len(text) % 4 == 1:
        raise HeaderError("invalid base64")
    data = binascii.a2b_base64(text + b"=" * (-len(text) % 4), strict_mode=True)
    if b64encode_raw(data) != text:
        raise HeaderError("non-canonical base64")
    return data


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: a type, its arguments and a body (the wrapped file key)."""

    type: str
    args: tuple[str, ...]
    body: bytes

    def encode(self) -> bytes:
        """The stanza's exact header bytes, body wrapped at 64 columns."""
        line = b" ".join(a.encode("ascii") for a in (self.type, *self.args))
        if not _VCHAR.match(line.replace(b" ", b"!")):
            raise ValueError("stanza arguments must be non-empty printable ASCII")
        body = b64encode_raw(self.body)
        lines = [body[i : i + COLUMNS] for i in range(0, len(body), COLUMNS)]
        if not lines or len(lines[-1]) == COLUMNS:
            lines.append(b"")
        return b"-> " + line + b"\n" + b"".join(chunk + b"\n" for chunk in lines)


@dataclass(frozen=True)
class Header:
    """A parsed header: its stanzas, its MAC, and the exact bytes the MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes

    def verify_mac(self, file_key: bytes) -> None:
        """Raise HMACError unless the MAC matches under ``file_key`` (constant time)."""
        if not hmac.compare_digest(header_mac(file_key, self.mac_input), self.mac):
            raise HMACError("header MAC mismatch")


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    """HMAC-SHA-256 of the header up to and including ``---``."""
    return hmac.new(hkdf_sha256(file_key, b"", b"header"), mac_input, sha256).digest()


def encode_header(stanzas: list[Stanza], file_key: bytes) -> bytes:
    """Serialise a header for ``stanzas`` and append its MAC under ``file_key``."""
    mac_input = INTRO + b"".join(s.encode() for s in stanzas) + MAC_PREFIX
    return mac_input + b" " + b64encode_raw(header_mac(file_key, mac_input)) + b"\n"


def _line(reader: LineReader, consumed: int) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        raise HeaderError("truncated header or overlong line")
    if consumed + len(line) > MAX_HEADER:
        raise HeaderError("header too large")
    return line


def read_header(reader: LineReader) -> Header:
    """Read and strictly parse a header, leaving ``reader`` at the payload nonce.

    Raises HeaderError; the MAC is checked later, once a file key is known.
    """
    first = reader.readline(len(INTRO))
    if first != INTRO:
        if first.startswith(VERSION_PREFIX):
            raise HeaderError("unsupported age version")
        raise HeaderError("not an age file")
    raw = [first]
    consumed = len(first)
    stanzas: list[Stanza] = []
    line = _line(reader, consumed)
    while line.startswith(b"-> "):
        raw.append(line)
        consumed += len(line)
        if len(stanzas) >= MAX_STANZAS:
            raise HeaderError("too many stanzas")
        words = line[3:-1].split(b" ")
        if not all(_VCHAR.match(word) for word in words):
            raise HeaderError("invalid stanza arguments")
        body_lines: list[bytes] = []
        while True:
            body_line = _line(reader, consumed)
            raw.append(body_line)
            consumed += len(body_line)
            content = body_line[:-1]
            if len(content) > COLUMNS:
                raise HeaderError("stanza body line longer than 64 columns")
            body_lines.append(content)
            if len(content) < COLUMNS:
                break
        body = b64decode_canonical(b"".join(body_lines))
        args = tuple(word.decode("ascii") for word in words)
        stanzas.append(Stanza(args[0], args[1:], body))
        line = _line(reader, consumed)
    if not line.startswith(MAC_PREFIX + b" "):
        raise HeaderError("malformed header line")
    mac = b64decode_canonical(line[len(MAC_PREFIX) + 1 : -1])
    if len(mac) != 32:
        raise HeaderError("malformed header MAC")
    return Header(stanzas=tuple(stanzas), mac=mac, mac_input=b"".join(raw) + MAC_PREFIX)
