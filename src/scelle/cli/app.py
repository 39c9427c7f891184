"""The root ``scelle`` command.

Client commands (``cli.local``, ``cli.remote``) never import server code; the
server-host commands (``cli.host``: serve, worker, admin) import it lazily.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import typer

from scelle import __version__
from scelle.cli import local
from scelle.errors import ScelleError

__all__ = ["build_app", "main"]

_HELP: dict[str, Any] = dict(  # noqa: C408
    name="scelle",
    help="Scellé: zero-knowledge file exchange for health data (age-encrypted, signed, expiring).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scelle {__version__}")
        raise typer.Exit


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details on stderr."),
) -> None:
    """Scellé: send and receive health-data files that only their recipients can read."""
    # Without -v, stderr carries only the one `error: ...` line; -v adds the
    # precise reasons the client logs (which file check failed, and so on).
    level = logging.DEBUG if verbose or os.environ.get("SCELLE_DEBUG") else logging.ERROR
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def build_app(*, local_only: bool = False) -> typer.Typer:
    """The root command. ``local_only`` registers just the age-compatible local
    commands: ``scelle encrypt`` in a pipe then starts without importing the
    client and server-host commands (about a third of the start-up time)."""
    root = typer.Typer(**_HELP)
    root.callback()(_root)
    local.register(root)
    if not local_only:
        from scelle.cli import breach, host, remote, subjects

        subjects.register(root)
        breach.register(root)
        remote.register(root)
        host.register(root)
    return root


LOCAL_COMMANDS = frozenset({"encrypt", "decrypt"})


def main() -> None:
    """Console entry point: every ScelleError becomes one ``error: ...`` line and exit 1."""
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    entry = build_app(local_only=command in LOCAL_COMMANDS)
    try:
        entry(standalone_mode=True)
    except ScelleError as exc:
        _die(exc.diagnostics())
    except FileNotFoundError as exc:
        _die(f"no such file: {exc.filename}")
    except PermissionError as exc:
        _die(f"permission denied: {exc.filename}")
    except KeyboardInterrupt:
        _die("interrupted", code=130)


def _die(message: str, code: int = 1) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
