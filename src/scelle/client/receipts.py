"""Audit receipts: proof that the server logged this device's uploads and downloads.

An upload's last PATCH and a counted download answer ``Scelle-Audit-Leaf: N``:
the index of their event in the server's Merkle log. The receipt is kept in
``SCELLE_HOME/receipts.json`` as *pending*; ``refresh`` later fetches the
newest checkpoint, checks it and proves each pending receipt against it:

1. the log key is pinned on first use (``audit-log.json``, per server); a
   different key later is refused (``AuditProofInvalid``);
2. the checkpoint's signature must verify with the pinned key, and it must
   extend the newest checkpoint this device saw (an RFC 9162 consistency
   proof); a smaller tree (a rollback) or another root for the same size (a
   fork) is refused;
3. each receipt's entry must hash, through its inclusion proof, to the
   checkpoint's root, with ``seq = leaf + 1`` and, for a download, the
   transfer id of the download; it is then *verified*, with its entry and
   the tree size it was proved in.

Nothing here trusts the server's word: every hash is recomputed locally.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from typing import Any

from scelle.client.api import ScelleClient
from scelle.client.state import LocalState
from scelle.crypto.errors import CryptoError
from scelle.crypto.merkle import leaf_hash, verify_consistency, verify_inclusion
from scelle.crypto.note import Checkpoint, NoteVerifier
from scelle.errors import AuditProofInvalid, LocalStateError, ServerError

__all__ = ["add", "load", "recorder", "refresh"]

RECEIPTS_FILE = "receipts.json"
LOG_PINS_FILE = "audit-log.json"
_DOWNLOAD = re.compile(r"/api/v1/transfers/([^/]+)/content\Z")
_UPLOAD = re.compile(r"/api/v1/uploads/([^/]+)\Z")


def _read(state: LocalState, name: str) -> dict[str, Any]:
    path = state.home / name
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise LocalStateError(f"{path} is unreadable") from None
    if not isinstance(data, dict):
        raise LocalStateError(f"{path} is malformed")
    return data


def _write(state: LocalState, name: str, data: dict[str, Any]) -> None:
    state._write_json(name, data)  # the state's one atomic writer


def load(state: LocalState) -> list[dict[str, Any]]:
    """Every receipt kept on this device, oldest first."""
    receipts = _read(state, RECEIPTS_FILE).get("receipts", [])
    return [r for r in receipts if isinstance(r, dict)]


def add(state: LocalState, server: str, leaf: int, method: str, path: str) -> dict[str, Any]:
    """Keep a new pending receipt (a retried request's duplicate is not added twice)."""
    kind, ref = "request", ""
    if match := _DOWNLOAD.search(path):
        kind, ref = "download", match.group(1)
    elif method == "PATCH" and (match := _UPLOAD.search(path)):
        kind, ref = "upload", match.group(1)
    receipt = {
        "server": server.rstrip("/"),
        "leaf_index": leaf,
        "kind": kind,
        "ref": ref,
        "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "status": "pending",
    }
    receipts = load(state)
    for known in receipts:
        if known.get("server") == receipt["server"] and known.get("leaf_index") == leaf:
            return known
    receipts.append(receipt)
    _write(state, RECEIPTS_FILE, {"receipts": receipts})
    return receipt


def recorder(state: LocalState, server: str) -> Any:
    """A ``ScelleClient.receipt_hook`` that keeps every receipt in ``state``."""

    def hook(leaf: int, method: str, path: str) -> None:
        add(state, server, leaf, method, path)

    return hook


def _b64(value: object) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise AuditProofInvalid("the server sent a malformed audit proof") from None


def _pinned_verifier(client: ScelleClient, state: LocalState) -> NoteVerifier:
    pins = _read(state, LOG_PINS_FILE)
    server = client.server
    try:
        offered = NoteVerifier.parse(str(client.audit_log_key().get("verifier_key", "")))
    except CryptoError:
        raise AuditProofInvalid("the server sent a malformed audit log key") from None
    pin = pins.get(server)
    if pin is None:
        pins[server] = {"verifier_key": str(offered)}
        _write(state, LOG_PINS_FILE, pins)
        return offered
    pinned = NoteVerifier.parse(str(pin["verifier_key"]))
    if pinned != offered:
        raise AuditProofInvalid(
            f"the audit log key of {server} changed (pinned {pinned}, now {offered}); "
            "nothing is trusted until an operator explains why"
        )
    return pinned


def _advance_checkpoint(
    client: ScelleClient, state: LocalState, verifier: NoteVerifier
) -> Checkpoint:
    """The server's newest checkpoint, verified and proved to extend the last one seen here."""
    note = str(client.audit_checkpoint().get("note", ""))
    try:
        checkpoint = Checkpoint.open(note, verifier)
    except CryptoError:
        raise AuditProofInvalid(
            "the audit checkpoint does not verify with the pinned log key"
        ) from None
    pins = _read(state, LOG_PINS_FILE)
    pin = pins.get(client.server, {})
    seen_note = pin.get("checkpoint")
    if seen_note:
        seen = Checkpoint.open(str(seen_note), verifier)
        if checkpoint.size < seen.size:
            raise AuditProofInvalid(
                f"rollback: the audit log shows {checkpoint.size} entries, "
                f"but this device saw a checkpoint of {seen.size}"
            )
        try:
            proof = client.audit_consistency(seen.size, checkpoint.size)
        except ServerError as exc:
            raise AuditProofInvalid(
                f"the server cannot prove that its checkpoint of size {checkpoint.size} "
                f"extends the one of size {seen.size} this device saw ({exc.message})"
            ) from None
        try:
            verify_consistency(
                seen.size,
                checkpoint.size,
                seen.root_hash,
                checkpoint.root_hash,
                [_b64(p) for p in proof.get("path", [])],
            )
        except CryptoError:
            raise AuditProofInvalid(
                f"the audit log of size {checkpoint.size} does not extend the checkpoint of "
                f"size {seen.size} this device saw (a fork or a rewritten history)"
            ) from None
    pin["checkpoint"] = note
    pins[client.server] = pin
    _write(state, LOG_PINS_FILE, pins)
    return checkpoint


def _prove(client: ScelleClient, receipt: dict[str, Any], checkpoint: Checkpoint) -> None:
    leaf = int(receipt["leaf_index"])
    proof = client.audit_inclusion(leaf, checkpoint.size)
    entry = str(proof.get("entry", "")).encode()
    try:
        verify_inclusion(
            leaf_hash(entry),
            leaf,
            checkpoint.size,
            [_b64(p) for p in proof.get("path", [])],
            checkpoint.root_hash,
        )
        event = json.loads(entry)
    except (CryptoError, ValueError):
        raise AuditProofInvalid(
            f"the audit proof of leaf {leaf} does not lead to the signed checkpoint"
        ) from None
    if event.get("seq") != leaf + 1 or (
        receipt.get("kind") == "download" and event.get("object_id") != receipt.get("ref")
    ):
        raise AuditProofInvalid(f"audit leaf {leaf} is not the event of this receipt")
    receipt.update(
        status="verified",
        tree_size=checkpoint.size,
        tag=event.get("tag"),
        object_id=event.get("object_id"),
        entry=entry.decode(),
    )


def refresh(client: ScelleClient, state: LocalState) -> list[dict[str, Any]]:
    """Prove this server's pending receipts against its newest checkpoint; return all receipts.

    Receipts the checkpoint does not cover yet stay pending. Raises
    AuditProofInvalid (changed log key, rollback, fork, a proof that does not
    verify; the receipt stays pending) and ServerError.
    """
    receipts = load(state)
    mine = [
        r for r in receipts if r.get("server") == client.server and r.get("status") == "pending"
    ]
    if not mine:
        return receipts
    verifier = _pinned_verifier(client, state)
    try:
        checkpoint = _advance_checkpoint(client, state, verifier)
    except ServerError as exc:
        if exc.http_status == 404:  # no checkpoint yet: everything stays pending
            return receipts
        raise
    try:
        for receipt in mine:
            if int(receipt["leaf_index"]) < checkpoint.size:
                _prove(client, receipt, checkpoint)
    finally:
        _write(state, RECEIPTS_FILE, {"receipts": receipts})
    return receipts
