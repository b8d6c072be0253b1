"""Reads for the pages: the read models' work lists (``projections.worklists``) and the studios.

Nothing here decides who may see what: callers have asked ``api.authz`` first, and every
list is scoped to the user's jurisdiction prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from api.deps import Runtime
from api.pages.names import deadline_row, region_name
from api.users import Account, User
from api.views import case_view
from mediation import labels
from mediation.errors import DomainError
from mediation.regions import covers, get_region
from mediation.values import Status, active_on
from projections import worklists
from projections.sql import case_tables, organisation_tables

OPEN_MEDIATION = (Status.ENTRUSTED, Status.IN_MEDIATION, Status.AGREEMENT_SIGNED)


@dataclass(frozen=True)
class StudioRow:
    studio_id: UUID
    name: str
    region_code: str
    kind: str
    established_on: date
    closed_on: date | None
    mediator_quota: int

    def active_on(self, on: date) -> bool:
        return active_on(self.established_on, self.closed_on, on)

    @property
    def region_name(self) -> str:
        r = get_region(self.region_code)
        return r.name if r else self.region_code


def studios(rt: Runtime) -> list[StudioRow]:
    """Every studio of the organisation read model (a small table), by region then name."""
    t = organisation_tables()["studios"]
    with rt.system.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.region_code, t.c.name)).mappings().all()
    return [
        StudioRow(
            studio_id=UUID(str(r["studio_id"])),
            name=str(r["name"]),
            region_code=str(r["region_code"]),
            kind=str(r["kind"]),
            established_on=r["established_on"],
            closed_on=r["closed_on"],
            mediator_quota=int(r["mediator_quota"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class StudioLoad:
    open_cases: int  # entrusted, in mediation or with an agreement awaiting performance
    mediators: int  # on the roster on the day asked


def studio_load(rt: Runtime, on: date) -> dict[UUID, StudioLoad]:
    """Each studio's open cases and active mediators, for choosing a studio by caseload."""
    cases = case_tables()["cases"].c
    med = organisation_tables()["mediators"].c
    open_q = (
        select(cases.studio_id, func.count())
        .where(cases.status.in_([s.value for s in OPEN_MEDIATION]), cases.studio_id.is_not(None))
        .group_by(cases.studio_id)
    )
    med_q = (
        select(med.studio_id, func.count())
        .where(med.appointed_on <= on, (med.retired_on.is_(None)) | (med.retired_on > on))
        .group_by(med.studio_id)
    )
    with rt.system.engine.connect() as conn:
        open_by = {str(k): int(n) for k, n in conn.execute(open_q)}
        med_by = {str(k): int(n) for k, n in conn.execute(med_q)}
    return {
        UUID(k): StudioLoad(open_by.get(k, 0), med_by.get(k, 0)) for k in set(open_by) | set(med_by)
    }


def mediator_names(rt: Runtime) -> dict[UUID, str]:
    """Every mediator ever on a roster, by id (a small table)."""
    med = organisation_tables()["mediators"].c
    with rt.system.engine.connect() as conn:
        return {UUID(str(i)): str(n) for i, n in conn.execute(select(med.mediator_id, med.name))}


def person_name(rt: Runtime, user: User, account: Account | None = None) -> str:
    """The person behind a login: the account's name, a mediator's roster name, the login
    (``account``: the login's account as this request already read it)."""
    if account is None or account.user.username != user.username:
        account = rt.users.account(user.username)
    if account is not None and account.display_name:
        return account.display_name
    if user.mediator_id is not None:
        name = mediator_names(rt).get(user.mediator_id)
        if name:
            return name
    return user.username


def studio_names(rt: Runtime) -> dict[UUID, str]:
    return {s.studio_id: s.name for s in studios(rt)}


def eligible_studios(rt: Runtime, case_region: str, on: date) -> list[StudioRow]:
    """Studios an entrustment may name: active on ``on`` and covering the case's region."""
    return [s for s in studios(rt) if s.active_on(on) and covers(s.region_code, case_region)]


Page = tuple[list[UUID], str | None]


def from_cursor(fetch: Callable[[str | None], Page], cursor: str | None) -> Page:
    """``fetch(cursor)``; a bad cursor starts again from the first page."""
    try:
        return fetch(cursor)
    except DomainError:
        return fetch(None)


def list_case_ids(
    rt: Runtime,
    *,
    region_prefix: str,
    status: str | None = None,
    studio_id: UUID | None = None,
    mediator_id: UUID | None = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
    terms: list[str] | None = None,
) -> Page:
    def page(after: str | None) -> Page:
        return worklists.list_cases(
            rt.system.engine,
            region_prefix=region_prefix,
            status=status,
            studio_id=studio_id,
            mediator_id=mediator_id,
            overdue=overdue,
            today=rt.today(),
            limit=limit,
            cursor=after,
            terms=terms,
        )

    return from_cursor(page, cursor)


def case_rows(rt: Runtime, ids: list[UUID], *, mask: bool) -> list[dict[str, Any]]:
    """Summary rows for a list of cases (loaded from the event store: the truth)."""
    today, calendar = rt.today(), rt.app.calendars.current()
    names = studio_names(rt)
    out = []
    cases = rt.app.get_cases(ids)  # one read for the list
    # every party's key in one read too (a masked row opens them to mask the values)
    keys = rt.app.personal.ring(p for c in cases for p in c.every_party)
    for case in cases:
        view = case_view(case, today, calendar=calendar, reveal=keys.reveal, mask=mask)
        due = sorted(view.deadlines, key=lambda d: d.due_on)
        first = due[0] if due else None
        out.append(
            {
                "case_id": str(view.case_id),
                "short_id": str(view.case_id)[:8],
                # the number a person reads: the 案号 once accepted, else the 登记号
                "number": view.filing_number or view.case_number,
                "case_number": view.case_number,
                "filing_number": view.filing_number,
                "status": view.status,
                "region": region_name(view.region_code),
                "received_on": view.received_on.isoformat(),
                "applicant": view.applicant.name
                + (f" 等{len(view.applicants)}人" if len(view.applicants) > 1 else ""),
                "respondent": view.respondent.name,
                "worker": labels.label(labels.WORKER, view.applicant.worker_category),
                "claims": "、".join(
                    labels.label(labels.CLAIM, c.category).split("（")[0] for c in view.claims
                ),
                "amount": view.amount_claimed,
                "studio": names.get(view.studio_id, "") if view.studio_id else "",
                "deadline": first,
                "deadline_days": (first.due_on - today).days if first else None,
                "due": deadline_row(first, today, calendar) if first else None,
                "route": view.route,
                "limitation_warning": view.limitation_warning,
            }
        )
    return out


# the statuses of a case the commission still has open (a failed mediation goes on to a
# hearing); a duplicate registration would double the file
OPEN_STATUSES = (
    "received",
    "accepted",
    "entrusted",
    "in_mediation",
    "agreement_signed",
    "mediation_failed",
)


def possible_duplicates(
    rt: Runtime,
    *,
    region_code: str,
    worker_category: str,
    id_number: str,
    credit_code: str,
    limit: int = 200,
) -> list[UUID]:
    """Open cases of the same worker (resident ID number) against the same employer (credit
    code) in the same region: the intake page's warning (issue 12).

    The read model holds no personal data, so the candidates are the region's open cases of
    the worker's category (at most ``limit``, newest first), loaded and compared; a party
    search index (case numbers and search, v1.1) can answer this directly when it exists.
    """
    t = case_tables()["cases"]
    query = (
        select(t.c.case_id)
        .where(
            t.c.region_code == region_code,
            t.c.worker_category == worker_category,
            t.c.status.in_(OPEN_STATUSES),
        )
        .order_by(t.c.received_on.desc())
        .limit(limit)
    )
    with rt.system.engine.connect() as conn:
        ids = [UUID(str(r)) for r in conn.execute(query).scalars()]
    found = []
    for case_id in ids:
        try:
            case = rt.app.get_case(case_id)
        except DomainError:
            continue
        applicant = rt.app.personal.reveal(case.applicant)
        if (
            applicant.get("id_number") == id_number
            and case.respondent.get("credit_code") == credit_code
        ):
            found.append(case_id)
    return found
