"""The breach register over HTTP: ``/api/v1/admin/breach`` (the operator's admins only).

The register covers the whole service, so only the admins of
``SCELLE_OPERATOR_ORG`` read it (403 for anyone else); an unknown or
malformed assessment id is 404. Every reading is audited
(``breach:register:view``, ``breach:assessment:view``,
``breach:assessment:export``). The reports are those ``scelle breach assess``
recorded, rendered by the breach service as the CLI renders them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from scelle.accounts import oversight
from scelle.breach import schemas, service
from scelle.db.base import utcnow
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep

__all__ = ["assessment_out", "register_entry", "router"]

router = APIRouter(prefix="/api/v1/admin/breach", tags=["admin"])

_ID = Path(description="br_... (anything else: 404, as an unknown one)")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def register_entry(entry: dict[str, Any], now: datetime) -> schemas.RegisterEntryOut:
    """A register entry (``service.register``'s form) with the time left to notify."""
    notify_by = _time(entry["notify_by"])
    return schemas.RegisterEntryOut(
        id=entry["id"],
        created_at=_time(entry["created_at"]),
        scope=entry["scope"],
        account=entry["account"],
        window_from=_time(entry["window"]["from"]),
        window_to=_time(entry["window"]["to"]),
        aware_at=_time(entry["aware_at"]),
        notify_by=notify_by,
        seconds_left=int((notify_by - now).total_seconds()),
        plaintext_exposed=entry["plaintext_exposed"],
        transfers=entry["transfers"],
        records=entry["records"],
        subjects=entry["subjects"],
    )


def assessment_out(report: dict[str, Any], lang: str, now: datetime) -> schemas.AssessmentOut:
    """An assessment's report (as drafted) with its notice in ``lang``."""
    totals = report["totals"]
    entry = register_entry(
        {
            **report,
            "created_at": report["assessed_at"],
            "transfers": totals["transfers"],
            "records": totals["records"],
            "subjects": totals["subjects"],
        },
        now,
    )
    return schemas.AssessmentOut(
        **entry.model_dump(),
        art_34_3_a=bool(report["art_34_3_a"]),
        dpo_contact=report.get("dpo_contact"),
        totals=totals,
        timeline=[
            schemas.TimelineEntryOut(at=_time(item["at"]), event=item["event"])
            for item in report.get("timeline", [])
        ],
        lang=lang,
        notice=service.report_document(report, "md", lang),
    )


@router.get("", response_model=schemas.RegisterOut)
def breach_register(
    principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.RegisterOut:
    """Every assessment, newest first, with the time left to notify (audited)."""
    oversight.require_operator(principal, services.settings)
    now = utcnow()
    entries = service.view_register(session, services, principal)
    return schemas.RegisterOut(entries=[register_entry(e, now) for e in entries])


@router.get("/{assessment_id}", response_model=schemas.AssessmentOut)
def breach_assessment(
    assessment_id: Annotated[str, _ID],
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    lang: Annotated[Literal["en", "fr"], Query()] = "en",
) -> schemas.AssessmentOut:
    """One assessment: its time line and draft notice (audited)."""
    oversight.require_operator(principal, services.settings)
    report = service.read_assessment(session, services, principal, assessment_id)
    return assessment_out(report, lang, utcnow())


@router.get("/{assessment_id}/report")
def breach_report(
    assessment_id: Annotated[str, _ID],
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    *,
    format: Annotated[Literal["json", "md"], Query()] = "json",  # noqa: A002  (the query's name)
    lang: Annotated[Literal["en", "fr"], Query()] = "en",
) -> Response:
    """The report to download: ``json`` (the whole assessment) or ``md`` (the notice; audited)."""
    oversight.require_operator(principal, services.settings)
    report = service.read_assessment(session, services, principal, assessment_id, purpose="export")
    text = service.report_document(report, format, lang)
    suffix = "json" if format == "json" else f"{lang}.md"
    media = "application/json" if format == "json" else "text/markdown; charset=utf-8"
    return Response(
        text.encode(),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{report["id"]}.{suffix}"',
            "Cache-Control": "no-store",
        },
    )
