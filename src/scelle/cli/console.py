"""Shared CLI conventions: one ``error: ...`` line, JSON output, progress bars."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["emit_json", "fail", "make_progress", "stderr", "stdout"]

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr (one line, no traceback) and exit non-zero."""
    line = " ".join(message.split())
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def emit_json(data: Any) -> None:
    """Print data as JSON on stdout, for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def make_progress(*, enabled: bool | None = None) -> Progress:
    """A Rich progress bar on stderr for transfers; hidden when stderr is not a terminal."""
    show = stderr.is_terminal if enabled is None else enabled
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=not show,
        transient=False,
    )
