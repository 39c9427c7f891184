"""Every query on published keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scelle.db.models import Organization, PublicKey, Role, User, UserStatus

__all__ = ["current_key", "key_by_id", "recipients_of_org"]


def current_key(session: Session, user_id: str) -> PublicKey | None:
    return session.scalar(
        select(PublicKey)
        .where(PublicKey.user_id == user_id, PublicKey.revoked_at.is_(None))
        .order_by(PublicKey.created_at.desc())
        .limit(1)
    )


def key_by_id(session: Session, key_id: str) -> PublicKey | None:
    return session.get(PublicKey, key_id)


def recipients_of_org(session: Session, org_id: str) -> list[User]:
    """Active users of an org who hold the recipient role (filtered in Python: roles is a set)."""
    users = session.scalars(
        select(User)
        .join(Organization, Organization.id == User.org_id)
        .where(User.org_id == org_id, User.status == UserStatus.ACTIVE.value)
        .order_by(User.email)
    )
    return [u for u in users if u.has_role(Role.RECIPIENT)]
