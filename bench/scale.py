"""Scale benchmarks on PostgreSQL + S3 (SeaweedFS) + Redis, each with a reference in the same run.

Usage:
  .venv/bin/python bench/scale.py concurrent [--transfers 100] [--size-mib 10] [--workers 4]
  .venv/bin/python bench/scale.py listing [--rows 1000000]
  .venv/bin/python bench/scale.py breach [--transfers 1000000] [--events 10000000]
  .venv/bin/python bench/scale.py oversight [--rows 1000000]

``concurrent``: N transfers at once (create, tus upload of SIZE MiB, seal,
download), all in flight together, against ``scelle serve --workers W`` and,
as the reference, the same stores served by one process. Printed: errors,
aggregate throughput (MB/s of upload + download), p50/p99 latency of a whole
transfer, and the ratio W processes / 1 process.

``listing``: the inbox and sent queries the API runs, on a user with 10^6
transfers generated in PostgreSQL (``generate_series``), against the same
queries on a user with 10^3 transfers in the same database: a ratio near 1
means the indexes keep listing cost flat as the table grows.

``breach``: the queries of ``scelle breach assess`` (transfers stored in a
one-day window; what one account downloaded in it, from the audit log; what
it received) on a PostgreSQL database with 10^6 transfers over 30 days and
10^7 audit events of 1,000 accounts, against the same queries on a database
100 times smaller in the same run: the ratio says how the cost grows with
the history (100 would be linear).

``oversight``: the queries of the admins' oversight views (retention counts
by time left, the oldest live transfer, a page of an organisation's audit
events, filtered or not) for an organisation with 10^6 transfers and 10^6
audit events, against the same queries for one with 10^3 of each in the same
PostgreSQL database (its events scattered among the big one's).

Everything runs in temporary databases, buckets and folders, removed at the
end. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379; starts
its own SeaweedFS (``.venv/bin/weed``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import factories
from tests.backends import REDIS_URL, PostgresDatabases, SeaweedFS, pg_url

from scelle.config import Settings
from scelle.crypto.signing import transfer_signature_message
from scelle.db.base import utcnow
from scelle.db.models import Role
from scelle.server.container import build_services

BIN = Path(sys.executable).parent
MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Outcome:
    seconds: float
    errors: int
    latencies: list[float]
    moved_bytes: int

    @property
    def throughput(self) -> float:
        return self.moved_bytes / self.seconds / 1e6

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_transfer(
    client: httpx.AsyncClient,
    url: str,
    sender: factories.Member,
    recipient: factories.Member,
    payload: bytes,
) -> float:
    started = time.perf_counter()
    s_auth = {"Authorization": f"Bearer {sender.token}"}
    metadata = os.urandom(64)
    created = await client.post(
        url + "/api/v1/transfers",
        json={
            "recipients": [{"user_id": recipient.user_id, "key_id": recipient.key_id}],
            "payload_size": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "metadata": base64.b64encode(metadata).decode(),
        },
        headers=s_auth,
    )
    created.raise_for_status()
    transfer_id = created.json()["id"]
    upload = await client.post(
        url + "/api/v1/uploads",
        headers={
            **s_auth,
            **TUS,
            "Upload-Length": str(len(payload)),
            "Upload-Metadata": "transfer " + base64.b64encode(transfer_id.encode()).decode(),
        },
    )
    upload.raise_for_status()
    patched = await client.patch(
        url + upload.headers["Location"],
        content=payload,
        headers={
            **s_auth,
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
    )
    patched.raise_for_status()
    message = transfer_signature_message(
        transfer_id, hashlib.sha256(payload).digest(), hashlib.sha256(metadata).digest()
    )
    sealed = await client.post(
        f"{url}/api/v1/transfers/{transfer_id}/seal",
        json={"signature": base64.b64encode(sender.signing_key.sign(message)).decode()},
        headers=s_auth,
    )
    sealed.raise_for_status()
    got = await client.get(
        f"{url}/api/v1/transfers/{transfer_id}/content",
        headers={"Authorization": f"Bearer {recipient.token}"},
    )
    got.raise_for_status()
    if got.content != payload:
        raise RuntimeError("downloaded bytes differ")
    return time.perf_counter() - started


async def run_concurrent(
    url: str, pairs: list[tuple[factories.Member, factories.Member]], size: int
) -> Outcome:
    payloads = [os.urandom(size) for _ in pairs]
    limits = httpx.Limits(max_connections=len(pairs) + 10, max_keepalive_connections=len(pairs))
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                one_transfer(client, url, s, r, p)
                for (s, r), p in zip(pairs, payloads, strict=True)
            ),
            return_exceptions=True,
        )
        seconds = time.perf_counter() - started
    latencies = [r for r in results if isinstance(r, float)]
    errors = len(results) - len(latencies)
    kinds: dict[str, int] = {}
    for r in results:
        if isinstance(r, BaseException):
            kind = type(r).__name__
            if isinstance(r, httpx.HTTPStatusError):
                kind = f"HTTP {r.response.status_code} {r.response.text[:80]}"
            kinds[kind] = kinds.get(kind, 0) + 1
    if kinds:
        print(f"errors: {kinds}", file=sys.stderr)
    return Outcome(seconds, errors, latencies, 2 * size * len(latencies))


def serve(env: dict[str, str], data: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = data.parent / f"serve-{workers}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(BIN / "scelle"),
                "serve",
                "--data",
                str(data),
                "--port",
                str(port),
                "--no-worker",
                f"--workers={workers}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


def server_warnings(log: Path) -> None:
    """Print the server's warnings and errors, counted by message, to stderr (none: nothing)."""
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        # "2026-12-04 01:02:03,456 WARNING scelle.db.engine: database unavailable: ..."
        for level in (" WARNING ", " ERROR ", " CRITICAL "):
            if level in line:
                key = level.strip() + " " + line.split(level, 1)[1][:160]
                counts[key] = counts.get(key, 0) + 1
    for key, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"server log ({log.name}) {count}x {key}", file=sys.stderr)


def concurrent(args: argparse.Namespace) -> None:
    databases = PostgresDatabases()
    with tempfile.TemporaryDirectory(prefix="scelle-bench-") as tmp:
        work = Path(tmp)
        seaweed = SeaweedFS(work / "seaweedfs")
        seaweed.start()
        try:
            rows = []
            for workers in (args.workers, 1):
                env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
                env.update(
                    {
                        "SCELLE_DATABASE_URL": pg_url(databases.create()),
                        "SCELLE_S3_ENDPOINT": seaweed.endpoint,
                        "SCELLE_S3_BUCKET": seaweed.new_bucket(),
                        "SCELLE_S3_ACCESS_KEY": seaweed.access_key,
                        "SCELLE_S3_SECRET_KEY": seaweed.secret_key,
                        "SCELLE_REDIS_URL": REDIS_URL,
                        # One loopback address plays 100 users at once: fresh
                        # counts, and per-address limits an operator would raise
                        # for a gateway (the per-account ones are unchanged).
                        "SCELLE_RATE_LIMIT_PREFIX": f"bench-{os.getpid()}-{workers}",
                        "SCELLE_THROTTLE_LOGIN_IP": "100000/hour",
                        "SCELLE_THROTTLE_ENROL_IP": "100000/hour",
                        "SCELLE_THROTTLE_TOKEN_IP": "1000000/minute",
                        # 4 processes x 20 connections fit PostgreSQL's default 100.
                        "SCELLE_DATABASE_POOL_SIZE": "20",
                    }
                )
                data = work / f"data-{workers}"
                os.environ.update({k: v for k, v in env.items() if k.startswith("SCELLE_")})
                services = build_services(Settings(data=data))
                factories.org(services, "lab-x")
                factories.org(services, "cpam-75")
                recipient = factories.member(services, "cpam-75", Role.RECIPIENT)
                pairs = [
                    (factories.member(services, "lab-x", Role.SENDER), recipient)
                    for _ in range(args.transfers)
                ]
                services.database.dispose()
                proc, url = serve(env, data, workers)
                try:
                    outcome = asyncio.run(run_concurrent(url, pairs, args.size_mib * MiB))
                finally:
                    proc.terminate()
                    proc.wait(timeout=60)
                    server_warnings(data.parent / f"serve-{workers}.log")
                rows.append((workers, outcome))
        finally:
            seaweed.stop()
            databases.drop_all()
    print(
        f"\n{args.transfers} concurrent transfers of {args.size_mib} MiB "
        f"(create, tus upload, seal, download) on PostgreSQL + SeaweedFS S3 + Redis"
    )
    print(f"machine: {machine()}\n")
    print(f"{'server':<14}{'errors':>7}{'seconds':>9}{'MB/s':>9}{'p50 s':>8}{'p99 s':>8}")
    for workers, o in rows:
        print(
            f"{str(workers) + ' process(es)':<14}{o.errors:>7}{o.seconds:>9.2f}"
            f"{o.throughput:>9.1f}{o.pct(0.5):>8.2f}{o.pct(0.99):>8.2f}"
        )
    many, one = rows[0][1], rows[1][1]
    print(
        f"\nratio {args.workers} processes / 1 process: throughput "
        f"{many.throughput / one.throughput:.2f}x, p50 latency {many.pct(0.5) / one.pct(0.5):.2f}x,"
        f" p99 latency {many.pct(0.99) / one.pct(0.99):.2f}x"
    )


def listing(args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from scelle.transfers import repository

    databases = PostgresDatabases()
    try:
        with tempfile.TemporaryDirectory(prefix="scelle-bench-") as tmp:
            os.environ["SCELLE_DATABASE_URL"] = pg_url(databases.create())
            services = build_services(Settings(data=Path(tmp) / "data"))
            factories.org(services, "lab-x")
            factories.org(services, "cpam-75")
            big_sender = factories.member(services, "lab-x", Role.SENDER)
            small_sender = factories.member(services, "lab-x", Role.SENDER)
            big_recipient = factories.member(services, "cpam-75", Role.RECIPIENT)
            small_recipient = factories.member(services, "cpam-75", Role.RECIPIENT)
            fill = """
                INSERT INTO transfers (id, sender_id, sender_key_id, status, payload_size,
                    payload_sha256, metadata_ciphertext, metadata_sha256, created_at,
                    expires_at, download_count)
                SELECT :prefix || lpad(g::text, 26, '0'), :sender, :key, 'available', 1000,
                    sha256(g::text::bytea), '\\x00'::bytea, sha256(g::text::bytea),
                    now() - (g || ' seconds')::interval, now() + interval '7 days', 0
                FROM generate_series(1, :n) AS g;
                INSERT INTO transfer_recipients (transfer_id, user_id, key_id, download_count,
                    created_at)
                SELECT :prefix || lpad(g::text, 26, '0'), :recipient, :rkey, 0,
                    now() - (g || ' seconds')::interval
                FROM generate_series(1, :n) AS g;
            """
            started = time.perf_counter()
            with services.database.engine.begin() as conn:
                for prefix, sender, recipient, n in (
                    ("tr_b", big_sender, big_recipient, args.rows),
                    ("tr_s", small_sender, small_recipient, 1000),
                ):
                    for statement in fill.split(";"):
                        if statement.strip():
                            conn.execute(
                                text(statement),
                                {
                                    "prefix": prefix[:4],
                                    "sender": sender.user_id,
                                    "key": sender.key_id,
                                    "recipient": recipient.user_id,
                                    "rkey": recipient.key_id,
                                    "n": n,
                                },
                            )
                conn.execute(text("ANALYZE"))
            generated = time.perf_counter() - started
            now = utcnow() + timedelta(seconds=1)

            def best(call: object) -> float:
                return _median_seconds(services, call, 20)

            results = []
            for name, big, small in (
                (
                    "inbox (500 newest)",
                    lambda s: repository.inbox(s, big_recipient.user_id, now),
                    lambda s: repository.inbox(s, small_recipient.user_id, now),
                ),
                (
                    "sent (500 newest)",
                    lambda s: repository.sent(s, big_sender.user_id),
                    lambda s: repository.sent(s, small_sender.user_id),
                ),
            ):
                results.append((name, best(big), best(small)))
            services.database.dispose()
    finally:
        databases.drop_all()
    print(
        f"\nlisting queries: a user with {args.rows:,} transfers vs one with 1,000 "
        f"(same PostgreSQL database; rows generated in {generated:.1f} s)"
    )
    print(f"machine: {machine()}\n")
    big_label = f"{args.rows:,} rows ms"
    print(f"{'query':<22}{big_label:>18}{'1,000 rows ms':>15}{'ratio':>8}")
    for name, big_s, small_s in results:
        print(f"{name:<22}{big_s * 1000:>18.2f}{small_s * 1000:>15.2f}{big_s / small_s:>8.2f}")


_BREACH_FILL = """
    INSERT INTO transfers (id, sender_id, sender_key_id, status, payload_size,
        payload_sha256, metadata_ciphertext, metadata_sha256, created_at,
        expires_at, download_count, passphrase_link, purged_at, purge_reason)
    SELECT 'tr_' || lpad(g::text, 26, '0'), :sender, :key, 'available', 1000,
        sha256(g::text::bytea), '\\x00'::bytea, sha256(g::text::bytea),
        :start + (g::bigint * :span / :transfers) * interval '1 second',
        :start + (g::bigint * :span / :transfers) * interval '1 second' + interval '7 days',
        0, false, NULL, NULL
    FROM generate_series(1, :transfers) AS g;
    UPDATE transfers SET status = 'purged', purged_at = expires_at, purge_reason = 'expired'
    WHERE expires_at < now();
    INSERT INTO transfer_recipients (transfer_id, user_id, key_id, download_count, created_at)
    SELECT 'tr_' || lpad(g::text, 26, '0'), :recipient, :rkey, 0,
        :start + (g::bigint * :span / :transfers) * interval '1 second'
    FROM generate_series(1, :transfers) AS g;
    INSERT INTO audit_events (seq, at, tag, actor_id, org_id, object_id, data)
    SELECT (SELECT coalesce(max(seq), 0) FROM audit_events) + g,
        :start + (g::bigint * :span / :events) * interval '1 second',
        CASE WHEN g % 3 = 0 THEN 'transfer:content:download'
             WHEN g % 3 = 1 THEN 'account:login:success' ELSE 'transfer:list:inbox' END,
        CASE WHEN g % 1000 = 0 THEN :recipient ELSE 'usr_' || lpad((g % 1000)::text, 26, '0') END,
        'org_x', 'tr_' || lpad((1 + g % :transfers)::text, 26, '0'), '{}'
    FROM generate_series(1, :events) AS g
"""


def _median_seconds(services: object, call: object, repeat: int) -> float:
    """Median seconds of ``call(session)`` over ``repeat`` runs, each in its own transaction."""
    times = []
    for _ in range(repeat):
        with services.database.transaction() as session:  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            call(session)  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _timed(services: object, call: object, repeat: int = 5) -> tuple[float, int]:
    """Median seconds of ``call(session)``, each in its own transaction, and its row count."""
    rows = 0

    def counted(session: object) -> None:
        nonlocal rows
        rows = len(call(session))  # type: ignore[operator]

    return _median_seconds(services, counted, repeat), rows


def _breach_queries(
    databases: PostgresDatabases, transfers: int, events: int
) -> tuple[float, dict[str, tuple[float, int]]]:
    """Fill one database, time the assessment's queries: (fill s, query -> (s, rows))."""
    from sqlalchemy import text

    from scelle.breach import repository

    span = 30 * 24 * 3600
    start = utcnow() - timedelta(seconds=span)
    window = (start + timedelta(days=20), start + timedelta(days=21))
    with tempfile.TemporaryDirectory(prefix="scelle-bench-") as tmp:
        os.environ["SCELLE_DATABASE_URL"] = pg_url(databases.create())
        services = build_services(Settings(data=Path(tmp) / "data"))
        factories.org(services, "lab-x")
        factories.org(services, "cpam-75")
        sender = factories.member(services, "lab-x", Role.SENDER)
        recipient = factories.member(services, "cpam-75", Role.RECIPIENT)
        started = time.perf_counter()
        with services.database.engine.begin() as conn:
            for statement in _BREACH_FILL.split(";"):
                conn.execute(
                    text(statement),
                    {
                        "sender": sender.user_id,
                        "key": sender.key_id,
                        "recipient": recipient.user_id,
                        "rkey": recipient.key_id,
                        "start": start,
                        "span": span,
                        "transfers": transfers,
                        "events": events,
                    },
                )
            conn.execute(text("ANALYZE"))
        filled = time.perf_counter() - started
        user = recipient.user_id
        timings = {
            "stored in the window (server scope)": _timed(
                services, lambda s: repository.alive_in_window(s, *window)
            ),
            "downloaded by one account": _timed(
                services, lambda s: repository.downloaded_by(s, user, *window)
            ),
            "received by one account": _timed(
                services, lambda s: repository.received_by(s, user, *window)
            ),
        }
        services.database.dispose()
    return filled, timings


def breach(args: argparse.Namespace) -> None:
    databases = PostgresDatabases()
    try:
        full_fill, full = _breach_queries(databases, args.transfers, args.events)
        small_fill, small = _breach_queries(databases, args.transfers // 100, args.events // 100)
    finally:
        databases.drop_all()
    print(
        f"\nbreach-assessment queries, one-day window of 30 days: {args.transfers:,} transfers"
        f" and {args.events:,} audit events vs 1/100 of each (PostgreSQL; filled in"
        f" {full_fill:.0f} s and {small_fill:.1f} s)"
    )
    print(f"machine: {machine()}\n")
    print(f"{'query':<38}{'full ms':>10}{'rows':>9}{'1/100 ms':>10}{'rows':>7}{'per row':>9}")
    for name, (full_s, full_rows) in full.items():
        small_s, small_rows = small[name]
        per_row = (full_s / max(full_rows, 1)) / (small_s / max(small_rows, 1))
        print(
            f"{name:<38}{full_s * 1000:>10.1f}{full_rows:>9,}{small_s * 1000:>10.2f}"
            f"{small_rows:>7,}{per_row:>9.2f}"
        )
    print("per row = cost per row returned, full / 1/100: near 1 (or below) means the cost")
    print("follows the size of the answer, not the size of the history")


_OVERSIGHT_FILL = """
    INSERT INTO transfers (id, sender_id, sender_key_id, status, payload_size,
        payload_sha256, metadata_ciphertext, metadata_sha256, created_at,
        expires_at, download_count, passphrase_link, purged_at, purge_reason)
    SELECT :prefix || lpad(g::text, 26, '0'), :sender, :key, 'available', 1000,
        sha256(g::text::bytea), '\\x00'::bytea, sha256(g::text::bytea),
        now() - (g % 30) * interval '1 day', now() + ((g % 61) - 30) * interval '1 day',
        0, false, NULL, NULL
    FROM generate_series(1, :n) AS g;
    UPDATE transfers SET status = 'purged', purged_at = expires_at, purge_reason = 'expiry'
    WHERE expires_at < now() - interval '1 day' AND id LIKE :prefix || '%';
    INSERT INTO audit_events (seq, at, tag, actor_id, org_id, object_id, data)
    SELECT (SELECT coalesce(max(seq), 0) FROM audit_events) + g,
        now() - (:events - g) * interval '1 second',
        CASE WHEN g % 3 = 0 THEN 'transfer:content:download'
             WHEN g % 3 = 1 THEN 'account:login:success' ELSE 'transfer:transfer:create' END,
        CASE WHEN g % 1000 = 0 THEN :small_sender ELSE :sender END,
        CASE WHEN g % 1000 = 0 THEN :small_org ELSE :org END,
        NULL, '{}'
    FROM generate_series(1, :events) AS g WHERE :events > 0
"""


def oversight(args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from scelle.accounts import repository as accounts_repository
    from scelle.audit import service as audit_service
    from scelle.transfers import repository
    from scelle.transfers import service as transfers_service

    databases = PostgresDatabases()
    try:
        with tempfile.TemporaryDirectory(prefix="scelle-bench-") as tmp:
            os.environ["SCELLE_DATABASE_URL"] = pg_url(databases.create())
            services = build_services(Settings(data=Path(tmp) / "data"))
            big_org = factories.org(services, "lab-big")
            small_org = factories.org(services, "lab-small")
            big = factories.member(services, "lab-big", Role.SENDER)
            small = factories.member(services, "lab-small", Role.SENDER)
            started = time.perf_counter()
            with services.database.engine.begin() as conn:
                for prefix, sender, n, events in (
                    ("tr_b", big, args.rows, args.rows),
                    ("tr_s", small, 1000, 0),
                ):
                    for statement in _OVERSIGHT_FILL.split(";"):
                        conn.execute(
                            text(statement),
                            {
                                "prefix": prefix,
                                "sender": sender.user_id,
                                "key": sender.key_id,
                                "n": n,
                                "events": events,
                                "org": big_org.id,
                                "small_sender": small.user_id,
                                "small_org": small_org.id,
                            },
                        )
                conn.execute(text("ANALYZE"))
            generated = time.perf_counter() - started
            now = utcnow()
            bounds = (now + timedelta(hours=24), now + timedelta(days=7), now - timedelta(days=30))

            def queries(org_id: str) -> dict[str, object]:
                return {
                    "retention counts": lambda s: repository.retention_counts(
                        s, org_id, now, bounds
                    ),
                    "retention page (service)": lambda s: transfers_service.retention(
                        s, services, accounts_repository.org_by_id(s, org_id)
                    ),
                    "audit: newest 50 events": lambda s: audit_service.org_events(
                        s, org_id, limit=50
                    ),
                    "audit: 50 logins, one day": lambda s: audit_service.org_events(
                        s,
                        org_id,
                        action="account:login",
                        start=now - timedelta(days=2),
                        end=now - timedelta(days=1),
                        limit=50,
                    ),
                }

            def best(call: object) -> float:
                return _median_seconds(services, call, 7)

            big_q, small_q = queries(big_org.id), queries(small_org.id)
            results = [(name, best(big_q[name]), best(small_q[name])) for name in big_q]
            services.database.dispose()
    finally:
        databases.drop_all()
    print(
        f"\noversight queries: an organisation with {args.rows:,} transfers and audit events vs"
        f" one with 1,000 (same PostgreSQL database; rows generated in {generated:.1f} s)"
    )
    print(f"machine: {machine()}\n")
    big_label = f"{args.rows:,} rows ms"
    print(f"{'query':<28}{big_label:>18}{'1,000 rows ms':>15}{'ratio':>8}")
    for name, big_s, small_s in results:
        print(f"{name:<28}{big_s * 1000:>18.2f}{small_s * 1000:>15.2f}{big_s / small_s:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("concurrent")
    c.add_argument("--transfers", type=int, default=100)
    c.add_argument("--size-mib", type=int, default=10)
    c.add_argument("--workers", type=int, default=4)
    c.set_defaults(run=concurrent)
    li = sub.add_parser("listing")
    li.add_argument("--rows", type=int, default=1_000_000)
    li.set_defaults(run=listing)
    br = sub.add_parser("breach")
    br.add_argument("--transfers", type=int, default=1_000_000)
    br.add_argument("--events", type=int, default=10_000_000)
    br.set_defaults(run=breach)
    ov = sub.add_parser("oversight")
    ov.add_argument("--rows", type=int, default=1_000_000)
    ov.set_defaults(run=oversight)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
