"""Credential stuffing is throttled, and no answer tells a known account from an unknown one.

1,000 login attempts over 100 e-mails (50 real accounts, 50 unknown) from 10
addresses, each address sweeping every e-mail once: throttled (429 with
Retry-After), and the status, body and headers seen for known and unknown
e-mails are the same. Timing is compared by medians (robust to scheduling
noise on a shared machine) within a generous factor, never against a clock
threshold; the figures are printed.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scelle.accounts import service as accounts
from scelle.accounts.totp import new_secret
from scelle.config import Settings
from scelle.db.models import AuditEvent, Role, User, UserStatus
from scelle.server.app import create_app
from scelle.server.container import Services, build_services
from tests import factories
from tests.factories import PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/0"
ACCOUNTS = 100
ADDRESSES = 10


def _settings(tmp_path: Path, storage: str, **rules: str) -> Settings:
    extra: dict[str, object] = {}
    if storage == "redis":
        extra = {"redis_url": REDIS_URL, "rate_limit_prefix": f"test-{uuid.uuid4().hex}"}
    # Hour-long windows: the run is deterministic however slow the shared machine is.
    defaults = {
        "throttle_login_ip": "6/hour",
        "throttle_login_account": "8/hour",
        "throttle_login_account_ip": "5/hour",
    }
    return Settings(data=tmp_path / "data", **extra, **(defaults | rules))  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "redis"])
def stuffed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    built = build_services(_settings(tmp_path, request.param))
    yield built
    built.throttle.reset()  # Redis: deletes the keys under this run's prefix only
    built.database.dispose()


def _enrolled(services: Services, org: str, count: int) -> list[str]:
    """Enrolled accounts, no login made.

    The first one enrols through the service; the others get a copy of its
    state (argon2 hash, a sealed TOTP seed of their own), which is what their
    enrolment would have written, without paying one argon2 hash each.
    """
    factories.org(services, org)
    emails = []
    for n in range(count):
        email = f"user{n}@{org}.test"
        with services.database.transaction() as session:
            user, token = accounts.create_user(
                session, services, email, org_name=org, roles={Role.SENDER}
            )
        with services.database.transaction() as session:
            if n == 0:
                first = accounts.enrol(session, services, token, PASSWORD).user
                password_hash = first.password_hash
            else:
                row = session.get(User, user.id)
                assert row is not None
                row.password_hash = password_hash
                row.totp_secret_sealed = services.secret_box.seal(new_secret(), context=row.id)
                row.status = UserStatus.ACTIVE.value
                row.enrolment_token_hash = None
        emails.append(email)
    return emails


def _clients(services: Services) -> list[TestClient]:
    app = create_app(services=services)
    return [
        TestClient(app, raise_server_exceptions=False, client=(f"192.0.2.{n + 1}", 40000))
        for n in range(ADDRESSES)
    ]


def _shape(response: object) -> tuple[int, str, tuple[str, ...]]:
    """What an observer sees, minus per-request noise (request id, exact wait)."""
    status = response.status_code  # type: ignore[attr-defined]
    body = json.dumps(response.json(), sort_keys=True)  # type: ignore[attr-defined]
    headers = tuple(
        sorted(
            h
            for h in response.headers  # type: ignore[attr-defined]
            if h not in {"x-request-id", "content-length", "retry-after"}
        )
    )
    return status, body, headers


@pytest.mark.slow
def test_credential_stuffing_is_throttled_and_enumerates_nothing(stuffed: Services) -> None:
    services = stuffed
    known = _enrolled(services, "lab-k", ACCOUNTS // 2)
    unknown = [f"user{n}@lab-u.test" for n in range(ACCOUNTS // 2)]
    # Alternate known and unknown, so each address meets both in the same proportion.
    targets = [e for pair in zip(known, unknown, strict=True) for e in pair]
    clients = _clients(services)
    seen: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {"known": [], "unknown": []}
    timings: dict[tuple[str, int], list[float]] = {}
    retry_after: list[int] = []
    for address in range(ADDRESSES):
        for email in targets:
            kind = "known" if email in known else "unknown"
            started = time.perf_counter()
            response = clients[address].post(
                "/api/v1/auth/token",
                json={"email": email, "password": "wrong password 123", "otp": "123456"},
            )
            elapsed = time.perf_counter() - started
            seen[kind].append(_shape(response))
            timings.setdefault((kind, response.status_code), []).append(elapsed)
            if response.status_code == 429:
                retry_after.append(int(response.headers["retry-after"]))
    statuses = Counter(s for shapes in seen.values() for s, _, _ in shapes)
    assert sum(statuses.values()) == ACCOUNTS * ADDRESSES
    assert set(statuses) == {401, 429}
    # Each address may try 6 e-mails an hour, each e-mail may fail 8 times an hour: the
    # first 6 e-mails fail 8 times (addresses 1-8), the rest of the 1,000 are refused.
    assert statuses[401] == 6 * 8
    assert statuses[429] == ACCOUNTS * ADDRESSES - 6 * 8
    assert all(1 <= wait <= 3600 for wait in retry_after)

    # Same statuses, bodies and header names, in the same numbers, for known and unknown.
    assert Counter(seen["known"]) == Counter(seen["unknown"])

    # Timing: medians per outcome, known vs unknown, within a generous factor.
    report = []
    for status in (401, 429):
        k = statistics.median(timings["known", status])
        u = statistics.median(timings["unknown", status])
        report.append(f"{status}: median known {k * 1000:.1f} ms, unknown {u * 1000:.1f} ms")
        assert 1 / 2 < k / u < 2, report
    print(
        "\nlogin timing ("
        + services.throttle.storage.__class__.__name__
        + "): "
        + "; ".join(report)
    )

    # The throttling is audited, once per key and minute (not once per refused attempt).
    with services.database.transaction() as session:
        throttled = list(
            session.scalars(select(AuditEvent).where(AuditEvent.tag == "account:login:throttled"))
        )
    scopes = Counter(json.loads(e.data)["scope"] for e in throttled)
    assert scopes == {"ip": ADDRESSES, "account": 6}


@pytest.mark.slow
def test_one_address_guessing_one_account_backs_off(tmp_path: Path) -> None:
    services = build_services(_settings(tmp_path, "memory", throttle_login_ip=""))
    try:
        (email,) = _enrolled(services, "lab-b", 1)
        (client, other, *_) = _clients(services)
        body = {"email": email, "password": "wrong password 123", "otp": "000000"}
        codes = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(7)]
        assert codes == [401] * 5 + [429] * 2
        # Another address is not blocked by the first one's failures ...
        assert other.post("/api/v1/auth/token", json=body).status_code == 401
        # ... until the account as a whole has had too many (8/hour here): it slows.
        codes = [other.post("/api/v1/auth/token", json=body).status_code for _ in range(4)]
        assert codes == [401, 401, 429, 429]
        refused = client.post("/api/v1/auth/token", json=body)
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert int(refused.headers["retry-after"]) > 0
    finally:
        services.database.dispose()


def test_lockout_is_soft_it_ends_with_its_window(tmp_path: Path) -> None:
    """An attacker's failures delay the owner for one short window, not for ever."""
    services = build_services(
        _settings(
            tmp_path,
            "memory",
            throttle_login_ip="",
            throttle_login_account="3/2second",
            throttle_login_account_ip="3/2second",
        )
    )
    try:
        (email,) = _enrolled(services, "lab-s", 1)
        attacker, owner, *_ = _clients(services)
        bad = {"email": email, "password": "wrong password 123", "otp": "000000"}
        for _ in range(3):
            assert attacker.post("/api/v1/auth/token", json=bad).status_code == 401
        blocked = owner.post("/api/v1/auth/token", json=bad)
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 2
        time.sleep(2.2)
        # The window has passed: the owner's attempt reaches the password check again.
        assert owner.post("/api/v1/auth/token", json=bad).status_code == 401
    finally:
        services.database.dispose()


def test_mfa_failures_are_throttled_per_account(tmp_path: Path) -> None:
    services = build_services(_settings(tmp_path, "memory", throttle_mfa_account="3/hour"))
    try:
        (email,) = _enrolled(services, "lab-m", 1)
        client, *_ = _clients(services)
        body = {"email": email, "password": PASSWORD, "otp": "000000"}
        codes = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
    finally:
        services.database.dispose()


def test_enrolment_and_token_guessing_are_throttled(tmp_path: Path) -> None:
    services = build_services(
        _settings(tmp_path, "memory", throttle_enrol_ip="3/hour", throttle_token_ip="3/hour")
    )
    try:
        client, other, *_ = _clients(services)
        enrol = [
            client.post("/api/v1/enrol", json={"token": f"enr_{n}", "password": PASSWORD})
            for n in range(4)
        ]
        assert [r.status_code for r in enrol] == [401, 401, 401, 429]
        guesses = [
            client.get("/api/v1/me", headers={"Authorization": f"Bearer scl_guess{n}"})
            for n in range(4)
        ]
        assert [r.status_code for r in guesses] == [401, 401, 401, 429]
        assert other.get("/api/v1/me", headers={"Authorization": "Bearer scl_x"}).status_code == 401
        with services.database.transaction() as session:
            tags = set(session.scalars(select(AuditEvent.tag)))
        assert {"account:enrol:throttled", "account:token:throttled"} <= tags
    finally:
        services.database.dispose()


def test_redis_counts_are_shared_between_processes(tmp_path: Path) -> None:
    """Two server processes (two Services on one Redis prefix) add up their counts."""
    prefix = f"test-{uuid.uuid4().hex}"
    common = {"redis_url": REDIS_URL, "rate_limit_prefix": prefix, "throttle_login_ip": "4/hour"}
    first = build_services(Settings(data=tmp_path / "a", **common))  # type: ignore[arg-type]
    second = build_services(Settings(data=tmp_path / "b", **common))  # type: ignore[arg-type]
    try:
        assert [first.throttle.hit("login", "ip", "198.51.100.7") for _ in range(2)] == [None] * 2
        assert [second.throttle.hit("login", "ip", "198.51.100.7") for _ in range(2)] == [None] * 2
        assert first.throttle.hit("login", "ip", "198.51.100.7") is not None
        assert second.throttle.retry_after("login", "ip", "198.51.100.7") is not None
        assert second.throttle.retry_after("login", "ip", "198.51.100.8") is None
    finally:
        first.throttle.reset()
        assert second.throttle.retry_after("login", "ip", "198.51.100.7") is None
        first.database.dispose()
        second.database.dispose()
