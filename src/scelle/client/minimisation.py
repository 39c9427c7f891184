"""Data minimisation at send time: scan the plaintext, enforce the policy, build the subject index.

Before ``scelle send`` encrypts a file, :func:`declare`:

1. scans it (:func:`scelle.subjects.scan.scan_path`; binary files are not
   scanned: their summary is empty and a warning says so);
2. checks the counts against the organisation's send policy (fetched from the
   server): ``block`` refuses, ``purpose`` refuses without ``--purpose``,
   ``warn`` returns a warning; the server checks the same counts again;
3. computes the subject index: for each distinct NIR/INS found, the keyed
   HMAC under the organisation's pseudonymisation key with the label
   ``scelle/v1/subject-index`` (:meth:`PseudonymKey.subject_pseudonym`), a
   label apart from the one ``scelle pseudonymize`` uses for cells.

The server receives only counts and pseudonyms; the purpose text goes into the
encrypted metadata. The client is trusted for the scan: a modified client can
declare anything (docs/threat-model.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scelle.client.api import ScelleClient
from scelle.client.pseudonym_key import load_or_create_key
from scelle.errors import InvalidInput, PolicyViolation
from scelle.subjects.scan import ScanReport, scan_path

__all__ = ["MAX_SUBJECTS", "Declaration", "declare", "enforce", "looks_binary"]

MAX_SUBJECTS = 200_000


@dataclass
class Declaration:
    """What ``scelle send`` tells the server about a file, and what it tells the user."""

    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    report: ScanReport | None = None


def looks_binary(path: Path) -> bool:
    """Whether the file starts like a binary file (a NUL byte in its first 8 KiB, and not XLSX)."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    return b"\x00" in head and not head.startswith(b"PK\x03\x04")


def enforce(rules: dict[str, str], totals: dict[str, int], purpose: str | None) -> list[str]:
    """Apply the send policy to the scan totals: warnings, or PolicyViolation."""
    warnings: list[str] = []
    for kind, action in sorted(rules.items()):
        count = totals.get(kind, 0)
        if not count:
            continue
        if action == "block":
            raise PolicyViolation(
                f"your organisation's send policy blocks files holding {kind} "
                f"({count} found); remove or pseudonymise the column (scelle pseudonymize)"
            )
        if action == "purpose" and not (purpose and purpose.strip()):
            raise PolicyViolation(
                f"the file holds {kind} ({count} found): your organisation's send policy "
                "needs a declared purpose (--purpose TEXT)"
            )
        if action == "warn":
            warnings.append(f"the file holds {count} values of kind {kind}")
    return warnings


def declare(
    client: ScelleClient,
    path: Path,
    *,
    purpose: str | None = None,
    key_file: Path | None = None,
    rules: dict[str, str] | None = None,
) -> Declaration:
    """Scan ``path``, enforce the policy (``rules``, else fetched), and build the request fields.

    Raises PolicyViolation (the policy refuses the file), LocalStateError
    (the pseudonymisation key is unreadable).
    """
    if rules is None:
        rules = dict(client.send_policy().get("rules", {}))
    warnings: list[str] = []
    report: ScanReport | None = None
    if looks_binary(path):
        warnings.append("binary file: not scanned for identifiers")
        totals: dict[str, int] = {}
        scan: dict[str, Any] = {"records": 0, "counts": {}, "invalid": {}}
    else:
        try:
            report = scan_path(path, collect_identifiers=True)
        except InvalidInput as exc:
            report = None
            warnings.append(f"not scanned for identifiers: {exc.message}")
            scan = {"records": 0, "counts": {}, "invalid": {}}
            totals = {}
        else:
            totals = report.totals()
            scan = {"records": report.rows, "counts": totals, "invalid": report.invalid_totals()}
    warnings += enforce(rules, totals, purpose)
    body: dict[str, Any] = {"scan": scan, "purpose_declared": bool(purpose and purpose.strip())}
    identifiers = report.identifiers if report is not None else None
    if identifiers:
        if len(identifiers) > MAX_SUBJECTS:
            raise PolicyViolation(
                f"the file names {len(identifiers)} people; one transfer's subject index "
                f"holds at most {MAX_SUBJECTS}: split the file"
            )
        key, _created = load_or_create_key(key_file)
        body["subjects"] = sorted({key.subject_pseudonym(value) for value in identifiers})
        body["pseudonym_key_id"] = key.key_id
    return Declaration(body=body, warnings=warnings, report=report)
