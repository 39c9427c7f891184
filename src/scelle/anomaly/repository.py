"""Every query of exfiltration detection: activity counts, throttles, org admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from scelle.db.models import AccountActivity, AccountThrottle, Role, User, UserStatus

__all__ = ["admins_of_org", "counts_since", "latest_throttle", "prune"]


def counts_since(session: Session, user_id: str, since: datetime) -> dict[str, int]:
    """How many reads of each kind the user made after ``since``."""
    rows = session.execute(
        select(AccountActivity.kind, func.count())
        .where(AccountActivity.user_id == user_id, AccountActivity.at > since)
        .group_by(AccountActivity.kind)
    )
    return {str(kind): int(count) for kind, count in rows}


def latest_throttle(session: Session, user_id: str) -> AccountThrottle | None:
    return session.scalar(
        select(AccountThrottle)
        .where(AccountThrottle.user_id == user_id)
        .order_by(AccountThrottle.until.desc())
        .limit(1)
    )


def prune(session: Session, user_id: str, before: datetime) -> None:
    """Forget the user's reads older than the window."""
    session.execute(
        delete(AccountActivity)
        .where(AccountActivity.user_id == user_id, AccountActivity.at < before)
        .execution_options(synchronize_session=False)
    )


def admins_of_org(session: Session, org_id: str) -> list[User]:
    """Active admins of an organisation (roles is a set, filtered in Python)."""
    users = session.scalars(
        select(User)
        .where(User.org_id == org_id, User.status == UserStatus.ACTIVE.value)
        .order_by(User.email)
    )
    return [u for u in users if u.has_role(Role.ADMIN)]
