"""The web UI in a real browser: sign in, browser identity, receive from and send to the CLI.

Each flow crosses the boundary the product promises: what the browser
encrypts and signs, the CLI (and the reference ``age`` tool) opens and
verifies; what the CLI sends, the page verifies and decrypts, byte for byte.
The server only ever holds the identity wrapped by a passphrase it never sees.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from scelle.config import Settings
from scelle.db.models import Role, WrappedIdentity
from scelle.server.container import build_services
from tests.e2e.conftest import (
    BROWSER_PASSPHRASE,
    Orgs,
    create_identity,
    make_member,
    shot,
    sign_in,
)
from tests.integration.conftest import DEVICE_PASSPHRASE, LiveServer, enrolled_home

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.interop]

PASS_ENV = {"SCELLE_PASSPHRASE": DEVICE_PASSPHRASE}


def _wrapped_row(server: LiveServer, user_id: str) -> WrappedIdentity | None:
    services = build_services(Settings(data=server.data), migrate=False)
    try:
        with services.database.transaction() as session:
            row = session.get(WrappedIdentity, user_id)
            if row is not None:
                session.expunge(row)
            return row
    finally:
        services.database.dispose()


def test_cli_sends_and_the_browser_verifies_and_decrypts(
    server: LiveServer, orgs: Orgs, page: Page, tmp_path: Path
) -> None:
    bob = make_member(server, orgs.cpam, Role.RECIPIENT, publish_key=False)
    sign_in(page, server, bob, bob.recovery_codes[0])
    shot(page, "identity-create")
    create_identity(page)

    # What the server keeps: an age file to one scrypt stanza, no key, no passphrase.
    row = _wrapped_row(server, bob.user_id)
    assert row is not None
    assert row.wrapped.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert b"AGE-SECRET-KEY" not in row.wrapped
    assert BROWSER_PASSPHRASE.encode() not in row.wrapped

    alice_home = tmp_path / "alice"
    enrolled_home(server, alice_home, f"alice@{orgs.lab}.test", orgs.lab, "sender")
    report = tmp_path / "compte-rendu.csv"
    report.write_bytes(b"nir;glycemie\n" + os.urandom(200_000))
    sent = json.loads(
        server.scelle(
            "send", str(report), "--to", bob.email, "--json", home=alice_home, env=PASS_ENV
        ).stdout
    )
    transfer_id = str(sent[0]["id"])

    page.goto(server.url + "/inbox")
    expect(page.locator(f'[data-name-of="{transfer_id}"]')).to_have_text("compte-rendu.csv")
    shot(page, "inbox")
    page.get_by_role("link", name=transfer_id).click()
    page.wait_for_url(f"**/transfers/{transfer_id}")
    shot(page, "transfer")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Vérifier, déchiffrer et enregistrer").click()
    download = download_info.value
    assert download.suggested_filename == "compte-rendu.csv"
    assert Path(download.path()).read_bytes() == report.read_bytes()
    expect(page.locator("#form-status")).to_contain_text("Signature vérifiée")
