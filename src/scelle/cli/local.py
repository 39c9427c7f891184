"""Local, age-compatible commands that need no server: ``scelle encrypt`` and ``scelle decrypt``.

They read stdin and write stdout by default, like ``age``. With ``-o``, output
goes to a temporary file beside the target, fsynced and renamed into place
only on success: a wrong key or a tampered file never leaves partial plaintext.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import typer

from scelle.cli.console import ask_passphrase, fail, make_progress
from scelle.crypto.age.decrypt import decrypt
from scelle.crypto.age.encrypt import encrypt
from scelle.crypto.age.identity import Identity, ScryptIdentity, parse_identity_file
from scelle.crypto.age.recipients import Recipient, ScryptRecipient, X25519Recipient
from scelle.crypto.errors import AgeError, CryptoError, NoIdentityMatchError

__all__ = ["register"]

PASSPHRASE_ENV = "SCELLE_PASSPHRASE"  # noqa: S105  (the name of a variable)


@contextlib.contextmanager
def output_stream(path: Path | None) -> Iterator[IO[bytes]]:
    """Yield where to write: stdout, or a temporary file renamed onto ``path`` on success."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = path.expanduser()
    if target.is_dir():
        fail(f"{target} is a folder; give a file name with -o")
    handle, temporary = tempfile.mkstemp(prefix=".scelle-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def input_stream(path: Path | None) -> Iterator[tuple[IO[bytes], int | None]]:
    """Yield the input stream and its size when known."""
    if path is None or str(path) == "-":
        yield sys.stdin.buffer, None
        return
    with path.expanduser().open("rb") as src:
        yield src, os.fstat(src.fileno()).st_size


def _passphrase(*, confirm: bool) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        fail(f"a passphrase is needed: set {PASSPHRASE_ENV} (no terminal to ask on)")
    return ask_passphrase("Passphrase: ", confirm=confirm)


def _progress_run(
    label: str, size: int | None, work: Callable[[Callable[[int], None]], None]
) -> None:
    with make_progress() as progress:
        task = progress.add_task(label, total=size)
        work(lambda count: progress.advance(task, count))


def encrypt_command(
    source: Path | None = typer.Argument(None, help="File to encrypt (default: stdin)."),
    recipients: list[str] = typer.Option(
        [], "--recipient", "-r", help="An age X25519 recipient (age1...). Repeatable."
    ),
    recipients_file: list[Path] = typer.Option(
        [], "--recipients-file", "-R", help="A file of recipients, one per line. Repeatable."
    ),
    passphrase: bool = typer.Option(
        False, "--passphrase", "-p", help=f"Encrypt with a passphrase ({PASSPHRASE_ENV} or prompt)."
    ),
    armor: bool = typer.Option(False, "--armor", "-a", help="Write PEM-style ASCII armor."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Output file (default: stdout)."
    ),
) -> None:
    """Encrypt to age v1 recipients or a passphrase; the reference `age -d` can decrypt it."""
    texts = list(recipients)
    for path in recipients_file:
        lines = path.expanduser().read_text().splitlines()
        texts += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if passphrase and texts:
        fail("-p cannot be combined with recipients: a passphrase must be the only recipient")
    if not passphrase and not texts:
        fail("give at least one recipient (-r age1...) or -p")
    targets: list[Recipient]
    if passphrase:
        targets = [ScryptRecipient(_passphrase(confirm=True))]
    else:
        try:
            targets = [X25519Recipient.parse(text) for text in texts]
        except CryptoError:
            fail("a recipient is not an age X25519 recipient (age1...)")
    if output is None and not armor and sys.stdout.isatty():
        fail("refusing to write binary to a terminal: use -o FILE or -a")
    with input_stream(source) as (src, size), output_stream(output) as dst:
        _progress_run(
            "encrypting",
            size,
            lambda advance: encrypt(src, dst, targets, armor=armor, progress=advance),
        )


def decrypt_command(
    source: Path | None = typer.Argument(None, help="File to decrypt (default: stdin)."),
    identity_files: list[Path] = typer.Option(
        [],
        "--identity",
        "-i",
        help="An age identity file (AGE-SECRET-KEY-1...). Repeatable. "
        f"Without it, the file's passphrase is used ({PASSPHRASE_ENV} or prompt).",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Output file (default: stdout)."
    ),
) -> None:
    """Decrypt an age v1 file (binary or armored). With -o, no partial output is ever left."""
    identities: list[Identity] = []
    for path in identity_files:
        try:
            identities += parse_identity_file(path.expanduser().read_text())
        except CryptoError as exc:
            fail(f"{path}: {exc}")
    if not identities:
        identities = [ScryptIdentity(_passphrase(confirm=False))]
    with input_stream(source) as (src, size):
        try:
            with output_stream(output) as dst:
                _progress_run(
                    "decrypting",
                    size,
                    lambda advance: decrypt(src, dst, identities, progress=advance),
                )
        except NoIdentityMatchError:
            fail("no identity matches this file (wrong key or passphrase)")
        except AgeError as exc:
            fail(f"the file cannot be decrypted: {exc}")


def register(app: typer.Typer) -> None:
    """Add ``encrypt`` and ``decrypt`` to the root command."""
    app.command("encrypt")(encrypt_command)
    app.command("decrypt")(decrypt_command)
