"""Checkpoints copied to an S3 witness bucket (a real SeaweedFS server, which checks secrets)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from scelle.config import Settings
from scelle.crypto.note import Checkpoint
from scelle.server.container import build_services
from scelle.worker import run_once

pytestmark = pytest.mark.integration

WEED = Path(sys.executable).parent / "weed"
ACCESS, SECRET = "witness-key", "witness-secret-0123456789"


def _free_port_pair() -> int:
    """A port p with p + 10000 free too (SeaweedFS puts gRPC there)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port + 10000 > 65535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


@dataclass
class Bucket:
    endpoint: str
    name: str


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[Bucket]:
    data = tmp_path / "weed"
    data.mkdir()
    config = tmp_path / "s3.json"
    identity = {"name": "scelle", "credentials": [{"accessKey": ACCESS, "secretKey": SECRET}]}
    identity["actions"] = ["Admin", "Read", "Write", "List"]  # type: ignore[assignment]
    config.write_text(json.dumps({"identities": [identity]}))
    master, volume, filer, s3, iceberg, lance = (_free_port_pair() for _ in range(6))
    log = (tmp_path / "weed.log").open("wb")
    process = subprocess.Popen(
        [
            str(WEED),
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            f"-master.port={master}",
            f"-volume.port={volume}",
            "-volume.max=5",
            "-filer",
            f"-filer.port={filer}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.config={config}",
            f"-s3.port.iceberg={iceberg}",
            f"-s3.port.lance={lance}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{s3}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    try:
        for _ in range(60):
            try:
                client.create_bucket(Bucket="witness")
                break
            except Exception:  # noqa: BLE001  (starting up)
                time.sleep(0.5)
        else:
            pytest.fail("SeaweedFS did not start: " + (tmp_path / "weed.log").read_text()[-2000:])
        yield Bucket(endpoint, "witness")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _settings(tmp_path: Path, bucket: Bucket, secret: str) -> Settings:
    return Settings(
        data=tmp_path / "data",
        checkpoint_interval_seconds=0,
        witness_s3_bucket=bucket.name,
        witness_s3_endpoint=bucket.endpoint,
        witness_s3_access_key=ACCESS,
        witness_s3_secret_key=secret,  # type: ignore[arg-type]
        witness_s3_prefix="scelle/",
    )


def test_checkpoints_reach_the_witness_bucket(tmp_path: Path, bucket: Bucket) -> None:
    services = build_services(_settings(tmp_path, bucket, SECRET))
    with services.database.transaction() as session:
        services.audit.record(session, "test:witness:one")
    report = run_once(services)
    assert report.checkpoint == 1
    assert report.errors == []
    client = boto3.client(
        "s3",
        endpoint_url=bucket.endpoint,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    for key in ("scelle/000000000001.checkpoint", "scelle/latest.checkpoint"):
        note = client.get_object(Bucket=bucket.name, Key=key)["Body"].read().decode()
        assert Checkpoint.open(note, services.log_signer.verifier).size == 1
    services.database.dispose()


def test_a_refused_witness_is_reported_and_the_checkpoint_kept(
    tmp_path: Path, bucket: Bucket
) -> None:
    services = build_services(_settings(tmp_path, bucket, "not-the-secret"))
    with services.database.transaction() as session:
        services.audit.record(session, "test:witness:one")
    report = run_once(services)
    assert report.checkpoint == 1  # signed and stored; the witness copy failed loudly
    assert report.errors == ["witness_s3"]
    services.database.dispose()
