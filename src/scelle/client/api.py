"""``ScelleClient``: the HTTP API, typed, streaming, with one error type.

Every non-2xx answer becomes ``ServerError`` carrying the server's message,
status and stable code; a network failure becomes ``ServerError`` with
``http_status=0``. Downloads stream to a file object in constant memory.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from scelle import __version__
from scelle.errors import ServerError

if TYPE_CHECKING:
    import httpx

__all__ = ["ScelleClient"]

API = "/api/v1"
AUDIT_LEAF_HEADER = "Scelle-Audit-Leaf"
# Seconds: (connect, everything else). httpx is imported when a client is
# made, not with this module, so that commands that never talk to a server
# (`scelle encrypt` in a pipe) start quickly.
DEFAULT_TIMEOUT = (10.0, 60.0)
BUSY_RETRIES = 6
BUSY_WAIT = 10.0


def _busy_wait(retry_after: str | None, attempt: int) -> float:
    """Seconds to wait before retrying a 503: its Retry-After, else a jittered backoff."""
    if retry_after is not None and retry_after.strip().isdigit():
        return min(BUSY_WAIT, float(retry_after))
    return min(BUSY_WAIT, 0.25 * 2.0**attempt) * (0.5 + random.random() / 2)  # noqa: S311


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


def _bundle(x25519_recipient: str, ed25519_public: bytes, self_signature: bytes) -> dict[str, Any]:
    return {
        "x25519_recipient": x25519_recipient,
        "ed25519_public": base64.b64encode(ed25519_public).decode(),
        "self_signature": base64.b64encode(self_signature).decode(),
    }


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
        device_id: str | None = None,
    ) -> None:
        """Connect lazily to ``server``; ``transport`` or a ready ``http`` client serve tests.

        ``http`` (for example Starlette's TestClient over the real app) is used
        as is, including its base URL. ``device_id`` (from ``LocalState.device_id``)
        is sent as ``X-Scelle-Device``.
        """
        self.server = server.rstrip("/")
        self.token = token
        headers = {"User-Agent": f"scelle/{__version__}"}
        if device_id:
            # Lets the server tell this device from others (new-device notices).
            headers["X-Scelle-Device"] = device_id
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
        # Called with (leaf index, method, path) when an answer carries an audit
        # receipt (the Scelle-Audit-Leaf header): client/receipts.py keeps them.
        self.receipt_hook: Callable[[int, str, str], None] | None = None

    def _receipt(self, response: httpx.Response, method: str, path: str) -> None:
        value = response.headers.get(AUDIT_LEAF_HEADER, "")
        if self.receipt_hook is not None and value.isdigit() and len(value) < 20:
            self.receipt_hook(int(value), method, path)

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
        """Send one request; raise ServerError unless the status is in ``expect``.

        A 503 (the server is shedding load or its database is briefly away)
        is retried after its ``Retry-After`` (at most BUSY_RETRIES times, at
        most BUSY_WAIT seconds each) when the body can be sent again; every
        Scellé request is safe to repeat (creation and sealing are idempotent,
        tus offsets are checked).
        """
        import httpx

        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        replayable = not callable(getattr(kwargs.get("content"), "__next__", None))
        for attempt in range(BUSY_RETRIES + 1):
            try:
                response = self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise ServerError(
                    f"cannot reach the server at {self.server} ({type(exc).__name__})",
                    http_status=0,
                ) from None
            if response.status_code != 503 or not replayable or attempt == BUSY_RETRIES:
                break
            time.sleep(_busy_wait(response.headers.get("retry-after"), attempt))
        if response.status_code not in expect:
            raise _error(response)
        self._receipt(response, method, path)
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

    # -- passkeys --------------------------------------------------------------
    # Registering and logging in with a passkey need a browser (navigator.credentials):
    # the SDK lists and removes them only.

    def passkeys(self) -> list[dict[str, Any]]:
        """The caller's passkeys: id, name, credential id (base64url), transports, dates."""
        result: list[dict[str, Any]] = self._json("GET", "/passkeys")["passkeys"]
        return result

    def remove_passkey(
        self, passkey_id: str, *, password: str | None = None, otp: str | None = None
    ) -> None:
        """Remove one of the caller's passkeys.

        The server wants a login of the last few minutes, or ``password`` and
        ``otp`` (TOTP or recovery code) again; raises ServerError (403
        ``reauthentication_required``, 404 for another's or an unknown id).
        """
        body = {"password": password, "otp": otp} if password is not None else None
        self.request("DELETE", API + f"/passkeys/{_segment(passkey_id)}", expect=(204,), json=body)

    # -- keys ----------------------------------------------------------------

    def publish_keys(
        self,
        x25519_recipient: str,
        ed25519_public: bytes,
        self_signature: bytes,
        rotation_signature: bytes | None = None,
    ) -> dict[str, Any]:
        """Publish the caller's key bundle (replacing the previous one).

        With ``rotation_signature`` (the current key's signature over the new
        bundle, see ``key_rotation_message``) it is a rotation correspondents
        can verify.
        """
        body = _bundle(x25519_recipient, ed25519_public, self_signature)
        if rotation_signature is not None:
            body["rotation_signature"] = base64.b64encode(rotation_signature).decode()
        result: dict[str, Any] = self._json("PUT", "/keys/me", json=body, expect=(200, 201))
        return result

    def revoke_key(self) -> dict[str, Any]:
        """Revoke the caller's current key: no new transfer can be addressed to it."""
        result: dict[str, Any] = self._json("POST", "/keys/me/revoke")
        return result

    def lost_device(
        self,
        password: str,
        otp: str,
        x25519_recipient: str,
        ed25519_public: bytes,
        self_signature: bytes,
    ) -> dict[str, Any]:
        """Re-authenticate, revoke every key and other token, publish this device's bundle.

        The client switches to the fresh token the server returns.
        """
        body: dict[str, Any] = {
            **_bundle(x25519_recipient, ed25519_public, self_signature),
            "password": password,
            "otp": otp,
        }
        result: dict[str, Any] = self._json(
            "POST", "/keys/me/lost-device", json=body, expect=(201,)
        )
        self.token = result["token"]
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

    def send_policy(self) -> dict[str, Any]:
        """The caller's organisation's send policy: ``{"org": ..., "rules": {kind: action}}``."""
        result: dict[str, Any] = self._json("GET", "/transfers/policy")
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
                self._receipt(response, "GET", path)
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

    # -- audit log -----------------------------------------------------------

    def audit_log_key(self) -> dict[str, Any]:
        """The audit log's name and verifier key (pin it: client/receipts.py)."""
        result: dict[str, Any] = self._json("GET", "/audit/log-key")
        return result

    def audit_checkpoint(self) -> dict[str, Any]:
        """The newest signed checkpoint (``note`` is the C2SP signed note)."""
        result: dict[str, Any] = self._json("GET", "/audit/checkpoint")
        return result

    def audit_inclusion(self, leaf: int, tree_size: int) -> dict[str, Any]:
        """An event's entry and its inclusion proof in the tree of ``tree_size``."""
        result: dict[str, Any] = self._json(
            "GET", "/audit/proofs/inclusion", params={"leaf": leaf, "tree_size": tree_size}
        )
        return result

    def transfer_history(self, transfer_id: str) -> list[dict[str, Any]]:
        """One transfer's life from the audit log (sender and recipients only).

        Each item is ``{"leaf_index": int, "entry": dict}``, the entry being
        the canonical JSON event the log hashed. Raises ServerError (404 for
        an unknown transfer or one that is not yours).
        """
        result = self._json("GET", f"/audit/transfers/{quote(transfer_id, safe='')}")
        return [
            {"leaf_index": int(event["leaf_index"]), "entry": json.loads(event["entry"])}
            for event in result["events"]
        ]

    def audit_consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        """The consistency proof between two tree sizes."""
        result: dict[str, Any] = self._json(
            "GET",
            "/audit/proofs/consistency",
            params={"old_size": old_size, "new_size": new_size},
        )
        return result
