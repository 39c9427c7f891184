"""Send and receive: the client side of a transfer (docs/protocol.md, "Client flow").

Send: resolve and pin the recipients, encrypt the file to a ciphertext in the
outbox while hashing both sides, encrypt the metadata, create the transfer,
upload with tus, sign, seal. An interrupted send leaves its outbox entry; the
same command run again resumes the upload instead of starting over.

Receive: check the sender's key against the pin and the signature against
the digests *before* downloading; stream the ciphertext to a temporary file
beside the output while hashing; check the digest; decrypt to a second
temporary file; check the plaintext digest from the signed metadata; fsync
and rename. On any failure both temporary files are removed: no partial
plaintext is ever left behind.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import mimetypes
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from scelle.client import pins, tus
from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState, write_private
from scelle.crypto.age.decrypt import decrypt, decrypt_bytes
from scelle.crypto.age.encrypt import encrypt, encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.errors import CryptoError
from scelle.crypto.signing import VerifyKey, transfer_signature_message
from scelle.errors import DecryptionFailed, InvalidInput, LocalStateError, SignatureInvalid

__all__ = [
    "Metadata",
    "ReceiveResult",
    "SendResult",
    "open_metadata",
    "receive",
    "safe_name",
    "send",
    "verify_transfer",
]

Progress = Callable[[str, int | None], Callable[[int], None]]


def _no_progress(_label: str, _total: int | None) -> Callable[[int], None]:
    return lambda _count: None


@dataclass(frozen=True)
class Metadata:
    """What travels encrypted beside the payload."""

    name: str
    size: int
    type: str
    note: str
    sha256: str


@dataclass
class SendResult:
    transfer_id: str
    name: str
    size: int
    recipients: list[str]
    expires_at: str
    resumed: bool = False


@dataclass
class ReceiveResult:
    transfer_id: str
    path: str
    name: str
    size: int
    sender: str
    note: str


@dataclass
class _OutboxEntry:
    """A send in progress, kept until sealed so that it can resume."""

    source: str
    source_size: int
    source_mtime_ns: int
    key_ids: list[str]
    expires_in: int | None
    max_downloads: int | None
    ciphertext: str
    payload_sha256: str
    payload_size: int
    metadata: str
    metadata_sha256: str
    transfer_id: str | None = None
    upload_url: str | None = None
    expires_at: str = ""
    recipients: list[str] = field(default_factory=list)


def safe_name(name: str) -> str:
    """Reduce a sender-chosen name to a safe base name (path tricks refused)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in {"", ".", ".."} or "\x00" in base or len(base.encode()) > 255:
        raise InvalidInput("the sender's file name is not usable here; choose one with -o")
    return base


class _Hashing:
    """A file-like wrapper that hashes what passes through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        got = self.stream.readinto(buffer)  # type: ignore[attr-defined]
        if got:
            self.digest.update(memoryview(buffer)[:got])
            self.count += got
        return int(got or 0)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.stream.write(data)
        self.digest.update(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self.stream.flush()


# -- send ------------------------------------------------------------------------


def _resolve(client: ScelleClient, state: LocalState, targets: list[str]) -> list[dict[str, Any]]:
    found = client.directory(targets)
    if not found:
        raise InvalidInput(f"no recipient with a published key for: {', '.join(targets)}")
    for entry in found:
        fingerprint = pins.fingerprint_of(entry)
        if entry.get("fingerprint") not in (None, fingerprint):
            raise SignatureInvalid("the server sent a fingerprint that does not match the key")
        pins.check(state, entry["user_id"], entry["email"], fingerprint)
    return found


def _outbox_key(source: Path, key_ids: list[str], expires_in: int | None, limit: int | None) -> str:
    stat = source.stat()
    material = json.dumps(
        [str(source), stat.st_size, stat.st_mtime_ns, sorted(key_ids), expires_in, limit]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _save_entry(path: Path, entry: _OutboxEntry) -> None:
    write_private(path, json.dumps(asdict(entry), sort_keys=True).encode())


def _prepare(
    state: LocalState,
    source: Path,
    recipients: list[dict[str, Any]],
    *,
    note: str,
    expires_in: int | None,
    max_downloads: int | None,
    progress: Progress,
) -> tuple[Path, _OutboxEntry]:
    key_ids = [r["key_id"] for r in recipients]
    state.ensure()
    entry_path = state.outbox / f"{_outbox_key(source, key_ids, expires_in, max_downloads)}.json"
    if entry_path.exists():
        data = json.loads(entry_path.read_text())
        entry = _OutboxEntry(**data)
        if Path(entry.ciphertext).exists():
            return entry_path, entry
    age_recipients = [X25519Recipient.parse(r["x25519_recipient"]) for r in recipients]
    ciphertext = entry_path.with_suffix(".age")
    size = source.stat().st_size
    with source.open("rb") as raw_in, ciphertext.open("wb") as raw_out:
        plain, sealed = _Hashing(raw_in), _Hashing(raw_out)
        encrypt(plain, sealed, age_recipients, progress=progress("encrypting", size))  # type: ignore[arg-type]
        raw_out.flush()
        os.fsync(raw_out.fileno())
    metadata = Metadata(
        name=source.name,
        size=plain.count,
        type=mimetypes.guess_type(source.name)[0] or "application/octet-stream",
        note=note,
        sha256=plain.digest.hexdigest(),
    )
    metadata_plain = json.dumps({"v": 1, **asdict(metadata)}, sort_keys=True).encode()
    metadata_ct = encrypt_bytes(metadata_plain, age_recipients)
    stat = source.stat()
    entry = _OutboxEntry(
        source=str(source),
        source_size=stat.st_size,
        source_mtime_ns=stat.st_mtime_ns,
        key_ids=key_ids,
        expires_in=expires_in,
        max_downloads=max_downloads,
        ciphertext=str(ciphertext),
        payload_sha256=sealed.digest.hexdigest(),
        payload_size=sealed.count,
        metadata=base64.b64encode(metadata_ct).decode(),
        metadata_sha256=hashlib.sha256(metadata_ct).hexdigest(),
        recipients=[r["email"] for r in recipients],
    )
    _save_entry(entry_path, entry)
    return entry_path, entry


def send(
    client: ScelleClient,
    state: LocalState,
    keyring: Keyring,
    source: Path,
    targets: list[str],
    *,
    note: str = "",
    expires_in: int | None = None,
    max_downloads: int | None = None,
    progress: Progress = _no_progress,
    chunk_size: int = tus.DEFAULT_CHUNK,
    max_chunks: int | None = None,
) -> SendResult | None:
    """Encrypt, upload, sign and seal one file for ``targets`` (orgs or e-mails).

    Returns None when ``max_chunks`` interrupted the upload (a test hook); the
    next call with the same arguments resumes. Raises KeyChanged, ServerError,
    InvalidInput.
    """
    source = source.expanduser().resolve()
    if not source.is_file():
        raise InvalidInput(f"{source.name} is not a regular file")
    recipients = _resolve(client, state, targets)
    entry_path, entry = _prepare(
        state,
        source,
        recipients,
        note=note,
        expires_in=expires_in,
        max_downloads=max_downloads,
        progress=progress,
    )
    resumed = entry.transfer_id is not None
    if entry.transfer_id is None:
        created = client.create_transfer(
            {
                "recipients": [
                    {"user_id": r["user_id"], "key_id": r["key_id"]} for r in recipients
                ],
                "payload_size": entry.payload_size,
                "payload_sha256": entry.payload_sha256,
                "metadata": entry.metadata,
                "expires_in": expires_in,
                "max_downloads": max_downloads,
            }
        )
        entry.transfer_id, entry.expires_at = created["id"], str(created["expires_at"])
        _save_entry(entry_path, entry)
    transfer_id = entry.transfer_id
    if entry.upload_url is None:
        entry.upload_url = tus.create(client, transfer_id, entry.payload_size)
        _save_entry(entry_path, entry)
    done = tus.upload(
        client,
        Path(entry.ciphertext),
        entry.upload_url,
        chunk_size=chunk_size,
        progress=progress("uploading", entry.payload_size),
        max_chunks=max_chunks,
    )
    if not done:
        return None
    message = transfer_signature_message(
        transfer_id, bytes.fromhex(entry.payload_sha256), bytes.fromhex(entry.metadata_sha256)
    )
    client.seal(transfer_id, keyring.signing_key.sign(message))
    for leftover in (Path(entry.ciphertext), entry_path):
        leftover.unlink(missing_ok=True)
    return SendResult(
        transfer_id=transfer_id,
        name=source.name,
        size=source.stat().st_size,
        recipients=entry.recipients,
        expires_at=entry.expires_at,
        resumed=resumed,
    )


# -- receive -----------------------------------------------------------------------


def verify_transfer(state: LocalState, transfer: dict[str, Any]) -> None:
    """Check the sender's key against its pin, then the signature over the digests.

    Raises KeyChanged or SignatureInvalid; nothing is downloaded or decrypted before.
    """
    sender = transfer["sender"]
    fingerprint = pins.fingerprint_of(sender["key"])
    pins.check(state, sender["user_id"], sender["email"], fingerprint)
    try:
        signature = base64.b64decode(transfer["signature"] or "", validate=True)
        metadata = base64.b64decode(transfer["metadata"], validate=True)
        payload_digest = bytes.fromhex(transfer["payload_sha256"])
        public = base64.b64decode(sender["key"]["ed25519_public"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise SignatureInvalid("the transfer's signature or digests are malformed") from None
    message = transfer_signature_message(
        transfer["id"], payload_digest, hashlib.sha256(metadata).digest()
    )
    try:
        VerifyKey.from_bytes(public).verify(signature, message)
    except CryptoError:
        raise SignatureInvalid() from None


def open_metadata(transfer: dict[str, Any], keyring: Keyring) -> Metadata:
    """Decrypt a transfer's metadata (call ``verify_transfer`` first)."""
    try:
        plain = decrypt_bytes(base64.b64decode(transfer["metadata"]), [keyring.identity])
        data = json.loads(plain)
        return Metadata(
            name=str(data["name"]),
            size=int(data["size"]),
            type=str(data.get("type", "")),
            note=str(data.get("note", "")),
            sha256=str(data["sha256"]),
        )
    except (CryptoError, ValueError, KeyError, TypeError):
        raise DecryptionFailed() from None


@contextlib.contextmanager
def _temporary(folder: Path, suffix: str) -> Iterator[Path]:
    handle, name = tempfile.mkstemp(prefix=".scelle-", suffix=suffix, dir=folder)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def receive(
    client: ScelleClient,
    state: LocalState,
    keyring: Keyring,
    transfer_id: str,
    output: Path | None = None,
    *,
    overwrite: bool = False,
    progress: Progress = _no_progress,
) -> ReceiveResult:
    """Download, verify and decrypt a transfer to ``output`` (a file or a folder).

    Raises KeyChanged, SignatureInvalid, DecryptionFailed, ServerError
    (404 unknown, 410 expired or used up), InvalidInput. On failure nothing is
    left at the output path.
    """
    transfer = client.transfer(transfer_id)
    if transfer.get("id") != transfer_id:
        raise SignatureInvalid("the server answered with another transfer")
    verify_transfer(state, transfer)
    metadata = open_metadata(transfer, keyring)
    target = (output or Path.cwd()).expanduser()
    if target.is_dir():
        target = target / safe_name(metadata.name)
    if target.exists() and not overwrite:
        raise LocalStateError(f"{target} already exists (use --force to replace it)")
    folder = target.parent.resolve()
    with _temporary(folder, ".age") as sealed_path, _temporary(folder, ".part") as plain_path:
        with sealed_path.open("wb") as raw:
            sealed = _Hashing(raw)
            client.download(
                transfer_id,
                sealed,  # type: ignore[arg-type]
                progress=progress("downloading", int(transfer["payload_size"])),
            )
        if not hmac.compare_digest(sealed.digest.hexdigest(), transfer["payload_sha256"]):
            raise SignatureInvalid("the ciphertext does not match the signed digest")
        with sealed_path.open("rb") as src, plain_path.open("wb") as raw_out:
            plain = _Hashing(raw_out)
            try:
                decrypt(
                    src,
                    plain,  # type: ignore[arg-type]
                    [keyring.identity],
                    progress=progress("decrypting", metadata.size),
                )
            except CryptoError:
                raise DecryptionFailed() from None
            raw_out.flush()
            os.fsync(raw_out.fileno())
        if plain.count != metadata.size or not hmac.compare_digest(
            plain.digest.hexdigest(), metadata.sha256
        ):
            raise DecryptionFailed("the decrypted file does not match the signed metadata")
        os.replace(plain_path, target)
    return ReceiveResult(
        transfer_id=transfer_id,
        path=str(target),
        name=metadata.name,
        size=metadata.size,
        sender=transfer["sender"]["email"],
        note=metadata.note,
    )
