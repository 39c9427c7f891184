"""Trust on first use: each correspondent's key fingerprint, pinned per user id.

The fingerprint is computed here from the keys the server sent (never taken
from the server), so a server that swaps a key cannot also forge the
fingerprint. A changed key is refused with ``KeyChanged`` until the user
confirms it (``scelle keys trust EMAIL``), after comparing it out of band.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from scelle.client.state import LocalState
from scelle.crypto.signing import key_fingerprint
from scelle.errors import KeyChanged, ServerError

__all__ = ["check", "fingerprint_of", "status", "trust"]


def fingerprint_of(entry: dict[str, Any]) -> str:
    """The fingerprint of a directory or sender-key entry, computed locally.

    Raises ServerError when the entry is malformed, or when the fingerprint
    the server states (if any) is not the one its keys give.
    """
    try:
        public = base64.b64decode(entry["ed25519_public"], validate=True)
        computed = key_fingerprint(str(entry["x25519_recipient"]), public)
    except (KeyError, binascii.Error, ValueError, UnicodeEncodeError):
        raise ServerError("the server sent a malformed key", http_status=0) from None
    stated = entry.get("fingerprint")
    if stated is not None and stated != computed:
        raise ServerError("the server sent a key whose fingerprint does not match", http_status=0)
    return computed


def status(state: LocalState, user_id: str, fingerprint: str) -> str:
    """``"pinned"`` (same key), ``"new"`` (never seen) or ``"changed"``; pins nothing."""
    pinned = state.load_pins().get(user_id)
    if pinned is None:
        return "new"
    return "pinned" if pinned.get("fingerprint") == fingerprint else "changed"


def check(state: LocalState, user_id: str, email: str, fingerprint: str) -> bool:
    """Pin ``fingerprint`` on first sight of ``user_id``; return True if newly pinned.

    Raises KeyChanged when a different fingerprint is pinned for this user.
    """
    pins = state.load_pins()
    pinned = pins.get(user_id)
    if pinned is None:
        pins[user_id] = {"email": email, "fingerprint": fingerprint}
        state.save_pins(pins)
        return True
    if pinned["fingerprint"] != fingerprint:
        raise KeyChanged(
            f"the key of {email} changed (pinned {pinned['fingerprint']}, now {fingerprint}); "
            f"compare it with them, then run: scelle keys trust {email}"
        )
    return False


def trust(state: LocalState, user_id: str, email: str, fingerprint: str) -> str | None:
    """Pin ``fingerprint`` for ``user_id``; return the fingerprint it replaces, if any."""
    pins = state.load_pins()
    previous = pins.get(user_id, {}).get("fingerprint")
    pins[user_id] = {"email": email, "fingerprint": fingerprint}
    state.save_pins(pins)
    return previous
