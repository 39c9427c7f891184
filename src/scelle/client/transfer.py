"""The client flows of docs/protocol.md: send (encrypt, upload, sign, seal) and receive.

Send: resolve the recipients, check their pinned keys, encrypt the file to a
ciphertext under ``SCELLE_HOME/outbox/`` while hashing it, encrypt the
metadata, create the transfer, upload with tus, sign, seal, and only then
delete the outbox entry. Running the same send again after an interruption
finds the entry and resumes the upload where the server left it.

Receive: describe the transfer, check the sender's key against its pin,
verify the signature over the announced digests, decrypt the (now
authenticated) metadata to learn the name, stream the ciphertext to a
temporary file beside the output while hashing it, compare the digest,
decrypt to a second temporary file, fsync and rename. On any failure both
temporary files are removed: no partial plaintext is ever left behind.

Nothing here logs plaintext, file names or secrets; only ids and sizes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import io
import json
import logging
import mimetypes
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from scelle.client import pins, tus
from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState, write_private
from scelle.crypto.age.decrypt import decrypt, decrypt_bytes
from scelle.crypto.age.encrypt import encrypt, encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.errors import CryptoError
from scelle.crypto.signing import VerifyKey, transfer_signature_message
from scelle.errors import (
    ClientError,
    DecryptionFailed,
    KeyChanged,
    LocalStateError,
    ServerError,
    SignatureInvalid,
)

__all__ = [
    "ProgressFactory",
    "ReceiveResult",
    "SendResult",
    "inbox",
    "prune_outbox",
    "receive",
    "require_keys",
    "safe_name",
    "send",
    "sent",
]

log = logging.getLogger(__name__)

ProgressFactory = Callable[[str, int], Callable[[int], None]]
"""``(description, total_bytes) -> advance(n)``: how a caller shows progress."""

OUTBOX_MAX_AGE = 31 * 24 * 3600  # the policy maximum expiry is 30 days
DOWNLOAD_RESUMES = 3
METADATA_VERSION = 1


@dataclass(frozen=True)
class SendResult:
    """One sent file: its transfer, whether it is sealed, whether it resumed an earlier send."""

    transfer_id: str
    complete: bool
    resumed: bool
    expires_at: str
    payload_size: int
    recipients: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no file name)."""
        return {
            "id": self.transfer_id,
            "status": "available" if self.complete else "pending",
            "resumed": self.resumed,
            "expires_at": self.expires_at,
            "payload_size": self.payload_size,
            "recipients": self.recipients,
        }


@dataclass(frozen=True)
class ReceiveResult:
    """One received file, verified and decrypted, at ``path``."""

    transfer_id: str
    path: Path
    size: int
    sha256: str
    media_type: str
    note: str
    sender: str
    sender_fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.transfer_id,
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "type": self.media_type,
            "note": self.note,
            "sender": self.sender,
            "sender_fingerprint": self.sender_fingerprint,
            "verified": True,
        }


# -- streams that hash what goes through them ----------------------------------


class _HashingReader(io.RawIOBase):
    def __init__(self, src: IO[bytes], digest: Any) -> None:
        self._src = src
        self._digest = digest
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._src.read(len(view))
        got = len(data)
        view[:got] = data
        self._digest.update(view[:got])
        self.count += got
        return got


class _HashingWriter(io.RawIOBase):
    def __init__(self, dst: IO[bytes], digest: Any) -> None:
        self._dst = dst
        self._digest = digest
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._digest.update(view)
        self._dst.write(view)
        self.count += len(view)
        return len(view)


def _as_io(stream: io.RawIOBase) -> IO[bytes]:
    return cast(IO[bytes], stream)


def _advance(
    progress: ProgressFactory | None, description: str, total: int
) -> Callable[[int], None]:
    if progress is None:
        return lambda _n: None
    return progress(description, total)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


# -- send ------------------------------------------------------------------------


def _resolve(
    client: ScelleClient, state: LocalState, targets: Iterable[str]
) -> list[dict[str, Any]]:
    wanted = [t.strip() for t in targets if t.strip()]
    if not wanted:
        raise ClientError("name at least one recipient with --to (an organisation or an e-mail)")
    entries: dict[str, dict[str, Any]] = {}
    for entry in client.directory(wanted):
        fingerprint = pins.fingerprint_of(entry)
        pins.refuse_retired(state, entry)
        pins.check(state, str(entry["user_id"]), str(entry["email"]), fingerprint, entry)
        entries[str(entry["user_id"])] = entry
    if not entries:
        raise ClientError("no recipient with a published key was found for " + ", ".join(wanted))
    return sorted(entries.values(), key=lambda e: str(e["user_id"]))


def _outbox_key(
    client: ScelleClient,
    keyring: Keyring,
    path: Path,
    targets: Iterable[str],
    options: dict[str, Any],
) -> str:
    stat = path.stat()
    material = json.dumps(
        {
            "server": client.server,
            "sender": keyring.recipient,
            "path": str(path.resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "targets": sorted(t.strip().lower() for t in targets),
            "options": options,
        },
        sort_keys=True,
    )
    # A digest, not the path: the outbox holds no file name.
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _load_entry(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "entry.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and (folder / "payload.age").exists() else None


def _save_entry(folder: Path, entry: dict[str, Any]) -> None:
    write_private(folder / "entry.json", json.dumps(entry, sort_keys=True).encode())


def _discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def prune_outbox(state: LocalState, *, max_age: float = OUTBOX_MAX_AGE) -> int:
    """Delete outbox entries older than ``max_age`` seconds (their transfer expired); count them."""
    if not state.outbox.is_dir():
        return 0
    removed, now = 0, time.time()
    for folder in state.outbox.iterdir():
        with contextlib.suppress(OSError):
            if folder.is_dir() and now - folder.stat().st_mtime > max_age:
                _discard(folder)
                removed += 1
    return removed


def _metadata(
    path: Path, size: int, sha256_hex: str, note: str, purpose: str | None = None
) -> bytes:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    document: dict[str, Any] = {
        "v": METADATA_VERSION,
        "name": path.name,
        "size": size,
        "type": media_type,
        "note": note,
        "sha256": sha256_hex,
    }
    if purpose:
        document["purpose"] = purpose  # encrypted to the recipients, like the name
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _encrypt_into(
    folder: Path,
    path: Path,
    recipients: list[X25519Recipient],
    progress: ProgressFactory | None,
) -> tuple[int, str, int, str]:
    """Encrypt ``path`` to ``folder/payload.age``; return plaintext and ciphertext sizes/digests."""
    plain_digest, cipher_digest = hashlib.sha256(), hashlib.sha256()
    part = folder / "payload.age.part"
    advance = _advance(progress, "encrypting", path.stat().st_size)
    try:
        with path.open("rb") as src, part.open("wb") as raw_out:
            reader = _HashingReader(src, plain_digest)
            writer = _HashingWriter(raw_out, cipher_digest)
            encrypt(_as_io(reader), _as_io(writer), recipients, progress=advance)
            raw_out.flush()
            os.fsync(raw_out.fileno())
    except CryptoError as exc:
        part.unlink(missing_ok=True)
        raise ClientError(f"encryption failed ({type(exc).__name__})") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, folder / "payload.age")
    _fsync_dir(folder)
    return reader.count, plain_digest.hexdigest(), writer.count, cipher_digest.hexdigest()


def send(
    client: ScelleClient,
    state: LocalState,
    keyring: Keyring,
    path: Path,
    targets: Iterable[str],
    *,
    expires_in: int | None = None,
    max_downloads: int | None = None,
    note: str = "",
    progress: ProgressFactory | None = None,
    chunk_size: int = tus.DEFAULT_CHUNK,
    max_chunks: int | None = None,
    declared: dict[str, Any] | None = None,
    purpose: str | None = None,
) -> SendResult:
    """Send one file to ``targets`` (organisation names or e-mails), resuming if it can.

    ``declared`` adds the data-minimisation fields of the create request (scan
    summary, subject index, ``purpose_declared``: see
    :func:`scelle.client.minimisation.declare`); ``purpose`` goes into the
    encrypted metadata, never in clear to the server.

    Returns a SendResult; ``complete`` is False only when ``max_chunks``
    stopped the upload (the outbox entry is then kept, and the same call
    later resumes it). Raises KeyChanged (a recipient's key changed since it
    was pinned), ServerError (the server refused), ClientError (no recipient,
    encryption failure) and OSError for the local file.
    """
    targets = list(targets)
    if not path.is_file():
        raise ClientError(f"not a regular file: {path}")
    resolved = _resolve(client, state, targets)
    options = {
        "expires_in": expires_in,
        "max_downloads": max_downloads,
        "note": note,
        "purpose": purpose,
    }
    state.ensure()
    folder = state.outbox / _outbox_key(client, keyring, path, targets, options)
    refs = [{"user_id": e["user_id"], "key_id": e["key_id"]} for e in resolved]
    emails = [str(e["email"]) for e in resolved]

    entry = _resumable_entry(client, folder, refs)
    resumed = entry is not None
    if entry is not None and entry.get("sealed"):
        _discard(folder)
        return _result(entry, complete=True, resumed=True, emails=emails)
    if entry is None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        body: dict[str, Any] = {"recipients": refs}
        if expires_in is not None:
            body["expires_in"] = expires_in
        if max_downloads is not None:
            body["max_downloads"] = max_downloads
        body.update(declared or {})
        entry = _encrypt_and_create(
            client, folder, path, resolved, body, note=note, progress=progress, purpose=purpose
        )

    transfer_id = str(entry["transfer_id"])
    advance = _advance(progress, "uploading", int(entry["payload_size"]))
    try:
        url = tus.create(client, transfer_id, int(entry["payload_size"]))
    except ServerError as exc:
        if exc.http_status != 409:  # 409: every byte is already there; seal it
            raise
    else:
        outcome = tus.upload(
            client,
            folder / "payload.age",
            url,
            chunk_size=chunk_size,
            progress=advance,
            max_chunks=max_chunks,
        )
        if not outcome.complete:
            log.info("transfer %s: upload paused at %d bytes", transfer_id, outcome.offset)
            return _result(entry, complete=False, resumed=resumed, emails=emails)

    message = transfer_signature_message(
        transfer_id,
        bytes.fromhex(str(entry["payload_sha256"])),
        bytes.fromhex(str(entry["metadata_sha256"])),
    )
    client.seal(transfer_id, keyring.signing_key.sign(message))
    _discard(folder)
    log.info("transfer %s sealed", transfer_id)
    return _result(entry, complete=True, resumed=resumed, emails=emails)


def _resumable_entry(
    client: ScelleClient, folder: Path, refs: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The outbox entry of an earlier, unfinished run of this send, if it can be resumed.

    An entry for other recipient keys, or whose transfer is gone, is dropped
    (its pending transfer, if any, cancelled).
    """
    entry = _load_entry(folder)
    if entry is None:
        _discard(folder)
        return None
    if entry.get("create") and entry.get("recipients") == refs:
        # The creation was sent but its answer was lost: send the very same
        # request again; the server answers with the transfer it created.
        return _create(client, folder, entry)
    if entry.get("transfer_id") and entry.get("recipients") == refs:
        if _still_pending(client, entry):
            return entry
    elif entry.get("transfer_id"):
        _cancel_quietly(client, str(entry["transfer_id"]))
    _discard(folder)
    return None


def _encrypt_and_create(
    client: ScelleClient,
    folder: Path,
    path: Path,
    resolved: list[dict[str, Any]],
    body: dict[str, Any],
    *,
    note: str,
    progress: ProgressFactory | None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Encrypt payload and metadata into ``folder``, create the transfer, record the entry."""
    recipients = [X25519Recipient.parse(str(e["x25519_recipient"])) for e in resolved]
    size, plain_sha, cipher_size, cipher_sha = _encrypt_into(folder, path, recipients, progress)
    try:
        metadata = encrypt_bytes(_metadata(path, size, plain_sha, note, purpose), recipients)
    except CryptoError as exc:
        _discard(folder)
        raise ClientError(f"encryption failed ({type(exc).__name__})") from None
    body = {
        **body,
        "payload_size": cipher_size,
        "payload_sha256": cipher_sha,
        "metadata": base64.b64encode(metadata).decode("ascii"),
    }
    # Recorded before it is sent: if the answer is lost, the retry sends the
    # same request and gets the same transfer, never a second one.
    entry = {
        "create": body,
        "recipients": body["recipients"],
        "payload_size": cipher_size,
        "payload_sha256": cipher_sha,
        "metadata_sha256": hashlib.sha256(metadata).hexdigest(),
    }
    _save_entry(folder, entry)
    return _create(client, folder, entry)


def _create(client: ScelleClient, folder: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Send the recorded creation request; keep the entry if the answer may have been lost."""
    try:
        created = client.create_transfer(entry["create"])
    except ServerError as exc:
        if exc.http_status == 0 or exc.http_status >= 500:
            raise  # the server may have created it: the next run asks again
        _discard(folder)
        raise
    entry = {key: value for key, value in entry.items() if key != "create"}
    entry |= {"transfer_id": created["id"], "expires_at": created["expires_at"]}
    _save_entry(folder, entry)
    log.info("transfer %s created (%d bytes of ciphertext)", created["id"], entry["payload_size"])
    return entry


def _still_pending(client: ScelleClient, entry: dict[str, Any]) -> bool:
    """Whether the entry's transfer can still be completed (marks it sealed if it already is)."""
    try:
        described = client.transfer(str(entry["transfer_id"]))
    except ServerError as exc:
        if exc.http_status in (404, 410):
            return False
        raise
    if described.get("status") == "available":
        entry["sealed"] = True
        return True
    return described.get("status") == "pending"


def _cancel_quietly(client: ScelleClient, transfer_id: str) -> None:
    with contextlib.suppress(ServerError):
        client.delete_transfer(transfer_id)


def _result(
    entry: dict[str, Any], *, complete: bool, resumed: bool, emails: list[str]
) -> SendResult:
    return SendResult(
        transfer_id=str(entry["transfer_id"]),
        complete=complete,
        resumed=resumed,
        expires_at=str(entry.get("expires_at", "")),
        payload_size=int(entry.get("payload_size", 0)),
        recipients=emails,
    )


# -- receive ---------------------------------------------------------------------


def safe_name(name: object) -> str:
    """The sender's file name reduced to a base name safe to create in a chosen folder.

    Raises ClientError for names that cannot be used as such (empty, ``.``,
    ``..``, NUL or other control characters, over 255 bytes).
    """
    if not isinstance(name, str):
        raise ClientError("the sender's file name is unusable; give a file name with -o")
    base = PurePosixPath(name.replace("\\", "/")).name
    unusable = (
        base in ("", ".", "..")
        or any(ord(c) < 32 or ord(c) == 127 for c in base)
        or len(base.encode("utf-8", "surrogatepass")) > 255
    )
    if unusable:
        raise ClientError("the sender's file name is unusable; give a file name with -o")
    return base


def _b64(value: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ServerError(f"the server sent a malformed {what}", http_status=0) from None


@dataclass(frozen=True)
class _Checked:
    """A transfer whose sender key is pinned and whose signature covers its digests."""

    transfer: dict[str, Any]
    metadata: bytes
    payload_sha256: bytes
    fingerprint: str


def _check(state: LocalState, transfer: dict[str, Any], transfer_id: str) -> _Checked:
    """Pin check and signature over the announced digests; raises KeyChanged, SignatureInvalid."""
    if transfer.get("id") != transfer_id:
        raise SignatureInvalid("the server answered with another transfer; nothing was decrypted")
    sender = transfer["sender"]
    fingerprint = pins.fingerprint_of(sender["key"])
    pins.check(state, str(sender["user_id"]), str(sender["email"]), fingerprint)
    metadata = _b64(transfer["metadata"], "metadata")
    metadata_sha256 = hashlib.sha256(metadata).digest()
    try:
        payload_sha256 = bytes.fromhex(str(transfer["payload_sha256"]))
        if transfer.get("signature") is None:
            raise SignatureInvalid("this transfer is not signed; nothing was decrypted")
        signature = _b64(transfer["signature"], "signature")
        verify_key = VerifyKey.from_bytes(_b64(sender["key"]["ed25519_public"], "key"))
        message = transfer_signature_message(transfer_id, payload_sha256, metadata_sha256)
        verify_key.verify(signature, message)
    except (CryptoError, ValueError):
        log.info("transfer %s: the signature does not verify", transfer_id)
        raise SignatureInvalid() from None
    return _Checked(transfer, metadata, payload_sha256, fingerprint)


def _read_metadata(metadata: bytes, keyring: Keyring) -> dict[str, Any]:
    try:
        document = json.loads(decrypt_bytes(metadata, [keyring.identity]).decode("utf-8"))
    except CryptoError as exc:
        log.info("metadata decryption failed: %s", type(exc).__name__)
        raise DecryptionFailed() from None
    except (UnicodeDecodeError, ValueError):
        raise DecryptionFailed() from None
    if not isinstance(document, dict) or document.get("v") != METADATA_VERSION:
        raise DecryptionFailed()
    return document


@contextlib.contextmanager
def _temporary(folder: Path, suffix: str) -> Iterator[tuple[IO[bytes], Path]]:
    """A 0600 temporary file in ``folder``, always removed unless renamed away."""
    handle, name = tempfile.mkstemp(prefix=".scelle-", suffix=suffix, dir=folder)
    path = Path(name)
    try:
        with os.fdopen(handle, "w+b") as stream:
            yield stream, path
    finally:
        path.unlink(missing_ok=True)


def _download(
    client: ScelleClient,
    transfer_id: str,
    dst: IO[bytes],
    size: int,
    progress: ProgressFactory | None,
) -> bytes:
    digest = hashlib.sha256()
    writer = _HashingWriter(dst, digest)
    advance = _advance(progress, "downloading", size)
    attempts = 0
    while True:
        try:
            client.download(transfer_id, _as_io(writer), start=writer.count, progress=advance)
            break
        except ServerError as exc:
            attempts += 1
            if exc.http_status != 0 or attempts > DOWNLOAD_RESUMES or writer.count == 0:
                raise
            log.info("transfer %s: resuming the download at %d bytes", transfer_id, writer.count)
    if writer.count != size:
        raise SignatureInvalid("the server sent a ciphertext of the wrong size; nothing decrypted")
    return digest.digest()


def receive(
    client: ScelleClient,
    state: LocalState,
    keyring: Keyring,
    transfer_id: str,
    output: Path | None = None,
    *,
    progress: ProgressFactory | None = None,
    overwrite: bool = True,
) -> ReceiveResult:
    """Download, verify and decrypt one transfer.

    ``output`` is the file to write, or a folder (default: the current one)
    in which the sender's file name, reduced to its base name, is created
    (never over an existing file). An explicit file is replaced only when
    ``overwrite`` is True. Raises ServerError (404 unknown or not yours, 410
    expired or used up), KeyChanged, SignatureInvalid, DecryptionFailed,
    ClientError (unusable name, existing file); on any failure no output
    file and no temporary file remains.
    """
    target = (output or Path.cwd()).expanduser()
    into_folder = target.is_dir()
    folder = target if into_folder else target.parent
    if not folder.is_dir():
        raise ClientError(f"no such folder: {folder}")
    if not into_folder and target.exists() and not overwrite:
        raise ClientError(f"{target} exists")

    checked = _check(state, client.transfer(transfer_id), transfer_id)
    transfer = checked.transfer
    size = int(transfer["payload_size"])
    # The signature already covers the metadata digest: it is authenticated,
    # so its name can be checked before a download is spent.
    document = _read_metadata(checked.metadata, keyring)
    if into_folder:
        target = folder / safe_name(document.get("name"))
        if target.exists():
            raise ClientError(f"{target} exists; choose another name with -o")
    with _temporary(folder, ".age.part") as (cipher, _cipher_path):
        received = _download(client, transfer_id, cipher, size, progress)
        if not hmac.compare_digest(received, checked.payload_sha256):
            log.info("transfer %s: the ciphertext does not match its signed digest", transfer_id)
            raise SignatureInvalid()
        cipher.seek(0)
        with _temporary(folder, ".part") as (plain, plain_path):
            plain_digest = hashlib.sha256()
            writer = _HashingWriter(plain, plain_digest)
            advance = _advance(progress, "decrypting", int(document.get("size") or 0))
            try:
                decrypt(cipher, _as_io(writer), [keyring.identity], progress=advance)
            except CryptoError as exc:
                log.info("transfer %s: decryption failed: %s", transfer_id, type(exc).__name__)
                raise DecryptionFailed() from None
            expected = str(document.get("sha256", ""))
            if writer.count != document.get("size") or not hmac.compare_digest(
                plain_digest.hexdigest(), expected
            ):
                log.info("transfer %s: the plaintext does not match its metadata", transfer_id)
                raise DecryptionFailed()
            plain.flush()
            os.fsync(plain.fileno())
            _commit(plain_path, target, replace=not into_folder)
        _fsync_dir(folder)
    sender = transfer["sender"]
    log.info("transfer %s received and verified", transfer_id)
    return ReceiveResult(
        transfer_id=transfer_id,
        path=target,
        size=writer.count,
        sha256=plain_digest.hexdigest(),
        media_type=str(document.get("type", "")),
        note=str(document.get("note", "")),
        sender=str(sender["email"]),
        sender_fingerprint=checked.fingerprint,
    )


def _commit(temporary: Path, target: Path, *, replace: bool) -> None:
    if replace:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # fails if the target appeared meanwhile: never clobbers
    except FileExistsError:
        raise ClientError(f"{target} exists; choose another name with -o") from None
    except OSError:
        if target.exists():
            raise ClientError(f"{target} exists; choose another name with -o") from None
        os.replace(temporary, target)
        return
    temporary.unlink()


# -- listings --------------------------------------------------------------------


def _summary(transfer: dict[str, Any]) -> dict[str, Any]:
    sender = transfer.get("sender") or {}
    return {
        "id": transfer["id"],
        "status": transfer.get("status"),
        "created_at": transfer.get("created_at"),
        "expires_at": transfer.get("expires_at"),
        "payload_size": transfer.get("payload_size"),
        "max_downloads": transfer.get("max_downloads"),
        "download_count": transfer.get("download_count"),
        "sender": sender.get("email"),
        "sender_org": sender.get("org"),
        "recipients": [r.get("email") for r in transfer.get("recipients", [])],
    }


def inbox(client: ScelleClient, state: LocalState, keyring: Keyring | None) -> list[dict[str, Any]]:
    """The caller's inbox, newest first, with names decrypted when ``keyring`` is given.

    Each item has ``id``, ``name`` (None without a keyring or when the
    metadata does not verify or decrypt), ``size``, ``type``, ``note``,
    ``sender``, ``sender_org``, dates, download counts, ``sender_key``
    (``pinned``/``new``/``changed``) and ``verified``. New senders are pinned;
    a changed key is reported, not raised (receive refuses it). Raises
    ServerError.
    """
    items = []
    for transfer in client.transfers("inbox"):
        item = _summary(transfer)
        item.update({"name": None, "size": None, "type": None, "note": None, "verified": False})
        try:
            checked = _check(state, transfer, str(transfer["id"]))
            item["sender_key"] = "pinned"
            item["verified"] = True
            if keyring is not None:
                document = _read_metadata(checked.metadata, keyring)
                item["name"] = safe_name(document.get("name"))
                item["size"] = document.get("size")
                item["type"] = document.get("type")
                item["note"] = document.get("note")
        except KeyChanged:
            item["sender_key"] = "changed"
        except (SignatureInvalid, DecryptionFailed, ServerError, ClientError):
            item.setdefault("sender_key", "pinned")
        items.append(item)
    return items


def sent(client: ScelleClient) -> list[dict[str, Any]]:
    """The caller's sent transfers; raises ServerError.

    Names are absent: the metadata is encrypted to the recipients only.
    """
    return [_summary(t) for t in client.transfers("sent")]


def require_keys(state: LocalState, passphrase: str | None) -> Keyring:
    """Unlock the device keys; LocalStateError without a passphrase or keys."""
    if not passphrase:
        raise LocalStateError(
            "a passphrase is needed: set SCELLE_PASSPHRASE or use --passphrase-stdin"
        )
    return Keyring.load(state, passphrase)
