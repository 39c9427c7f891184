"""Every query on organisations, users, recovery codes and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from scelle.db.models import (
    ApiToken,
    OIDCLogin,
    Organization,
    RecoveryCode,
    User,
    WebAuthnChallenge,
    WebAuthnCredential,
    WebSession,
)

__all__ = [
    "add",
    "advance_sign_count",
    "api_token_by_hash",
    "api_tokens_of",
    "delete_passkeys_of",
    "mark_recovery_code_used",
    "org_by_id",
    "org_by_name",
    "org_member_counts",
    "organisations",
    "passkey_by_credential_id",
    "passkey_counts_of_org",
    "passkeys_of",
    "prune_challenges",
    "recovery_codes",
    "spend_challenge",
    "spend_oidc_login",
    "user_by_email",
    "user_by_enrolment_hash",
    "user_by_id",
    "users_of_org",
]


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def org_by_name(session: Session, name: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.name == name))


def org_by_id(session: Session, org_id: str) -> Organization | None:
    return session.get(Organization, org_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def user_by_id(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def user_by_enrolment_hash(session: Session, token_hash: str) -> User | None:
    return session.scalar(select(User).where(User.enrolment_token_hash == token_hash))


def users_of_org(session: Session, org_id: str) -> list[User]:
    return list(session.scalars(select(User).where(User.org_id == org_id).order_by(User.email)))


def passkey_counts_of_org(session: Session, org_id: str) -> dict[str, int]:
    """How many passkeys each member of ``org_id`` holds (members without one are absent)."""
    rows = session.execute(
        select(WebAuthnCredential.user_id, func.count(WebAuthnCredential.id))
        .join(User, User.id == WebAuthnCredential.user_id)
        .where(User.org_id == org_id)
        .group_by(WebAuthnCredential.user_id)
    )
    return {user_id: int(count) for user_id, count in rows}


def api_token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def api_tokens_of(session: Session, user_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def recovery_codes(session: Session, user_id: str) -> list[RecoveryCode]:
    return list(
        session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
    )


def mark_recovery_code_used(session: Session, code_id: int, when: datetime) -> bool:
    """Atomically consume a code: False when another request used it first."""
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
        .values(used_at=when)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def advance_totp_step(session: Session, user_id: str, step: int) -> bool:
    """Record the TOTP step as used, unless an equal or later one already was (replay)."""
    result = session.execute(
        update(User)
        .where(User.id == user_id)
        .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def web_session_by_hash(session: Session, session_hash: str) -> WebSession | None:
    return session.scalar(select(WebSession).where(WebSession.session_hash == session_hash))


def end_sessions_of(session: Session, user_id: str, when: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=when)
    )


def revoke_tokens_of(session: Session, user_id: str, when: datetime) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=when)
    )


def passkeys_of(session: Session, user_id: str) -> list[WebAuthnCredential]:
    return list(
        session.scalars(
            select(WebAuthnCredential)
            .where(WebAuthnCredential.user_id == user_id)
            .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)
        )
    )


def passkey_by_credential_id(session: Session, credential_id: bytes) -> WebAuthnCredential | None:
    return session.scalar(
        select(WebAuthnCredential).where(WebAuthnCredential.credential_id == credential_id)
    )


def advance_sign_count(
    session: Session, passkey_id: str, old: int, new: int, when: datetime
) -> bool:
    """Store the new counter unless another login moved it first (compare-and-set)."""
    result = session.execute(
        update(WebAuthnCredential)
        .where(WebAuthnCredential.id == passkey_id, WebAuthnCredential.sign_count == old)
        .values(sign_count=new, last_used_at=when)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_passkeys_of(session: Session, user_id: str) -> int:
    result = session.execute(
        delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def spend_challenge(session: Session, id_hash: str, when: datetime) -> bool:
    """Atomically mark a ceremony's challenge used: False when another request spent it first."""
    result = session.execute(
        update(WebAuthnChallenge)
        .where(WebAuthnChallenge.id_hash == id_hash, WebAuthnChallenge.used_at.is_(None))
        .values(used_at=when)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def spend_oidc_login(session: Session, state_hash: str, when: datetime) -> bool:
    """Atomically mark an SSO login's state used: False when another request spent it first."""
    result = session.execute(
        update(OIDCLogin)
        .where(OIDCLogin.state_hash == state_hash, OIDCLogin.used_at.is_(None))
        .values(used_at=when)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_expired_ceremonies(session: Session, now: datetime) -> int:
    """Forget every SSO login and passkey ceremony past its lifetime (the worker's sweep).

    Anyone may start an SSO login without an account, so its rows must not
    pile up; an expired one is refused whether its row is there or not.
    """
    logins = session.execute(delete(OIDCLogin).where(OIDCLogin.expires_at <= now))
    challenges = session.execute(
        delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now)
    )
    return int(logins.rowcount) + int(challenges.rowcount)  # type: ignore[attr-defined]


def prune_challenges(session: Session, user_id: str, now: datetime) -> None:
    """Forget a user's expired ceremonies (each new ceremony does it, so the table stays small)."""
    session.execute(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.user_id == user_id, WebAuthnChallenge.expires_at <= now
        )
    )


def organisations(session: Session, limit: int = 1000) -> list[Organization]:
    """Every organisation, by name (the operator's list)."""
    return list(session.scalars(select(Organization).order_by(Organization.name).limit(limit)))


def org_member_counts(session: Session) -> dict[str, dict[str, int]]:
    """{org id: {status: members}} in one grouped query over ``users`` (indexed by org)."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(User.org_id, User.status, func.count()).group_by(User.org_id, User.status)
    )
    for org_id, status, count in rows:
        counts.setdefault(org_id, {})[status] = int(count)
    return counts
