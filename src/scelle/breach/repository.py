"""Queries of the breach assessment: transfers in a window, downloads, scans, the register."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from scelle.db.models import (
    ApiToken,
    AuditEvent,
    BreachAssessment,
    OIDCLogin,
    Transfer,
    TransferRecipient,
    TransferScan,
    TransferSubject,
    Upload,
    User,
    WebAuthnChallenge,
    WebSession,
)

__all__ = [
    "alive_in_window",
    "assessment",
    "assessments",
    "downloaded_by",
    "pending_enrolments",
    "received_by",
    "revoke_tokens",
    "scan_for",
    "spend_ceremonies",
    "subjects_of",
    "unfinished_uploads",
]

DOWNLOAD_TAG = "transfer:content:download"


def _alive(start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    """Ciphertext stored at some moment of [start, end]."""
    return (Transfer.created_at <= end) & or_(
        Transfer.purged_at.is_(None), Transfer.purged_at >= start
    )


def alive_in_window(session: Session, start: datetime, end: datetime) -> list[Transfer]:
    return list(session.scalars(select(Transfer).where(_alive(start, end)).order_by(Transfer.id)))


def downloaded_by(session: Session, user_id: str, start: datetime, end: datetime) -> list[str]:
    """Ids of the transfers ``user_id`` downloaded in [start, end] (from the audit log)."""
    found = session.scalars(
        select(AuditEvent.object_id).where(
            AuditEvent.tag == DOWNLOAD_TAG,
            AuditEvent.actor_id == user_id,
            AuditEvent.at >= start,
            AuditEvent.at <= end,
            AuditEvent.object_id.is_not(None),
        )
    )
    return sorted({value for value in found if value})


def received_by(session: Session, user_id: str, start: datetime, end: datetime) -> list[Transfer]:
    """Transfers addressed to ``user_id`` whose ciphertext was stored during the window."""
    return list(
        session.scalars(
            select(Transfer)
            .join(TransferRecipient, TransferRecipient.transfer_id == Transfer.id)
            .where(TransferRecipient.user_id == user_id, _alive(start, end))
            .order_by(Transfer.id)
        )
    )


def scan_for(session: Session, transfer_id: str) -> TransferScan | None:
    return session.get(TransferScan, transfer_id)


def subjects_of(session: Session, transfer_id: str) -> list[bytes]:
    return list(
        session.scalars(
            select(TransferSubject.pseudonym).where(TransferSubject.transfer_id == transfer_id)
        )
    )


def assessments(session: Session, limit: int = 500) -> list[BreachAssessment]:
    return list(
        session.scalars(
            select(BreachAssessment).order_by(BreachAssessment.created_at.desc()).limit(limit)
        )
    )


def assessment(session: Session, assessment_id: str) -> BreachAssessment | None:
    return session.get(BreachAssessment, assessment_id)


def revoke_tokens(session: Session, now: datetime) -> int:
    """Revoke every API token not yet revoked; returns how many."""
    result = session.execute(
        update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def end_web_sessions(session: Session, now: datetime) -> int:
    """End every web session still open; returns how many."""
    result = session.execute(
        update(WebSession).where(WebSession.ended_at.is_(None)).values(ended_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def spend_ceremonies(session: Session, now: datetime) -> int:
    """Spend every WebAuthn ceremony not used yet (passkey enrolments and logins in flight)."""
    result = session.execute(
        update(WebAuthnChallenge).where(WebAuthnChallenge.used_at.is_(None)).values(used_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def spend_sso_logins(session: Session, now: datetime) -> int:
    """Spend every SSO login started and not finished (its callback is then refused)."""
    result = session.execute(
        update(OIDCLogin).where(OIDCLogin.used_at.is_(None)).values(used_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def pending_enrolments(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.enrolment_token_hash.is_not(None))))


def unfinished_uploads(session: Session) -> list[Upload]:
    return list(session.scalars(select(Upload).where(Upload.completed_at.is_(None))))
