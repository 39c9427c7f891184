"""Shared CLI conventions: one ``error: ...`` line, JSON output, progress bars."""

from __future__ import annotations

import getpass
import json
import sys
from types import TracebackType
from typing import Any, NoReturn, Protocol

import typer
from rich.console import Console

__all__ = [
    "ProgressBar",
    "ask_passphrase",
    "emit_json",
    "fail",
    "make_progress",
    "stderr",
    "stdout",
]

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr (one line, no traceback) and exit non-zero."""
    line = " ".join(message.split())
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def ask_passphrase(prompt: str, *, confirm: bool) -> str:
    """Ask on the terminal (twice when ``confirm``); fail on a mismatch or an empty answer."""
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Confirm the passphrase: ") != first:
        fail("the passphrases do not match")
    if not first:
        fail("the passphrase is empty")
    return first


def emit_json(data: Any) -> None:
    """Print data as JSON on stdout, for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


class ProgressBar(Protocol):
    """What commands use of a progress display."""

    def __enter__(self) -> ProgressBar: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def add_task(self, description: str, *, total: float | None = None) -> Any: ...

    def advance(self, task_id: Any, advance: float = 1) -> None: ...

    def update(self, task_id: Any, *, total: float | None = None) -> None: ...


class _Silent:
    """The progress display when stderr is not a terminal: does nothing, costs nothing."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def add_task(self, description: str, *, total: float | None = None) -> int:
        return 0

    def advance(self, task_id: Any, advance: float = 1) -> None:
        return None

    def update(self, task_id: Any, *, total: float | None = None) -> None:
        return None


def make_progress(*, enabled: bool | None = None) -> ProgressBar:
    """A Rich progress bar on stderr for transfers; silent when stderr is not a terminal.

    Rich's progress module is only imported when a bar is shown, which keeps
    scripted runs (and ``scelle encrypt`` in a pipe) quick to start.
    """
    show = stderr.is_terminal if enabled is None else enabled
    if not show:
        return _Silent()
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar: ProgressBar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    )
    return bar
