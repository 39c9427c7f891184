"""Local state: where it lives, its permissions, and which session a server gets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from scelle.client.state import LocalState, Session, default_home, write_private
from scelle.errors import LocalStateError


def test_home_comes_from_scelle_home_then_xdg(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCELLE_HOME", str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"
    monkeypatch.delenv("SCELLE_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_home() == tmp_path / "xdg" / "scelle"


def test_session_is_private_and_round_trips(tmp_path: Path) -> None:
    local = LocalState(tmp_path / "home")
    local.save_session(Session(server="http://s", token="secret-token", user_id="usr_x"))
    path = tmp_path / "home" / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    loaded = local.load_session()
    assert (loaded.server, loaded.token, loaded.user_id) == ("http://s", "secret-token", "usr_x")


def test_another_server_never_gets_the_saved_token(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    local.save_session(Session(server="http://a", token="token-for-a"))
    assert local.load_session("http://a/").token == "token-for-a"
    other = local.load_session("http://b")
    assert (other.server, other.token) == ("http://b", None)


def test_no_server_anywhere_is_a_local_state_error(tmp_path: Path) -> None:
    with pytest.raises(LocalStateError, match="--server"):
        LocalState(tmp_path).load_session()


def test_unreadable_files_are_local_state_errors(tmp_path: Path) -> None:
    (tmp_path / "session.json").write_text("{not json")
    (tmp_path / "pins.json").write_text("[1, 2]")
    local = LocalState(tmp_path)
    with pytest.raises(LocalStateError):
        local.load_session("http://s")
    with pytest.raises(LocalStateError):
        local.load_pins()


def test_write_private_replaces_atomically_with_0600(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
