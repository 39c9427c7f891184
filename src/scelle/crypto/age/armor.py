"""ASCII armor for age files (strict PEM-like encoding, as specified by age v1).

Writing: ``-----BEGIN AGE ENCRYPTED FILE-----``, padded standard base64 in
64-column lines, ``-----END AGE ENCRYPTED FILE-----``, LF line endings.

Reading is strict: optional whitespace before and after the armor, LF or CRLF
line endings, every line but the last exactly 64 columns, canonical padded
base64, nothing else. Decoding streams line by line, so memory stays constant.
"""

from __future__ import annotations

import binascii
import io
import re
from typing import IO, Protocol

from scelle.crypto.errors import ArmorError

__all__ = ["BEGIN", "END", "ArmoredReader", "ArmoredWriter"]

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
LINE_BYTES = 48  # 64 base64 characters
MAX_WHITESPACE = 1024
_BLOCK = LINE_BYTES * 1024
_B64_PADDED = re.compile(rb"\A[A-Za-z0-9+/]*={0,2}\Z")
_WHITESPACE = b" \t\r\n"


class _LineSource(Protocol):
    def readline(self, size: int | None = -1, /) -> bytes: ...

    def read(self, size: int | None = -1, /) -> bytes: ...


class ArmoredWriter(io.RawIOBase):
    """A write-only stream that armors what it is given into ``dst``.

    ``close()`` writes the end line (and flushes) but leaves ``dst`` open.
    """

    def __init__(self, dst: IO[bytes]) -> None:
        super().__init__()
        self._dst = dst
        self._pending = bytearray()
        dst.write(BEGIN + b"\n")

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._pending += data
        if len(self._pending) >= _BLOCK:
            usable = len(self._pending) - len(self._pending) % LINE_BYTES
            self._emit(bytes(self._pending[:usable]))
            del self._pending[:usable]
        return len(data)

    def _emit(self, data: bytes) -> None:
        text = binascii.b2a_base64(data, newline=False)
        self._dst.write(
            b"".join(text[i : i + COLUMNS] + b"\n" for i in range(0, len(text), COLUMNS))
        )

    def close(self) -> None:
        if not self.closed:
            if self._pending:
                self._emit(bytes(self._pending))
                self._pending.clear()
            self._dst.write(END + b"\n")
            self._dst.flush()
        super().close()


class ArmoredReader(io.RawIOBase):
    """A read-only stream of the bytes inside an armored age file.

    Raises ArmorError (from ``read``/``readinto``) at the first malformed line.
    """

    def __init__(self, src: _LineSource) -> None:
        super().__init__()
        self._src = src
        self._started = False
        self._finished = False
        self._needs_end = False  # a short line was read: only the end line may follow
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._finished:
            self._advance()
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _line(self) -> tuple[bytes, bool]:
        raw = self._src.readline(COLUMNS + 3)
        ended = raw.endswith(b"\n")
        line = raw[:-1] if ended else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > COLUMNS:
            raise ArmorError("armor line longer than 64 columns")
        return line, ended

    def _start(self) -> None:
        skipped = 0
        while True:
            raw = self._src.readline(MAX_WHITESPACE + len(BEGIN) + 3)
            if not raw:
                raise ArmorError("no armor begin line")
            if raw.strip(_WHITESPACE):
                break
            skipped += len(raw)
            if skipped > MAX_WHITESPACE:
                raise ArmorError("too much leading whitespace")
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        if line != BEGIN:
            raise ArmorError("invalid armor begin line")
        self._started = True

    def _advance(self) -> None:
        if not self._started:
            self._start()
            return
        line, ended = self._line()
        if line == END:
            self._finish()
            return
        if not ended or self._needs_end:
            raise ArmorError("missing armor end line")
        if not line or len(line) % 4 or not _B64_PADDED.match(line):
            raise ArmorError("invalid base64 line in armor")
        try:
            data = binascii.a2b_base64(line, strict_mode=True)
        except binascii.Error:
            raise ArmorError("invalid base64 line in armor") from None
        if binascii.b2a_base64(data, newline=False) != line:
            raise ArmorError("non-canonical base64 in armor")
        if len(line) < COLUMNS or len(data) < LINE_BYTES:
            self._needs_end = True
        self._pending = memoryview(data)

    def _finish(self) -> None:
        trailing = self._src.read(MAX_WHITESPACE + 1)
        if trailing.strip(_WHITESPACE):
            raise ArmorError("data after the armor end line")
        if len(trailing) > MAX_WHITESPACE:
            raise ArmorError("too much trailing whitespace")
        self._finished = True
