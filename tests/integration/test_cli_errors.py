"""Client commands: every one has --help, and every failure is one ``error: ...`` line.

Run as real ``scelle`` processes without a terminal, against a real
``scelle serve`` where a server is needed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.integration.conftest import BIN, DEVICE_PASSPHRASE, LiveServer, enrolled_home, error_line

pytestmark = pytest.mark.integration

PASS_ENV = {"SCELLE_PASSPHRASE": DEVICE_PASSPHRASE}
COMMANDS = [
    ["enrol"],
    ["login"],
    ["logout"],
    ["whoami"],
    ["keygen"],
    ["identity", "export"],
    ["keys", "show"],
    ["keys", "trust"],
    ["send"],
    ["inbox"],
    ["sent"],
    ["receive"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_client_command_has_help(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / "scelle"), *command, "--help"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    assert "Usage" in result.stdout


def test_failures_without_a_session_or_keys_are_one_line(
    live_server: LiveServer, tmp_path: Path
) -> None:
    home = tmp_path / "nobody"
    plain = tmp_path / "a.txt"
    plain.write_text("a")
    for args, env in (
        (["whoami"], {}),
        (["sent"], {}),
        (["send", str(plain), "--to", "x"], PASS_ENV),
        (["send", str(tmp_path / "missing"), "--to", "x"], PASS_ENV),
        (["send", str(plain), "--to", "x", "--expires", "soon"], PASS_ENV),
        (["receive", "tr_" + "a" * 26], {}),
        (["identity", "export", "-o", str(tmp_path / "id.txt")], PASS_ENV),
        (["keygen"], {}),
    ):
        error_line(live_server.scelle(*args, home=home, env=env, check=False))
    assert not (tmp_path / "id.txt").exists()


def test_account_commands_round_trip(live_server: LiveServer, tmp_path: Path) -> None:
    live_server.scelle("admin", "create-org", "lab-x")
    live_server.scelle("admin", "create-org", "cpam-75")
    ana, bob = tmp_path / "ana", tmp_path / "bob"
    enrolled_home(live_server, ana, "ana@lab-x.test", "lab-x", "sender")
    enrolled_home(live_server, bob, "bob@cpam-75.test", "cpam-75", "recipient")
    assert (ana / "session.json").stat().st_mode & 0o077 == 0

    me = json.loads(live_server.scelle("whoami", "--json", home=ana).stdout)
    own = json.loads(live_server.scelle("keys", "show", "--json", home=ana).stdout)
    assert (me["email"], me["org"]) == ("ana@lab-x.test", "lab-x")
    assert me["key"]["fingerprint"] == own["fingerprint"]

    again = live_server.scelle("keygen", home=ana, env=PASS_ENV, check=False)
    assert "--force" in error_line(again)

    plain = tmp_path / "r.csv"
    plain.write_text("1;2\n")
    sent = json.loads(
        live_server.scelle(
            "send", str(plain), "--to", "bob@cpam-75.test", "--json", home=ana, env=PASS_ENV
        ).stdout
    )
    transfer_id = sent[0]["id"]
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me")
    refused = live_server.scelle(
        "receive", transfer_id, "-o", str(existing), home=bob, env=PASS_ENV, check=False
    )
    assert "--force" in error_line(refused)
    assert existing.read_text() == "keep me"
    got = json.loads(
        live_server.scelle(
            "receive", transfer_id, "-o", str(existing), "--force", "--json", home=bob, env=PASS_ENV
        ).stdout
    )
    assert (got["verified"], got["sender"]) == (True, "ana@lab-x.test")
    assert existing.read_text() == "1;2\n"

    live_server.scelle("logout", home=ana)
    after = live_server.scelle("whoami", home=ana, check=False)
    assert "scelle login" in error_line(after)
