"""Liveness and readiness probes (no authentication, no data)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from scelle.server.dependencies import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """The database and the blob store are reachable."""
    checks = {"database": services.database.ping(), "storage": services.blobs.ping()}
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
