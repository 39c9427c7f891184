"""Breach service: assess exposure for a window and scope, keep the register, lock down access.

Promises:
- ``assess`` lists the transfers exposed for a scope: ``server`` (every
  ciphertext stored during the window: ciphertext only), ``account`` (what the
  account downloaded during the window: no plaintext without the device key),
  ``key`` (what was addressed to the account while stored, and what it
  downloaded: plaintext must be assumed read); it counts records and distinct
  subject pseudonyms, sets the deadline 72 hours after awareness, drafts the
  art. 33(3) notice, and records the assessment in the register (audited);
- ``lockdown`` revokes every API token, pending enrolment and unfinished
  upload at once, audited, and returns what it did.
Services never commit: the caller's transaction does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import repository as accounts_repository
from scelle.breach import repository
from scelle.breach.notice import render_markdown
from scelle.db.base import utcnow
from scelle.db.models import BreachAssessment, Transfer, TransferStatus
from scelle.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.server.container import Services

__all__ = [
    "NOTIFY_WITHIN",
    "SCOPES",
    "LockdownResult",
    "assess",
    "lockdown",
    "read_assessment",
    "register",
    "report_document",
    "view_register",
]

NOTIFY_WITHIN = timedelta(hours=72)
SCOPES = ("server", "account", "key")
_EXPOSURE = {"server": "ciphertext_only", "account": "none", "key": "yes"}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def assess(  # noqa: PLR0912, PLR0915  (one report, built in order)
    session: Session,
    services: Services,
    *,
    start: datetime,
    end: datetime,
    scope: str,
    account: str | None = None,
    aware_at: datetime | None = None,
    dpo_contact: str | None = None,
) -> dict[str, Any]:
    """Assess a breach and record it in the register. Raises InvalidInput, NotFound."""
    if scope not in SCOPES:
        raise InvalidInput("the scope is one of server, account, key")
    if end < start:
        raise InvalidInput("--to is before --from")
    if scope != "server" and not account:
        raise InvalidInput(f"the {scope} scope needs --account EMAIL")
    user = None
    if account:
        user = accounts_repository.user_by_email(session, account.strip().lower())
        if user is None:
            raise NotFound("no account with that e-mail")
    now = utcnow()
    aware = aware_at or now
    downloaded: set[str] = set()
    if scope == "server":
        transfers = repository.alive_in_window(session, start, end)
    else:
        assert user is not None  # noqa: S101  (checked above)
        downloaded = set(repository.downloaded_by(session, user.id, start, end))
        chosen: dict[str, Transfer] = {}
        if scope == "key":
            chosen = {t.id: t for t in repository.received_by(session, user.id, start, end)}
        for transfer_id in downloaded:
            found = session.get(Transfer, transfer_id)
            if found is not None:
                chosen[found.id] = found
        transfers = [chosen[k] for k in sorted(chosen)]

    rows: list[dict[str, Any]] = []
    kinds: dict[str, int] = {}
    by_org: dict[str, dict[str, Any]] = {}
    records = 0
    for transfer in transfers:
        sender = accounts_repository.user_by_id(session, transfer.sender_id)
        org = accounts_repository.org_by_id(session, sender.org_id) if sender else None
        org_name = org.name if org else "?"
        scan = repository.scan_for(session, transfer.id)
        counts: dict[str, int] = json.loads(scan.counts) if scan else {}
        pseudonyms = [value.hex() for value in repository.subjects_of(session, transfer.id)]
        for kind, count in counts.items():
            kinds[kind] = kinds.get(kind, 0) + count
        records += scan.record_count if scan else 0
        entry = by_org.setdefault(
            org_name, {"org": org_name, "pseudonym_key_ids": set(), "subjects": set()}
        )
        entry["subjects"].update(pseudonyms)
        if scan and scan.pseudonym_key_id:
            entry["pseudonym_key_ids"].add(scan.pseudonym_key_id)
        rows.append(
            {
                "id": transfer.id,
                "sender_org": org_name,
                "created_at": _iso(transfer.created_at),
                "status": transfer.status,
                "records": scan.record_count if scan else 0,
                "subjects": len(pseudonyms),
                "kinds": counts,
                "downloaded_in_window": transfer.id in downloaded,
            }
        )
    organisations = [
        {
            "org": entry["org"],
            "pseudonym_key_ids": sorted(entry["pseudonym_key_ids"]),
            "subjects": sorted(entry["subjects"]),
        }
        for entry in sorted(by_org.values(), key=lambda e: str(e["org"]))
    ]
    subjects = sum(len(entry["subjects"]) for entry in organisations)
    exposure = _EXPOSURE[scope]
    assessment_id = ids.new_id("br")
    notify_by = aware + NOTIFY_WITHIN
    report: dict[str, Any] = {
        "id": assessment_id,
        "assessed_at": _iso(now),
        "scope": scope,
        "account": user.email if user else None,
        "window": {"from": _iso(start), "to": _iso(end)},
        "aware_at": _iso(aware),
        "notify_by": _iso(notify_by),
        "plaintext_exposed": exposure,
        "art_34_3_a": exposure != "yes",
        "dpo_contact": dpo_contact,
        "transfers": rows,
        "totals": {
            "transfers": len(rows),
            "records": records,
            "subjects": subjects,
            "kinds": kinds,
        },
        "organisations": organisations,
    }
    report["notice"] = render_markdown(report)
    timeline = [
        {"at": _iso(start), "event": "breach window starts"},
        {"at": _iso(end), "event": "breach window ends"},
        {"at": _iso(aware), "event": "controller aware of the breach"},
        {"at": _iso(now), "event": "assessment drafted"},
        {"at": _iso(notify_by), "event": "deadline to notify the supervisory authority"},
    ]
    report["timeline"] = timeline
    session.add(
        BreachAssessment(
            id=assessment_id,
            created_at=now,
            scope=scope,
            account_email=user.email if user else None,
            window_from=start,
            window_to=end,
            aware_at=aware,
            notify_by=notify_by,
            plaintext_exposed=exposure,
            transfer_count=len(rows),
            record_count=records,
            subject_count=subjects,
            report=json.dumps(report, sort_keys=True),
            timeline=json.dumps(timeline),
        )
    )
    session.flush()
    services.audit.record(
        session,
        "breach:assessment:create",
        object_id=assessment_id,
        scope=scope,
        transfers=len(rows),
        subjects=subjects,
        notify_by=_iso(notify_by),
    )
    return report


def register(session: Session) -> list[dict[str, Any]]:
    """The breach register: every assessment, newest first, with its time line."""
    return [
        {
            "id": a.id,
            "created_at": _iso(a.created_at),
            "scope": a.scope,
            "account": a.account_email,
            "window": {"from": _iso(a.window_from), "to": _iso(a.window_to)},
            "aware_at": _iso(a.aware_at),
            "notify_by": _iso(a.notify_by),
            "plaintext_exposed": a.plaintext_exposed,
            "transfers": a.transfer_count,
            "records": a.record_count,
            "subjects": a.subject_count,
            "timeline": json.loads(a.timeline),
        }
        for a in repository.assessments(session)
    ]


def view_register(
    session: Session, services: Services, principal: Principal
) -> list[dict[str, Any]]:
    """The register (as ``register``) read by ``principal``: the reading itself is audited
    (``breach:register:view``). The caller checks access."""
    services.audit.record(
        session,
        "breach:register:view",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
    )
    return register(session)


def read_assessment(
    session: Session,
    services: Services,
    principal: Principal,
    assessment_id: str,
    *,
    purpose: str = "view",
) -> dict[str, Any]:
    """One assessment's report as it was drafted (its time line and notice in it), audited as
    ``breach:assessment:<purpose>`` (``view`` or ``export``). The caller checks access.

    Raises NotFound for a malformed or unknown id (one answer).
    """
    if purpose not in {"view", "export"}:
        raise ValueError("purpose is view or export")
    row = (
        repository.assessment(session, assessment_id) if ids.is_valid(assessment_id, "br") else None
    )
    if row is None:
        raise NotFound("no such assessment")
    services.audit.record(
        session,
        f"breach:assessment:{purpose}",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=row.id,
    )
    report: dict[str, Any] = json.loads(row.report)
    return report


def report_document(report: dict[str, Any], output_format: str, lang: str = "en") -> str:
    """The report as ``scelle breach assess`` writes it: ``json`` (the whole assessment) or
    ``md`` (the notice, in ``lang`` en or fr). Raises InvalidInput for another format."""
    if output_format == "json":
        return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
    if output_format != "md" or lang not in {"en", "fr"}:
        raise InvalidInput("the report is json or md, in en or fr")
    return str(report["notice"]) if lang == "en" else render_markdown(report, "fr")


@dataclass(frozen=True)
class LockdownResult:
    """What ``lockdown`` revoked; ``blob_keys`` are to delete after the commit."""

    tokens: int
    enrolments: int
    uploads: int
    blob_keys: list[str]


def lockdown(session: Session, services: Services, *, reason: str = "lockdown") -> LockdownResult:
    """End every web session; revoke every API token, pending enrolment, passkey ceremony and
    SSO login in flight; abort every unfinished upload.

    All at once, in one transaction, audited. Another kind of credential
    adds its revocation here.
    """
    from scelle.transfers import service as transfers_service

    now = utcnow()
    tokens = repository.revoke_tokens(session, now)
    sessions = repository.end_web_sessions(session, now)
    # A passkey enrolment ceremony grants one registration, like an enrolment token.
    ceremonies = repository.spend_ceremonies(session, now)
    sso_logins = repository.spend_sso_logins(session, now)
    pending = repository.pending_enrolments(session)
    for user in pending:
        user.enrolment_token_hash = None
        user.enrolment_expires_at = None
    blob_keys: list[str] = []
    uploads = repository.unfinished_uploads(session)
    for upload in uploads:
        transfer = session.get(Transfer, upload.transfer_id)
        if transfer is not None and transfer.status != TransferStatus.PURGED.value:
            key = transfers_service.purge(session, services, transfer, reason)
            if key:
                blob_keys.append(key)
    services.audit.record(
        session,
        "admin:access:lockdown",
        tokens=tokens,
        sessions=sessions,
        passkey_ceremonies=ceremonies,
        sso_logins=sso_logins,
        enrolments=len(pending),
        uploads=len(uploads),
    )
    return LockdownResult(tokens, len(pending), len(uploads), blob_keys)
