"""Every query on published keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scelle.db.models import (
    ApiToken,
    Organization,
    PublicKey,
    Role,
    User,
    UserStatus,
    WrappedIdentity,
)

__all__ = [
    "current_key",
    "history",
    "holders_of_live_keys",
    "key_by_id",
    "live_keys",
    "recipients_of_org",
    "revoke_tokens_except",
    "wrapped_identity",
]


def current_key(session: Session, user_id: str) -> PublicKey | None:
    return session.scalar(
        select(PublicKey)
        .where(PublicKey.user_id == user_id, PublicKey.revoked_at.is_(None))
        .order_by(PublicKey.created_at.desc())
        .limit(1)
    )


def live_keys(session: Session, user_id: str) -> list[PublicKey]:
    """Every key of the user not yet revoked (normally at most one)."""
    return list(
        session.scalars(
            select(PublicKey).where(PublicKey.user_id == user_id, PublicKey.revoked_at.is_(None))
        )
    )


def history(session: Session, user_id: str, limit: int) -> list[PublicKey]:
    """The user's revoked keys, newest first."""
    return list(
        session.scalars(
            select(PublicKey)
            .where(PublicKey.user_id == user_id, PublicKey.revoked_at.is_not(None))
            .order_by(PublicKey.created_at.desc())
            .limit(limit)
        )
    )


def holders_of_live_keys(session: Session, org_id: str) -> set[str]:
    """The ids of the members of ``org_id`` who have a published key not revoked."""
    return set(
        session.scalars(
            select(PublicKey.user_id)
            .join(User, User.id == PublicKey.user_id)
            .where(User.org_id == org_id, PublicKey.revoked_at.is_(None))
            .distinct()
        )
    )


def key_by_id(session: Session, key_id: str) -> PublicKey | None:
    return session.get(PublicKey, key_id)


def revoke_tokens_except(session: Session, user_id: str, keep_id: str, now: datetime) -> int:
    """Revoke every live API token of the user but ``keep_id``; return how many."""
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            ApiToken.id != keep_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def recipients_of_org(session: Session, org_id: str) -> list[User]:
    """Active users of an org who hold the recipient role (filtered in Python: roles is a set)."""
    users = session.scalars(
        select(User)
        .join(Organization, Organization.id == User.org_id)
        .where(User.org_id == org_id, User.status == UserStatus.ACTIVE.value)
        .order_by(User.email)
    )
    return [u for u in users if u.has_role(Role.RECIPIENT)]


def wrapped_identity(session: Session, user_id: str) -> WrappedIdentity | None:
    return session.get(WrappedIdentity, user_id)
