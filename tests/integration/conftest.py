"""A real ``scelle serve`` process for end-to-end tests, on every backend.

Every test that uses the stores (``settings``, ``services``, ``client``,
``live_server``) runs twice: on ``sqlite`` (the embedded default: SQLite and
a local blob folder, in-memory throttling) and on ``scale`` (PostgreSQL +
SeaweedFS + Redis, the stack of several server processes). A test that reads
the embedded blob folder itself runs on ``postgresql`` (with local blobs)
instead of ``scale``; one that reads the SQLite file runs on ``sqlite`` only.
The non-embedded runs carry the ``scale`` marker: ``pytest -m "not scale"``
is the quick embedded-only subset.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from tests.factories import PASSWORD, totp_code

# Tests that open the embedded files themselves (the SQLite file, the blob folder):
# they check what the embedded layout promises, so they run where that layout is.
NEEDS_SQLITE_FILE = {
    "test_tampered_ciphertext_or_metadata_is_refused_and_nothing_is_written",
    "test_a_copy_of_the_server_contains_no_plaintext",
}
NEEDS_LOCAL_BLOBS = {
    "test_send_to_an_org_then_receive_until_the_limit",
    "test_an_interrupted_upload_resumes",
    "test_the_stored_blob_opens_with_the_reference_age_tool",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each store-using test on every backend it can run on."""
    if "backend" not in metafunc.fixturenames:
        return
    name = metafunc.function.__name__
    params = [pytest.param("sqlite", id="sqlite")]
    if name in NEEDS_LOCAL_BLOBS:
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.scale))
    elif name not in NEEDS_SQLITE_FILE:
        params.append(pytest.param("scale", id="scale", marks=pytest.mark.scale))
    # A module that shares one server per backend between its tests (a
    # module-scoped ``live_server``) asks for module-scoped backends.
    scope = "module" if getattr(metafunc.module, "SHARED_SERVER", False) else "function"
    metafunc.parametrize("backend", params, scope=scope)


BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    data: Path
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def scelle(
        self,
        *args: str,
        home: Path | None = None,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``scelle`` command (no TTY) and return its result."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
        full_env.update(self.env)
        full_env.update({"SCELLE_DATA": str(self.data), "SCELLE_SERVER": self.url})
        if home is not None:
            full_env["SCELLE_HOME"] = str(home)
        full_env.update(env or {})
        result = subprocess.run(
            [str(BIN / "scelle"), *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=full_env,
            timeout=300,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"scelle {' '.join(args)} failed: {result.stderr}")
        return result


def start_server(
    data: Path, *, extra_env: dict[str, str] | None = None, port: int | None = None
) -> LiveServer:
    port = port or free_port()
    log = data.parent / f"serve-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    env.update(extra_env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "scelle"), "serve", "--data", str(data), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"scelle serve exited: {log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return LiveServer(
                    url=url, data=data, process=process, log=log, env=dict(extra_env or {})
                )
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("scelle serve did not become healthy in 30 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def live_server(tmp_path: Path, store_env: dict[str, str]) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "server-data", extra_env=store_env)
    yield server
    stop_server(server)


DEVICE_PASSPHRASE = "device passphrase 1"


def enrolled_home(server: LiveServer, home: Path, email: str, org: str, role: str) -> None:
    """Create, enrol, log in and keygen a user through the real CLI, state in ``home``."""
    created = json.loads(
        server.scelle("admin", "create-user", email, "--org", org, "--role", role, "--json").stdout
    )
    enrolled = json.loads(
        server.scelle(
            "enrol",
            "--server",
            server.url,
            "--token",
            created["enrolment_token"],
            "--password-stdin",
            "--json",
            home=home,
            stdin=PASSWORD + "\n",
        ).stdout
    )
    server.scelle(
        "login",
        "--server",
        server.url,
        "--email",
        email,
        "--password-stdin",
        "--otp",
        totp_code(enrolled["totp_secret"]),
        home=home,
        stdin=PASSWORD + "\n",
    )
    server.scelle("keygen", "--passphrase-stdin", home=home, stdin=DEVICE_PASSPHRASE + "\n")


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one ``error: ...`` line a failed command prints (no trace, nothing else)."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]
