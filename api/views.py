"""Domain objects → response bodies (and personal data masked for auditors)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from api.schemas import (
    AgreementOut,
    ApplicantOut,
    AssessmentOut,
    CaseView,
    ClaimOut,
    ConsentOut,
    DeadlineOut,
    HistoryEvent,
    MediatorOut,
    RespondentOut,
    StudioView,
)
from mediation.application import HistoryEntry
from mediation.case import Case
from mediation.identifiers import mask_name, mask_resident_id
from mediation.organisation import Mediator, Studio
from mediation.values import money_str


def _applicant(data: dict[str, Any], mask: bool) -> dict[str, Any]:
    out = dict(data)
    if mask:
        out["name"] = mask_name(str(out.get("name", "")))
        out["id_number"] = mask_resident_id(str(out.get("id_number", "")))
        out["phone"] = mask_resident_id(str(out.get("phone", "")))
    return out


def case_view(case: Case, today: date, *, mask: bool = False) -> CaseView:
    a = case.assessment
    g = case.agreement
    applicant = _applicant(case.applicant, mask)
    return CaseView(
        case_id=case.id,
        version=case.version,
        status=case.status,
        status_since=case.status_since,
        route=case.route,
        region_code=case.region_code,
        received_on=case.received_on,
        applicant=ApplicantOut(
            name=applicant["name"],
            id_number=applicant["id_number"],
            phone=applicant["phone"],
            worker_category=applicant["worker_category"],
        ),
        respondent=RespondentOut(
            name=case.respondent["name"], credit_code=case.respondent["credit_code"]
        ),
        claims=[ClaimOut(category=c.category, amount=money_str(c.amount)) for c in case.claims],
        amount_claimed=money_str(case.claimed_amount),
        studio_id=case.studio_id,
        mediator_id=case.mediator_id,
        deadlines=[
            DeadlineOut(kind=d.kind, due_on=d.due_on, overdue=d.overdue)  # type: ignore[arg-type]
            for d in case.deadlines(today)
        ],
        outcome=case.outcome.value if case.outcome else None,
        success_reversed=case.success_reversed,
        severed_from=case.severed_from,
        severed_into=list(case.severed_into),
        assessment=AssessmentOut(
            within_scope=a.within_scope,
            meets_acceptance_conditions=a.meets_acceptance_conditions,
            suitable_for_mediation=a.suitable_for_mediation,
            eligible=a.eligible,
            reason=a.reason,
            on=a.on,
        )
        if a
        else None,
        consents={p.value: ConsentOut(given=c.given, on=c.on) for p, c in case.consents.items()},
        entrusted_on=case.entrusted_on,
        mediation_count=case.mediation_count,
        sessions=case.sessions,
        agreement=AgreementOut(
            signed_on=g.signed_on,
            amount=money_str(g.amount),
            performance_due_on=g.performance_due_on,
            review_due_on=g.review_due_on,
            terms=g.terms,
        )
        if g
        else None,
        amount_paid=money_str(case.amount_paid),
        review_applied_on=case.review_applied_on,
        statement_number=case.statement_number,
        statement_served=sorted(case.statement_served),
        failure_reason=case.failure_reason,
        accepted_on=case.accepted_on,
        disposition=case.disposition,
        infringement_known_on=case.infringement_known_on,
        limitation_warning=case.limitation_warning,
        payment_order_eligible=case.payment_order_eligible(today),
        policy_version=case.policy_version,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | UUID):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def history_event(entry: HistoryEntry, *, mask: bool = False) -> HistoryEvent:
    data = dict(entry.data)
    data.pop("chain", None)
    if mask and isinstance(data.get("applicant"), dict):
        data["applicant"] = _applicant(data["applicant"], True)
    return HistoryEvent(
        position=entry.position,
        type=entry.type,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        actor_role=entry.actor_role,
        on=entry.on,
        data=_jsonable(data),
    )


def mediator_out(m: Mediator, today: date) -> MediatorOut:
    return MediatorOut(
        mediator_id=m.mediator_id,
        name=m.name,
        qualification=m.qualification,
        appointed_on=m.appointed_on,
        retired_on=m.retired_on,
        active=m.active_on(today),
    )


def studio_view(studio: Studio, today: date) -> StudioView:
    return StudioView(
        studio_id=studio.id,
        version=studio.version,
        name=studio.name,
        region_code=studio.region_code,
        kind=studio.kind,
        established_on=studio.established_on,
        closed_on=studio.closed_on,
        active=studio.active_on(today),
        mediator_quota=studio.mediator_quota,
        mediators=[mediator_out(m, today) for m in studio.roster.values()],
    )
