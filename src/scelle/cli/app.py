"""The root ``scelle`` command.

Client commands (``cli.local``, ``cli.remote``) never import server code; the
server-host commands (``cli.host``: serve, worker, admin) import it lazily.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from scelle import __version__
from scelle.cli import host, local, remote
from scelle.errors import ScelleError

__all__ = ["app", "main"]

app = typer.Typer(
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


@app.callback()
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


local.register(app)
remote.register(app)
host.register(app)


def main() -> None:
    """Console entry point: every ScelleError becomes one ``error: ...`` line and exit 1."""
    try:
        app(standalone_mode=True)
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
