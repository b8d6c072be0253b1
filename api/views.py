"""Domain objects → response bodies (and personal data masked for auditors)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel

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
from mediation.calendar import HolidayCalendar
from mediation.case import Case
from mediation.identifiers import mask_name, mask_resident_id
from mediation.organisation import Studio
from mediation.personal import ERASED
from mediation.values import Mediator, money_str

M = TypeVar("M", bound=BaseModel)


def copied(model: type[M], source: object, **values: Any) -> M:
    """``model`` from ``values``; every other field is ``source``'s attribute of that name."""
    fields = {name: getattr(source, name) for name in model.model_fields if name not in values}
    return model.model_validate({**fields, **values})


# opens an applicant's sealed personal fields (``app.personal.reveal``; erased: "已删除")
Reveal = Callable[[Mapping[str, str]], dict[str, str]]


def _applicant(data: dict[str, Any], mask: bool, reveal: Reveal) -> dict[str, Any]:
    out: dict[str, Any] = reveal({k: v for k, v in data.items() if isinstance(v, str)})
    if mask:
        for name, masked in (
            ("name", mask_name),
            ("id_number", mask_resident_id),
            ("phone", mask_resident_id),
        ):
            value = str(out.get(name, ""))
            out[name] = value if value == ERASED else masked(value)
    return out


def case_view(
    case: Case,
    today: date,
    *,
    calendar: HolidayCalendar,
    reveal: Reveal,
    mask: bool = False,
    integrity: Literal["ok", "problem"] = "ok",
) -> CaseView:
    """The case as the API shows it; ``calendar`` (the one in force) flags uncovered deadlines."""
    a = case.assessment
    g = case.agreement
    applicant = _applicant(case.applicant, mask, reveal)
    return copied(
        CaseView,
        case,
        case_id=case.id,
        applicant=ApplicantOut.model_validate(applicant),
        respondent=RespondentOut.model_validate(case.respondent),
        claims=[ClaimOut(category=c.category, amount=money_str(c.amount)) for c in case.claims],
        amount_claimed=money_str(case.claimed_amount),
        deadlines=[
            copied(
                DeadlineOut,
                d,
                # the agreed performance date is the parties' own, not a counted period
                calendar_uncovered=d.kind != "performance"
                and not calendar.covers_deadline(d.due_on),
            )
            for d in case.deadlines(today)
        ],
        outcome=case.outcome.value if case.outcome else None,
        severed_into=list(case.severed_into),
        assessment=copied(AssessmentOut, a) if a else None,
        consents={p.value: copied(ConsentOut, c) for p, c in case.consents.items()},
        agreement=copied(AgreementOut, g, amount=money_str(g.amount)) if g else None,
        amount_paid=money_str(case.amount_paid),
        statement_served=sorted(case.statement_served),
        payment_order_eligible=case.payment_order_eligible(today),
        integrity=integrity,
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


def history_event(entry: HistoryEntry, *, reveal: Reveal, mask: bool = False) -> HistoryEvent:
    data = dict(entry.data)
    data.pop("chain", None)
    if isinstance(data.get("applicant"), dict):
        data["applicant"] = _applicant(data["applicant"], mask, reveal)
    return copied(HistoryEvent, entry, data=_jsonable(data))


def mediator_out(m: Mediator, today: date) -> MediatorOut:
    return copied(MediatorOut, m, active=m.active_on(today))


def studio_view(studio: Studio, today: date) -> StudioView:
    return copied(
        StudioView,
        studio,
        studio_id=studio.id,
        active=studio.active_on(today),
        mediators=[mediator_out(m, today) for m in studio.roster.values()],
    )
