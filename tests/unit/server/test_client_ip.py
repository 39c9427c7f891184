"""The client address used for throttling: the socket, X-Forwarded-For only via trusted proxies."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from scelle.config import Settings
from scelle.server.dependencies import client_ip


class _Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def _app(tmp_path: Path, proxies: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.services = _Services(Settings(data=tmp_path, trusted_proxies=proxies))

    @app.get("/ip")
    def ip(request: Request) -> dict[str, str]:
        return {"ip": client_ip(request)}

    return app


def _ip(app: FastAPI, peer: str, forwarded: str | None = None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    with TestClient(app, client=(peer, 1234)) as client:
        answer: str = client.get("/ip", headers=headers).json()["ip"]
    return answer


def test_forwarded_for_is_ignored_without_trusted_proxies(tmp_path: Path) -> None:
    app = _app(tmp_path, [])
    assert _ip(app, "203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_forwarded_for_is_ignored_from_an_untrusted_peer(tmp_path: Path) -> None:
    app = _app(tmp_path, ["10.0.0.0/8"])
    assert _ip(app, "203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_right_most_untrusted_hop_behind_trusted_proxies(tmp_path: Path) -> None:
    app = _app(tmp_path, ["10.0.0.0/8"])
    # The client may write anything on the left; the proxies append on the right.
    assert _ip(app, "10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.5") == "198.51.100.1"
    assert _ip(app, "10.0.0.2", "garbage, 198.51.100.1") == "198.51.100.1"
    # Nothing usable: the proxy itself is the address counted.
    assert _ip(app, "10.0.0.2", "not-an-ip") == "10.0.0.2"
    assert _ip(app, "10.0.0.2") == "10.0.0.2"
