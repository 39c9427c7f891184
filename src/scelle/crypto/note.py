"""C2SP signed notes with Ed25519, and tlog checkpoints.

Specifications: https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint.

A signed note is a UTF-8 text ending in a newline, a blank line, then one
signature line per signer: ``— <key name> base64(key id || signature)``. The
key id is ``SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]``
and the signature is Ed25519 over the text (final newline included).

Keys are written as in Go's ``golang.org/x/mod/sumdb/note``:

* verifier key: ``<name>+<hex key id>+<base64(0x01 || public key)>``;
* signer key: ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>``.

A checkpoint is a note whose text is the origin line, the decimal tree size,
the base64 root hash, then optional extension lines. ``open_note`` raises
(``NoteError`` for a malformed note, ``BadSignatureError`` when no signature of
the trusted key verifies); it never returns a text it did not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scelle.crypto.errors import BadSignatureError, NoteError

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "key_id",
    "open_note",
    "sign_note",
]

ALG_ED25519 = 0x01
MAX_NOTE_BYTES = 64 * 1024
MAX_SIGNATURES = 16
_DASH = "\u2014"
_SIG_LINE = re.compile(r"\A\u2014 (\S+) ([A-Za-z0-9+/=]+)\Z")
_DECIMAL = re.compile(r"\A(0|[1-9][0-9]{0,18})\Z")


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise NoteError("a key name is non-empty, without spaces or '+'")


def key_id(name: str, public: bytes) -> bytes:
    """The 4-byte id of an Ed25519 note key: SHA-256(name || 0x0A || 0x01 || public)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


class NoteVerifier:
    """A trusted Ed25519 note key: its name, id and public key."""

    __slots__ = ("_key", "key_id", "name", "public")

    def __init__(self, name: str, public: bytes) -> None:
        _check_name(name)
        if len(public) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        try:
            self._key = Ed25519PublicKey.from_public_bytes(public)
        except ValueError:
            raise NoteError("invalid Ed25519 public key") from None
        self.name = name
        self.public = public
        self.key_id = key_id(name, public)

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        """From ``<name>+<hex id>+<base64(0x01 || key)>``; raises NoteError (wrong id too)."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError("a verifier key is <name>+<8 hex digits>+<base64 key>")
        raw = _b64decode(parts[2], "the verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("the verifier key is not an Ed25519 note key")
        verifier = cls(parts[0], raw[1:])
        if verifier.key_id.hex() != parts[1]:
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoteVerifier) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Return if ``signature`` is this key's over ``message``; raise BadSignatureError."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            raise BadSignatureError("the note signature does not verify") from None


class NoteSigner:
    """An Ed25519 note signing key with its name."""

    __slots__ = ("_key", "name", "verifier")

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = key
        self.verifier = NoteVerifier(name, key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A new random key named ``name`` (a schema-less URL is recommended)."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> NoteSigner:
        """From ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``; raises NoteError."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+<name>+<hex id>+<base64 key>")
        raw = _b64decode(parts[4], "the signer key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("the signer key is not an Ed25519 note key")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id.hex() != parts[3]:
            raise NoteError("the signer key's id does not match its name and key")
        return signer

    def private_text(self) -> str:
        """The signer key string (a secret: keep it in a 0600 file or a secret setting)."""
        seed = self._key.private_bytes_raw()
        encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, <secret>)"

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note text ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note contains no control characters but newlines")


def sign_note(text: str, signer: NoteSigner) -> str:
    """The signed note of ``text`` (which must end with a newline). Raises NoteError."""
    _check_text(text)
    if text.endswith("\n\n"):
        raise NoteError("a note text does not end with a blank line")
    signature = base64.b64encode(signer.verifier.key_id + signer.sign(text.encode())).decode()
    return f"{text}\n{_DASH} {signer.name} {signature}\n"


def open_note(note: str | bytes, verifier: NoteVerifier) -> str:
    """The text of ``note`` once a signature of ``verifier`` verifies over it.

    Signatures of other keys are ignored (C2SP signed-note). Raises NoteError
    for a malformed note or when the trusted key did not sign it, and
    BadSignatureError when its signature does not verify.
    """
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise NoteError("the note is too large")
        try:
            note = note.decode()
        except UnicodeDecodeError:
            raise NoteError("a note is UTF-8") from None
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a note is a text, a blank line and signature lines")
    text, signatures = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not signatures.endswith("\n"):
        raise NoteError("a note ends with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures on the note")
    found = False
    for line in lines:
        match = _SIG_LINE.match(line)
        if match is None:
            raise NoteError("a note signature line is malformed")
        raw = _b64decode(match.group(2), "a note signature")
        if len(raw) < 5:
            raise NoteError("a note signature is too short")
        if match.group(1) != verifier.name or raw[:4] != verifier.key_id:
            continue  # an unknown key (a witness, a rotated key): ignored
        verifier.verify(text.encode(), raw[4:])
        found = True
    if not found:
        raise NoteError(f"the note is not signed by {verifier.name}")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint note text (each line ends with a newline)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(line + "\n" for line in (*lines, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """From a (verified) note text; raises NoteError when it is not a checkpoint."""
        if not text.endswith("\n"):
            raise NoteError("a checkpoint ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise NoteError("a checkpoint has at least three non-empty lines")
        if not _DECIMAL.match(lines[1]):
            raise NoteError("the checkpoint tree size is not a decimal number")
        root = _b64decode(lines[2], "the checkpoint root hash")
        if len(root) != 32:
            raise NoteError("the checkpoint root hash is not 32 bytes")
        return cls(lines[0], int(lines[1]), root, tuple(lines[3:]))

    @classmethod
    def open(cls, note: str | bytes, verifier: NoteVerifier) -> Checkpoint:
        """Verify a signed checkpoint and parse it; the origin must be the key's name."""
        checkpoint = cls.parse(open_note(note, verifier))
        if checkpoint.origin != verifier.name:
            raise NoteError("the checkpoint origin is not the log key's name")
        return checkpoint

    def sign(self, signer: NoteSigner) -> str:
        """The signed note of this checkpoint."""
        return sign_note(self.text(), signer)

    def extension(self, prefix: str) -> str | None:
        """The value of the first extension line ``<prefix> <value>``, if any."""
        for line in self.extensions:
            key, _, value = line.partition(" ")
            if key == prefix:
                return value
        return None
