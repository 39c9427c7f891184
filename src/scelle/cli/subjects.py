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
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Processes for a CSV/TSV file, one byte range each (default: one per core, "
        "up to 4, from 64 MiB on). Same result with any number.",
    ),
) -> None:
    """List the identifiers a file holds, per column: NIR/INS (key checked), phones,
    e-mails, birth dates, names, clinical free text. Reads the file in constant memory."""
    from scelle.subjects.scan import scan_path

    report = scan_path(source.expanduser(), encoding=encoding, delimiter=delimiter, jobs=jobs)
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


def pseudonymize_command(
    source: Path | None = typer.Argument(None, help="CSV/TSV file to pseudonymise."),
    columns: str | None = typer.Option(
        None, "--columns", "-c", help="Columns to replace: header names or 1-based numbers, A,B."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output file."),
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        envvar="SCELLE_PSEUDONYM_KEY",
        help="The organisation's pseudonymisation key (default: SCELLE_HOME/pseudonym.key, "
        "created on first use).",
    ),
    new_key: bool = typer.Option(
        False, "--new-key", help="Create a new key (at --key-file or the default) and exit."
    ),
    delimiter: str | None = typer.Option(None, "--delimiter", "-d", help="Column delimiter."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding."),
) -> None:
    """Replace the named columns' values with keyed pseudonyms (HMAC-SHA256 under the
    organisation's key), keeping the file's structure. Without the key, and the original
    list, nobody can tell who a pseudonym is."""
    from scelle.cli.console import fail, stderr
    from scelle.client.pseudonym_key import create_key, load_or_create_key

    if new_key:
        key = create_key(key_file)
        stdout.print(f"New pseudonymisation key {key.key_id} written (mode 0600).")
        stdout.print("Give the same key file to every sender of your organisation.")
        return
    if source is None or not columns or output is None:
        fail("give FILE, --columns and -o OUT (or --new-key)")
    from scelle.subjects.pseudonymize import pseudonymize_file

    key, created = load_or_create_key(key_file)
    if created:
        stderr.print(f"Created a new pseudonymisation key {key.key_id} in SCELLE_HOME.")
    result = pseudonymize_file(
        source.expanduser(),
        output.expanduser(),
        [c for c in columns.split(",") if c.strip()],
        key,
        delimiter=delimiter,
        encoding=encoding,
    )
    stdout.print(
        f"{result.cells} cells of {', '.join(result.columns)} pseudonymised "
        f"in {result.rows} rows (key {key.key_id})."
    )


def register(app: typer.Typer) -> None:
    """Add ``scan`` and ``pseudonymize`` to the root command."""
    app.command("scan")(scan_command)
    app.command("pseudonymize")(pseudonymize_command)
