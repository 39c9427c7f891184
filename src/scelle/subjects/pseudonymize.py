"""``scelle pseudonymize``: replace the values of named columns with keyed pseudonyms.

The output keeps the input's structure: the same delimiter, header, line
endings, encoding (a UTF-8 BOM stays), and quoting style (every cell quoted if
the header was, else only where needed, as the ``csv`` module does). Cells are
streamed, the output written to a temporary file renamed into place on success.
A NIR-shaped value is reduced to its compact form first, so ``1 85 05 ...`` and
``18505...`` give the same pseudonym.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scelle.crypto.pseudonym import PseudonymKey
from scelle.errors import InvalidInput
from scelle.subjects import nir
from scelle.subjects.kinds import normalise_header
from scelle.subjects.scan import SAMPLE_BYTES, detect_delimiter, detect_encoding

__all__ = ["PseudonymizeResult", "identifier_form", "pseudonymize_file"]


@dataclass(frozen=True)
class PseudonymizeResult:
    """What was rewritten."""

    rows: int
    cells: int
    columns: list[str]
    encoding: str
    delimiter: str


def identifier_form(value: str) -> str:
    """The form a value is pseudonymised in: a NIR without separators, else the value."""
    compact = nir.normalise(value)
    if len(compact) == 15 and nir.COMPACT_PATTERN.fullmatch(compact.encode()):
        return compact
    return value


def _select(header: list[str], wanted: list[str]) -> list[int]:
    names = [normalise_header(cell) for cell in header]
    indexes: list[int] = []
    for item in wanted:
        text = item.strip()
        if text.isdigit() and 1 <= int(text) <= len(header):
            indexes.append(int(text) - 1)
            continue
        key = normalise_header(text)
        if not key or key not in names:
            raise InvalidInput(f"no column named {text!r} in the header")
        indexes.append(names.index(key))
    if not indexes:
        raise InvalidInput("name at least one column with --columns")
    return sorted(set(indexes))


def pseudonymize_file(
    source: Path,
    output: Path,
    columns: list[str],
    key: PseudonymKey,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> PseudonymizeResult:
    """Write ``source`` to ``output`` with the named columns (header names or 1-based numbers)
    pseudonymised. Raises InvalidInput (unknown column, not delimited text)."""
    if source.resolve() == output.resolve():
        raise InvalidInput("the output must be another file than the input")
    with source.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        if sample.startswith(b"PK\x03\x04"):
            raise InvalidInput("XLSX files are not pseudonymised; export the sheet as CSV")
        encoding = encoding or detect_encoding(sample)
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InvalidInput(f"unknown encoding: {encoding}") from exc
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, False)
        delimiter = delimiter or detect_delimiter(text)
        if delimiter.lower() in {"tab", "\\t"}:
            delimiter = "\t"
        first_line = text.split("\n", 1)[0]
        line_end = "\r\n" if first_line.endswith("\r") else "\n"
        quote_all = first_line.lstrip("\ufeff").startswith('"') and all(
            cell.startswith('"') for cell in first_line.rstrip("\r").split(delimiter)
        )
        raw.seek(0)
        reader_stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(reader_stream, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise InvalidInput("the file is empty")
        indexes = _select(header, columns)
        out_dir = output.expanduser().resolve().parent
        handle, temporary = tempfile.mkstemp(prefix=".scelle-", suffix=".part", dir=out_dir)
        rows = cells = 0
        try:
            with open(handle, "w", encoding=encoding, newline="") as out:
                writer = csv.writer(
                    out,
                    delimiter=delimiter,
                    lineterminator=line_end,
                    quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                )
                writer.writerow(header)
                for row in reader:
                    for index in indexes:
                        if index < len(row) and row[index].strip():
                            row[index] = key.column_pseudonym(identifier_form(row[index]))
                            cells += 1
                    writer.writerow(row)
                    rows += 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, output)
        except csv.Error as exc:
            raise InvalidInput(f"the file is not valid delimited text: {exc}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            reader_stream.detach()
    return PseudonymizeResult(rows, cells, [header[i] for i in indexes], encoding, delimiter)
