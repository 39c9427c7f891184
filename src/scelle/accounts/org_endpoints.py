"""The operator's organisations: ``GET`` and ``POST /api/v1/admin/orgs``.

Only the admins of the operator's organisation (``SCELLE_OPERATOR_ORG``) may
call them (403 otherwise). Creating one is ``scelle admin create-org``'s
service, audited; its first admin's one-time enrolment token is answered once,
inside the URL fragment of an enrolment link (a fragment is never sent to a
server, nor kept in its logs).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from scelle.accounts import organisations, oversight, schemas
from scelle.accounts.endpoints import enrolment_url
from scelle.accounts.organisations import OrganisationSummary
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep

__all__ = ["organisation_out", "router"]

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def organisation_out(summary: OrganisationSummary) -> schemas.OrganisationOut:
    return schemas.OrganisationOut(
        id=summary.id,
        name=summary.name,
        created_at=summary.created_at,
        members=summary.members,
        active=summary.active,
        pending=summary.pending,
        disabled=summary.disabled,
        passkey_roles=summary.passkey_roles,
    )


@router.get("/orgs", response_model=schemas.OrganisationList)
def list_organisations(
    principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.OrganisationList:
    """Every organisation: name, creation date, member counts, passkey roles (operator only)."""
    oversight.require_operator(principal, services.settings)
    return schemas.OrganisationList(
        organisations=[organisation_out(s) for s in organisations.summaries(session)]
    )


@router.post(
    "/orgs", response_model=schemas.CreatedOrganisationOut, status_code=status.HTTP_201_CREATED
)
def create_organisation(
    body: schemas.CreateOrganisationRequest,
    request: Request,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.CreatedOrganisationOut:
    """Create an organisation (audited) and, optionally, its first admin (operator only)."""
    oversight.require_operator(principal, services.settings)
    created = organisations.create(
        session, services, body.name, admin_email=body.admin_email, actor_id=principal.user.id
    )
    org = created.org
    summary = OrganisationSummary(
        id=org.id,
        name=org.name,
        created_at=org.created_at,
        members=1 if created.admin else 0,
        active=0,
        pending=1 if created.admin else 0,
        disabled=0,
        passkey_roles=(org.passkey_roles or "").split(),
    )
    return schemas.CreatedOrganisationOut(
        organisation=organisation_out(summary),
        admin_email=created.admin.email if created.admin else None,
        enrolment_url=enrolment_url(services.settings, request, created.enrolment_token)
        if created.enrolment_token
        else None,
        enrolment_expires_at=created.admin.enrolment_expires_at if created.admin else None,
    )
