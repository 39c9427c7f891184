"""Start real ``scelle serve`` processes fast, for tests that kill hundreds of them.

A fresh ``scelle serve`` spends most of its start importing FastAPI,
SQLAlchemy and the rest (about 1.5 s of CPU here), which made 200 crash and
restart cycles cost most of ten minutes. This module keeps one process that
has done those imports and forks a child per server: the child runs the very
``scelle serve`` command line (``scelle.cli.app.main``) with its own
environment, arguments and log, so what is killed with SIGKILL is a whole real
server process; only the module imports were done before the fork.

Run as a script, it is the fork server: JSON lines on stdin (``{"argv": [...],
"env": {...}, "log": "path"}``) are answered on stdout with ``{"pid": N}``, and
each child's end with ``{"exit": N, "code": C}`` (``C`` is ``-signal`` when a
signal ended it, as with ``subprocess``). The test side is :class:`ForkServer`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.conftest import LiveServer


def _reply(message: dict[str, Any]) -> None:
    # os.write, not print: the SIGCHLD handler may run while a reply is half written.
    os.write(1, (json.dumps(message) + "\n").encode())


def _reap(_signum: int, _frame: object) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _reply({"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become ``scelle serve ...`` and never come back."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setpgid(0, 0)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["scelle", *request["argv"]]
        from scelle import crash_points
        from scelle.cli.app import main

        # Imported before the fork, under the fork server's environment.
        crash_points.arm_from_environment()

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve_forever() -> None:
    """The fork server's loop: import once, fork a server per request."""
    # Everything `scelle serve` imports, done once here.
    import uvicorn  # noqa: F401
    from alembic import command  # noqa: F401

    import scelle.cli.app
    import scelle.server.app
    import scelle.worker

    scelle.cli.app.build_app(local_only=True)
    signal.signal(signal.SIGCHLD, _reap)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _reply({"pid": pid})


class ForkedProcess:
    """The part of ``subprocess.Popen`` the server helpers use, for a forked server."""

    def __init__(self, owner: ForkServer, pid: int) -> None:
        self.owner, self.pid = owner, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.owner.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.owner.changed:
            while self.poll() is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
                self.owner.changed.wait(left)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The test side: starts the fork server and hands out :class:`LiveServer` objects."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fault.forkserver"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")},
        )
        self.changed = threading.Condition()
        self._pids: list[int] = []
        self._exits: dict[int, int] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "pid" in message:
                    self._pids.append(message["pid"])
                else:
                    self._exits[message["exit"]] = message["code"]
                self.changed.notify_all()

    def exit_code(self, pid: int) -> int | None:
        with self.changed:
            return self._exits.get(pid)

    def spawn(self, argv: list[str], env: dict[str, str], log: Path) -> ForkedProcess:
        assert self.process.stdin is not None
        with self.changed:
            before = len(self._pids)
            self.process.stdin.write(
                (json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n").encode()
            )
            self.process.stdin.flush()
            if not self.changed.wait_for(lambda: len(self._pids) > before, timeout=30):
                raise AssertionError("the fork server did not answer")
            return ForkedProcess(self, self._pids[before])

    def start_server(
        self, data: Path, *, extra_env: dict[str, str] | None = None, port: int
    ) -> LiveServer:
        """A real ``scelle serve --data DATA --port PORT``, healthy when returned."""
        log = data.parent / f"serve-{port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
        env.update(extra_env or {})
        process = self.spawn(["serve", "--data", str(data), "--port", str(port)], env, log)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"scelle serve exited: {log.read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return LiveServer(
                        url=url,
                        data=data,
                        process=process,  # type: ignore[arg-type]
                        log=log,
                        env=dict(extra_env or {}),
                    )
            except httpx.TransportError:
                time.sleep(0.05)
        process.kill()
        raise AssertionError("scelle serve did not become healthy in 30 s")

    def close(self) -> None:
        for pid in list(self._pids):
            if self.exit_code(pid) is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()


if __name__ == "__main__":
    serve_forever()
