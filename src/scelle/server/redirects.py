"""Where a page may send the browser next: a local path only, never an open redirect."""

from __future__ import annotations

import re

__all__ = ["local_path"]

# As the bundle's nextPage (web/src/main.js): a path of this site, of plain characters.
_LOCAL = re.compile(r"/[A-Za-z0-9/_-]{0,200}")


def local_path(value: str | None) -> str | None:
    """``value`` when it is a path of this site (``/sent``, ``/transfers/tr_...``), else None.

    Refused: anything with a scheme or host (``https://...``, ``//host``), a
    query, a fragment, dots, backslashes or encoded characters.
    """
    if value is None or not _LOCAL.fullmatch(value) or value.startswith("//"):
        return None
    return value
