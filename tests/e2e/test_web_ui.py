"""The web UI in a real browser: sign in, browser identity, receive from and send to the CLI.

Each flow crosses the boundary the product promises: what the browser
encrypts and signs, the CLI (and the reference ``age`` tool) opens and
verifies; what the CLI sends, the page verifies and decrypts, byte for byte.
The server only ever holds the identity wrapped by a passphrase it never sees.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState
from scelle.client.transfer import SendResult, send
from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.identity import ScryptIdentity
from scelle.db.base import utcnow
from scelle.db.models import Role, Transfer, WrappedIdentity
from tests.e2e.conftest import (
    BROWSER_PASSPHRASE,
    Orgs,
    assert_accessible,
    create_identity,
    expect_spill_empty,
    make_member,
    server_services,
    shot,
    sign_in,
    spill_entries,
)
from tests.factories import Member
from tests.integration.conftest import DEVICE_PASSPHRASE, LiveServer, enrolled_home

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.interop]

PASS_ENV = {"SCELLE_PASSPHRASE": DEVICE_PASSPHRASE}


def _wrapped_row(server: LiveServer, user_id: str) -> WrappedIdentity | None:
    with server_services(server) as services, services.database.transaction() as session:
        row = session.get(WrappedIdentity, user_id)
        if row is not None:
            session.expunge(row)
        return row


def _sdk_send(
    server: LiveServer, sender: Member, tmp_path: Path, path: Path, to: str
) -> SendResult:
    """Send ``path`` to ``to`` with the client SDK the CLI is made of, as ``sender``."""
    with ScelleClient(server.url, sender.token) as client:
        return send(
            client,
            LocalState(tmp_path / "alice"),
            Keyring(sender.identity, sender.signing_key),
            path,
            [to],
        )


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

    # The sender is the client SDK the CLI is made of (its send flow, its age, its signature).
    alice = make_member(server, orgs.lab, Role.SENDER, publish_key=True)
    report = tmp_path / "compte-rendu.csv"
    report.write_bytes(b"nir;glycemie\n" + os.urandom(200_000))
    sent = _sdk_send(server, alice, tmp_path, report, bob.email)
    transfer_id = sent.transfer_id
    alice_fingerprint = Keyring(alice.identity, alice.signing_key).fingerprint

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
    # The two passes went through the spill area (OPFS): the ciphertext's file is gone,
    # the plaintext's waits on disk while the save is offered, until the page is left.
    [offered] = spill_entries(page)
    assert offered.startswith("scelle-spill-plain-")

    # A new sign-in: the page unwraps the stored identity; a wrong passphrase is refused.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")
    expect_spill_empty(page)
    sign_in(page, server, bob, bob.recovery_codes[1])
    page.get_by_label("Phrase secrète", exact=True).fill("pas la bonne phrase")
    page.get_by_role("button", name="Ouvrir ma clé").click()
    expect(page.locator("#form-error")).to_have_text("Phrase secrète incorrecte.")
    shot(page, "identity-unlock-refused")
    page.get_by_label("Phrase secrète", exact=True).fill(BROWSER_PASSPHRASE)
    page.get_by_role("button", name="Ouvrir ma clé").click()
    page.wait_for_url("**/inbox")
    expect(page.locator(f'[data-name-of="{transfer_id}"]')).to_have_text("compte-rendu.csv")

    # Alice's key is replaced (not a rotation her old key vouches for): the page refuses
    # to decrypt and shows both fingerprints until Bob says he checked the new one.
    new_keys = Keyring.generate()
    _replace_key(server, alice.token, new_keys)
    with ScelleClient(server.url, alice.token) as client:
        second = send(client, LocalState(tmp_path / "alice"), new_keys, report, [bob.email])
    page.goto(f"{server.url}/transfers/{second.transfer_id}")
    page.get_by_role("button", name="Vérifier, déchiffrer et enregistrer").click()
    warning = page.locator("#key-warning")
    expect(warning).to_be_visible()
    expect(page.locator("#pinned-fingerprint")).to_have_text(alice_fingerprint)
    expect(page.locator("#offered-fingerprint")).to_have_text(new_keys.fingerprint)
    expect(page.locator("#form-error")).to_contain_text("la clé de l'expéditeur a changé")
    assert spill_entries(page) == []  # refused before anything was downloaded
    shot(page, "key-changed")
    page.get_by_role("button", name="J'ai vérifié").click()
    with page.expect_download() as again:
        page.get_by_role("button", name="Vérifier, déchiffrer et enregistrer").click()
    assert Path(again.value.path()).read_bytes() == report.read_bytes()
    page.goto(server.url + "/inbox")
    expect_spill_empty(page)


def test_tampered_ciphertext_is_refused_and_leaves_nothing_in_the_spill_area(
    server: LiveServer, orgs: Orgs, page: Page, tmp_path: Path
) -> None:
    bob = make_member(server, orgs.cpam, Role.RECIPIENT, publish_key=False)
    sign_in(page, server, bob, bob.recovery_codes[0])
    create_identity(page)
    alice = make_member(server, orgs.lab, Role.SENDER, publish_key=True)
    report = tmp_path / "analyse.csv"
    report.write_bytes(b"nir;hba1c\n" + os.urandom(300_000))
    sent = _sdk_send(server, alice, tmp_path, report, bob.email)
    # One byte of the stored ciphertext flipped (same size): the signed digest no longer holds.
    blob_key = _stored_transfer(server, sent.transfer_id).blob_key
    assert blob_key is not None
    [blob] = list(server.data.rglob(blob_key))
    with blob.open("r+b") as stored:
        stored.seek(blob.stat().st_size // 2)
        byte = stored.read(1)
        stored.seek(-1, os.SEEK_CUR)
        stored.write(bytes([byte[0] ^ 0x01]))

    page.goto(f"{server.url}/transfers/{sent.transfer_id}")
    page.get_by_role("button", name="Vérifier, déchiffrer et enregistrer").click()
    expect(page.locator("#form-error")).to_have_text(
        "Refusé : le contenu reçu ne correspond pas à celui signé."
    )
    expect(page.locator("#save-link")).to_be_hidden()
    assert spill_entries(page) == []  # the downloaded ciphertext is removed with the refusal


def _browser_to_browser(
    server: LiveServer,
    orgs: Orgs,
    page: Page,
    browser: Browser,
    tmp_path: Path,
    *,
    init_script: str,
    size: int,
) -> RoundTrip:
    """Zoe sends ``size`` random bytes from her page to Yves, who decrypts and saves them in
    his (another profile); both pages run ``init_script`` first. The spill areas end empty;
    answers what Yves's held while the save was offered, and what each page wrote to OPFS."""
    yves = make_member(server, orgs.cpam, Role.RECIPIENT, publish_key=False)
    other = browser.new_context(locale="fr-FR", accept_downloads=True)
    try:
        other.add_init_script(_COUNT_SPILL_WRITES)
        other.add_init_script(_RECORD_WORKERS)
        other.add_init_script(init_script)
        tab = other.new_page()
        sign_in(tab, server, yves, yves.recovery_codes[0])
        create_identity(tab)

        page.add_init_script(_COUNT_SPILL_WRITES)
        page.add_init_script(_RECORD_WORKERS)
        page.add_init_script(init_script)
        zoe = make_member(server, orgs.lab, Role.SENDER, publish_key=False)
        sign_in(page, server, zoe, zoe.recovery_codes[0])
        create_identity(page)
        page.goto(server.url + "/send")
        page.get_by_label("Destinataires (organisation").fill(yves.email)
        page.get_by_role("button", name="Rechercher dans l'annuaire").click()
        expect(page.locator("#recipient-list li")).to_have_count(1)
        plaintext = os.urandom(size)
        source = tmp_path / "bilan.bin"
        source.write_bytes(plaintext)
        page.get_by_label("Fichier").set_input_files(str(source))
        page.get_by_role("button", name="Chiffrer, signer et envoyer").click()
        expect(page.locator("#sent-result")).to_be_visible(timeout=120_000)
        transfer_id = page.locator("#sent-link").get_attribute("data-transfer-id")
        assert transfer_id is not None
        assert spill_entries(page) == []
        sent_writes: dict[str, int] = page.evaluate("window.__spillWrites || {}")
        workers: list[str] = page.evaluate("window.__workers || []")

        tab.goto(f"{server.url}/transfers/{transfer_id}")
        with tab.expect_download(timeout=120_000) as download_info:
            tab.get_by_role("button", name="Vérifier, déchiffrer et enregistrer").click()
        assert Path(download_info.value.path()).read_bytes() == plaintext
        offered = spill_entries(tab)
        received_writes: dict[str, int] = tab.evaluate("window.__spillWrites || {}")
        workers += tab.evaluate("window.__workers || []")
        tab.goto(server.url + "/inbox")
        # "none": the page found no usable spill area to sweep (createWritable hidden)
        expect(tab.locator("body")).to_have_attribute("data-spill", re.compile("^(swept|none)$"))
        assert spill_entries(tab) == []
        return RoundTrip(
            offered=offered,
            ciphertext_size=_stored_transfer(server, transfer_id).payload_size,
            written={**_by_kind(sent_writes), **_by_kind(received_writes)},
            workers=workers,
        )
    finally:
        other.close()


@dataclass
class RoundTrip:
    offered: list[str]  # the spill files of the recipient's page while the save was offered
    ciphertext_size: int
    written: dict[str, int]  # bytes each kind of spill ("sent", "received", "plain") wrote to OPFS
    workers: list[str]  # the script URLs of the Workers both pages started


# Every Worker a page starts, by script URL (the hashing workers, web/src/hashing.js).
_RECORD_WORKERS = """(() => {
    const Original = window.Worker;
    if (!Original) return;
    const started = (window.__workers = []);
    window.Worker = function (url, options) {
        started.push(String(url));
        return new Original(url, options);
    };
})();"""


# Every OPFS write of the page's spill files, counted per file once it succeeded.
_COUNT_SPILL_WRITES = """(() => {
    const created = FileSystemFileHandle.prototype.createWritable;
    if (!created) return;
    const writes = (window.__spillWrites = {});
    FileSystemFileHandle.prototype.createWritable = async function (...args) {
        const writable = await created.apply(this, args);
        const name = this.name;
        const write = writable.write.bind(writable);
        writable.write = (data) =>
            write(data).then((result) => {
                writes[name] = (writes[name] || 0) + (data.byteLength ?? data.size ?? 0);
                return result;
            });
        return writable;
    };
})();"""


def _by_kind(writes: dict[str, int]) -> dict[str, int]:
    """``scelle-spill-KIND-UUID.N`` files' bytes summed per KIND."""
    kinds: dict[str, int] = {}
    for name, size in writes.items():
        kind = name.removeprefix("scelle-spill-").split("-", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + size
    return kinds


def test_both_pages_keep_every_byte_of_a_transfer_on_disk_not_in_memory(
    server: LiveServer, orgs: Orgs, page: Page, browser: Browser, tmp_path: Path
) -> None:
    size = 3 * 1024 * 1024 + 11
    trip = _browser_to_browser(server, orgs, page, browser, tmp_path, init_script="", size=size)
    # The sender's ciphertext, the recipient's download and its decryption: all on disk.
    assert trip.written == {
        "sent": trip.ciphertext_size,
        "received": trip.ciphertext_size,
        "plain": size,
    }
    assert trip.ciphertext_size > size
    # Each digest was computed off the page's thread: the sender's two (plaintext and
    # ciphertext) and the recipient's two (download and decryption), one worker each.
    assert trip.workers == ["/static/hash.js"] * 4
    [plain] = trip.offered  # the decrypted file waits on disk while its save is offered
    assert plain.startswith("scelle-spill-plain-")


def test_without_opfs_writes_the_pages_keep_blobs_and_still_round_trip(
    server: LiveServer, orgs: Orgs, page: Page, browser: Browser, tmp_path: Path
) -> None:
    # As a browser with OPFS but no FileSystemFileHandle.createWritable (Safari before 26),
    # and, for the digests, without Worker: both fall back, to Blobs and to the page's thread.
    no_writes = "delete FileSystemFileHandle.prototype.createWritable; delete window.Worker;"
    trip = _browser_to_browser(
        server, orgs, page, browser, tmp_path, init_script=no_writes, size=2 * 1024 * 1024 + 7
    )
    assert trip.offered == []  # the saved file was a Blob: no spill file ever made
    assert trip.written == {}
    assert trip.workers == []


# Each page's OPFS writes refused past 36 MiB, as a full disk or a private window's quota.
_NO_ROOM_PAST_36_MIB = """(() => {
    const write = FileSystemWritableFileStream.prototype.write;
    let written = 0;
    FileSystemWritableFileStream.prototype.write = function (data) {
        written += data.byteLength || 0;
        if (written > 36 * 1024 * 1024) {
            return Promise.reject(new DOMException("no room (test)", "QuotaExceededError"));
        }
        return write.call(this, data);
    };
})();"""


def test_a_disk_without_room_sends_the_rest_to_memory_and_nothing_is_lost(
    server: LiveServer, orgs: Orgs, page: Page, browser: Browser, tmp_path: Path
) -> None:
    # 40 MiB: the send's and the download's first 32 MiB segment is committed on disk, the
    # rest refused and kept in memory; the plaintext's spill is refused at once, all memory.
    trip = _browser_to_browser(
        server,
        orgs,
        page,
        browser,
        tmp_path,
        init_script=_NO_ROOM_PAST_36_MIB,
        size=40 * 1024 * 1024 + 5,
    )
    assert trip.offered == []  # the refused segment file removed, the plaintext held in memory
    # The disk took each ciphertext's first 32 MiB segment (and some of the next, dropped
    # at the refusal), not all of it; the plaintext's spill was refused from its first write.
    assert set(trip.written) == {"sent", "received"}
    for kind, written in trip.written.items():
        assert 32 * 1024 * 1024 <= written < trip.ciphertext_size, kind


def _stored_transfer(server: LiveServer, transfer_id: str) -> Transfer:
    """The transfer's row as the server keeps it (detached from its session)."""
    with server_services(server) as services, services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        assert transfer is not None
        session.expunge(transfer)
        return transfer


def _replace_key(server: LiveServer, token: str, keys: Keyring) -> None:
    """Publish a new bundle without a rotation signature (a replacement)."""
    answer = httpx.put(
        f"{server.url}/api/v1/keys/me",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "x25519_recipient": keys.recipient,
            "ed25519_public": base64.b64encode(keys.ed25519_public).decode(),
            "self_signature": base64.b64encode(keys.self_signature()).decode(),
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def test_browser_sends_and_the_cli_and_the_age_tool_open_it(
    server: LiveServer, orgs: Orgs, page: Page, tmp_path: Path
) -> None:
    carol = make_member(server, orgs.lab, Role.SENDER, publish_key=False)
    dave_home = tmp_path / "dave"
    dave_email = f"dave@{orgs.cpam}.test"
    enrolled_home(server, dave_home, dave_email, orgs.cpam, "recipient")
    # A second recipient whose identity this test holds, for the reference age tool.
    eve = make_member(server, orgs.cpam, Role.RECIPIENT, publish_key=True)

    sign_in(page, server, carol, carol.recovery_codes[0])
    create_identity(page)
    page.get_by_role("link", name="Envoyer").click()
    page.wait_for_url("**/send")
    page.get_by_label("Destinataires (organisation").fill(f"{dave_email}, {eve.email}")
    page.get_by_role("button", name="Rechercher dans l'annuaire").click()
    expect(page.locator("#recipient-list li")).to_have_count(2)
    page.get_by_label("Expiration").select_option("86400")
    page.get_by_label("Nombre maximal de téléchargements").fill("3")
    page.get_by_label("Note pour les destinataires").fill("résultats de mars")
    plaintext = b"date;resultat\n" + os.urandom(3 * 1024 * 1024 + 123)  # several tus chunks
    source = tmp_path / "résultats mars.csv"
    source.write_bytes(plaintext)
    page.get_by_label("Fichier").set_input_files(str(source))
    page.get_by_role("button", name="Chiffrer, signer et envoyer").click()
    expect(page.locator("#sent-result")).to_be_visible(timeout=60_000)
    transfer_id = page.locator("#sent-link").get_attribute("data-transfer-id")
    assert transfer_id is not None
    assert re.fullmatch(r"tr_[a-z2-7]{26}", transfer_id)
    progress = page.locator("#progress")
    assert progress.get_attribute("value") == progress.get_attribute("max")
    assert spill_entries(page) == []  # the ciphertext's spill file went with the upload
    shot(page, "send")

    # The CLI recipient verifies the browser's signature (pinning the sender) and decrypts.
    out = tmp_path / "dave-out.csv"
    received = json.loads(
        server.scelle(
            "receive", transfer_id, "-o", str(out), "--json", home=dave_home, env=PASS_ENV
        ).stdout
    )
    assert out.read_bytes() == plaintext
    assert received["verified"] is True
    assert received["note"] == "résultats de mars"
    assert received["sender"] == carol.email
    assert received["sha256"] == hashlib.sha256(plaintext).hexdigest()

    # The payload the browser made is a plain age file: the reference tool opens it.
    content = httpx.get(
        f"{server.url}/api/v1/transfers/{transfer_id}/content",
        headers={"Authorization": f"Bearer {eve.token}"},
        timeout=30,
    )
    assert content.status_code == 200
    identity_file = tmp_path / "eve.key"
    identity_file.write_text(str(eve.identity) + "\n")
    opened = subprocess.run(
        ["age", "-d", "-i", str(identity_file)],
        input=content.content,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert opened.stdout == plaintext

    page.get_by_role("link", name="Envoyés").click()
    expect(page.get_by_role("link", name=transfer_id)).to_be_visible()
    shot(page, "sent")


def test_keys_page_compares_fingerprints_and_flags_a_changed_key(
    server: LiveServer, orgs: Orgs, page: Page
) -> None:
    yves = make_member(server, orgs.cpam, Role.RECIPIENT, publish_key=True)
    zoe = make_member(server, orgs.lab, Role.SENDER, publish_key=False)
    sign_in(page, server, zoe, zoe.recovery_codes[0])
    create_identity(page)
    page.get_by_role("link", name="Correspondants").click()
    page.wait_for_url("**/keys")
    expect(page.locator("#pins-empty")).to_be_visible()

    # Yves reads his fingerprint over the phone; Zoe compares it with the directory's.
    yves_fingerprint = Keyring(yves.identity, yves.signing_key).fingerprint
    page.get_by_label("Adresse e-mail de la personne").fill(yves.email)
    page.get_by_role("button", name="Afficher son empreinte").click()
    expect(page.locator("#compare-fingerprint")).to_have_text(yves_fingerprint)
    expect(page.locator("#compare-state")).to_have_text(
        "Ce navigateur n'a pas encore retenu de clé pour cette personne."
    )
    page.get_by_role("button", name="Retenir cette clé").click()
    expect(page.locator("#form-error")).to_contain_text("Cochez la case seulement après")
    page.get_by_label("J'ai comparé cette empreinte").check()
    page.get_by_role("button", name="Retenir cette clé").click()
    row = page.locator(f'[data-pin-of="{yves.user_id}"]')
    expect(row).to_contain_text(yves_fingerprint)
    expect(row.locator("[data-state]")).to_have_text("Identique à l'annuaire")

    # Yves's key is replaced: the page says so, with the new fingerprint, until Zoe checks it.
    new_keys = Keyring.generate()
    _replace_key(server, yves.token, new_keys)
    page.reload()
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "changed")
    expect(row.locator("[data-state]")).to_contain_text(new_keys.fingerprint)
    shot(page, "keys")
    row.get_by_role("button", name=f"Comparer la clé de {yves.email}").click()
    expect(page.locator("#compare-fingerprint")).to_have_text(new_keys.fingerprint)
    expect(page.locator("#compare-state")).to_contain_text("ce n'est pas la clé retenue")
    page.get_by_label("J'ai comparé cette empreinte").check()
    page.get_by_role("button", name="Retenir cette clé").click()
    expect(row.locator("[data-state]")).to_have_text("Identique à l'annuaire")
    expect(row).to_contain_text(new_keys.fingerprint)

    row.get_by_role("button", name=f"Oublier la clé de {yves.email}").click()
    expect(page.locator("#pins-empty")).to_be_visible()
    page.reload()
    expect(page.locator("#pins-empty")).to_be_visible()


def test_pages_are_french_by_default_and_english_on_request(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    # Keyboard: the skip link comes first, then the labelled fields in order.
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused in {"lang-switch", "email"}
    shot(page, "login")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(server.url + "/login")  # remembered
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_patient_link_opens_with_the_passphrase_only_until_it_expires(
    server: LiveServer, orgs: Orgs, page: Page, browser: Browser, tmp_path: Path
) -> None:
    nina = make_member(server, orgs.lab, Role.SENDER, publish_key=False)
    sign_in(page, server, nina, nina.recovery_codes[0])
    create_identity(page)
    page.goto(server.url + "/send")
    page.get_by_label("Envoyer à un patient sans compte").check()
    passphrase = "trois mots au hasard pour Paul"
    page.get_by_label("Phrase secrète à donner au patient").fill(passphrase)
    page.get_by_label("Nombre maximal de téléchargements").fill("3")
    letter = tmp_path / "compte-rendu-paul.pdf"
    letter.write_bytes(b"%PDF-1.7\n" + os.urandom(150_000))
    page.get_by_label("Fichier").set_input_files(str(letter))
    page.get_by_role("button", name="Chiffrer, signer et envoyer").click()
    expect(page.locator("#patient-result")).to_be_visible()
    assert spill_entries(page) == []
    link = page.locator("#patient-link").inner_text()
    transfer_id = link.rsplit("/", 1)[1]
    assert link == f"{server.url}/p/{transfer_id}"  # the passphrase is not in the link
    page.goto(server.url + "/sent")
    expect(page.get_by_role("row", name=transfer_id)).to_contain_text(f"/p/{transfer_id}")

    # The patient: another browser profile, no account, no cookie.
    patient = browser.new_context(locale="fr-FR", accept_downloads=True)
    try:
        tab = patient.new_page()
        tab.goto(link)
        shot(tab, "patient")
        tab.get_by_label("Phrase secrète reçue").fill("une autre phrase fausse")
        tab.get_by_role("button", name="Déchiffrer et enregistrer").click()
        expect(tab.locator("#form-error")).to_have_text(
            "Phrase secrète incorrecte ; rien n'a été téléchargé."
        )
        nina_auth = {"Authorization": f"Bearer {nina.token}"}
        described = httpx.get(
            f"{server.url}/api/v1/transfers/{transfer_id}", headers=nina_auth, timeout=30
        ).json()
        assert described["download_count"] == 0  # refused before any download
        assert spill_entries(tab) == []
        assert described["recipients"] == []
        tab.get_by_label("Phrase secrète reçue").fill(passphrase)
        with tab.expect_download() as download_info:
            tab.get_by_role("button", name="Déchiffrer et enregistrer").click()
        assert download_info.value.suggested_filename == "compte-rendu-paul.pdf"
        assert Path(download_info.value.path()).read_bytes() == letter.read_bytes()
        expect(tab.locator("#form-status")).to_contain_text(nina.email)
        [offered] = spill_entries(tab)
        assert offered.startswith("scelle-spill-plain-")

        # The payload is a plain age file to the passphrase (the reference age tool reads
        # passphrases from a terminal only, so the project's age implementation opens it).
        payload = httpx.get(f"{server.url}/api/v1/links/{transfer_id}/content", timeout=30)
        assert payload.status_code == 200
        assert decrypt_bytes(payload.content, [ScryptIdentity(passphrase)]) == letter.read_bytes()

        # Expired: the link is refused (and the ciphertext purged on sight).
        _expire(server, transfer_id)
        tab.goto(link)
        tab.get_by_label("Phrase secrète reçue").fill(passphrase)
        tab.get_by_role("button", name="Déchiffrer et enregistrer").click()
        expect(tab.locator("#form-error")).to_have_text(
            "Ce transfert a expiré ou a atteint sa limite de téléchargements."
        )
        expect_spill_empty(tab)  # what the left page offered is swept
        shot(tab, "patient-expired")
        gone = httpx.get(f"{server.url}/api/v1/links/{transfer_id}/content", timeout=30)
        assert gone.status_code == 410
        assert _purge_reason(server, transfer_id) == "expiry"
    finally:
        patient.close()


def _expire(server: LiveServer, transfer_id: str) -> None:
    with server_services(server) as services, services.database.transaction() as session:
        session.execute(
            update(Transfer)
            .where(Transfer.id == transfer_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def _purge_reason(server: LiveServer, transfer_id: str) -> str | None:
    with server_services(server) as services, services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        return transfer.purge_reason if transfer else None


def test_the_accessibility_check_finds_what_it_is_for(page: Page) -> None:
    """The check every screenshot goes through (conftest.assert_accessible) is not blind."""
    page.set_content(
        '<html lang="fr"><head><title>t</title></head><body><main>'
        '<input type="text"><p style="color:#bbb;background:#fff">pâle</p>'
        "</main></body></html>"
    )
    with pytest.raises(AssertionError) as found:
        assert_accessible(page, "a page made to fail")
    assert "'label'" in str(found.value)
    assert "'color-contrast'" in str(found.value)


def test_the_sign_in_page_is_usable_from_the_keyboard_with_a_visible_focus(
    server: LiveServer, page: Page
) -> None:
    page.goto(server.url + "/login")
    reached: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const e = document.activeElement;
                const style = getComputedStyle(e);
                return { id: e.id || e.textContent.trim(), outline: style.outlineStyle,
                         width: parseFloat(style.outlineWidth) };
            }"""
        )
        assert focused["outline"] != "none", focused  # :focus-visible draws the ring
        assert focused["width"] >= 2, focused
        reached.append(focused["id"])
        if focused["id"] == "passkey-login-button":
            break
    # The skip link first, then the form's fields in reading order, then its two buttons.
    assert reached[0] == "Aller au contenu"
    form = [r for r in reached if r in {"email", "password", "otp", "Se connecter"}]
    assert form == ["email", "password", "otp", "Se connecter"]
    assert reached[-1] == "passkey-login-button"
    # Enter in the form submits it: the page answers with its own message, not a reload.
    page.locator("#email").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#form-error")).to_have_text(
        "Saisissez votre adresse e-mail et votre mot de passe."
    )
