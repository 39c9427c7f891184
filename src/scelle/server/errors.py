"""One place where errors become HTTP responses: a stable code, a safe message, no trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from scelle.errors import (
    InvalidInput,
    NotFound,
    ScelleError,
    ServiceUnavailable,
    TooManyRequests,
)
from scelle.server.metric_families import THROTTLES
from scelle.server.web import error_page

__all__ = ["error_response", "install_error_handlers"]

log = logging.getLogger("scelle.server")

_HTTP_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    411: "length_required",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    429: "too_many_requests",
}


def _count_throttle(error: ScelleError) -> None:
    if isinstance(error, TooManyRequests):
        THROTTLES.labels(error.limit).inc()


def error_response(error: ScelleError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    _count_throttle(error)
    if isinstance(error, TooManyRequests | ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ScelleError)
    async def _scelle(request: Request, exc: ScelleError) -> Response:
        if exc.status >= 500:
            log.warning("request failed: %s (%s)", exc.code, type(exc).__name__)
        if getattr(request.state, "html_errors", False):
            # A person's browser in the middle of the SSO sign-in: a page, not JSON.
            _count_throttle(exc)
            return error_page(request, exc)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Say which field is wrong, never echo the submitted value (it may be a secret).
        fields = sorted({".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()})
        return error_response(InvalidInput("the request is malformed", fields=", ".join(fields)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(NotFound())
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail).lower()}},
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            return error_response(ServiceUnavailable("the database is unavailable"))
        # Type only: an exception message may carry request data.
        log.error("unexpected error: %s", type(exc).__name__, exc_info=log.isEnabledFor(10))
        return JSONResponse(
            {"error": {"code": "internal", "message": "internal error"}}, status_code=500
        )
