"""Export of the audit log, and its offline verification.

The export is JSON Lines (UTF-8, one JSON object per line), in this order:

1. a header: ``{"format": "scelle-audit-export/1", "origin": ..., "log_key": <verifier
   key>, "tree_size": N, "checkpoints": K}``;
2. K checkpoint lines, by tree size: ``{"checkpoint": "<signed note>"}``;
3. N event lines, by leaf index: ``{"leaf": i, "entry": "<canonical entry>",
   "leaf_hash": "<base64 stored leaf hash>"}``; the entry is the exact string
   whose UTF-8 bytes are hashed (leaf = SHA-256(0x00 || entry)).

``verify_export`` needs nothing but the file, the pinned log key and any tree
heads the verifier kept (a witness copy, a receipt's checkpoint). It
recomputes every leaf hash and the root at every checkpoint size in one pass
(O(n) hashes, O(log n) memory), checks every signature, and reports:

* an edited entry (its hash is not the stored one), at its leaf;
* a deleted, inserted or reordered entry (its ``seq`` is not its position), at
  the first leaf affected;
* a history that does not match a signed checkpoint (the leaves changed
  below that size), with the range of leaves that changed;
* a rollback (a checkpoint or tree head larger than the log);
* a fork (two different signed roots for one size).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from base64 import b64decode
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from typing import IO, Any

from sqlalchemy.orm import Session

from scelle.audit import repository
from scelle.audit.entry import parse_entry
from scelle.audit.service import entry_of
from scelle.crypto.errors import CryptoError
from scelle.crypto.merkle import TreeBuilder
from scelle.crypto.note import Checkpoint, NoteVerifier
from scelle.db.base import utcnow

__all__ = ["EXPORT_FORMAT", "VerifyReport", "verify_export", "write_export"]

EXPORT_FORMAT = "scelle-audit-export/1"
MAX_PROBLEMS = 50


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write_export(
    session: Session, verifier: NoteVerifier, out: IO[str], *, batch: int = 5000
) -> int:
    """Write the whole log (header, checkpoints, events) to ``out``; return the event count."""
    size = repository.tree_size(session)
    checkpoints = [c for c in repository.checkpoints(session) if c.tree_size <= size]
    header = {
        "format": EXPORT_FORMAT,
        "origin": verifier.name,
        "log_key": str(verifier),
        "tree_size": size,
        "checkpoints": len(checkpoints),
        "exported_at": utcnow().isoformat(),
    }
    out.write(_dumps(header) + "\n")
    for checkpoint in checkpoints:
        out.write(_dumps({"checkpoint": checkpoint.note}) + "\n")
    written = 0
    pending: list[Any] = []

    def flush() -> None:
        nonlocal written
        if not pending:
            return
        start = pending[0].seq - 1
        hashes = repository.leaf_hashes(session, start, start + len(pending))
        for offset, row in enumerate(pending):
            stored = hashes[offset] if offset < len(hashes) else b""
            line = {
                "leaf": row.seq - 1,
                "entry": entry_of(row).decode(),
                "leaf_hash": base64.b64encode(stored).decode(),
            }
            out.write(_dumps(line) + "\n")
        written += len(pending)
        pending.clear()

    for row in repository.events(session, batch=batch):
        if row.seq > size:
            break
        pending.append(row)
        if len(pending) >= batch:
            flush()
    flush()
    return written


@dataclass
class VerifyReport:
    """What ``verify_export`` found: ``ok`` only when ``problems`` is empty."""

    origin: str = ""
    entries: int = 0
    checkpoints: int = 0
    tree_heads: int = 0
    latest_size: int = 0
    key_from_export: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("(more problems not shown)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "origin": self.origin,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "tree_heads": self.tree_heads,
            "latest_checkpoint_size": self.latest_size,
            "log_key_from_export": self.key_from_export,
            "problems": self.problems,
        }


_DECODER = json.JSONDecoder()


def _json_line(raw: str, where: str) -> dict[str, Any]:
    try:
        value = _DECODER.decode(raw)
    except json.JSONDecodeError:
        raise ValueError(f"{where}: not a JSON line") from None
    if not isinstance(value, dict):
        raise ValueError(f"{where}: not a JSON object")
    return value


@dataclass
class _Head:
    size: int
    root: bytes
    source: str


def _open_heads(
    notes: Iterable[tuple[str, str]], verifier: NoteVerifier, report: VerifyReport
) -> dict[int, _Head]:
    """Verify every checkpoint; detect forks. Returns the heads by size."""
    heads: dict[int, _Head] = {}
    for source, note in notes:
        try:
            checkpoint = Checkpoint.open(note, verifier)
        except CryptoError as exc:
            report.fail(f"{source}: the signature does not verify with the log key ({exc})")
            continue
        known = heads.get(checkpoint.size)
        if known is not None and not hmac.compare_digest(known.root, checkpoint.root_hash):
            report.fail(
                f"fork: {known.source} and {source} are two different signed trees of size "
                f"{checkpoint.size}"
            )
            continue
        heads.setdefault(checkpoint.size, _Head(checkpoint.size, checkpoint.root_hash, source))
    return heads


def _events(lines: Iterator[str], first_line: int) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, start=first_line):
        if raw.strip():
            yield number, _json_line(raw, f"line {number}")


def verify_export(
    lines: Iterable[str],
    verifier: NoteVerifier | None,
    tree_heads: Iterable[tuple[str, str]] = (),
) -> VerifyReport:
    """Check an export offline; every problem is reported with where it is.

    ``verifier`` is the pinned log key (None: the key the export names, which
    proves only self-consistency; ``report.key_from_export`` says so).
    ``tree_heads`` are (source name, signed checkpoint) pairs kept apart from
    the server. Raises ValueError for a file that is not an export at all.
    """
    report = VerifyReport()
    stream = iter(lines)
    header = _json_line(next(stream, ""), "line 1")
    if header.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a Scellé audit export (format {header.get('format')!r})")
    try:
        named = NoteVerifier.parse(str(header.get("log_key", "")))
    except CryptoError as exc:
        raise ValueError(f"line 1: the export's log key is malformed ({exc})") from None
    if verifier is None:
        verifier, report.key_from_export = named, True
    elif named != verifier:
        report.fail("the export names a log key that is not the pinned one")
    report.origin = verifier.name
    count = header.get("checkpoints")
    if not isinstance(count, int) or count < 0:
        raise ValueError("line 1: the number of checkpoints is missing")
    notes: list[tuple[str, str]] = []
    for number in range(2, count + 2):
        line = _json_line(next(stream, ""), f"line {number}")
        notes.append((f"checkpoint at line {number}", str(line.get("checkpoint", ""))))
    report.checkpoints = len(notes)
    heads = _open_heads(notes, verifier, report)
    report.latest_size = max(heads, default=0)
    held = list(tree_heads)
    report.tree_heads = len(held)
    for size, head in _open_heads(held, verifier, report).items():
        known = heads.get(size)
        if known is not None and not hmac.compare_digest(known.root, head.root):
            report.fail(
                f"fork: {head.source} and {known.source} are two different signed trees of size "
                f"{size}"
            )
        else:
            heads.setdefault(size, head)
    _verify_events(_events(stream, count + 2), heads, report)
    declared = header.get("tree_size")
    if declared != report.entries:
        report.fail(f"the export says it holds {declared} entries but holds {report.entries}")
    return report


def _verify_events(
    events: Iterator[tuple[int, dict[str, Any]]], heads: dict[int, _Head], report: VerifyReport
) -> None:
    sizes = sorted(heads)
    builder = TreeBuilder()
    next_head = 0
    last_good = 0
    order_reported = False
    while next_head < len(sizes) and sizes[next_head] == 0:
        next_head += 1
    for number, line in events:
        index = builder.size
        raw = line.get("entry")
        if not isinstance(raw, str):
            report.fail(f"line {number}: no entry")
            raw = ""
        computed = sha256(b"\x00" + raw.encode()).digest()
        try:
            seq = parse_entry(raw)["seq"]
        except ValueError as exc:
            report.fail(f"leaf {index} (seq {index + 1}, line {number}): malformed entry: {exc}")
            seq = None
        if (seq != index + 1 or line.get("leaf") != index) and not order_reported:
            report.fail(
                f"leaf {index} (seq {index + 1}, line {number}): holds the entry of seq {seq}: "
                "entries were deleted, inserted or reordered here"
            )
            order_reported = True
        try:
            stored = b64decode(line.get("leaf_hash", ""), validate=True)
        except (binascii.Error, ValueError, TypeError):
            stored = b""
        if stored and stored != computed:  # both public: no need for a constant-time compare
            report.fail(
                f"leaf {index} (seq {index + 1}, line {number}): the entry was edited "
                "(it no longer hashes to its leaf)"
            )
        builder.extend((computed,))
        while next_head < len(sizes) and sizes[next_head] == builder.size:
            head = heads[sizes[next_head]]
            if not hmac.compare_digest(builder.root(), head.root):
                report.fail(
                    f"the log does not match {head.source} (size {head.size}): leaves "
                    f"{last_good}..{head.size - 1} (seq {last_good + 1}..{head.size}) were "
                    "edited, deleted, inserted or reordered"
                )
            else:
                last_good = head.size
            next_head += 1
    report.entries = builder.size
    for size in sizes[next_head:]:
        head = heads[size]
        report.fail(
            f"rollback: {head.source} is a signed tree of {size} entries but the export holds "
            f"{builder.size} (seq {builder.size + 1}..{size} are missing: the log was rolled "
            "back or its last entries deleted)"
        )
