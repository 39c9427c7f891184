"""Coverage-guided fuzzing (atheris, libFuzzer) of the parsers that read an attacker's bytes.

Run by ``tests/security/test_fuzz_atheris.py`` in a subprocess (libFuzzer
exits the process when it is done): ``python -m tests.security.fuzzing.harness
TARGET -runs=N -seed=S ...``. A target may only succeed or raise its
documented error; anything else, a hang past ``-timeout`` or memory past
``-rss_limit_mb`` is a crash and a non-zero exit, with the input written
under ``-artifact_prefix``.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports(include=["scelle"]):
    from scelle.crypto.age.armor import ArmoredReader
    from scelle.crypto.age.header import read_header
    from scelle.crypto.errors import AgeError, HeaderError
    from scelle.errors import BadRequest
    from scelle.subjects.scan import scan_rows
    from scelle.uploads.service import parse_metadata

ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----\n"


def age_header(data: bytes) -> None:
    with contextlib.suppress(HeaderError):
        read_header(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]


def armor(data: bytes) -> None:
    reader = ArmoredReader(io.BufferedReader(io.BytesIO(ARMOR_BEGIN + data)))  # type: ignore[arg-type]
    with contextlib.suppress(AgeError):
        reader.read()


def tus_metadata(data: bytes) -> None:
    # Header values reach the app as latin-1 text (ASGI); every byte maps to one character.
    with contextlib.suppress(BadRequest):
        parse_metadata(data.decode("latin-1"))


def identifier_scan(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    rows = [line.split(";") for line in text.splitlines()]
    scan_rows(rows or [[]], collect_identifiers=True)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "age-header": age_header,
    "armor": armor,
    "tus-metadata": tus_metadata,
    "identifier-scan": identifier_scan,
}


def main() -> None:
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
