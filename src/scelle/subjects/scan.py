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
3. Each block of whole lines is split into cells and transposed; each column's
   values are joined and searched with compiled bytes regexes in one C call per
   column and kind. NIR-shaped values are looked for in *every* column (a
   cheap digit-run count skips columns without one), their keys checked
   (:func:`scelle.subjects.nir.split_by_key`); a wrong key counts apart as
   ``invalid``. From the first block holding a quote character on, the rest of
   the file goes through the ``csv`` module (quoted cells may hold delimiters
   and newlines).

XLSX goes through ``openpyxl`` in read-only (streaming) mode, plain text line
by line as one column. UTF-16 files are decoded as a text stream.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Iterable, Sequence
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

__all__ = ["Finding", "ScanReport", "scan_path", "scan_rows"]

BLOCK_BYTES = 4 * 1024 * 1024
SAMPLE_BYTES = 64 * 1024
SAMPLE_ROWS = 1000
BATCH_ROWS = 4096
DELIMITERS = ",;\t|"

# Every digit becomes "0", everything else a space: the cheap tests run on it
# before a regex does. Any NIR holds a run of 8 digits (its last 8, even in
# Corsica: 2A/2B sit before them); any phone number a run of 9, or three
# pairs apart.
_RUN_TABLE = bytes(ord("0") if chr(c) in "0123456789" else ord(" ") for c in range(256))
_RUN = b"0" * 8
_PHONE_RUN = b"0" * 9  # 0612345678, +33612345678
_PHONE_PAIRS = b"00 00 00"  # 06 12 34 56 78, 06.12.34.56.78 (separators became spaces)


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
        text = b"\n".join(values)
        if not text:
            return
        counts = self.counts
        runs = text.translate(_RUN_TABLE)
        if _RUN in runs or self.spaced_nir:
            candidates = nir.COMPACT_PATTERN.findall(text)
            if self.spaced_nir:
                candidates += [
                    value.replace(b" ", b"").replace(b".", b"")
                    for value in nir.SPACED_PATTERN.findall(text)
                ]
            if candidates:
                valid, invalid = nir.split_by_key(candidates)
                counts[self.id_kind] = counts.get(self.id_kind, 0) + len(valid)
                self.invalid += invalid
                if identifiers is not None:
                    identifiers.update(value.decode("ascii") for value in valid)
        if b"@" in text:
            found = len(EMAIL_PATTERN.findall(text))
            if found:
                counts[Kind.EMAIL] = counts.get(Kind.EMAIL, 0) + found
        if self.phones and (_PHONE_RUN in runs or _PHONE_PAIRS in runs):
            found = len(PHONE_PATTERN.findall(text))
            if found:
                counts[Kind.PHONE] = counts.get(Kind.PHONE, 0) + found
        if self.birth_dates:
            found = len(BIRTH_DATE_PATTERN.findall(text))
            if found:
                counts[Kind.BIRTH_DATE] = counts.get(Kind.BIRTH_DATE, 0) + found
        if self.names or self.health:
            filled = len(values) - values.count(b"")
            kind = Kind.HEALTH_TEXT if self.health else Kind.NAME
            counts[kind] = counts.get(kind, 0) + filled

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


def _delimited(  # noqa: PLR0912, PLR0915  (one streaming loop, its cases in line)
    raw: IO[bytes],
    path: str,
    *,
    encoding: str | None,
    delimiter: str | None,
    identifiers: set[str] | None,
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
    raw.seek(start)
    pending = b""
    offset = start
    while True:
        chunk = raw.read(BLOCK_BYTES)
        block = pending + chunk
        pending = b""
        if chunk:
            cut = block.rfind(b"\n") + 1
            block, pending = block[:cut], block[cut:]
        if b'"' in block or b'"' in pending:
            # From here on, quoted cells: the csv module reads the rest.
            raw.seek(offset)
            _feed_csv(raw, encoding, delimiter, table, skip_header=False)
            break
        offset += len(block)
        if block:
            if b"\r" in block:
                block = block.replace(b"\r\n", b"\n")
            lines = block.split(b"\n")
            if lines[-1] == b"":
                lines.pop()
            table.feed([line.split(sep) for line in lines])
        if not chunk:
            break
    return ScanReport(
        path, "csv", encoding, delimiter, header, table.rows, table.findings(), identifiers
    )


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
) -> ScanReport:
    """Scan one file (CSV/TSV, XLSX, plain text) in constant memory.

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
            raw, str(path), encoding=encoding, delimiter=delimiter, identifiers=identifiers
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
