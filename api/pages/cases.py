"""Case pages: intake, the case page with its timeline, and one form per command."""

from __future__ import annotations

import re
import typing
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api import authz
from api.commands import BY_FORM, CaseCommandRow
from api.integrity import case_integrity
from api.pages import forms as F
from api.pages import party_forms as PF
from api.pages import prg
from api.pages.common import (
    PageError,
    actor,
    authorize_case,
    check_origin,
    local_time,
    may,
    page_user,
    refusal,
    render,
    require,
    runtime,
)
from api.pages.names import case_title, deadline_row, person, region_name
from api.pages.reads import (
    eligible_studios,
    mediator_names,
    possible_duplicates,
    studio_load,
    studio_names,
)
from api.users import User
from api.views import case_view, history_event
from mediation import commands as C
from mediation import documents, next_step
from mediation import labels as L
from mediation.application import CommandContext
from mediation.calendar import HolidayCalendar
from mediation.case import Case
from mediation.commands import CaseCommand
from mediation.errors import DomainError, NotFound, ValidationFailed
from mediation.labels import (
    DOCUMENT_KIND,
    FAILURE_REASON,
    QUALIFICATION,
    STUDIO_KIND,
    label,
    message,
)
from mediation.regions import children, get_region, is_valid_region_code, region_prefix
from mediation.values import (
    Claim,
    ClaimCategory,
    FailureReason,
    Party,
    Role,
    Route,
    Status,
    StudioKind,
)
from projections import search

router = APIRouter()
intake_router = APIRouter()  # included first: /cases/new before /cases/{case_id}
MAX_CLAIMS = 4


def command_of(row: CaseCommandRow, form: FormData) -> CaseCommand:
    """The row's command, read from a submitted form; a bad value is a ``ValidationFailed``."""
    r = F.Reader(form)  # every field read: all problems at once
    values: dict[str, Any] = {}
    for name, key, kind, required in row.fields():
        if kind is date:
            values[name] = r.read(F.day, key)
        elif kind is bool:
            values[name] = r.read(F.yes_no, key)
        elif kind is Decimal:
            values[name] = r.read(F.amount, key)
        elif kind is int:
            values[name] = r.read(F.integer, key)
        elif kind is UUID:
            values[name] = r.read(F.uuid, key)
        elif kind is str:
            values[name] = r.read(F.text, key, required=required)
        elif isinstance(kind, type) and issubclass(kind, StrEnum):
            values[name] = r.read(F.choice, key, kind)
        elif row.command is C.SignAgreement:  # signatories, settled categories (v1.1)
            values[name] = r.read(_choices, key, _member(kind))
        else:  # the claim categories of a severance
            values[name] = r.read(_categories, key)
    r.check()
    return row.command(**values)


def _member(kind: Any) -> type[StrEnum]:
    """The enum of ``tuple[E, ...]`` or ``tuple[E, ...] | None``."""
    for arg in typing.get_args(kind):
        if isinstance(arg, type) and issubclass(arg, StrEnum):
            return arg
        if typing.get_args(arg):
            return _member(arg)
    raise TypeError(f"no enum in {kind!r}")


def _choices(form: FormData, key: str, enum: type[StrEnum]) -> tuple[Any, ...]:
    """The boxes ticked (none ticked: none; the rule answers)."""
    try:
        return tuple(enum(str(v)) for v in form.getlist(key))
    except ValueError:
        raise ValidationFailed(message("option"), field=key) from None


def _categories(form: FormData, key: str) -> list[ClaimCategory]:
    raw = [str(v) for v in form.getlist(key)]
    if not raw:
        raise ValidationFailed(message("categories_required"), field=key)
    try:
        return [ClaimCategory(v) for v in raw]
    except ValueError:
        raise ValidationFailed(message("option"), field=key) from None


def _case_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise PageError(404, "未找到，或不在您的管辖范围内") from None


def load_case(request: Request, user: User, raw_id: str, action: str) -> Case:
    """The case, if the user may ``action`` on it (jurisdiction 404, role 403 as in the API)."""
    try:
        case = runtime(request).app.get_case(_case_id(raw_id))
    except NotFound:
        raise PageError(404, "未找到，或不在您的管辖范围内") from None
    if not isinstance(case, Case):
        raise PageError(404, "未找到，或不在您的管辖范围内")
    authorize_case(
        user,
        action,
        region_code=case.region_code,
        mediator_id=case.mediator_id,
        studio_id=case.studio_id,
    )
    request.state.case_region = case.region_code  # the access audit files reads by it
    return case


BEFORE_MEDIATION = (Status.RECEIVED, Status.ACCEPTED, Status.MEDIATION_FAILED)
CONSENTS = "consents"  # both parties' consent in one form (record_consent twice)
# forms whose effect cannot be undone: a ticked confirmation is required (also without JS)
CONFIRM = frozenset({"failure", "retraction", "consent"})
# success messages of forms that are not a row of api.commands
DONE = {CONSENTS: "双方调解意愿", "intake": "收案登记", "document": "出具文书"}
# the form that is the way out of a refusal, opened beside it (issue 12)
REMEDY: dict[str, str] = {
    "labour_relationship_not_entrustable": "sever",  # sever the confirmation claim first
    "consent_missing": CONSENTS,
    "not_eligible_for_entrustment": "assess",
}


def available(user: User, case: Case) -> list[str]:
    """The forms this user may use on this case now: the API's matrix and what makes sense
    in the case as it stands (``mediation.next_step.possible``, the panel's own source)."""
    can = next_step.possible(case)
    out = []
    for c in BY_FORM.values():
        if c.command.command_name not in can:
            continue
        if not may(user, c.action, mediator_id=case.mediator_id, studio_id=case.studio_id):
            continue
        if c.action in authz.SELF_CERTIFICATION and user.mediator_id == case.mediator_id:
            continue
        out.append(c.form)
    if "consent" in out and case.status in BEFORE_MEDIATION:
        # before a mediation both parties are asked at once; during one, the single form
        # records a withdrawal (which ends the mediation)
        out[out.index("consent")] = CONSENTS
    return out


def form_of(command: str, forms: list[str]) -> str | None:
    """The form (of ``forms``) that records a case command."""
    if command == "record_consent" and CONSENTS in forms:
        return CONSENTS
    for form in forms:
        row = BY_FORM.get(form)
        if row is not None and row.command.command_name == command:
            return form
    return None


ROLE_SHORT = {Role.CLERK: "书记员", Role.COORDINATOR: "工作室协调员", Role.MEDIATOR: "调解员"}


def panel(case: Case, today: date, calendar: HolidayCalendar, forms: list[str]) -> dict[str, Any]:
    """The "下一步" panel: the next legal step(s), who does each, its deadline, a way there."""
    p = next_step.plan(case, today)
    steps = []
    for s in p.steps:
        form = form_of(s.command, forms)
        steps.append(
            {
                "key": s.key,
                "title": label(L.NEXT_STEP, s.key),
                "why": label(L.NEXT_STEP_WHY, s.key),
                "by": "、".join(ROLE_SHORT.get(r, label(L.ROLE, r)) for r in s.by),
                "deadline": deadline_row(s.deadline, today, calendar) if s.deadline else None,
                "form": form,
            }
        )
    return {"steps": steps, "ended": label(L.ENDED, p.ended) if p.ended else None}


def document_context(user: User, case: Case) -> dict[str, Any]:
    """The 文书 section: the documents issued, and the kinds this user may issue now."""
    kinds: list[tuple[str, str]] = []
    if may(user, "case.document_issue", mediator_id=case.mediator_id, studio_id=case.studio_id):
        allowed = documents.issuable(case)
        if user.role is Role.MEDIATOR:
            allowed = [k for k in allowed if k in documents.MEDIATOR_KINDS]
        kinds = [(k, label(DOCUMENT_KIND, k)) for k in allowed]
    base = f"/cases/{case.id}/documents/"
    return {
        "documents": [
            {
                "kind": d.kind.value,
                "title": label(DOCUMENT_KIND, d.kind),
                "number": d.number,
                "issued_on": d.issued_on.isoformat(),
                "pages": d.pages,
                "verification_code": d.verification_code,
                "pdf": f"{base}{d.document_id}.pdf",
                "docx": f"{base}{d.document_id}.docx",
            }
            for d in case.documents
        ],
        "document_kinds": kinds,
        "may_download": may(
            user, "case.document_read", mediator_id=case.mediator_id, studio_id=case.studio_id
        ),
    }


def failure_reasons(case: Case, today: date) -> list[str]:
    """Rule 2: after signing and before the due date, only a written refusal ends it."""
    agreement = case.agreement
    if (
        case.status is Status.AGREEMENT_SIGNED
        and agreement is not None
        and today < agreement.performance_due_on
    ):
        return [FailureReason.DECLARED_REFUSAL.value]
    return [r.value for r in FailureReason]


def _shown(key: str, value: Any) -> bool:
    """A timeline field worth showing: not empty, and a quiet flag only when it is set."""
    if value is None or (isinstance(value, (str, list, dict)) and not value):
        return False
    return not (key in L.QUIET_FLAGS and value is False)


def _event_rows(request: Request, case: Case, mask: bool) -> list[dict[str, Any]]:
    rt = runtime(request)
    app = rt.app
    people = rt.users.display_names()
    rows = []
    for entry in app.history(case.id):
        ev = history_event(entry, reveal=app.personal.reveal, mask=mask)
        rows.append(
            {
                "position": ev.position,
                "type": ev.type,
                "recorded_at": local_time(ev.recorded_at),
                "actor": person(people, ev.actor),
                "login": ev.actor,
                "actor_role": ev.actor_role,
                "on": ev.on.isoformat() if ev.on else "",
                "data": {k: v for k, v in ev.data.items() if _shown(k, v)},
            }
        )
    return rows


def case_page(
    request: Request,
    user: User,
    case: Case,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    open_form: str | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
) -> Response:
    rt = runtime(request)
    today = rt.today()
    mask = authz.masked(user)
    view = case_view(
        case,
        today,
        calendar=rt.app.calendars.current(),
        reveal=rt.app.personal.reveal,
        mask=mask,
        integrity=case_integrity(rt.app, case.id),
    )
    forms = available(user, case)
    calendar = rt.app.calendars.current()
    # brief §8 rules 10, 11: never an arbitration outpost; a transfer goes elsewhere
    studios = [
        s
        for s in eligible_studios(rt, case.region_code, today)
        if s.kind != StudioKind.ARBITRATION_OUTPOST and s.studio_id != case.studio_id
    ]
    if "entrust" not in forms and "transfer" not in forms:
        studios = []
    load = studio_load(rt, today) if studios else {}
    mediators: list[Any] = []
    studio_name = None
    if case.studio_id is not None:
        try:
            studio = rt.app.get_studio(case.studio_id)
            studio_name = studio.name
            mediators = studio.active_mediators(today)
        except DomainError:
            pass
    names = studio_names(rt)
    mediator_name = mediator_names(rt)
    deadlines = [deadline_row(d, today, calendar) for d in case.deadlines(today)]
    uncovered = {(d.kind, d.due_on.isoformat()) for d in view.deadlines if d.calendar_uncovered}
    for d in deadlines:
        d["uncovered"] = (d["kind"], d["due_on"]) in uncovered
    policy = rt.app.policy_on(today)
    route_hints = {
        route.value: label(L.ROUTE_HINT, route.value).format(
            window=f"{period.days} {label(L.DAY_UNIT, period.unit.value)}"
        )
        for route, period in (
            (Route.PRE_FILING, policy.pre_filing_window),
            (Route.POST_FILING, policy.post_filing_window),
        )
    }
    consents = {
        p.value: case.consents.get(p)
        for p in Party
        if case.consents.get(p) is not None
        and case.consents[p].round >= case.mediations_ended  # this mediation's
    }
    return render(
        request,
        "case.html",
        {
            "case": view,
            "title": case_title(view),
            "region": region_name(case.region_code),
            "deadlines": deadlines,
            "next": panel(case, today, calendar, forms),
            "events": _event_rows(request, case, mask),
            "forms": forms,
            "confirm": CONFIRM,
            "studios": studios,
            "mediators": mediators,
            "studio_name": studio_name,
            "mediator_name": mediator_name.get(case.mediator_id) if case.mediator_id else None,
            "mediator_names": {str(k): v for k, v in mediator_name.items()},
            "studio_names": {str(k): v for k, v in names.items()},
            "studio_options": [
                (
                    str(s.studio_id),
                    f"{s.name}（{s.region_name}，{label(STUDIO_KIND, s.kind)}）"
                    f" · 在办 {load[s.studio_id].open_cases if s.studio_id in load else 0} 件"
                    f" · 调解员 {load[s.studio_id].mediators if s.studio_id in load else 0} 名",
                )
                for s in studios
            ],
            "route_hints": route_hints,
            "this_round_consents": consents,
            "mediator_options": [
                (str(m.mediator_id), f"{m.name}（{label(QUALIFICATION, m.qualification)}）")
                for m in mediators
            ],
            "error": error,
            "open_form": open_form,
            "values": values or {},
            "done": _done_title(done),
            # a link that says what was done (``?done=``) shows it as the success message
            "notice": L.message("done", what=t) if (t := _done_title(done)) else None,
            "today": today.isoformat(),
            "form_key": uuid4().hex,
            "categories": [c.category.value for c in case.claims],
            "failure_reasons": [
                (r, label(FAILURE_REASON, r)) for r in failure_reasons(case, today)
            ],
            "money_fields": MONEY_FIELDS,
            **document_context(user, case),
        },
        status=status,
        user=user,
    )


MONEY_FIELDS = frozenset({"amount", "amount_paid"})


def _done_title(done: str | None) -> str | None:
    if done is None:
        return None
    if done in BY_FORM:
        return BY_FORM[done].title
    return DONE.get(done)


@router.get("/cases/{case_id}", include_in_schema=False)
def show_case(
    request: Request, case_id: str, done: str | None = None, open: str | None = None
) -> Response:
    user = page_user(request)
    case = load_case(request, user, case_id, "case.read")
    # ``open``: the form a next-step link leads to, opened (a link works without JS)
    wanted = open if open in BY_FORM or open == CONSENTS else None
    return case_page(request, user, case, done=done, open_form=wanted)


@router.post("/cases/{case_id}/do/{name}", include_in_schema=False)
async def run_command(request: Request, case_id: str, name: str) -> Response:
    user = page_user(request)
    check_origin(request)
    form = await request.form()
    if name == CONSENTS:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_consents_sync, request, user, case_id, form)
    command = BY_FORM.get(name)
    if command is None:
        raise PageError(404, "没有这项操作")
    return await _run(request, user, case_id, command, form)


async def _run(
    request: Request, user: User, case_id: str, command: CaseCommandRow, form: FormData
) -> Response:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_run_sync, request, user, case_id, command, form)


def _run_sync(
    request: Request, user: User, case_id: str, command: CaseCommandRow, form: FormData
) -> Response:
    rt = runtime(request)
    case = load_case(request, user, case_id, command.action)
    key = F.text(form, "form_key", required=False)
    ctx = CommandContext(
        actor(user),
        expected_version=F.version(form),
        idempotency_key=f"web-{key}" if re.fullmatch(r"[0-9a-f]{32}", key) else None,
    )
    back = F.text(form, "back", required=False)
    back = back if back.startswith("/") and not back.startswith("//") else ""
    try:
        require_confirmation(command.form, form)
        result = rt.app.execute(ctx, case.id, command_of(command, form))
    except DomainError as exc:
        return _refused(request, user, case.id, command.form, exc, form, back)
    rt.after_write()
    # a severance's result is the new case
    done = L.message("done", what=command.title)
    return prg.done(request, back or f"/cases/{result.id}", done)


def _refused(
    request: Request,
    user: User,
    case_id: UUID,
    form_name: str,
    exc: DomainError,
    form: FormData,
    back: str = "",
) -> Response:
    """Post/redirect/get after a refusal: the refusal, what was typed, the form open, and
    the form of the way out (``REMEDY``) open beside it when this user may use it."""
    err = refusal(exc)
    remedy = REMEDY.get(exc.code)
    if remedy and remedy in available(user, runtime(request).app.get_case(case_id)):
        err.update(remedy=remedy, remedy_title=DONE.get(remedy) or BY_FORM[remedy].title)
    return prg.refused(
        request,
        back or f"/cases/{case_id}",
        err,
        F.values_of(form),
        open_form=form_name,
        errors=F.problems(exc),
    )


def require_confirmation(name: str, form: FormData) -> None:
    """A destructive form's confirmation box must be ticked (the browser asks too)."""
    if name in CONFIRM and form.get("confirm") != "yes":
        raise ValidationFailed("请勾选确认框后再提交：此项办理后不能撤销", field="confirm")


def _consents_sync(request: Request, user: User, case_id: str, form: FormData) -> Response:
    """Both parties' consent in one submission: each party given, refused or left as is."""
    row = BY_FORM["consent"]
    rt = runtime(request)
    case = load_case(request, user, case_id, row.action)
    key = F.text(form, "form_key", required=False)
    version = F.version(form)
    try:
        wanted: list[C.RecordConsent] = []
        for party in Party:
            choice = F.text(form, f"{party.value}.given", required=False)
            if choice in ("", "keep"):
                continue
            if choice not in ("true", "false"):
                raise ValidationFailed(L.message("choose"), field=f"{party.value}.given")
            wanted.append(
                C.RecordConsent(
                    party=party, given=choice == "true", on=F.day(form, f"{party.value}.on")
                )
            )
        if not wanted:
            raise ValidationFailed("请至少记录一方当事人的意愿", field="applicant.given")
        for i, command in enumerate(wanted):
            ctx = CommandContext(
                actor(user),
                expected_version=None if version is None else version + i,
                idempotency_key=(
                    f"web-{key}-{command.party.value}"
                    if re.fullmatch(r"[0-9a-f]{32}", key)
                    else None
                ),
            )
            rt.app.execute(ctx, case.id, command)
    except DomainError as exc:
        rt.after_write()
        return _refused(request, user, case.id, CONSENTS, exc, form)
    rt.after_write()
    return prg.done(request, f"/cases/{case.id}", L.message("done", what=DONE[CONSENTS]))


# ---------------------------------------------------------------------- intake


def _intake_regions(user: User) -> list[tuple[str, str]]:
    own = get_region(user.region_code)
    out = [(user.region_code, own.name if own else user.region_code)]
    out += [(r.code, r.name) for r in children(user.region_code, "county")]
    return out


def intake_page(
    request: Request,
    user: User,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "intake.html",
        {
            "regions": _intake_regions(user),
            "error": error,
            "values": values or {},
            "today": runtime(request).today().isoformat(),
            "claim_rows": range(MAX_CLAIMS),
            # the repeatable parties: the rows filled (after a refusal) and blank ones
            "party_rows": PF.rows_to_show,
            "applicant_blank": PF.APPLICANT_ROWS,
            "respondent_blank": PF.RESPONDENT_ROWS,
            "form_key": uuid4().hex,
        },
        status=status,
        user=user,
    )


@intake_router.get("/cases/new", include_in_schema=False)
def new_case(request: Request) -> Response:
    user = page_user(request)
    require(user, "case.create")
    return intake_page(request, user)


def _claims(r: F.Reader) -> list[Claim]:
    """The claim rows filled in; a 确认劳动关系 claim needs no amount (issue 12)."""
    claims = []
    for i in range(MAX_CLAIMS):
        category = F.text(r.form, f"claims.{i}.category", required=False)
        raw_amount = F.text(r.form, f"claims.{i}.amount", required=False)
        if not category and not raw_amount:
            continue
        kind = r.read(F.choice, f"claims.{i}.category", ClaimCategory)
        if not raw_amount and kind is ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION:
            amount: Decimal | None = Decimal("0.00")
        elif not raw_amount:
            r.refuse(f"claims.{i}.amount", message("amount_required"))
            amount = None
        else:
            amount = r.read(F.amount, f"claims.{i}.amount")
        if kind is not None and amount is not None:
            claims.append(Claim(kind, amount))
    if not claims and not any(k.startswith("claims.") for k in r.errors):
        r.refuse("claims.0.category", message("claims_required"))
    return claims


@intake_router.post("/cases/new", include_in_schema=False)
async def create_case(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    user = page_user(request)
    check_origin(request)
    require(user, "case.create")
    form = await request.form()
    return await run_in_threadpool(_create_sync, request, user, form)


def _intake_values(
    r: F.Reader, user: User
) -> tuple[str, date, PF.PartyRows, list[Claim], date | None, date | None]:
    """Every field of the intake form read and checked by the domain's own validators,
    so that all problems show at once (``FormInvalid``)."""
    region = r.read(F.text, "region_code") or ""
    if region and not is_valid_region_code(region):
        r.refuse("region_code", message("region"))
    elif region and not authz.in_jurisdiction(user, region):
        r.refuse("region_code", message("region_outside"))
    received_on = r.read(F.day, "received_on")
    parties = PF.read(r, received_on)  # every row of both sides (issue 17)
    claims = _claims(r)
    known = r.read(F.optional_day, "infringement_known_on")
    ended = r.read(F.optional_day, "employment_ended_on")
    if received_on is not None:
        if known is not None and known > received_on:
            r.refuse("infringement_known_on", message("known_after_receipt"))
        if ended is not None and ended > received_on:
            r.refuse("employment_ended_on", message("ended_after_receipt"))
    r.check()
    assert received_on
    return region, received_on, parties, claims, known, ended


def _create_sync(request: Request, user: User, form: FormData) -> Response:
    rt = runtime(request)
    values = F.values_of(form)
    parties: PF.PartyRows | None = None
    try:
        region, received_on, parties, claims, known, ended = _intake_values(F.Reader(form), user)
        # the same (first) worker against the same (first) employer with an open case: say
        # so, once
        applicant, respondent = parties.applicants[0], parties.respondents[0]
        twins = possible_duplicates(
            rt,
            region_code=region,
            worker_category=applicant.worker_category.value,
            id_number=applicant.id_number,
            credit_code=respondent.credit_code,
        )
        if twins and not F.flag(form, "duplicate_ok"):
            return prg.refused(
                request,
                "/cases/new",
                {"title": L.PAGE["duplicate_title"], "duplicates": [str(t) for t in twins]},
                values,
                errors={"duplicate_ok": L.PAGE["duplicate"]},
            )
        key = F.text(form, "form_key", required=False)
        ctx = CommandContext(
            actor(user),
            idempotency_key=f"web-{key}" if re.fullmatch(r"[0-9a-f]{32}", key) else None,
        )
        case = rt.app.receive_case(
            ctx,
            region_code=region,
            received_on=received_on,
            applicants=parties.applicants,
            respondents=parties.respondents,
            representatives=parties.representatives,
            claims=claims,
            infringement_known_on=known,
            employment_ended_on=ended,
        )
    except DomainError as exc:
        errors = F.problems(exc)
        if parties is not None:  # the domain names a party by its place among those read
            errors = {parties.form_field(f) or f: text for f, text in errors.items()}
        return prg.refused(request, "/cases/new", refusal(exc), values, errors=errors)
    rt.after_write()
    return prg.done(request, f"/cases/{case.id}", L.message("done", what="收案登记"))


# ---------------------------------------------------------------------- case search


@router.get("/cases", include_in_schema=False)
def case_list(
    request: Request, status: str = "", q: str = "", cursor: str = "", overdue: str = ""
) -> Response:
    from api.pages.reads import case_rows, list_case_ids

    user = page_user(request)
    grant = require(user, "case.list")
    rt = runtime(request)
    if q.strip():
        try:
            return RedirectResponse(f"/cases/{UUID(q.strip())}", status_code=303)
        except ValueError:
            pass
    st = status if status in {s.value for s in Status} else None
    asked = q.strip()[:100]
    ids, next_cursor = list_case_ids(
        rt,
        region_prefix=region_prefix(user.region_code),
        status=st,
        mediator_id=user.mediator_id if grant is authz.Grant.ASSIGNED else None,
        overdue=True if overdue else None,
        cursor=cursor or None,
        terms=search.hashed(rt.app.personal, asked) if asked else None,
    )
    return render(
        request,
        "cases.html",
        {
            "rows": case_rows(rt, ids, mask=authz.masked(user)),
            "status": st or "",
            "overdue": "1" if overdue else "",
            "next_cursor": next_cursor,
            "statuses": [s.value for s in Status],
            "search_q": asked,
            "page_query": urlencode(
                {"q": asked, "status": st or "", "overdue": "1" if overdue else ""}
            ),
        },
        user=user,
    )


def today_iso(today: date) -> str:
    return today.isoformat()
