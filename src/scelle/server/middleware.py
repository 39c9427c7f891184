"""ASGI middleware: request ids, the access log line, and security headers."""

from __future__ import annotations

import logging
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scelle.server.metric_families import BYTES_IN, BYTES_OUT, REQUEST_SECONDS, REQUESTS

__all__ = ["AccessAndHeadersMiddleware"]

access_log = logging.getLogger("scelle.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# The API serves JSON and bytes, never a page: nothing may load, nothing may frame it.
# The interactive docs page (Swagger UI) is the one exception, it loads its own script.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
CSP_EXEMPT = frozenset({"/api/v1/docs", "/docs/oauth2-redirect"})


class AccessAndHeadersMiddleware:
    """Pure ASGI (no body buffering, so streaming uploads and downloads stay streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        started = time.perf_counter()
        status = 0

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                BYTES_IN.inc(len(message.get("body", b"")))
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.body":
                BYTES_OUT.inc(len(message.get("body", b"")))
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if API_CSP[0] not in present and scope.get("path") not in CSP_EXEMPT:
                    headers.append(API_CSP)
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        finally:
            route = scope.get("route")
            # The route template (``/api/v1/transfers/{transfer_id}``), never the query string.
            path = getattr(route, "path", None) or "<unmatched>"
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            REQUEST_SECONDS.labels(scope["method"], path).observe(elapsed)
            access_log.info(
                "%s %s %s %.1fms",
                scope["method"],
                path,
                status,
                (time.perf_counter() - started) * 1000,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
