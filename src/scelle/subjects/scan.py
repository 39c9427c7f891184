"""The scanner behind ``scelle scan`` and ``scelle send``: the identifiers of a file, per column.

Streaming, constant memory: a file is read in blocks of a few MiB and never
whole (unless the caller asks to collect the identifiers for the subject
index, which then grows with the number of distinct people).

How it goes, for a delimited file (CSV/TSV, any delimiter):

1. The first 64 KiB give the encoding (BOM, else UTF-8 if it decodes, else
   cp1252, else latin-1), the delimiter (``csv.Sniffer``) and whether the first
   row is a header.
2. The header and the first rows decide what each column is (header words and
   value heuristics, :mod:`scelle.subjects.kinds`).
3. Each block of whole lines (4 MiB) goes to the C inner loop
   (``_fastscan.scan_block``, compiled at install from ``_fastscan.c``):
   one pass over the bytes counts every kind per column, with the exact
   semantics of the regexes below (tests/unit/subjects/test_fastscan.py
   holds the two equal). Without the extension, or when collecting the
   identifiers themselves, or for a ragged block, Python does it: the block
   is split into cells in one call
   (newlines first turned into "delimiter + newline") and, when every line
   has the table's number of cells, each column is a slice of that list: no
   Python code runs per line or per cell (a ragged block goes line by line).
   Each column's cells are joined and searched with compiled bytes regexes
   in one C call per column and kind, behind cheap tests on a digit map of
   the column (a NIR needs a run of 15 digits, or 2A/2B and 8 digits). A
   column of bare NIRs is recognised by its shape without the regex.
   NIR-shaped values are looked for in *every* column, their keys checked
   all at once (:func:`scelle.subjects.nir.key_mask`); a wrong key counts
   apart as ``invalid``. From the first block holding a quote character on,
   the rest of the file goes through the ``csv`` module (quoted cells may
   hold delimiters and newlines).
4. A large file is cut into line-aligned byte ranges scanned by forked
   processes (``jobs``); their counts add up to the single-process result. A
   range that meets a quote stops there and the csv module reads on from it.

XLSX goes through ``openpyxl`` in read-only (streaming) mode, plain text line
by line as one column. UTF-16 files are decoded as a text stream.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import itertools
import multiprocessing
import os
import threading
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from scelle.errors import InvalidInput
from scelle.subjects import nir
from scelle.subjects.kinds import (
    BIRTH_DATE_PATTERN,
    EMAIL_PATTERN,
    PHONE_PATTERN,
    Kind,
    header_kinds,
    looks_clinical,
    looks_like_name,
)

try:
    from scelle.subjects import _fastscan
except ImportError:  # not compiled (a source install without a C compiler)
    _fastscan = None  # type: ignore[assignment]

__all__ = ["Finding", "ScanReport", "scan_path", "scan_rows"]

BLOCK_BYTES = 4 * 1024 * 1024
SAMPLE_BYTES = 64 * 1024
SAMPLE_ROWS = 1000
BATCH_ROWS = 4096
#: Files from this size on are scanned by several processes (one byte range each).
PARALLEL_BYTES = 64 * 1024 * 1024
MAX_JOBS = 4
DELIMITERS = ",;\t|"

# Every digit becomes "0", A/B (the letters of 2A/2B) "b", everything else a
# space: the cheap tests run on it before a regex does. A compact NIR holds a
# run of 15 digits, or "2A"/"2B" then 8 digits; a phone number a run of 9, or
# three pairs apart.
_RUN_TABLE = bytes(
    ord("0") if chr(c) in "0123456789" else ord("b") if chr(c) in "ABab" else ord(" ")
    for c in range(256)
)
_COMPACT_RUN = b"0" * 15
_CORSICA_RUN = b"0b" + b"0" * 8
# Every phone number holds "[1-9] [sep] 00", so one of these (a necessary
# condition: a column without either has none).
_PHONE_STARTS = (b"000", b"0 00")
# A column of bare NIRs, one per cell: its shape, checked over the whole column.
_SHAPE_TABLE = bytes(
    ord("0")
    if chr(c) in "0123456789"
    else ord("b")
    if chr(c) in "ABab"
    else ord("\n")
    if c == 10
    else ord("x")
    for c in range(256)
)
# The column flags of _fastscan.scan_block (see _fastscan.c).
_FAST_PHONES, _FAST_SPACED_NIR, _FAST_BIRTH_DATES = 1, 2, 4
_NOT_TWO = bytes(0 if c == ord("2") else 1 for c in range(256))
_IS_LETTER = bytes(1 if c == ord("b") else 0 for c in range(256))
_FIRST_DIGITS = b"123478"


def _bare_nir_column(text: bytes, cells: int) -> bool:
    """Whether ``text`` is ``cells`` compact NIR shapes joined by newlines, and nothing else.

    Then every cell is one :data:`nir.COMPACT_PATTERN` match, found without
    running the regex: the layout (a newline every 16 bytes), the characters
    (digits, 2A/2B at positions 5-6 only) and the first digit are checked with
    C-level calls over the whole column.
    """
    if (
        cells == 0
        or len(text) != 16 * cells - 1
        or text[15::16].count(b"\n") != cells - 1
        or text.count(b"\n") != cells - 1
        or text[0::16].translate(None, _FIRST_DIGITS)
    ):
        return False
    shape = text.translate(_SHAPE_TABLE)
    letters = shape.count(b"b")
    if shape.count(b"0") + letters != 15 * cells:
        return False
    if not letters:
        return True
    at_six = shape[6::16]
    # every letter at position 6, each after the "2" of 2A/2B at position 5
    return at_six.count(b"b") == letters and not (
        int.from_bytes(at_six.translate(_IS_LETTER), "little")
        & int.from_bytes(text[5::16].translate(_NOT_TWO), "little")
    )


@dataclass
class Finding:
    """One kind of identifier found in one column."""

    column: str
    index: int
    kind: Kind
    count: int
    invalid: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "index": self.index,
            "kind": self.kind.value,
            "count": self.count,
            "invalid": self.invalid,
        }


@dataclass
class ScanReport:
    """What a scan found: per column and kind, with totals per kind."""

    path: str
    format: str
    encoding: str | None
    delimiter: str | None
    header: bool
    rows: int
    findings: list[Finding] = field(default_factory=list)
    identifiers: set[str] | None = field(default=None, repr=False)

    def totals(self) -> dict[str, int]:
        """Count per kind over all columns (NIR/INS: valid keys only)."""
        out: dict[str, int] = {}
        for finding in self.findings:
            out[finding.kind.value] = out.get(finding.kind.value, 0) + finding.count
        return out

    def invalid_totals(self) -> dict[str, int]:
        """NIR-shaped values with a wrong key, per kind."""
        out: dict[str, int] = {}
        for finding in self.findings:
            if finding.invalid:
                out[finding.kind.value] = out.get(finding.kind.value, 0) + finding.invalid
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header": self.header,
            "rows": self.rows,
            "columns": [finding.as_dict() for finding in self.findings],
            "totals": self.totals(),
            "invalid": self.invalid_totals(),
        }


class _Column:
    """Counters and the decisions (taken from the header and the first rows) for one column."""

    def __init__(self, index: int, name: str) -> None:
        self.index = index
        self.name = name
        self.announced = header_kinds(name) if name else set()
        self.id_kind = Kind.INS if Kind.INS in self.announced else Kind.NIR
        self.phones = Kind.PHONE in self.announced
        self.spaced_nir = bool(self.announced & {Kind.NIR, Kind.INS})
        self.birth_dates = Kind.BIRTH_DATE in self.announced
        self.names = Kind.NAME in self.announced
        self.health = Kind.HEALTH_TEXT in self.announced
        self.counts: dict[Kind, int] = {}
        self.invalid = 0

    def decide(self, sample: Sequence[str]) -> None:
        """Settle the value heuristics on the first rows' cells of this column."""
        filled = [value for value in sample if value.strip()]
        if not filled:
            return
        encoded = "\n".join(filled).encode()
        if PHONE_PATTERN.search(encoded):
            self.phones = True
        if nir.SPACED_PATTERN.search(encoded):
            self.spaced_nir = True
        named = sum(1 for value in filled if looks_like_name(value))
        if named >= 5 and named * 2 >= len(filled):
            self.names = True
        clinical = sum(1 for value in filled if looks_clinical(value))
        mean = sum(map(len, filled)) / len(filled)
        if self.health and mean < 15:
            self.health = False  # a "notes" column of codes is not free text
        elif clinical * 10 >= len(filled) * 3 and mean >= 25:
            self.health = True
        if self.health:
            self.phones = True  # free text may carry a number
            self.names = False

    def feed(self, values: Sequence[bytes], identifiers: set[str] | None) -> None:
        """Count one batch of this column's cells."""
        self.feed_text(b"\n".join(values), len(values), values.count(b""), identifiers)

    def feed_text(self, text: bytes, cells: int, empty: int, identifiers: set[str] | None) -> None:
        """Count one batch of this column: ``cells`` cells joined by newlines, ``empty`` empty."""
        if not text:
            return
        runs = text.translate(_RUN_TABLE)
        if self.spaced_nir or _COMPACT_RUN in runs or _CORSICA_RUN in runs:
            self._count_nirs(text, cells, identifiers)
        if b"@" in text:
            self._tally(Kind.EMAIL, len(EMAIL_PATTERN.findall(text)))
        if self.phones and any(start in runs for start in _PHONE_STARTS):
            self._tally(Kind.PHONE, len(PHONE_PATTERN.findall(text)))
        if self.birth_dates:
            self._tally(Kind.BIRTH_DATE, len(BIRTH_DATE_PATTERN.findall(text)))
        self._tally_filled(cells - empty)

    @property
    def flags(self) -> int:
        """What :func:`_fastscan.scan_block` looks for in this column beyond NIRs and e-mails."""
        return (
            (_FAST_PHONES if self.phones else 0)
            | (_FAST_SPACED_NIR if self.spaced_nir else 0)
            | (_FAST_BIRTH_DATES if self.birth_dates else 0)
        )

    def add_fast_counts(self, counts: Sequence[int]) -> None:
        """Add one block's counts from :func:`_fastscan.scan_block` (its six per column)."""
        valid, invalid, emails, phones, birth_dates, filled = counts
        self._tally(self.id_kind, valid)
        self._tally(Kind.EMAIL, emails)
        self._tally(Kind.PHONE, phones)
        self._tally(Kind.BIRTH_DATE, birth_dates)
        self.invalid += invalid
        self._tally_filled(filled)

    def _tally(self, kind: Kind, found: int) -> None:
        if found:
            self.counts[kind] = self.counts.get(kind, 0) + found

    def _tally_filled(self, filled: int) -> None:
        """Filled cells count as names, or as clinical text, in a column decided to hold them."""
        if self.names or self.health:
            self._tally(Kind.HEALTH_TEXT if self.health else Kind.NAME, filled)

    def _count_nirs(self, text: bytes, cells: int, identifiers: set[str] | None) -> None:
        if _bare_nir_column(text, cells):
            mask = nir.key_mask(text, 16)
            valid_count = mask.count(1)
            invalid = cells - valid_count
            if identifiers is not None:
                valid = itertools.compress(text.split(b"\n"), mask)
                identifiers.update(value.decode("ascii").upper() for value in valid)
        else:
            candidates = nir.COMPACT_PATTERN.findall(text)
            if self.spaced_nir:
                candidates += [
                    value.replace(b" ", b"").replace(b".", b"")
                    for value in nir.SPACED_PATTERN.findall(text)
                ]
            found, invalid = nir.split_packed(candidates)
            valid_count = len(found)
            if identifiers is not None:
                identifiers.update(value.decode("ascii") for value in found)
        self._tally(self.id_kind, valid_count)
        self.invalid += invalid

    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        label = self.name or f"column {self.index + 1}"
        for kind in Kind:
            count = self.counts.get(kind, 0)
            invalid = self.invalid if kind == self.id_kind else 0
            if count or invalid:
                out.append(Finding(label, self.index, kind, count, invalid))
        return out


class _Table:
    """Columns of one table (a delimited file, a sheet, a text file)."""

    def __init__(self, names: Sequence[str], identifiers: set[str] | None) -> None:
        self.columns = [_Column(i, name) for i, name in enumerate(names)]
        self.identifiers = identifiers
        self.rows = 0
        self._decided = False

    def _column(self, index: int) -> _Column:
        while index >= len(self.columns):
            self.columns.append(_Column(len(self.columns), ""))
        return self.columns[index]

    def decide(self, sample: Sequence[Sequence[str]]) -> None:
        """Take the value-heuristic decisions on the first rows (cells as text)."""
        width = max((len(row) for row in sample), default=0)
        for index in range(width):
            self._column(index).decide([row[index] if index < len(row) else "" for row in sample])
        self._decided = True

    def feed(self, rows: Sequence[Sequence[bytes]]) -> None:
        """Count a batch of rows (cells as bytes)."""
        if not rows:
            return
        self.rows += len(rows)
        for index, values in enumerate(itertools.zip_longest(*rows, fillvalue=b"")):
            self._column(index).feed(values, self.identifiers)

    def feed_block(self, block: bytes, sep: bytes) -> None:
        """Count a block of whole lines (newline-terminated, no CR LF) split by ``sep``.

        When every line has the table's number of cells (the usual case), the
        block is split once and each column taken by a slice: no Python code
        runs per line or per cell. Otherwise it goes line by line.
        """
        if not block:
            return
        if not block.endswith(b"\n"):
            block += b"\n"
        width = len(self.columns)
        if width and _fastscan is not None and self.identifiers is None:
            fast = _fastscan.scan_block(block, sep[0], bytes(c.flags for c in self.columns))
            if fast is not None:
                self.rows += fast[0]
                for index, column in enumerate(self.columns):
                    column.add_fast_counts(fast[1][index * 6 : index * 6 + 6])
                return
        rows = block.count(b"\n")
        if width:
            # "a;b\nc;d\n" -> [a, b, \nc, d, \n]: each newline starts a cell, so the
            # lines all have `width` cells exactly when the cells at multiples of
            # `width` hold all the newlines and the count adds up.
            flat = block.replace(b"\n", sep + b"\n").split(sep)
            if len(flat) == rows * width + 1 and (
                b"".join(flat[width::width]).count(b"\n") == rows
            ):
                self.rows += rows
                first = flat[0:-1:width]
                self.columns[0].feed_text(
                    b"".join(first), rows, first.count(b"") + first.count(b"\n"), self.identifiers
                )
                for index in range(1, width):
                    cells = flat[index::width]
                    self.columns[index].feed_text(
                        b"\n".join(cells), rows, cells.count(b""), self.identifiers
                    )
                return
        lines = block.split(b"\n")
        lines.pop()
        self.feed([line.split(sep) for line in lines])

    def merge(self, columns: Sequence[_Column], rows: int, identifiers: set[str] | None) -> None:
        """Add the counts of the same table scanned elsewhere (another byte range)."""
        self.rows += rows
        for other in columns:
            column = self._column(other.index)
            for kind, count in other.counts.items():
                column.counts[kind] = column.counts.get(kind, 0) + count
            column.invalid += other.invalid
        if self.identifiers is not None and identifiers:
            self.identifiers.update(identifiers)

    def findings(self) -> list[Finding]:
        return [finding for column in self.columns for finding in column.findings()]


# --- encodings, delimiters, headers ------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252 when it decodes, else latin-1."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _ascii_compatible(encoding: str) -> bool:
    return codecs.lookup(encoding).name in {"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"}


def detect_delimiter(text: str) -> str:
    """The delimiter of the first lines: ``csv.Sniffer``, else the most frequent candidate."""
    head = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = head.split("\n", 1)[0]
        best = max(DELIMITERS, key=first.count)
        return best if first.count(best) else ","


_VALUE_SHAPES = (nir.COMPACT_PATTERN, PHONE_PATTERN, EMAIL_PATTERN, BIRTH_DATE_PATTERN)


def is_header(cells: Sequence[str]) -> bool:
    """Whether a first row names columns rather than holding values."""
    if any(header_kinds(cell) for cell in cells):
        return True
    for cell in cells:
        raw = cell.strip().encode()
        if not raw or raw.replace(b".", b"").replace(b",", b"").isdigit():
            return False
        if any(shape.search(raw) for shape in _VALUE_SHAPES):
            return False
    return bool(cells)


# --- readers -------------------------------------------------------------------


def _delimited(
    raw: IO[bytes],
    path: str,
    *,
    encoding: str | None,
    delimiter: str | None,
    identifiers: set[str] | None,
    jobs: int | None,
) -> ScanReport:
    sample = raw.read(SAMPLE_BYTES)
    encoding = encoding or detect_encoding(sample)
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InvalidInput(f"unknown encoding: {encoding}") from exc
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    if delimiter is None:
        delimiter = detect_delimiter(text)
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise InvalidInput("the delimiter must be one character (not a quote or a newline)")
    try:
        head_rows = list(
            itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), SAMPLE_ROWS + 1)
        )
    except csv.Error as exc:
        raise InvalidInput(f"the file is not valid delimited text: {exc}") from exc
    if len(sample) == SAMPLE_BYTES and len(head_rows) > 1:
        head_rows.pop()  # may be cut in the middle
    first = head_rows[0] if head_rows else []
    header = is_header(first)
    table = _Table(first if header else [], identifiers)
    table.decide(head_rows[1:] if header else head_rows)

    if not _ascii_compatible(encoding):
        raw.seek(0)
        _feed_csv(raw, encoding, delimiter, table, skip_header=header)
        return ScanReport(
            path, "csv", encoding, delimiter, header, table.rows, table.findings(), identifiers
        )

    sep = delimiter.encode()
    start = len(codecs.BOM_UTF8) if sample.startswith(codecs.BOM_UTF8) else 0
    if header:
        # The header line is skipped by its length in bytes.
        end = sample.find(b"\n", start)
        start = len(sample) if end < 0 else end + 1
    quote_at: int | None
    size = os.fstat(raw.fileno()).st_size
    workers = _workers(jobs, size - start)
    if workers > 1:
        quote_at = _feed_parallel(raw, path, table, sep, start=start, size=size, workers=workers)
    else:
        quote_at = _feed_range(raw, table, sep, start, None)
    if quote_at is not None:
        # From here on, quoted cells: the csv module reads the rest.
        raw.seek(quote_at)
        _feed_csv(raw, encoding, delimiter, table, skip_header=False)
    return ScanReport(
        path, "csv", encoding, delimiter, header, table.rows, table.findings(), identifiers
    )


def _feed_range(
    raw: IO[bytes], table: _Table, sep: bytes, start: int, end: int | None
) -> int | None:
    """Feed the lines of ``raw`` from ``start`` (a line start) to ``end`` (one too, or EOF).

    Returns None, or the offset of the first block holding a quote character:
    the caller reads from there on with the csv module (quoted cells may hold
    delimiters and newlines), and nothing from there on has been counted.
    """
    raw.seek(start)
    offset = start
    while True:
        want = BLOCK_BYTES if end is None else min(BLOCK_BYTES, end - offset)
        block = raw.read(want) if want > 0 else b""
        if not block:
            return None
        if not block.endswith(b"\n"):
            # The rest of the cut line (`end` is a line start: it stays before it).
            block += raw.readline()
        if b'"' in block:
            return offset
        offset += len(block)
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
        table.feed_block(block, sep)


def _workers(jobs: int | None, size: int) -> int:
    if jobs is not None and jobs < 1:
        raise InvalidInput("--jobs is at least 1")
    # Workers are forked (spawn would re-import the caller's main module), and
    # only from a single-threaded process (a fork copies no other thread).
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    if jobs is not None:
        return jobs if size >= BLOCK_BYTES * jobs else 1
    if size < PARALLEL_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS))


def _line_start_after(raw: IO[bytes], offset: int) -> int:
    """The offset of the first line starting at or after ``offset`` (EOF if none)."""
    raw.seek(offset - 1)
    position = offset - 1
    while True:
        chunk = raw.read(64 * 1024)
        if not chunk:
            return position
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)


def _feed_parallel(
    raw: IO[bytes], path: str, table: _Table, sep: bytes, *, start: int, size: int, workers: int
) -> int | None:
    """Feed ``[start, size)`` in ``workers`` processes, one line-aligned byte range each.

    The counts are sums, so the result is the one a single process gets. A
    range holding a quote character stops there: the ranges after it are
    dropped and the caller reads on from that offset with the csv module, as
    the sequential scan does (before the first quote, newlines end records).
    """
    bounds = [start]
    for index in range(1, workers):
        bounds.append(
            max(bounds[-1], _line_start_after(raw, start + (size - start) * index // workers))
        )
    bounds.append(size)
    ranges = [(low, high) for low, high in itertools.pairwise(bounds) if high > low]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
        # Each worker gets copies of the columns as they are now (decisions, no
        # counts): the pool pickles arguments later, on a thread of its own, and
        # by then the columns below may hold the counts of ranges already merged.
        futures = [
            pool.submit(
                _scan_range,
                path,
                sep,
                copy.deepcopy(table.columns),
                start=low,
                end=high,
                collect=table.identifiers is not None,
            )
            for low, high in ranges
        ]
        for future in futures:
            columns, rows, identifiers, quote_at = future.result()
            table.merge(columns, rows, identifiers)
            if quote_at is not None:
                for rest in futures:
                    rest.cancel()
                return quote_at
    return None


def _scan_range(
    path: str, sep: bytes, columns: list[_Column], *, start: int, end: int, collect: bool
) -> tuple[list[_Column], int, set[str] | None, int | None]:
    """One worker of :func:`_feed_parallel`: its counts go back to the parent pickled."""
    table = _Table([], set() if collect else None)
    table.columns = columns
    with open(path, "rb") as raw:
        quote_at = _feed_range(raw, table, sep, start, end)
    return table.columns, table.rows, table.identifiers, quote_at


def _feed_csv(
    raw: IO[bytes], encoding: str, delimiter: str, table: _Table, *, skip_header: bool
) -> None:
    """Feed the rest of ``raw`` (from its position) through the csv module."""
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        reader = csv.reader(stream, delimiter=delimiter)
        if skip_header:
            next(reader, None)
        _feed_text_rows(table, reader)
    except csv.Error as exc:
        raise InvalidInput(f"the file is not valid delimited text: {exc}") from exc
    finally:
        stream.detach()


def _feed_text_rows(table: _Table, rows: Iterable[Sequence[str]]) -> None:
    iterator = iter(rows)
    while True:
        batch = [
            [cell.encode("utf-8", "replace") for cell in row]
            for row in itertools.islice(iterator, BATCH_ROWS)
        ]
        if not batch:
            return
        table.feed(batch)


def _cell_bytes(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)).encode()
    if isinstance(value, datetime | date):
        return value.isoformat()[:10].encode()
    return str(value).encode("utf-8", "replace")


def _xlsx(path: Path, identifiers: set[str] | None) -> ScanReport:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InvalidInput("the file is not a readable XLSX workbook") from exc
    findings: list[Finding] = []
    rows_total = 0
    any_header = False
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None:
                continue
            first_text = [_cell_bytes(v).decode() for v in first]
            header = is_header(first_text)
            any_header = any_header or header
            names = [f"{sheet.title}!{name}" if name else "" for name in first_text]
            table = _Table(first_text if header else [], identifiers)
            head = [[_cell_bytes(v) for v in row] for row in itertools.islice(rows, SAMPLE_ROWS)]
            if not header:
                head.insert(0, [_cell_bytes(v) for v in first])
            table.decide([[cell.decode("utf-8", "replace") for cell in row] for row in head])
            table.feed(head)
            while True:
                batch = [
                    [_cell_bytes(v) for v in row] for row in itertools.islice(rows, BATCH_ROWS)
                ]
                if not batch:
                    break
                table.feed(batch)
            for finding in table.findings():
                if header and names[finding.index : finding.index + 1]:
                    finding.column = names[finding.index]
                else:
                    finding.column = f"{sheet.title}!{finding.column}"
                findings.append(finding)
            rows_total += table.rows
    finally:
        book.close()
    return ScanReport(str(path), "xlsx", None, None, any_header, rows_total, findings, identifiers)


def _text(raw: IO[bytes], path: str, identifiers: set[str] | None) -> ScanReport:
    table = _Table(["(text)"], identifiers)
    column = table.columns[0]
    column.phones = True
    column.spaced_nir = True
    pending = b""
    while True:
        chunk = raw.read(BLOCK_BYTES)
        block = pending + chunk
        if chunk:
            cut = block.rfind(b"\n") + 1
            block, pending = block[:cut], block[cut:]
        lines = block.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if lines:
            table.rows += len(lines)
            column.feed(lines, identifiers)
        if not chunk:
            break
    return ScanReport(path, "text", None, None, False, table.rows, table.findings(), identifiers)


_TEXT_SUFFIXES = {".txt", ".log", ".md", ".text"}
_XLSX_MAGIC = b"PK\x03\x04"


def scan_path(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    collect_identifiers: bool = False,
    jobs: int | None = None,
) -> ScanReport:
    """Scan one file (CSV/TSV, XLSX, plain text) in constant memory.

    ``jobs``: processes for a delimited file, each scanning one byte range
    (default: up to :data:`MAX_JOBS`, one per available core, from
    :data:`PARALLEL_BYTES` on; 1 scans in this process). The result does not
    depend on it.

    ``collect_identifiers`` also returns the set of distinct valid NIR/INS
    values found (compact, upper case) in ``report.identifiers``, for the
    subject index. Raises InvalidInput for an unreadable file or options.
    """
    identifiers: set[str] | None = set() if collect_identifiers else None
    suffix = path.suffix.lower()
    with path.open("rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        if magic == _XLSX_MAGIC or suffix in {".xlsx", ".xlsm"}:
            return _xlsx(path, identifiers)
        if suffix in _TEXT_SUFFIXES:
            return _text(raw, str(path), identifiers)
        if delimiter is not None and delimiter.lower() in {"tab", "\\t"}:
            delimiter = "\t"
        return _delimited(
            raw,
            str(path),
            encoding=encoding,
            delimiter=delimiter,
            identifiers=identifiers,
            jobs=jobs,
        )


def scan_rows(
    rows: Iterable[Sequence[str]], *, header: bool = True, collect_identifiers: bool = False
) -> ScanReport:
    """Scan rows already in memory (tests, integrators): the first row is the header."""
    iterator = iter(rows)
    first = list(next(iterator, []))
    identifiers: set[str] | None = set() if collect_identifiers else None
    table = _Table(first if header else [], identifiers)
    head = list(itertools.islice(iterator, SAMPLE_ROWS))
    if not header and first:
        head.insert(0, first)
    table.decide(head)
    _feed_text_rows(table, itertools.chain(head, iterator))
    return ScanReport("-", "rows", None, None, header, table.rows, table.findings(), identifiers)
