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

__all__ = ["check", "fingerprint_of", "trust"]


def fingerprint_of(entry: dict[str, Any]) -> str:
    """The fingerprint of a directory or sender-key entry, computed locally."""
    try:
        public = base64.b64decode(entry["ed25519_public"], validate=True)
        return key_fingerprint(entry["x25519_recipient"], public)
    except (KeyError, binascii.Error, ValueError):
        raise ServerError("the server sent a malformed key", http_status=0) from None


def check(state: LocalState, user_id: str, email: str, fingerprint: str) -> bool:
    """Pin on first sight; return True if newly pinned. Raises KeyChanged on a change."""
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
