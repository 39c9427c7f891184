"""Server-host commands: ``serve``, ``worker``, ``admin`` and ``audit``.

They run on the server host against the configured stores (``--data DIR`` or
``SCELLE_DATA``, ``SCELLE_DATABASE_URL``, ...). Server code is imported inside
the commands so that the client commands stay light.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from scelle.cli.console import emit_json, fail, make_progress, stderr, stdout

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = ["register"]

admin_app = typer.Typer(
    help="Administer organisations and users (on the server host).", no_args_is_help=True
)

audit_app = typer.Typer(
    help="Export, verify and read the tamper-evident audit log (on the server host).",
    no_args_is_help=True,
)

DataOption = typer.Option(
    None,
    "--data",
    envvar="SCELLE_DATA",
    help="Data folder of the embedded default (SQLite + blobs).",
)


def _services(data: Path | None) -> Services:
    from scelle.config import load_settings
    from scelle.server.container import build_services

    return build_services(load_settings(data=data))


def serve(
    data: Path | None = DataOption,
    host: str = typer.Option(
        "127.0.0.1", "--host", envvar="SCELLE_HOST", help="Address to listen on."
    ),
    port: int = typer.Option(8600, "--port", envvar="SCELLE_PORT", help="Port to listen on."),
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Also run the purge worker in this process."
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        envvar="SCELLE_WORKERS",
        help="Server processes (uvicorn workers); each builds its stores from the settings.",
    ),
) -> None:
    """Run the server (embedded default: SQLite + blobs in the data folder)."""
    import uvicorn

    from scelle.config import load_settings

    settings = load_settings(data=data, host=host, port=port)
    if workers > 1:
        # Before any metric exists in this process: the worker thread counts here too.
        _prepare_worker_processes(settings.data)

    from scelle.server.app import create_app
    from scelle.server.container import build_services
    from scelle.server.logs import setup_logging

    setup_logging(level=settings.log_level, json_lines=settings.log_json, log_dir=settings.log_dir)
    if workers > 1 and settings.s3_endpoint and not settings.redis_url:
        fail("--workers N with S3 storage needs SCELLE_REDIS_URL (upload locks across processes)")
    services = build_services(settings)  # migrates once, before any worker process starts
    stop = threading.Event()
    if worker:
        from scelle.worker import run_forever

        threading.Thread(
            target=run_forever,
            args=(services,),
            kwargs={"interval": settings.purge_interval_seconds, "stop": stop},
            name="scelle-worker",
            daemon=True,
        ).start()
    url = f"http://{host}:{port}"
    stdout.print(f"Scellé is serving on [bold]{url}[/bold]  (data: {settings.data})")
    stdout.print(
        "First steps on this host:\n"
        f"  scelle admin create-org my-org --data {settings.data}\n"
        f"  scelle admin create-user you@example.org --org my-org --role admin --role sender"
        f" --data {settings.data}\n"
        f"  scelle enrol --server {url} --token <the token printed above>"
    )
    common = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": 30,
    }
    try:
        if workers == 1:
            uvicorn.run(create_app(services=services), **common)  # type: ignore[arg-type]
        else:
            uvicorn.run(
                "scelle.server.app:create_app_from_environment",
                factory=True,
                workers=workers,
                **common,  # type: ignore[arg-type]
            )
    finally:
        stop.set()


def _prepare_worker_processes(data: Path) -> None:
    """Hand the settings to the worker processes (environment) and share their metrics."""
    import os
    import shutil

    os.environ["SCELLE_DATA"] = str(data)
    metrics_dir = data / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700, parents=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))


def worker_command(
    data: Path | None = DataOption,
    once: bool = typer.Option(False, "--once", help="Run one pass and exit."),
    interval: float | None = typer.Option(None, "--interval", help="Seconds between passes."),
    json_out: bool = typer.Option(
        False, "--json", help="Print the pass report as JSON (with --once or --scrub)."
    ),
    scrub_now: bool = typer.Option(
        False,
        "--scrub",
        help="Re-read every stored ciphertext against its signed digest, report, and exit "
        "(non-zero when one is damaged). The worker also scrubs every "
        "SCELLE_SCRUB_INTERVAL_SECONDS (default one day).",
    ),
) -> None:
    """Purge expired and used-up transfers, reap orphans, sign audit checkpoints.

    Runs one pass (--once) or a pass every interval. A checkpoint is signed
    when the audit tree grew and SCELLE_CHECKPOINT_INTERVAL_SECONDS passed.
    """
    from scelle.server.logs import setup_logging
    from scelle.worker import run_forever, run_once

    services = _services(data)
    setup_logging(
        level=services.settings.log_level, json_lines=services.settings.log_json, log_dir=None
    )
    if scrub_now:
        _scrub(services, json_out=json_out)
        return
    if once:
        report = run_once(services)
        if json_out:
            emit_json(
                {
                    "purged": report.purged,
                    "orphan_blobs": report.orphan_blobs,
                    "orphan_staging": report.orphan_staging,
                    "checkpoint": report.checkpoint,
                    "errors": report.errors,
                }
            )
        else:
            stdout.print(
                f"purged {report.purged} transfer(s); reaped {report.orphan_blobs} orphan blob(s)"
                f" and {report.orphan_staging} staged upload(s)"
            )
            if report.checkpoint is not None:
                stdout.print(f"signed the audit checkpoint of tree size {report.checkpoint}")
            for code in report.errors:
                stderr.print(f"warning: {code}")
        return
    run_forever(services, interval=interval or services.settings.purge_interval_seconds)


def _scrub(services: Services, *, json_out: bool) -> None:
    from scelle.transfers.scrub import scrub

    report = scrub(services)
    if json_out:
        emit_json(
            {"checked": report.checked, "bytes_read": report.bytes_read, "corrupt": report.corrupt}
        )
    else:
        stdout.print(f"scrubbed {report.checked} ciphertext(s), {report.bytes_read} bytes")
    if report.corrupt:
        listed = ", ".join(f"{tid} ({why})" for tid, why in sorted(report.corrupt.items()))
        fail(f"{len(report.corrupt)} stored ciphertext(s) damaged: {listed}")


@admin_app.command("create-org")
def create_org(
    name: str = typer.Argument(..., help="Short name such as cpam-75 (lowercase, digits, dashes)."),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create an organisation."""
    from scelle.accounts import service

    services = _services(data)
    with services.database.transaction() as session:
        org = service.create_org(session, services, name)
        result = {"org_id": org.id, "name": org.name}
    if json_out:
        emit_json(result)
    else:
        stdout.print(f"created organisation {result['name']} ({result['org_id']})")


@admin_app.command("create-user")
def create_user(
    email: str = typer.Argument(..., help="The user's e-mail (their login)."),
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: list[str] = typer.Option(
        ..., "--role", help="sender, recipient or admin; repeat for several."
    ),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create a user and print their one-time enrolment token (valid 72 hours)."""
    from scelle.accounts import service, tokens
    from scelle.db.models import Role

    try:
        roles = {Role(r.strip().lower()) for r in role}
    except ValueError:
        fail("a role is one of: sender, recipient, admin")
    services = _services(data)
    with services.database.transaction() as session:
        user, token = service.create_user(session, services, email, org_name=org, roles=roles)
        result = {
            "user_id": user.id,
            "email": user.email,
            "org": org,
            "roles": sorted(user.roles.split()),
            "enrolment_token": token,
            "enrolment_expires_at": user.enrolment_expires_at,
        }
    if json_out:
        emit_json(result)
    else:
        stdout.print(f"created {result['email']} ({result['user_id']}) in {org}")
        stdout.print(
            f"one-time enrolment token (give it to the user over a trusted channel): {token}"
        )
        stdout.print("they run: scelle enrol --server URL --token <token>")
        base = services.settings.public_url
        link = tokens.enrolment_link(base or "https://SERVER", token)
        stdout.print(f"or open in a browser: {link}" + ("" if base else " (SERVER: your host)"))


@admin_app.command("list-users")
def list_users(
    org: str = typer.Option(..., "--org", help="Organisation name."),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """List the users of an organisation."""
    from scelle.accounts import repository

    services = _services(data)
    with services.database.transaction() as session:
        organisation = repository.org_by_name(session, org.strip().lower())
        if organisation is None:
            fail(f"no organisation named '{org}'")
        users = [
            {
                "user_id": u.id,
                "email": u.email,
                "roles": sorted(u.roles.split()),
                "status": u.status,
            }
            for u in repository.users_of_org(session, organisation.id)
        ]
    if json_out:
        emit_json(users)
        return
    for user in users:
        stdout.print(
            f"{user['user_id']}  {user['email']}  {' '.join(user['roles'])}  {user['status']}"
        )


@audit_app.command("export")
def audit_export(
    output: Path = typer.Option(..., "--output", "-o", help="File to write (JSON Lines)."),
    data: Path | None = DataOption,
) -> None:
    """Write the whole log (checkpoints, then every event with its leaf hash) as JSON Lines.

    The format is in docs/protocol.md ("Audit export"); check it anywhere with
    scelle audit verify --export FILE --log-key KEY.
    """
    from scelle.audit.export import write_export

    services = _services(data)
    tmp = output.with_name(f".{output.name}.tmp")
    with services.database.transaction() as session, tmp.open("w", encoding="utf-8") as out:
        count = write_export(session, services.log_signer.verifier, out)
    tmp.replace(output)
    stdout.print(f"exported {count} audit event(s) to {output}")


def _read_log_key(value: str) -> str:
    path = Path(value)
    if "+" not in value and path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value


@audit_app.command("verify")
def audit_verify(
    export: Path = typer.Option(..., "--export", help="An export written by scelle audit export."),
    tree_head: list[Path] = typer.Option(
        [],
        "--tree-head",
        help="A signed checkpoint you kept (a witness copy, a receipt); repeat for several.",
    ),
    log_key: str | None = typer.Option(
        None,
        "--log-key",
        envvar="SCELLE_AUDIT_LOG_VERIFIER",
        help="The pinned log key (<name>+<id>+<key>, or a file holding it).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check an export offline: every entry, every checkpoint signature, their consistency.

    Detects an edited, deleted, reordered or inserted entry, a rollback to an
    older tree and two different checkpoints of the same size (a fork), and
    says where. Without --log-key the key named in the export is used, which
    only proves the export agrees with itself.
    """
    from scelle.audit.export import verify_export
    from scelle.crypto.errors import CryptoError
    from scelle.crypto.note import NoteVerifier

    try:
        verifier = NoteVerifier.parse(_read_log_key(log_key)) if log_key else None
    except CryptoError as exc:
        fail(f"the log key is malformed: {exc}")
    heads = [(f"tree head {path}", path.read_text(encoding="utf-8")) for path in tree_head]
    try:
        with export.open(encoding="utf-8") as lines:
            report = verify_export(lines, verifier, heads)
    except UnicodeDecodeError:
        fail(f"{export} is not a UTF-8 text file")
    except ValueError as exc:
        fail(str(exc))
    if json_out:
        emit_json(report.to_dict())
    else:
        if report.key_from_export:
            stderr.print("warning: no --log-key given: checked against the key the export names")
        for problem in report.problems:
            stdout.print(f"FAILED: {problem}")
        if report.ok:
            stdout.print(
                f"ok: {report.entries} entries, {report.checkpoints} checkpoint(s) and"
                f" {report.tree_heads} tree head(s) of {report.origin} verify"
            )
    if not report.ok:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        fail(f"the audit log does not verify: {report.problems[0]}{more}")


@audit_app.command("show")
def audit_show(
    transfer: str = typer.Option(..., "--transfer", help="The transfer id (tr_...)."),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the events as JSON."),
) -> None:
    """One transfer's life: every audit event about it, in order, with its leaf index."""
    import json

    from scelle import ids
    from scelle.audit import service

    if not ids.is_valid(transfer, "tr"):
        fail("a transfer id looks like tr_...")
    services = _services(data)
    with services.database.transaction() as session:
        events = [
            {"leaf_index": e.seq - 1, "entry": json.loads(service.entry_of(e))}
            for e in service.transfer_events(session, transfer)
        ]
    if not events:
        fail(f"no audit event about {transfer}")
    if json_out:
        emit_json(events)
        return
    for event in events:
        entry = event["entry"]
        extra = " ".join(f"{k}={v}" for k, v in sorted(entry["data"].items()))
        stdout.print(
            f"{event['leaf_index']:>8}  {entry['at']}  {entry['tag']:<28}"
            f" actor={entry['actor_id'] or '-'}  {extra}"
        )


@admin_app.command("set-policy")
def set_policy(
    org: str = typer.Option(..., "--org", help="Organisation name."),
    rule: list[str] = typer.Option(
        [],
        "--rule",
        help="KIND=ACTION, repeatable: kinds nir, ins, phone, email, birth_date, name, "
        "health_text; actions allow, warn, purpose, block. The rules given replace the policy.",
    ),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Set an organisation's send policy (what `scelle send` and the server enforce)."""
    from scelle.accounts import repository
    from scelle.transfers import service

    rules: dict[str, str] = {}
    for item in rule:
        kind, sep, action = item.partition("=")
        if not sep:
            fail(f"a rule is KIND=ACTION, not {item!r}")
        rules[kind.strip().lower()] = action.strip().lower()
    services = _services(data)
    with services.database.transaction() as session:
        organisation = repository.org_by_name(session, org.strip().lower())
        if organisation is None:
            fail(f"no organisation named '{org}'")
        kept = service.set_policy(session, services, organisation.id, rules)
    if json_out:
        emit_json({"org": org, "rules": kept})
    else:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(kept.items())) or "allow everything"
        stdout.print(f"send policy of {org}: {shown}")


@admin_app.command("require-passkey")
def require_passkey(
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: list[str] = typer.Option(
        [],
        "--role",
        help="sender, recipient or admin; repeat for several. The roles given replace the "
        "previous ones; none (with --off) lifts the requirement.",
    ),
    off: bool = typer.Option(False, "--off", help="Require passkeys for no role."),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Require passkeys for roles of an organisation (their TOTP logins are then refused).

    A member without a passkey who logs in with TOTP gets, instead of a session,
    one passkey registration; once they have a passkey, only it logs them in.
    """
    from scelle.accounts import passkeys, repository
    from scelle.db.models import Role

    if off == bool(role):
        fail("give --role ROLE (repeatable) or --off")
    try:
        roles = {Role(r.strip().lower()) for r in role}
    except ValueError:
        fail("a role is one of: sender, recipient, admin")
    services = _services(data)
    with services.database.transaction() as session:
        organisation = repository.org_by_name(session, org.strip().lower())
        if organisation is None:
            fail(f"no organisation named '{org}'")
        kept = passkeys.set_required_roles(session, services, organisation, roles)
    if json_out:
        emit_json({"org": org, "passkey_roles": kept})
    else:
        shown = ", ".join(kept) or "no role"
        stdout.print(f"passkeys required in {org} for: {shown}")


def _user_id(services: Services, email: str) -> str:
    from scelle.accounts import repository, service
    from scelle.errors import InvalidInput

    try:
        address = service.normalise_email(email)
    except InvalidInput:
        fail("not a valid e-mail address")
    with services.database.transaction() as session:
        user = repository.user_by_email(session, address)
        if user is None:
            fail(f"no user with the e-mail {address}")
        return user.id


@admin_app.command("disable-user")
def disable_user(
    email: str = typer.Argument(..., help="The user's e-mail."),
    data: Path | None = DataOption,
) -> None:
    """Disable an account now: every web session ends, every API token is revoked (audited).

    Later logins are refused exactly like a wrong password. `enable-user` undoes it.
    """
    from scelle.accounts import service

    services = _services(data)
    user_id = _user_id(services, email)
    with services.database.transaction() as session:
        service.disable_user(session, services, user_id)
    stdout.print(f"disabled {email}: its sessions and API tokens are revoked")


@admin_app.command("enable-user")
def enable_user(
    email: str = typer.Argument(..., help="The user's e-mail."),
    data: Path | None = DataOption,
) -> None:
    """Re-enable a disabled account (audited); the user logs in again."""
    from scelle.accounts import service

    services = _services(data)
    user_id = _user_id(services, email)
    with services.database.transaction() as session:
        service.enable_user(session, services, user_id)
    stdout.print(f"enabled {email}")


@admin_app.command("reset-passkeys")
def reset_passkeys(
    email: str = typer.Argument(..., help="The user's e-mail."),
    data: Path | None = DataOption,
) -> None:
    """Remove every passkey of a user who lost their authenticator (audited).

    Under a passkey policy they then get one passkey registration at their next
    TOTP login. Check who is asking over a trusted channel first.
    """
    from scelle.accounts import passkeys, repository

    services = _services(data)
    user_id = _user_id(services, email)
    with services.database.transaction() as session:
        user = repository.user_by_id(session, user_id)
        assert user is not None  # noqa: S101  (just looked up)
        count = passkeys.reset_passkeys(session, services, user)
    stdout.print(f"removed {count} passkey(s) of {email}")


@admin_app.command("lockdown")
def lockdown(
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """End every web session, revoke every token and enrolment, abort every upload (audited)."""
    from scelle.breach import service

    services = _services(data)
    with services.database.transaction() as session:
        result = service.lockdown(session, services)
    for key in result.blob_keys:
        services.blobs.delete(key)
    summary = {
        "tokens_revoked": result.tokens,
        "enrolments_cancelled": result.enrolments,
        "uploads_aborted": result.uploads,
    }
    if json_out:
        emit_json(summary)
    else:
        stdout.print(
            f"lockdown: {result.tokens} API tokens revoked, {result.enrolments} pending "
            f"enrolments cancelled, {result.uploads} unfinished uploads aborted"
        )


@admin_app.command("backup")
def backup_command(
    output: Path = typer.Option(
        ..., "--output", "-o", help="Backup folder to create (must not exist or be empty)."
    ),
    keys_out: Path | None = typer.Option(
        None,
        "--keys-out",
        help="Also write the host keys (server secret, audit log key) to this separate "
        "folder, for your secrets vault; they are never in the backup folder.",
    ),
    data: Path | None = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Back up the embedded default while it runs: database snapshot, ciphertext, witness.

    The database is copied with SQLite's online backup API (one consistent
    snapshot, writers go on), then the ciphertext of every available
    transfer of that snapshot, each checked against its signed digest. Only
    ciphertext and metadata: no plaintext, no key. PostgreSQL and S3 are
    backed up with pg_dump and a bucket copy (docs/operations.md).
    """
    from scelle.backups.service import back_up

    services = _services(data)
    with make_progress() as progress:
        task = progress.add_task("backing up ciphertext", total=None)
        report = back_up(
            services,
            output,
            keys_out=keys_out,
            on_total=lambda total: progress.update(task, total=total),
            advance=lambda count: progress.advance(task, count),
        )
    summary = {**dataclasses.asdict(report), "path": str(report.path)}
    if json_out:
        emit_json(summary)
        return
    stdout.print(
        f"backed up the database, {report.blobs} ciphertext(s) ({report.bytes} bytes) and"
        f" {report.witness_files} witness checkpoint(s) to {report.path}"
    )
    if report.gone:
        stdout.print(f"{len(report.gone)} transfer(s) purged while the backup ran stay gone")
    if keys_out is not None:
        stdout.print(f"host keys written to {keys_out}: keep them apart from the backup")


@admin_app.command("restore")
def restore_command(
    source: Path = typer.Argument(..., help="A folder written by scelle admin backup."),
    data: Path = typer.Option(
        ..., "--data", help="The new data folder to create (must not exist or be empty)."
    ),
    keys: Path | None = typer.Option(
        None,
        "--keys",
        help="The folder backup --keys-out wrote (else SCELLE_SECRET_KEY and "
        "SCELLE_AUDIT_LOG_KEY must be set).",
    ),
    log_key: str | None = typer.Option(
        None,
        "--log-key",
        envvar="SCELLE_AUDIT_LOG_VERIFIER",
        help="The log key you pinned (<name>+<id>+<key>, or a file holding it): the "
        "restored audit log must verify against it.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Restore a backup into a new data folder, checking everything first.

    Refuses a non-empty target. Checks the database's integrity, the keys
    against the backup, every ciphertext's SHA-256 against the database, and
    the audit log against the log key and the witness copies; the folder
    appears only when all pass. Then run scelle worker --once on it: it
    purges what expired since the backup.
    """
    from scelle.backups.service import restore
    from scelle.config import load_settings

    settings = load_settings()
    if settings.database_url:
        fail("restore rebuilds an embedded data folder; restore PostgreSQL with pg_restore")
    pinned = _read_log_key(log_key) if log_key else None
    with make_progress() as progress:
        task = progress.add_task("restoring ciphertext", total=None)
        report = restore(
            source,
            data,
            keys=keys,
            log_key=pinned,
            settings=settings,
            on_total=lambda total: progress.update(task, total=total),
            advance=lambda count: progress.advance(task, count),
        )
    summary = {**dataclasses.asdict(report), "path": str(report.path)}
    if json_out:
        emit_json(summary)
        return
    stdout.print(
        f"restored {report.blobs} ciphertext(s) ({report.bytes} bytes) into {report.path};"
        f" audit log ok: {report.audit_entries} entries, {report.checkpoints} checkpoint(s),"
        f" {report.tree_heads} witness copies"
    )
    stdout.print(f"next: scelle worker --once --data {report.path}  (purges what expired since)")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker_command)
    app.add_typer(admin_app, name="admin")
    app.add_typer(audit_app, name="audit")
