"""The organisation's pseudonymisation key on a sender's device.

``SCELLE_HOME/pseudonym.key`` (mode 0600), or a file named with ``--key-file``.
One key per organisation: every sender of the organisation must hold the same
key, so that the same person gets the same pseudonym in every file and in the
subject index, and so that ``scelle breach letters`` can map them back. The
organisation's administrator makes it once (``scelle pseudonymize --new-key``)
and hands the file to each sender over a channel it trusts (for example as a
Scellé transfer, which is end-to-end encrypted); the server never sees it.
"""

from __future__ import annotations

import os
from pathlib import Path

from scelle.client.state import default_home, write_private
from scelle.crypto.errors import KeyFormatError
from scelle.crypto.pseudonym import PseudonymKey
from scelle.errors import Conflict, LocalStateError

__all__ = ["KEY_FILE_NAME", "create_key", "default_key_path", "load_key", "load_or_create_key"]

KEY_FILE_NAME = "pseudonym.key"


def default_key_path() -> Path:
    """``SCELLE_HOME/pseudonym.key``."""
    return default_home() / KEY_FILE_NAME


def load_key(path: Path | None = None) -> PseudonymKey:
    """Read the key; LocalStateError when it is missing or malformed (never shows its bytes)."""
    target = (path or default_key_path()).expanduser()
    try:
        text = target.read_text()
    except FileNotFoundError as exc:
        raise LocalStateError(
            f"no pseudonymisation key at {target}: create one with "
            "`scelle pseudonymize --new-key`, or get your organisation's with --key-file"
        ) from exc
    try:
        return PseudonymKey.from_text(text)
    except KeyFormatError as exc:
        raise LocalStateError(f"{target} is not a pseudonymisation key") from exc


def create_key(path: Path | None = None) -> PseudonymKey:
    """Make a new random key at ``path`` (0600). Conflict if a key is already there."""
    target = (path or default_key_path()).expanduser()
    if target.exists():
        raise Conflict(f"a pseudonymisation key already exists at {target}; it is kept")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = PseudonymKey.generate()
    write_private(target, key.to_text().encode())
    return key


def load_or_create_key(path: Path | None = None) -> tuple[PseudonymKey, bool]:
    """The key, created on first use when ``path`` is the default; (key, created)."""
    target = (path or default_key_path()).expanduser()
    if path is None and not os.path.exists(target):
        return create_key(target), True
    return load_key(target), False
