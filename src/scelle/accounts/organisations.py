"""The operator's view of the organisations: list them, create one with its first admin.

Promises: the list shows names, dates, member counts and passkey roles, never
a member's address; ``create`` is ``service.create_org`` (the service of
``scelle admin create-org``, audited as ``admin:org:create``) and, when asked,
``service.create_user`` for its first admin (audited as ``admin:user:create``),
whose one-time enrolment token is returned once and stored only as a keyed
hash. The caller checks access (``oversight.require_operator``). Services
never commit: the caller's transaction does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle.accounts import repository, service
from scelle.db.models import Organization, Role, User, UserStatus

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = ["CreatedOrganisation", "OrganisationSummary", "create", "summaries"]


@dataclass(frozen=True)
class OrganisationSummary:
    """One organisation as the operator's list shows it."""

    id: str
    name: str
    created_at: datetime
    members: int
    active: int
    pending: int
    disabled: int
    passkey_roles: list[str]


@dataclass(frozen=True)
class CreatedOrganisation:
    """A new organisation, with its first admin and their one-time token when one was asked."""

    org: Organization
    admin: User | None
    enrolment_token: str | None


def summaries(session: Session) -> list[OrganisationSummary]:
    """Every organisation with its member counts (two queries, whatever the number of users)."""
    counts = repository.org_member_counts(session)
    found = []
    for org in repository.organisations(session):
        by_status = counts.get(org.id, {})
        found.append(
            OrganisationSummary(
                id=org.id,
                name=org.name,
                created_at=org.created_at,
                members=sum(by_status.values()),
                active=by_status.get(UserStatus.ACTIVE.value, 0),
                pending=by_status.get(UserStatus.PENDING.value, 0),
                disabled=by_status.get(UserStatus.DISABLED.value, 0),
                passkey_roles=org.passkey_roles.split(),
            )
        )
    return found


def create(
    session: Session,
    services: Services,
    name: str,
    *,
    admin_email: str | None = None,
    actor_id: str,
) -> CreatedOrganisation:
    """Create an organisation and, with ``admin_email``, its first admin (pending enrolment).

    Raises InvalidInput for a malformed name or e-mail, Conflict when the
    organisation or the e-mail exists already (then nothing is created: the
    caller's transaction rolls back).
    """
    if admin_email is not None:
        service.normalise_email(admin_email)  # refuse a bad address before creating anything
    org = service.create_org(session, services, name, actor_id=actor_id)
    if admin_email is None:
        return CreatedOrganisation(org=org, admin=None, enrolment_token=None)
    user, token = service.create_user(
        session, services, admin_email, org_name=org.name, roles={Role.ADMIN}, actor_id=actor_id
    )
    return CreatedOrganisation(org=org, admin=user, enrolment_token=token)
