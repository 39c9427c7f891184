"""``ScelleClient``: the HTTP API, typed, streaming, with one error type.

Every non-2xx answer becomes ``ServerError`` carrying the server's message,
status and stable code; a network failure becomes ``ServerError`` with
``http_status=0``. Downloads stream to a file object in constant memory.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from scelle import __version__
from scelle.errors import ServerError

if TYPE_CHECKING:
    import httpx

__all__ = ["ScelleClient"]

API = "/api/v1"
# Seconds: (connect, everything else). httpx is imported when a client is
# made, not with this module, so that commands that never talk to a server
# (`scelle encrypt` in a pipe) start quickly.
DEFAULT_TIMEOUT = (10.0, 60.0)


def _error(response: httpx.Response) -> ServerError:
    try:
        body = response.json()
        error = body["error"]
        message, code = str(error["message"]), str(error["code"])
    except (ValueError, KeyError, TypeError):
        message, code = f"the server answered HTTP {response.status_code}", ""
    if code == "authentication_required":
        message += " (log in again: scelle login)"
    return ServerError(message, http_status=response.status_code, remote_code=code)


def _segment(value: str) -> str:
    """One URL path segment: an id from the command line cannot reach another endpoint."""
    return quote(value, safe="")


class ScelleClient:
    """A connection to one Scellé server, optionally authenticated with an API token."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
    ) -> None:
        """Connect lazily to ``server``; ``transport`` or a ready ``http`` client serve tests.

        ``http`` (for example Starlette's TestClient over the real app) is used
        as is, including its base URL.
        """
        self.server = server.rstrip("/")
        self.token = token
        headers = {"User-Agent": f"scelle/{__version__}"}
        if http is None:
            import httpx

            connect, other = timeout
            http = httpx.Client(
                base_url=self.server,
                headers=headers,
                timeout=httpx.Timeout(other, connect=connect),
                transport=transport,
            )
        self._http = http

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ScelleClient:
        """Use as a context manager; the pool is closed on exit."""
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header for the current token (empty without one)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(
        self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        """Send one request; raise ServerError unless the status is in ``expect``."""
        import httpx

        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ServerError(
                f"cannot reach the server at {self.server} ({type(exc).__name__})", http_status=0
            ) from None
        if response.status_code not in expect:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, API + path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ServerError(
                "the server sent a malformed answer", http_status=response.status_code
            ) from None

    # -- accounts ----------------------------------------------------------

    def enrol(self, token: str, password: str) -> dict[str, Any]:
        """Redeem a one-time enrolment token; returns the TOTP secret and recovery codes."""
        result: dict[str, Any] = self._json(
            "POST", "/enrol", json={"token": token, "password": password}
        )
        return result

    def login(self, email: str, password: str, otp: str, name: str = "cli") -> dict[str, Any]:
        """Get an API token (password + TOTP or recovery code); the client keeps it."""
        result: dict[str, Any] = self._json(
            "POST",
            "/auth/token",
            json={"email": email, "password": password, "otp": otp, "name": name},
            expect=(201,),
        )
        self.token = result["token"]
        return result

    def logout(self) -> None:
        """Revoke the current token on the server."""
        self.request("DELETE", API + "/auth/token", expect=(204,))
        self.token = None

    def me(self) -> dict[str, Any]:
        """Who the token belongs to."""
        result: dict[str, Any] = self._json("GET", "/me")
        return result

    def create_token(
        self, name: str, scopes: list[str], expires_in_days: int | None = None
    ) -> dict[str, Any]:
        """A new scoped API token (its secret is in the answer, once); raises ServerError."""
        result: dict[str, Any] = self._json(
            "POST",
            "/tokens",
            json={"name": name, "scopes": scopes, "expires_in_days": expires_in_days},
            expect=(201,),
        )
        return result

    def tokens(self) -> list[dict[str, Any]]:
        """The caller's API tokens (no secrets)."""
        result: list[dict[str, Any]] = self._json("GET", "/tokens")["tokens"]
        return result

    def revoke_token(self, token_id: str) -> None:
        """Revoke one API token by id; raises ServerError (404) when it is not the caller's."""
        self.request("DELETE", API + f"/tokens/{_segment(token_id)}", expect=(204,))

    # -- keys ----------------------------------------------------------------

    def publish_keys(
        self, x25519_recipient: str, ed25519_public: bytes, self_signature: bytes
    ) -> dict[str, Any]:
        """Publish the caller's key bundle (replacing the previous one)."""
        result: dict[str, Any] = self._json(
            "PUT",
            "/keys/me",
            json={
                "x25519_recipient": x25519_recipient,
                "ed25519_public": base64.b64encode(ed25519_public).decode(),
                "self_signature": base64.b64encode(self_signature).decode(),
            },
            expect=(200, 201),
        )
        return result

    def directory(self, targets: list[str]) -> list[dict[str, Any]]:
        """Resolve organisations and e-mail addresses to recipients with their keys."""
        result = self._json("GET", "/directory", params=[("to", t) for t in targets])
        recipients: list[dict[str, Any]] = result["recipients"]
        return recipients

    # -- transfers -------------------------------------------------------------

    def create_transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a pending transfer (its ciphertext is uploaded next, with tus)."""
        result: dict[str, Any] = self._json("POST", "/transfers", json=body, expect=(201,))
        return result

    def seal(self, transfer_id: str, signature: bytes) -> dict[str, Any]:
        """Submit the sender's signature; the transfer becomes available."""
        result: dict[str, Any] = self._json(
            "POST",
            f"/transfers/{_segment(transfer_id)}/seal",
            json={"signature": base64.b64encode(signature).decode()},
        )
        return result

    def transfers(self, box: str) -> list[dict[str, Any]]:
        """The inbox or the sent box."""
        result = self._json("GET", "/transfers", params={"box": box})
        transfers: list[dict[str, Any]] = result["transfers"]
        return transfers

    def transfer(self, transfer_id: str) -> dict[str, Any]:
        """One transfer's description (404 and 410 raise ServerError)."""
        result: dict[str, Any] = self._json("GET", f"/transfers/{_segment(transfer_id)}")
        return result

    def delete_transfer(self, transfer_id: str) -> None:
        """Cancel a transfer: the server deletes its ciphertext now."""
        self.request("DELETE", f"{API}/transfers/{_segment(transfer_id)}", expect=(204,))

    def download(
        self,
        transfer_id: str,
        dst: IO[bytes],
        *,
        start: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Stream a transfer's ciphertext from byte ``start`` into ``dst``; return the byte count.

        Memory stays constant. ``start > 0`` resumes an interrupted download
        with a Range request (which the server does not count as a download).
        Raises ServerError: the server's refusal (404, 410...) or, with
        ``http_status=0``, an interruption (``dst`` then holds what arrived).
        """
        path = f"{API}/transfers/{_segment(transfer_id)}/content"
        headers = self.auth_headers()
        expected = 200
        if start:
            headers["Range"] = f"bytes={start}-"
            expected = 206
        total = 0
        import httpx

        try:
            with self._http.stream("GET", path, headers=headers) as response:
                if response.status_code != expected:
                    response.read()
                    raise _error(response)
                for chunk in response.iter_bytes(1024 * 1024):
                    dst.write(chunk)
                    total += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                return total
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise ServerError(
                f"the download was interrupted after {total} bytes ({type(exc).__name__})",
                http_status=0,
            ) from None
