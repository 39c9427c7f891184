"""``scelle breach``: assess (server host), register (server host), letters (sending organisation).

``assess`` and ``register`` run against the configured store like ``scelle
admin``; ``letters`` runs on the sending organisation's machine with its
pseudonymisation key and patient list, and imports no server code.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from scelle.cli.console import emit_json, fail, stdout

__all__ = ["breach_app", "register"]

breach_app = typer.Typer(
    help="Breach response: impact assessment, register, letters to people.",
    no_args_is_help=True,
)


def _moment(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{what} is not an ISO 8601 time (e.g. 2026-12-01T08:00Z)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@breach_app.command("assess")
def assess_command(
    start: str = typer.Option(..., "--from", help="Start of the breach window (ISO 8601, UTC)."),
    end: str = typer.Option(..., "--to", help="End of the breach window (ISO 8601, UTC)."),
    account: str | None = typer.Option(None, "--account", help="E-mail of the account concerned."),
    scope: str = typer.Option(
        "account",
        "--scope",
        help="server (server copied: ciphertext only), account (account taken over, "
        "no device key), key (device key compromised).",
    ),
    aware_at: str | None = typer.Option(
        None, "--aware-at", help="When the controller became aware (default: now); +72 h deadline."
    ),
    dpo_contact: str | None = typer.Option(None, "--dpo", help="DPO contact for the notice."),
    output_format: str = typer.Option(
        "md", "--format", help="md (the notice), json (the whole assessment) or pdf (the notice)."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="Language of the notice: fr or en (default: fr for pdf, en for md)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (required for pdf)."
    ),
    data: Path | None = typer.Option(None, "--data", envvar="SCELLE_DATA", help="Data folder."),
) -> None:
    """Which transfers a breach exposed, whether plaintext could be read, how many people and
    records, the 72-hour deadline, and a draft art. 33(3) notice; kept in the breach register."""
    if output_format not in {"md", "json", "pdf"}:
        fail("--format is md, json or pdf")
    language = lang or ("fr" if output_format == "pdf" else "en")
    if language not in {"fr", "en"}:
        fail("--lang is fr or en")
    if output_format == "pdf":
        if output is None:
            fail("--format pdf needs --output FILE")
        from scelle.breach.pdf import find_font

        find_font()  # no font: say so before the assessment is recorded
    from scelle.breach import service
    from scelle.config import load_settings
    from scelle.server.container import build_services

    services = build_services(load_settings(data=data))
    with services.database.transaction() as session:
        report = service.assess(
            session,
            services,
            start=_moment(start, "--from"),
            end=_moment(end, "--to"),
            scope=scope,
            account=account,
            aware_at=_moment(aware_at, "--aware-at") if aware_at else None,
            dpo_contact=dpo_contact,
        )
    notice = service.report_document(report, "md", language)
    if output_format == "pdf":
        from scelle.breach.pdf import notice_pdf

        assert output is not None  # noqa: S101  (checked above)
        _write(output, notice_pdf(notice))
        stdout.print(f"notice of assessment {report['id']} written to {output}")
    elif output_format == "json":
        text = service.report_document(report, "json")
        if output is None:
            emit_json(report)
        else:
            _write(output, text.encode())
    elif output is None:
        sys.stdout.write(notice)
    else:
        _write(output, notice.encode())


def _write(path: Path, data: bytes) -> None:
    try:
        path.expanduser().write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


@breach_app.command("register")
def register_command(
    data: Path | None = typer.Option(None, "--data", envvar="SCELLE_DATA", help="Data folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the register as JSON."),
) -> None:
    """The breach register: every assessment with its time line, newest first."""
    from scelle.breach import service
    from scelle.config import load_settings
    from scelle.server.container import build_services

    services = build_services(load_settings(data=data))
    with services.database.transaction() as session:
        entries = service.register(session)
    if json_out:
        emit_json(entries)
        return
    if not entries:
        stdout.print("the breach register is empty")
    for entry in entries:
        stdout.print(
            f"{entry['id']}  {entry['created_at']}  scope {entry['scope']}  "
            f"{entry['transfers']} transfers  {entry['subjects']} subjects  "
            f"plaintext {entry['plaintext_exposed']}  notify by {entry['notify_by']}"
        )


@breach_app.command("letters")
def letters_command(
    assessment: Path = typer.Option(
        ..., "--assessment", help="The assessment JSON (--format json)."
    ),
    patients: Path = typer.Option(..., "--patients", help="Your patient list (CSV)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the letters."),
    id_column: str = typer.Option("nir", "--id-column", help="Column of the NIR/INS."),
    name_column: str = typer.Option("nom", "--name-column", help="Column of the name."),
    address_columns: str = typer.Option(
        "adresse", "--address-columns", help="Address columns, comma-separated."
    ),
    org: str = typer.Option(..., "--org", help="Your organisation's name, to sign the letters."),
    contact: str = typer.Option(..., "--contact", help="Whom people may contact."),
    lang: str = typer.Option("fr", "--lang", help="fr (default) or en."),
    output_format: str = typer.Option(
        "txt", "--format", help="txt (default) or pdf: one file per person."
    ),
    key_file: Path | None = typer.Option(
        None, "--key-file", envvar="SCELLE_PSEUDONYM_KEY", help="Your pseudonymisation key."
    ),
) -> None:
    """On the sending organisation's side: map the exposed pseudonyms back to your patients
    (your key + your list) and write one letter per person (text or PDF)."""
    from scelle.breach.letters import exposed_people, write_letters
    from scelle.client.pseudonym_key import load_key

    try:
        report = json.loads(assessment.expanduser().read_text())
    except (ValueError, UnicodeDecodeError):
        fail("the assessment is not the JSON of `scelle breach assess --format json`")
    key = load_key(key_file)
    people = exposed_people(
        patients.expanduser(),
        report,
        key,
        id_column=id_column,
        name_column=name_column,
        address_columns=[c for c in address_columns.split(",") if c.strip()],
    )
    paths = write_letters(
        people,
        report,
        output.expanduser(),
        org=org,
        contact=contact,
        lang=lang,
        output_format=output_format,
    )
    stdout.print(f"{len(paths)} letters written to {output}")


def register(app: typer.Typer) -> None:
    """Add the ``breach`` group."""
    app.add_typer(breach_app, name="breach")
