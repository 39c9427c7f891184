"""The audit view of an organisation's admin: its events, paged, and the latest checkpoint.

``GET /api/v1/admin/audit``: the caller's organisation only (another
organisation's id is 404, as an unknown one; a caller who is not an admin,
403). Events carry ids, tags, times and the actor's e-mail: nothing of any
file's content (there is none in the log).
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query

from scelle.accounts import oversight
from scelle.audit import schemas, service
from scelle.server.dependencies import CurrentUser, DbSession

__all__ = ["audit_page", "router"]

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def audit_page(
    session: DbSession,
    org_id: str,
    org_name: str,
    *,
    action: str | None,
    start: str | None,
    end: str | None,
    cursor: str | None,
    limit: int,
) -> schemas.OrgAuditOut:
    """A page of the organisation's events and the latest checkpoint (for the API and the page)."""
    page = service.org_events(
        session,
        org_id,
        action=action or None,
        start=service.parse_moment(start, "from"),
        end=service.parse_moment(end, "to"),
        cursor=cursor or None,
        limit=limit,
    )
    checkpoint = service.latest_checkpoint(session)
    return schemas.OrgAuditOut(
        org_id=org_id,
        org=org_name,
        events=[
            schemas.OrgEventOut(
                leaf_index=e.leaf_index,
                at=e.at,
                action=e.action,
                actor_email=e.actor_email,
                outcome=e.outcome,
                transfer_id=e.transfer_id,
            )
            for e in page.events
        ],
        next_cursor=page.next_cursor,
        checkpoint=schemas.OrgCheckpointOut(
            tree_size=checkpoint.tree_size,
            root_hash=base64.b64encode(checkpoint.root_hash).decode(),
            signed_at=checkpoint.signed_at,
        )
        if checkpoint is not None
        else None,
    )


@router.get("/audit", response_model=schemas.OrgAuditOut)
def org_audit(
    principal: CurrentUser,
    session: DbSession,
    *,
    org: Annotated[str | None, Query(max_length=64, description="org id (default: yours)")] = None,
    action: Annotated[str | None, Query(max_length=64, description="tag prefix")] = None,
    start: Annotated[str | None, Query(alias="from", max_length=64, description="ISO 8601")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=64, description="ISO 8601")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(description=f"1 to {service.MAX_EVENTS_PAGE}")] = 50,
) -> schemas.OrgAuditOut:
    """The organisation's audit events, newest first, and the current signed checkpoint."""
    own = oversight.own_org(principal, org)
    return audit_page(
        session, own.id, own.name, action=action, start=start, end=end, cursor=cursor, limit=limit
    )
