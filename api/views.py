"""Domain objects → response bodies (and personal data masked for auditors)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
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
from mediation import parties
from mediation.application import HistoryEntry
from mediation.calendar import HolidayCalendar
from mediation.case import Case
from mediation.identifiers import mask_address, mask_name, mask_resident_id
from mediation.organisation import Studio
from mediation.personal import ERASED
from mediation.values import Mediator, money_str

M = TypeVar("M", bound=BaseModel)


def copied(model: type[M], source: object, **values: Any) -> M:
    """``model`` from ``values``; every other field is ``source``'s attribute of that name."""
    fields = {name: getattr(source, name) for name in _field_names(model) if name not in values}
    return model.model_validate({**fields, **values})


@cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    # pydantic's ``model_fields`` is a deprecation-checking property: 10 % of a list page
    # when read per row (py-spy, the clerk's queue, docs/performance.md)
    return tuple(model.model_fields)


# opens an applicant's sealed personal fields (``app.personal.reveal``; erased: "已删除")
Reveal = Callable[[Mapping[str, str]], dict[str, str]]


# how each personal field of a party is masked for the roles that see it masked
# (respondents' name and credit code are an organisation's public record: never masked)
_MASKS: dict[str, dict[str, Callable[[str], str]]] = {
    "applicant": {
        "name": mask_name,
        "id_number": mask_resident_id,
        "phone": mask_resident_id,
        "address": mask_address,
        "agent_name": mask_name,
    },
    "respondent": {
        "legal_representative": mask_name,
        "address": mask_address,
        "agent_name": mask_name,
    },
}


def _opened(data: Mapping[str, Any], mask: bool, reveal: Reveal, role: str) -> dict[str, Any]:
    """A stored party's fields, opened (erased: "已删除") and masked as the role requires."""
    out: dict[str, Any] = {**data, **reveal({k: v for k, v in data.items() if isinstance(v, str)})}
    if mask:
        for name, masked in _MASKS[role].items():
            value = out.get(name)
            if isinstance(value, str) and value and value != ERASED:
                out[name] = masked(value)
    return out


def _applicant(data: Mapping[str, Any], mask: bool, reveal: Reveal) -> dict[str, Any]:
    return _opened(data, mask, reveal, "applicant")


def party_out(data: Mapping[str, Any], mask: bool, reveal: Reveal, role: str) -> dict[str, Any]:
    """A party as a view shows it: opened, masked, its agent as ``{"name", "kind"}``."""
    return parties.shown(_opened(data, mask, reveal, role))


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
    applicants = [
        ApplicantOut.model_validate(
            {**party_out(a, mask, reveal, "applicant"), "representative": i in case.representatives}
        )
        for i, a in enumerate(case.applicants)
    ]
    respondents = [
        RespondentOut.model_validate(party_out(r, mask, reveal, "respondent"))
        for r in case.respondents
    ]
    return copied(
        CaseView,
        case,
        case_id=case.id,
        applicant=applicants[0],
        respondent=respondents[0],
        applicants=applicants,
        respondents=respondents,
        representatives=[applicants[i].id_number for i in case.representatives],
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

    def shown(party: Mapping[str, Any], role: str) -> dict[str, Any]:
        return {k: v for k, v in party_out(party, mask, reveal, role).items() if v is not None}

    for role in ("applicant", "respondent"):  # a v1 event's own (not upcast) shape
        if isinstance(data.get(role), dict):
            data[role] = shown(data[role], role)
        if isinstance(data.get(f"{role}s"), list):
            data[f"{role}s"] = [shown(p, role) for p in data[f"{role}s"]]
    if isinstance(data.get("applicants"), list) and data.get("representatives"):
        # positions in the applicants' list, shown as their ID numbers (masked as they are)
        listed = data["applicants"]
        data["representatives"] = [listed[i]["id_number"] for i in data["representatives"]]
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
