"""Issuing a document: number, facts, render, keep the bytes, record — one command.

``issue_document`` runs like every case command (``MediationApplication._run``: the
idempotency key, the expected version, one retry after a lost race):

1. the kind's rule (``mediation.documents``) on the case as loaded: 409 if it does not fit;
2. the next number of the (commission, category, year) counter (``DocumentNumbers``);
3. the facts of the case as recorded (:func:`facts_of`), rendered by the caller's
   ``Renderer`` (the API's Typst templates) into PDF bytes and a page count;
4. the bytes kept, content-addressed, in ``document_files`` (committed first);
5. ``Case.DocumentIssued`` and the counter's number saved in one transaction.

A lost race re-decides with the next number and renders again; the first rendering's row
stays an orphan that no event names.

The case number and the parties are read through :func:`case_numbers` and
:func:`parties_of`, the one place to change when the case numbers (``case_number``,
``filing_number``) and the lists of parties (``applicants``, ``respondents``) land.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID, uuid4

import cn2an
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from mediation import identifiers, labels, parties
from mediation.case import Case
from mediation.document_numbers import DocumentNumbers
from mediation.document_store import DocumentFiles, FileRecord
from mediation.documents import NUMBER_CATEGORY, STUDIO_KINDS, DocumentKind, IssuedDocument
from mediation.errors import DomainError, NotFound, VersionConflict
from mediation.regions import city_of, get_region

if TYPE_CHECKING:  # pragma: no cover
    from mediation.application import CommandContext, MediationApplication


# --------------------------------------------------------------------------- the adapters


def case_numbers(case: Case) -> tuple[str, str | None, str | None]:
    """(number shown, registration number, 案号): the 案号 once accepted, else the
    registration number, else the short id the lists show (until case numbers land)."""
    registration = cast("str | None", getattr(case, "case_number", None))
    filing = cast("str | None", getattr(case, "filing_number", None))
    return (filing or registration or str(case.id)[:8]), registration, filing


def parties_of(case: Case) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(applicants, respondents) as recorded: the lists once they land, else the one each."""
    applicants = cast("list[dict[str, Any]]", getattr(case, "applicants", None) or [case.applicant])
    respondents = cast(
        "list[dict[str, Any]]", getattr(case, "respondents", None) or [case.respondent]
    )
    return applicants, respondents


# --------------------------------------------------------------------------- commission

# the short name of each Hubei city's commission in its 文号 (鄂 + this + 劳人仲)
_CITY_SHORT = {
    "4201": "武",
    "4202": "黄石",
    "4203": "十",
    "4205": "宜",
    "4206": "襄",
    "4207": "鄂州",
    "4208": "荆门",
    "4209": "孝",
    "4210": "荆",
    "4211": "黄冈",
    "4212": "咸",
    "4213": "随",
    "4228": "恩施",
}
_PROVINCE_SHORT = {"42": "鄂"}


@dataclass(frozen=True)
class Commission:
    code: str  # the region code of the commission's city (or county)
    name: str  # 武汉市劳动人事争议仲裁委员会
    prefix: str  # 鄂武劳人仲


def commission_of(region_code: str) -> Commission:
    city = city_of(region_code) or get_region(region_code)
    code = city.code if city else region_code[:4] + "00"
    name = (city.name if city else code) + "劳动人事争议仲裁委员会"
    short = _CITY_SHORT.get(code[:4]) or (city.name[:1] if city else "")
    return Commission(code, name, _PROVINCE_SHORT.get(code[:2], "") + short + "劳人仲")


def document_number(commission: Commission, kind: DocumentKind, year: int, n: int) -> str:
    return f"{commission.prefix}{NUMBER_CATEGORY[kind]}字〔{year}〕第{n}号"


# --------------------------------------------------------------------------- Chinese forms

_DIGITS = "〇一二三四五六七八九"


def chinese_date(d: date) -> str:
    """二〇二六年三月四日 (〇 is U+3007), as legal documents sign (documents.md §1)."""
    year = "".join(_DIGITS[int(c)] for c in str(d.year))
    return f"{year}年{_small(d.month)}月{_small(d.day)}日"


def _small(n: int) -> str:
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def arabic_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def money_text(amount: Decimal) -> str:
    """人民币12,000.00元（大写：壹万贰仟元整）"""
    return f"人民币{amount:,.2f}元（大写：{cn2an.an2cn(f'{amount:.2f}', 'rmb')}）"


# --------------------------------------------------------------------------- the facts


class Reveal(Protocol):
    def __call__(self, data: Mapping[str, str]) -> dict[str, str]: ...


_AGENT_KIND = {"lawyer": "律师", "union": "工会工作者", "relative": "近亲属", "other": ""}
_PARTY_KEYS = ("name", "id_number", "phone", "address", "credit_code", "legal_representative")


def _party(data: Mapping[str, Any], reveal: Reveal, role: str) -> dict[str, Any]:
    """A party's particulars (Rules art. 29), every key present (the templates are strict)."""
    opened = reveal({k: v for k, v in data.items() if isinstance(v, str)})
    out: dict[str, Any] = {k: "" for k in _PARTY_KEYS}
    # stored flat (mediation.parties): the agent as {"name", "kind"}, as the views show it
    out.update(parties.shown({**data, **opened}))
    out["role"] = role
    out["worker_category_label"] = (
        labels.label(labels.WORKER, out["worker_category"]) if out.get("worker_category") else ""
    )
    out.setdefault("worker_category", "")
    out["gender"] = out["birth"] = ""
    try:
        born = identifiers.resident_birth_date(str(out["id_number"]))
        out["birth"] = arabic_date(born)
        out["gender"] = "男" if int(str(out["id_number"])[16]) % 2 else "女"
    except (ValueError, IndexError):
        pass
    agent = out.get("agent")
    if isinstance(agent, Mapping) and agent.get("name"):
        kind = str(agent.get("kind", ""))
        out["agent"] = {"name": agent["name"], "kind_label": _AGENT_KIND.get(kind, "")}
    else:
        out["agent"] = None
    return out


def facts_of(
    app: MediationApplication,
    case: Case,
    *,
    kind: DocumentKind,
    number: str,
    issued_on: date,
    verification_code: str,
    verify_url: str,
) -> dict[str, Any]:
    """Everything a document of ``kind`` may show, from the case as recorded (JSON-able)."""
    reveal: Reveal = app.personal.reveal
    commission = commission_of(case.region_code)
    shown, registration, filing = case_numbers(case)
    applicants, respondents = parties_of(case)
    studio_name = mediator_name = ""
    if case.studio_id is not None:
        try:
            studio = app.get_studio(case.studio_id)
            studio_name = studio.name
            if case.mediator_id is not None and case.mediator_id in studio.roster:
                mediator_name = studio.roster[case.mediator_id].name
        except DomainError:
            pass
    agreement = case.agreement
    claims = [
        {
            "category": c.category.value,
            "label": labels.label(labels.CLAIM, c.category),
            "amount": f"{c.amount:,.2f}",
            "amount_text": money_text(c.amount),
        }
        for c in case.claims
    ]
    body = studio_name if kind in STUDIO_KINDS and studio_name else commission.name
    served = [
        {
            "title": labels.label(labels.DOCUMENT_KIND, d.kind),
            "number": d.number,
            "issued_on": arabic_date(d.issued_on),
        }
        for d in case.documents
        if d.kind is not DocumentKind.SERVICE_RECEIPT
    ]
    return {
        "kind": kind.value,
        "title": labels.label(labels.DOCUMENT_KIND, kind),
        "number": number,
        "issued_on": issued_on.isoformat(),
        "issued_on_text": chinese_date(issued_on),
        "year": issued_on.year,
        "verification_code": verification_code,
        "verify_url": verify_url,
        "issuing_body": body,
        "commission": {"code": commission.code, "name": commission.name},
        "case_number": shown,
        "registration_number": registration or "",
        "filing_number": filing or "",
        "case_id": str(case.id),
        "region_name": (get_region(case.region_code) or commission).name,
        "received_on": arabic_date(case.received_on),
        "applicants": [_party(a, reveal, "申请人") for a in applicants],
        "respondents": [_party(r, reveal, "被申请人") for r in respondents],
        "claims": claims,
        "claimed_total": money_text(case.claimed_amount),
        "route": case.route.value if case.route else "",
        "route_label": labels.label(labels.ROUTE, case.route) if case.route else "",
        "studio": studio_name,
        "mediator": mediator_name,
        "entrusted_on": arabic_date(case.entrusted_on),
        "window_ends_on": arabic_date(case.window_ends_on),
        "accepted_on": arabic_date(case.accepted_on),
        "award_due_on": arabic_date(case.award_due_on),
        "acceptance_due_on": arabic_date(case.acceptance_due_on),
        "decided_on": arabic_date(case.status_since),
        "non_acceptance_reason": case.acceptance_reason,
        "agreement": None
        if agreement is None
        else {
            "signed_on": arabic_date(agreement.signed_on),
            "amount": money_text(agreement.amount),
            "performance_due_on": arabic_date(agreement.performance_due_on),
            "terms": agreement.terms,
            "obligor": labels.label(labels.PARTY, agreement.obligor),
            "settles": [
                labels.label(labels.CLAIM, c) for c in (agreement.settles or case.categories)
            ],
            "review_due_on": arabic_date(agreement.review_due_on),
        },
        "mediation_ended_on": arabic_date(case.mediation_ended_on),
        "failure_reason": labels.label(labels.FAILURE_REASON, case.failure_reason_code)
        if case.failure_reason_code
        else "",
        "failure_detail": case.failure_reason or "",
        "filed": case.accepted_on is not None,
        "served": served,
        "entrustment_number": next(
            (
                d.number
                for d in reversed(case.documents)
                if d.kind is DocumentKind.ENTRUSTMENT_LETTER
            ),
            "",
        ),
    }


# --------------------------------------------------------------------------- issuing


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int


Renderer = Callable[[Mapping[str, Any]], Rendered]

_ATTEMPTS = 8  # saves of one issue (each ``_run`` is two)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_verification_code() -> str:
    """12 random characters (60 bits) in three groups: ``K7QM-2XWD-8HNP``."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normal_code(text: str) -> str | None:
    """A typed code in its canonical form (case and dashes forgiven), or None."""
    t = text.strip().upper().replace("-", "").replace(" ", "")
    if len(t) != 12 or any(c not in _CODE_ALPHABET for c in t):
        return None
    return f"{t[:4]}-{t[4:8]}-{t[8:]}"


def issue_document(
    app: MediationApplication,
    ctx: CommandContext,
    case_id: UUID,
    *,
    kind: DocumentKind,
    on: date,
    render: Renderer,
    files: DocumentFiles,
    verify_base: str,
) -> tuple[Case, IssuedDocument]:
    """Issue a document of ``kind`` dated ``on``; the case and the recorded document."""
    app._check_date(on)
    load = app._case_loader(ctx, case_id)

    def decide() -> tuple[Aggregate, list[Aggregate]]:
        case = load()
        if ctx.expected_version is not None and case.version != ctx.expected_version:
            raise VersionConflict(
                f"the case is at version {case.version}, not {ctx.expected_version}"
            )
        from mediation.documents import require_document_fits

        require_document_fits(kind, case)
        policy = app.policy_on(on)
        commission = commission_of(case.region_code)
        document_id = uuid4()
        counter = _counter(app, commission.code, NUMBER_CATEGORY[kind], on.year, document_id)
        number = document_number(commission, kind, on.year, counter.last)
        code = new_verification_code()
        facts = facts_of(
            app,
            case,
            kind=kind,
            number=number,
            issued_on=on,
            verification_code=code,
            verify_url=f"{verify_base.rstrip('/')}/verify/{code}",
        )
        rendered = render(facts)
        sha = hashlib.sha256(rendered.pdf).hexdigest()
        files.put(
            FileRecord(
                sha256=sha,
                verification_code=code,
                case_id=case.id,
                document_id=document_id,
                kind=kind.value,
                number=number,
                issuing_body=str(facts["issuing_body"]),
                issued_on=on,
            ),
            rendered.pdf,
        )
        case.issue_document(
            actor=ctx.actor,
            policy=policy,
            on=on,
            kind=kind,
            document_id=document_id,
            document_number=number,
            sha256=sha,
            pages=rendered.pages,
            verification_code=code,
            issuing_body=str(facts["issuing_body"]),
        )
        return case, [case, counter]

    params = {"kind": kind.value, "on": on}
    # the counter is shared by every case of the commission: a busy one may lose the race
    # more than the once ``_run`` retries; each try takes the next number afresh
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            case = cast(Case, app._run(ctx, "issue_document", case_id, params, decide))
        except VersionConflict:
            if ctx.expected_version is not None or attempt == _ATTEMPTS:
                raise
            continue
        return case, case.documents[-1]
    raise AssertionError("unreachable")  # pragma: no cover


def _counter(
    app: MediationApplication, commission: str, category: str, year: int, document_id: UUID
) -> DocumentNumbers:
    counter_id = DocumentNumbers.id_for(commission, category, year)
    try:
        counter = cast(DocumentNumbers, app.repository.get(counter_id))
    except AggregateNotFoundError:
        return DocumentNumbers.start(commission, category, year, document_id)
    counter.take(document_id)
    return counter


def document_of(case: Case, document_id: UUID) -> IssuedDocument:
    for d in case.documents:
        if d.document_id == document_id:
            return d
    raise NotFound(f"no document {document_id}")


def facts_for_reprint(
    app: MediationApplication, case: Case, document: IssuedDocument, verify_base: str
) -> dict[str, Any]:
    """The facts a document was issued from: the case as it stood just before (DOCX)."""
    before = cast(Case, app.repository.get(case.id, version=document.case_version - 1))
    return facts_of(
        app,
        before,
        kind=document.kind,
        number=document.number,
        issued_on=document.issued_on,
        verification_code=document.verification_code,
        verify_url=f"{verify_base.rstrip('/')}/verify/{document.verification_code}",
    )
