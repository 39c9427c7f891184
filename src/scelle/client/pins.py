"""Trust on first use: each correspondent's key fingerprint, pinned per user id.

The fingerprint is computed here from the keys the server sent (never taken
from the server), so a server that swaps a key cannot also forge the
fingerprint. A changed key is refused until the user acts:

- a **rotation** (the pinned key signed its successor, and the server shows
  the chain in the key history) raises ``KeyRotated``; the user accepts it
  with ``scelle keys accept EMAIL``, which re-verifies the chain here;
- any other change (a lost device, a replaced key, or a server swapping
  keys) raises ``KeyChanged``; the user compares the new fingerprint out of
  band, then runs ``scelle keys trust EMAIL``.

Keys that the history shows as retired (rotated away, replaced, revoked) are
remembered per correspondent; the client refuses to encrypt to one of them
even if a server offers it again.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from scelle.client.state import LocalState
from scelle.crypto.errors import CryptoError
from scelle.crypto.signing import VerifyKey, key_fingerprint, key_rotation_message
from scelle.errors import ClientError, KeyChanged, KeyRotated, ServerError

__all__ = [
    "accept",
    "assess",
    "check",
    "fingerprint_of",
    "refuse_retired",
    "status",
    "trust",
]

MAX_CHAIN = 20
_SEPARATOR = ","


def _public(entry: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(entry["ed25519_public"], validate=True)
    except (KeyError, binascii.Error, ValueError, TypeError):
        raise ServerError("the server sent a malformed key", http_status=0) from None


def fingerprint_of(entry: dict[str, Any]) -> str:
    """The fingerprint of a directory or sender-key entry, computed locally.

    Raises ServerError when the entry is malformed, or when the fingerprint
    the server states (if any) is not the one its keys give.
    """
    public = _public(entry)
    try:
        computed = key_fingerprint(str(entry["x25519_recipient"]), public)
    except (KeyError, ValueError, UnicodeEncodeError):
        raise ServerError("the server sent a malformed key", http_status=0) from None
    stated = entry.get("fingerprint")
    if stated is not None and stated != computed:
        raise ServerError("the server sent a key whose fingerprint does not match", http_status=0)
    return computed


def _rotated_from(entry: dict[str, Any], pinned: str) -> bool:
    """True when a chain of rotation signatures leads from ``pinned`` to ``entry``.

    Each link is checked here: the predecessor's Ed25519 key signed the
    successor bundle together with the predecessor's own fingerprint.
    """
    history = {str(h.get("key_id")): h for h in entry.get("history") or [] if isinstance(h, dict)}
    current = entry
    for _ in range(MAX_CHAIN):
        signature_b64 = current.get("rotation_signature")
        previous = history.get(str(current.get("previous_key_id")))
        if not signature_b64 or previous is None:
            return False
        try:
            signature = base64.b64decode(signature_b64, validate=True)
            previous_fingerprint = fingerprint_of(previous)
            VerifyKey.from_bytes(_public(previous)).verify(
                signature,
                key_rotation_message(
                    previous_fingerprint, str(current["x25519_recipient"]), _public(current)
                ),
            )
        except (binascii.Error, ValueError, KeyError, CryptoError, ServerError):
            return False
        if previous_fingerprint == pinned:
            return True
        current = previous
    return False


def status(state: LocalState, user_id: str, fingerprint: str) -> str:
    """``"pinned"`` (same key), ``"new"`` (never seen) or ``"changed"``; pins nothing."""
    pinned = state.load_pins().get(user_id)
    if pinned is None:
        return "new"
    return "pinned" if pinned.get("fingerprint") == fingerprint else "changed"


def assess(state: LocalState, entry: dict[str, Any]) -> str:
    """``"new"``, ``"pinned"``, ``"rotated"`` (a verified rotation) or ``"changed"``."""
    fingerprint = fingerprint_of(entry)
    pinned = state.load_pins().get(str(entry.get("user_id")))
    if pinned is None:
        return "new"
    if pinned.get("fingerprint") == fingerprint:
        return "pinned"
    return "rotated" if _rotated_from(entry, str(pinned.get("fingerprint"))) else "changed"


def _retired(pin: dict[str, str]) -> set[str]:
    return {f for f in pin.get("retired", "").split(_SEPARATOR) if f}


def _remember_history(pin: dict[str, str], entry: dict[str, Any] | None) -> None:
    retired = _retired(pin)
    for record in (entry or {}).get("history") or []:
        if isinstance(record, dict):
            try:
                retired.add(fingerprint_of(record))
            except ServerError:
                continue
    retired.discard(pin["fingerprint"])
    pin["retired"] = _SEPARATOR.join(sorted(retired))


def check(
    state: LocalState,
    user_id: str,
    email: str,
    fingerprint: str,
    entry: dict[str, Any] | None = None,
) -> bool:
    """Pin ``fingerprint`` on first sight of ``user_id``; return True if newly pinned.

    Raises KeyRotated when ``entry`` (a directory entry with its history)
    shows a verified rotation from the pinned key, KeyChanged for any other
    different fingerprint.
    """
    pins = state.load_pins()
    pinned = pins.get(user_id)
    if pinned is None:
        pin = {"email": email, "fingerprint": fingerprint}
        _remember_history(pin, entry)
        pins[user_id] = pin
        state.save_pins(pins)
        return True
    if pinned["fingerprint"] != fingerprint:
        if entry is not None and _rotated_from(entry, pinned["fingerprint"]):
            raise KeyRotated(
                f"{email} rotated their key (the pinned key {pinned['fingerprint']} signed"
                f" the new one, {fingerprint}); to accept it, run: scelle keys accept {email}"
            )
        raise KeyChanged(
            f"the key of {email} changed (pinned {pinned['fingerprint']}, now {fingerprint}); "
            f"compare it with them, then run: scelle keys trust {email}"
        )
    return False


def refuse_retired(state: LocalState, entry: dict[str, Any]) -> None:
    """Raise ClientError when ``entry``'s key is revoked or known here as retired."""
    if entry.get("revoked_at"):
        raise ClientError(f"the key of {entry.get('email')} is revoked; nothing was encrypted")
    pin = state.load_pins().get(str(entry.get("user_id")))
    if pin is not None and fingerprint_of(entry) in _retired(pin):
        raise ClientError(
            f"the server offered a retired key of {entry.get('email')}; nothing was encrypted"
        )


def trust(
    state: LocalState,
    user_id: str,
    email: str,
    fingerprint: str,
    entry: dict[str, Any] | None = None,
) -> str | None:
    """Pin ``fingerprint`` for ``user_id``; return the fingerprint it replaces, if any."""
    pins = state.load_pins()
    old = pins.get(user_id, {})
    previous = old.get("fingerprint")
    pin = {"email": email, "fingerprint": fingerprint, "retired": old.get("retired", "")}
    if previous and previous != fingerprint:
        pin["retired"] = _SEPARATOR.join(sorted(_retired(pin) | {previous}))
    _remember_history(pin, entry)
    pins[user_id] = pin
    state.save_pins(pins)
    return previous


def accept(state: LocalState, entry: dict[str, Any]) -> str:
    """Pin a verified rotation; return the fingerprint it replaces.

    Raises KeyChanged when the change is not a rotation signed by the pinned
    key (compare out of band and use :func:`trust`), ClientError when there is
    nothing to accept.
    """
    verdict = assess(state, entry)
    email = str(entry.get("email"))
    if verdict in {"new", "pinned"}:
        raise ClientError(f"the key of {email} has not changed: nothing to accept")
    if verdict != "rotated":
        raise KeyChanged(
            f"the key of {email} changed without a signature from the pinned key; "
            f"compare it with them, then run: scelle keys trust {email}"
        )
    previous = trust(state, str(entry["user_id"]), email, fingerprint_of(entry), entry)
    assert previous is not None  # noqa: S101  (assess found a pin)
    return previous
