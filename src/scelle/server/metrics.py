"""Prometheus metrics at ``GET /metrics`` (bearer token ``SCELLE_METRICS_TOKEN``).

Not public: counts and sizes say how busy an organisation is. Without
``SCELLE_METRICS_TOKEN`` the route answers 401 like every protected route.
Labels are route templates and status codes only: never an id, an address
or a user.

Several server processes (``scelle serve --workers N``): ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder, every process writes its
samples there, and a scrape of any process returns the sum (prometheus-client
multiprocess mode). ``purges_total`` is counted when a purge's transaction
commits (``scelle.transfers.service.purge``); ``throttles_total`` by the error
handler for every 429, labelled with the rule that refused.
"""

from __future__ import annotations

import hmac
import os

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import func, select

from scelle.db.models import AuditEvent, Transfer, TransferStatus
from scelle.errors import AuthenticationRequired
from scelle.server.dependencies import ServicesDep
from scelle.server.metric_families import (
    BYTES_IN,
    BYTES_OUT,
    PURGES,
    REQUEST_SECONDS,
    REQUESTS,
    THROTTLES,
)

__all__ = [
    "BYTES_IN",
    "BYTES_OUT",
    "PURGES",
    "REQUESTS",
    "REQUEST_SECONDS",
    "THROTTLES",
    "router",
]

router = APIRouter(tags=["operations"], include_in_schema=False)


def _authorised(request: Request, expected: str | None) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if expected is None or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _registry() -> CollectorRegistry | None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@router.get("/metrics")
def metrics(request: Request, services: ServicesDep) -> Response:
    """The Prometheus exposition, plus two gauges read from the database at scrape time."""
    token = services.settings.metrics_token
    if not _authorised(request, token.get_secret_value() if token else None):
        raise AuthenticationRequired("a metrics token is required")
    with services.database.transaction() as session:
        live = session.scalar(
            select(func.count())
            .select_from(Transfer)
            .where(Transfer.status != TransferStatus.PURGED.value)
        )
        audit = session.scalar(select(func.count()).select_from(AuditEvent))
    registry = _registry()
    body = generate_latest(registry) if registry is not None else generate_latest()
    gauges = (
        "# HELP scelle_transfers_live Transfers not purged yet\n"
        "# TYPE scelle_transfers_live gauge\n"
        f"scelle_transfers_live {int(live or 0)}\n"
        "# HELP scelle_audit_events Events in the audit log\n"
        "# TYPE scelle_audit_events gauge\n"
        f"scelle_audit_events {int(audit or 0)}\n"
    )
    return Response(body + gauges.encode(), media_type=CONTENT_TYPE_LATEST)
