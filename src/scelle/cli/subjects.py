"""Data-minimisation commands on the sender's device: ``scelle scan`` and ``scelle pseudonymize``.

They need no server and never import server code (import-linter contract).
"""

from __future__ import annotations

from pathlib import Path

import typer

from scelle.cli.console import emit_json, stdout

__all__ = ["register"]


def scan_command(
    source: Path = typer.Argument(..., help="CSV/TSV, XLSX or plain-text file to scan."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    delimiter: str | None = typer.Option(
        None, "--delimiter", "-d", help="Column delimiter (default: detected; 'tab' for TSV)."
    ),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="Text encoding (default: detected; UTF-8 with or without BOM, else cp1252).",
    ),
) -> None:
    """List the identifiers a file holds, per column: NIR/INS (key checked), phones,
    e-mails, birth dates, names, clinical free text. Reads the file in constant memory."""
    from scelle.subjects.scan import scan_path

    report = scan_path(source.expanduser(), encoding=encoding, delimiter=delimiter)
    if json_output:
        emit_json(report.as_dict())
        return
    from rich.table import Table

    details = [report.format]
    if report.encoding:
        details.append(report.encoding)
    if report.delimiter:
        details.append(f"delimiter {report.delimiter!r}")
    stdout.print(f"{report.path}: {report.rows} rows ({', '.join(details)})")
    if not report.findings:
        stdout.print("No identifier found.")
        return
    table = Table("column", "kind", "count", "invalid")
    for finding in report.findings:
        table.add_row(
            finding.column,
            finding.kind.value,
            str(finding.count),
            str(finding.invalid) if finding.invalid else "",
        )
    stdout.print(table)
    invalid = sum(report.invalid_totals().values())
    if invalid:
        stdout.print(f"{invalid} NIR-shaped values have a wrong key (counted apart as invalid).")


def register(app: typer.Typer) -> None:
    """Add ``scan`` and ``pseudonymize`` to the root command."""
    app.command("scan")(scan_command)
