"""Retention as an organisation's admin sees it: the expiry rules and counts of what is stored.

``GET /api/v1/admin/retention``: counts only, for the caller's organisation
(another organisation's id is 404, as an unknown one; a non-admin, 403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scelle.accounts import oversight
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep
from scelle.transfers import schemas, service

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/retention", response_model=schemas.RetentionOut)
def org_retention(
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    org: Annotated[str | None, Query(max_length=64, description="org id (default: yours)")] = None,
) -> schemas.RetentionOut:
    """The server's expiry settings and the organisation's transfers by time left."""
    return service.retention(session, services, oversight.own_org(principal, org))
