"""``scelle encrypt`` / ``scelle decrypt``: age-compatible, no server, no TTY needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scelle.crypto.age.identity import X25519Identity

SCELLE = str(Path(sys.executable).parent / "scelle")
AGE = "/usr/bin/age"


def scelle(
    *args: str, data: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    full_env.update(env or {})
    return subprocess.run(
        [SCELLE, *args], input=data, capture_output=True, env=full_env, check=False
    )


@pytest.fixture
def identity(tmp_path: Path) -> tuple[X25519Identity, Path]:
    key = X25519Identity.generate()
    path = tmp_path / "key.txt"
    path.write_text(f"{key}\n")
    return key, path


def test_encrypt_stdin_to_stdout_and_decrypt_back(identity: tuple[X25519Identity, Path]) -> None:
    key, path = identity
    sealed = scelle("encrypt", "-r", str(key.recipient), data=b"nir;result\n")
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.startswith(b"age-encryption.org/v1\n")
    opened = scelle("decrypt", "-i", str(path), data=sealed.stdout)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == b"nir;result\n"


def test_files_armor_and_the_age_tool(
    identity: tuple[X25519Identity, Path], tmp_path: Path
) -> None:
    key, path = identity
    plain = tmp_path / "results.csv"
    plain.write_bytes(os.urandom(200_000))
    sealed = tmp_path / "results.csv.age"
    result = scelle("encrypt", "-a", "-r", str(key.recipient), "-o", str(sealed), str(plain))
    assert result.returncode == 0, result.stderr
    assert sealed.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    via_age = subprocess.run(
        [AGE, "-d", "-i", str(path), str(sealed)], capture_output=True, check=True
    )
    assert via_age.stdout == plain.read_bytes()
    out = tmp_path / "back.csv"
    assert scelle("decrypt", "-i", str(path), "-o", str(out), str(sealed)).returncode == 0
    assert out.read_bytes() == plain.read_bytes()


def test_passphrase_from_the_environment(tmp_path: Path) -> None:
    env = {"SCELLE_PASSPHRASE": "correct horse"}
    sealed = scelle("encrypt", "-p", data=b"for the patient", env=env)
    assert sealed.returncode == 0, sealed.stderr
    assert b"-> scrypt " in sealed.stdout
    assert scelle("decrypt", data=sealed.stdout, env=env).stdout == b"for the patient"
    wrong = scelle("decrypt", data=sealed.stdout, env={"SCELLE_PASSPHRASE": "wrong"})
    assert wrong.returncode != 0
    assert wrong.stderr.decode().startswith("error: no identity matches")


def test_passphrase_without_a_terminal_or_variable_is_a_clear_error() -> None:
    result = scelle("encrypt", "-p", data=b"x")
    assert result.returncode != 0
    assert result.stderr.decode().strip() == (
        "error: a passphrase is needed: set SCELLE_PASSPHRASE (no terminal to ask on)"
    )


def test_wrong_key_leaves_no_output_file(
    identity: tuple[X25519Identity, Path], tmp_path: Path
) -> None:
    key, _ = identity
    sealed = scelle("encrypt", "-r", str(key.recipient), data=b"secret").stdout
    other = tmp_path / "other.txt"
    other.write_text(f"{X25519Identity.generate()}\n")
    out = tmp_path / "out.txt"
    result = scelle("decrypt", "-i", str(other), "-o", str(out), data=sealed)
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1
    assert not out.exists()
    assert list(tmp_path.glob(".scelle-*")) == []


def test_truncated_multi_chunk_file_leaves_no_partial_plaintext(
    identity: tuple[X25519Identity, Path], tmp_path: Path
) -> None:
    key, path = identity
    sealed = scelle("encrypt", "-r", str(key.recipient), data=os.urandom(3 * 1024 * 1024)).stdout
    out = tmp_path / "out.bin"
    result = scelle("decrypt", "-i", str(path), "-o", str(out), data=sealed[:-100])
    assert result.returncode == 1
    assert "cannot be decrypted" in result.stderr.decode()
    assert not out.exists()
    assert list(tmp_path.glob(".scelle-*")) == []


@pytest.mark.parametrize(
    "args",
    [
        ["encrypt"],
        ["encrypt", "-r", "age1notakey"],
        ["encrypt", "-p", "-r", "age1x"],
        ["decrypt", "-i", "/nonexistent/key.txt"],
    ],
)
def test_bad_arguments_give_one_error_line(args: list[str]) -> None:
    result = scelle(*args, data=b"x")
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr.decode()


def test_help_describes_the_commands() -> None:
    for command in ("encrypt", "decrypt"):
        result = scelle(command, "--help")
        assert result.returncode == 0
        assert b"--output" in result.stdout
