"""The host's clock moved a day back or forward (libfaketime): no expired transfer is served.

Transfers are sent through a real server; one of them is made to have
expired before the server's last recorded activity, as if it had expired
while the service went on. The server is then restarted under libfaketime
with its clock a day behind, and a day ahead.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.config import Settings
from scelle.db.models import AuditEvent, Transfer
from scelle.errors import ServerError
from scelle.server.container import build_services
from tests import factories
from tests.integration.conftest import LiveServer, start_server, stop_server

pytestmark = [pytest.mark.integration, pytest.mark.fault]

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def _faked(offset: str) -> dict[str, str]:
    if not LIBFAKETIME.exists() or shutil.which("faketime") is None:
        pytest.fail("libfaketime is missing: run scripts/setup.sh (Debian package faketime)")
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": offset, "FAKETIME_NO_CACHE": "1"}


def test_an_expired_transfer_is_never_served_after_a_clock_jump(tmp_path: Path) -> None:
    data = tmp_path / "server-data"
    ana, bob = factories.sender_and_recipient(Settings(data=data))
    source = tmp_path / "results.csv"
    source.write_bytes(b"nir;result\n")

    server = start_server(data)
    try:
        with ScelleClient(server.url, ana.token) as sdk:
            state, keyring = LocalState(tmp_path / "ana"), Keyring(ana.identity, ana.signing_key)
            expired = send(sdk, state, keyring, source, ["cpam-75"]).transfer_id
            week = send(sdk, state, keyring, source, ["cpam-75"], note="w").transfer_id
            half_day = send(
                sdk, state, keyring, source, ["cpam-75"], expires_in=12 * 3600, note="h"
            ).transfer_id
    finally:
        stop_server(server)

    services = build_services(Settings(data=data))
    try:
        with services.database.transaction() as session:
            last = session.scalar(select(func.max(AuditEvent.at)))
            assert last is not None
            row = session.get(Transfer, expired)
            assert row is not None
            # It expired a second before the service's last recorded activity.
            row.expires_at = last - timedelta(seconds=1)
    finally:
        services.database.dispose()

    def attempt(server: LiveServer, transfer_id: str) -> int:
        with ScelleClient(server.url, bob.token) as sdk:
            try:
                receive(
                    sdk,
                    LocalState(tmp_path / "bob"),
                    Keyring(bob.identity, bob.signing_key),
                    transfer_id,
                    tmp_path / f"{transfer_id}-{server.url.rsplit(':', 1)[1]}.csv",
                )
            except ServerError as exc:
                return exc.http_status
        return 200

    behind = start_server(data, extra_env=_faked("-1d"))
    try:
        assert attempt(behind, expired) in (404, 410)
        assert attempt(behind, week) == 200
    finally:
        stop_server(behind)
    assert "behind the last trusted time" in behind.log.read_text()

    ahead = start_server(data, extra_env=_faked("+1d"))
    try:
        assert attempt(ahead, half_day) in (404, 410)  # expired early: safe
        assert attempt(ahead, week) == 200
        assert attempt(ahead, expired) in (404, 410)
    finally:
        stop_server(ahead)
