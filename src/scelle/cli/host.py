"""Server-host commands: ``serve``, ``worker`` and ``admin``.

They run on the server host against the configured stores (``--data DIR`` or
``SCELLE_DATA``, ``SCELLE_DATABASE_URL``, ...). Server code is imported inside
the commands so that the client commands stay light.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from scelle.cli.console import emit_json, fail, stdout

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = ["register"]

admin_app = typer.Typer(
    help="Administer organisations and users (on the server host).", no_args_is_help=True
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
        False, "--json", help="Print the pass report as JSON (with --once)."
    ),
) -> None:
    """Purge expired and used-up transfers and reap orphans, now (--once) or every interval."""
    from scelle.server.logs import setup_logging
    from scelle.worker import run_forever, run_once

    services = _services(data)
    setup_logging(
        level=services.settings.log_level, json_lines=services.settings.log_json, log_dir=None
    )
    if once:
        report = run_once(services)
        if json_out:
            emit_json(
                {
                    "purged": report.purged,
                    "orphan_blobs": report.orphan_blobs,
                    "orphan_staging": report.orphan_staging,
                }
            )
        else:
            stdout.print(
                f"purged {report.purged} transfer(s); reaped {report.orphan_blobs} orphan blob(s)"
                f" and {report.orphan_staging} staged upload(s)"
            )
        return
    run_forever(services, interval=interval or services.settings.purge_interval_seconds)


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
    from scelle.accounts import service
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


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker_command)
    app.add_typer(admin_app, name="admin")
