"""Bulk import of historic cases from a province's old system (``mediation import FILE``).

A province moving to this system exports its old cases, one row per case, as CSV (UTF-8,
a byte-order mark is accepted) or XLSX (the first sheet). Every row becomes a *real* case
history: the importer drives the aggregates' own command methods (receive, assess,
consents, acceptance, entrustment, mediator, sessions, agreement, performance, review,
statement, failure, closure) with the historic business dates, so every rule of the
domain is enforced exactly as for a live command. A row that breaks a rule is reported
with its row number and the rule's stable code and is not imported; it never aborts
the import.

Columns (header names; blank cells mean "not applicable"; dates ``YYYY-MM-DD``; money
as decimal CNY strings):

=========================  ==================================================================
``old_case_no``            required; the old system's case number, unique in the province.
                           The new case id is ``uuid5(IMPORT_NAMESPACE, old_case_no)``, so
                           importing a file twice adds nothing.
``region_code``            required; GB/T 2260 city or county code of the case
``received_on``            required
``infringement_known_on``  optional (limitation warning, LDMAL art. 27)
``applicant_name``         required
``applicant_id_number``    required; resident identity number (GB 11643)
``applicant_phone``        required
``worker_category``        required; ``employee``, ``delivery_rider``, ... (API contract)
``respondent_name``        required
``respondent_credit_code`` required; unified social credit code (GB 32100)
``claims``                 required; ``category:amount;category:amount``
``outcome``                required; ``not_entrusted``, ``pending``, ``failed``,
                           ``succeeded_performance`` or ``succeeded_statement``
``route``                  ``pre_filing`` or ``post_filing``; required unless not entrusted
``assessed_on``            optional, default ``received_on`` (assessment: within scope,
                           meets the conditions, suitable for mediation)
``accepted_on``            acceptance decision (required on the post-filing route; on a
                           not-entrusted row it records the acceptance)
``consent_on``             both parties' consent, default ``entrusted_on``
``entrusted_on``           required unless not entrusted
``studio``                 studio name, required unless not entrusted
``studio_region_code``     optional, default the city of ``region_code``
``mediator``               mediator name (optional for a pending case)
``mediator_assigned_on``   optional, default ``entrusted_on``
``session_dates``          optional, ``;``-separated dates of mediation sessions
``agreement_amount``       agreement (required for the succeeded outcomes)
``agreement_signed_on``
``agreement_due_on``       performance due date
``amount_paid``            total paid under the agreement
``performance_on``         date of the (last) payment
``review_applied_on``      pre-filing statements: arbitral review, default the signing date
``statement_issued_on``    仲裁调解书 issued (``succeeded_statement``)
``statement_number``
``failed_on``              ``failed``: the date mediation ended
``failure_reason``
``closed_on``              not entrusted: closure date (with ``disposition``)
``disposition``            ``award``, ``withdrawn``, ``tribunal_mediation`` or ``other``
=========================  ==================================================================

Row numbers in reports are spreadsheet row numbers: the header is row 1.

Studios (by name and region) and their mediators (by name) are looked up in the store
and created when missing: a new studio is established on the earliest entrustment the
file needs it for, a new mediator appointed on the earliest assignment. Both are
recorded by the importing actor.

The file is read twice (studios and mediators first, then the cases), so memory stays
flat however long the file; the first pass's parsed rows are kept for the second only
while there are at most ``KEEP_PARSED_ROWS`` of them. Speed: aggregates are built in
memory and saved many per transaction (``batch_size`` rows); that is safe because each
case is a new aggregate. A batch that meets a case already in the store (a second import,
or a concurrent one) is saved again without the existing cases. The batches are written
by :mod:`mediation.importer_store` (the application's own mapper and table; binary
``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from mediation import regions
from mediation.application import MediationApplication
from mediation.case import ApplicantInput, Case, Claim, RespondentInput
from mediation.clock import recording_with
from mediation.errors import DateInFuture, DomainError, ValidationFailed
from mediation.importer_store import record
from mediation.organisation import Studio
from mediation.values import (
    Actor,
    ClaimCategory,
    Disposition,
    Party,
    Route,
    StudioKind,
    WorkerCategory,
    money,
)

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:mediation:historic-import")
OUTCOMES = (
    "not_entrusted",
    "pending",
    "failed",
    "succeeded_performance",
    "succeeded_statement",
)
COLUMNS = (
    "old_case_no",
    "region_code",
    "received_on",
    "infringement_known_on",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "worker_category",
    "respondent_name",
    "respondent_credit_code",
    "claims",
    "outcome",
    "route",
    "assessed_on",
    "accepted_on",
    "consent_on",
    "entrusted_on",
    "studio",
    "studio_region_code",
    "mediator",
    "mediator_assigned_on",
    "session_dates",
    "agreement_amount",
    "agreement_signed_on",
    "agreement_due_on",
    "amount_paid",
    "performance_on",
    "review_applied_on",
    "statement_issued_on",
    "statement_number",
    "failed_on",
    "failure_reason",
    "closed_on",
    "disposition",
)
REQUIRED = (
    "old_case_no",
    "region_code",
    "received_on",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "worker_category",
    "respondent_name",
    "respondent_credit_code",
    "claims",
    "outcome",
)
DUPLICATE_ROW = "duplicate_row"
MEDIATOR_QUALIFICATION = "other"
DEFAULT_BATCH = 200
# Rows whose parse the first pass keeps for the second (≈ 3.6 kB each, ≈ 36 MB): a file
# up to this size is read and parsed once; a longer one is read again, keeping memory flat.
KEEP_PARSED_ROWS = 10_000

E = TypeVar("E")


def case_id_for(old_case_no: str) -> UUID:
    """The deterministic id of the case imported from ``old_case_no``."""
    return uuid5(IMPORT_NAMESPACE, old_case_no.strip())


@dataclass(frozen=True)
class RowProblem:
    row: int
    old_case_no: str
    code: str
    detail: str

    def __str__(self) -> str:
        return f"row {self.row} ({self.old_case_no or '?'}): {self.code}: {self.detail}"


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    events: int = 0
    studios_created: int = 0
    mediators_appointed: int = 0
    refused: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.refused

    def lines(self) -> list[str]:
        out = [
            f"rows read:        {self.rows}",
            f"cases imported:   {self.imported} ({self.events} events)",
            f"already present:  {self.already_present}",
            f"studios created:  {self.studios_created}",
            f"mediators added:  {self.mediators_appointed}",
            f"rows refused:     {len(self.refused)}",
        ]
        out.extend(f"  {p}" for p in self.refused)
        out.append(f"time:             {self.seconds:.1f} s")
        return out


# ---------------------------------------------------------------------- reading


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {column: text}) for every non-empty data row."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    else:
        yield from _read_csv(path)


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        _check_header(reader.fieldnames or [])
        for row in reader:
            values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if any(values.values()):
                yield reader.line_num, values


def _read_xlsx(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        _check_header(header)
        for number, cells in enumerate(rows, start=2):
            values = {
                name: _cell_text(cell) for name, cell in zip(header, cells, strict=False) if name
            }
            if any(values.values()):
                yield number, values
    finally:
        workbook.close()


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):  # datetime is a date: keep only the day
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _check_header(header: Iterable[str]) -> None:
    missing = [c for c in REQUIRED if c not in {h.strip() for h in header}]
    if missing:
        raise ValueError(f"the file has no column(s) {', '.join(missing)}")


# ---------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class HistoricCase:
    """One parsed row: typed values, not yet checked against the domain's rules."""

    row: int
    old_case_no: str
    region_code: str
    received_on: date
    infringement_known_on: date | None
    applicant: ApplicantInput
    respondent: RespondentInput
    claims: list[Claim]
    outcome: str
    route: Route | None
    assessed_on: date
    accepted_on: date | None
    consent_on: date | None
    entrusted_on: date | None
    studio: str
    studio_region_code: str
    mediator: str
    mediator_assigned_on: date | None
    session_dates: list[date]
    agreement_amount: Decimal | None
    agreement_signed_on: date | None
    agreement_due_on: date | None
    amount_paid: Decimal | None
    performance_on: date | None
    review_applied_on: date | None
    statement_issued_on: date | None
    statement_number: str
    failed_on: date | None
    failure_reason: str
    closed_on: date | None
    disposition: Disposition | None

    @property
    def studio_key(self) -> tuple[str, str]:
        return (self.studio, self.studio_region_code)

    def dates(self) -> Iterator[tuple[str, date]]:
        for name in (
            "received_on",
            "infringement_known_on",
            "assessed_on",
            "accepted_on",
            "consent_on",
            "entrusted_on",
            "mediator_assigned_on",
            "agreement_signed_on",
            "performance_on",
            "review_applied_on",
            "statement_issued_on",
            "failed_on",
            "closed_on",
        ):
            value = getattr(self, name)
            if value is not None:
                yield name, value
        for d in self.session_dates:
            yield "session_dates", d


def _date(values: Mapping[str, str], name: str) -> date | None:
    text = values.get(name, "")
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        raise ValidationFailed(f"{name} {text!r} is not a date YYYY-MM-DD", field=name) from None


def _required(values: Mapping[str, str], name: str) -> str:
    text = values.get(name, "")
    if not text:
        raise ValidationFailed(f"{name} is required", field=name)
    return text


def _required_date(values: Mapping[str, str], name: str) -> date:
    _required(values, name)
    parsed = _date(values, name)
    assert parsed is not None
    return parsed


def _money(values: Mapping[str, str], name: str) -> Decimal | None:
    text = values.get(name, "").replace(",", "")
    if not text:
        return None
    try:
        return money(text)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: {exc}", field=name) from None


def _enum(kind: Callable[[str], E], values: Mapping[str, str], name: str) -> E | None:
    text = values.get(name, "")
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValidationFailed(f"{name} {text!r} is not a known value", field=name) from None


def parse_claims(text: str) -> list[Claim]:
    """``category:amount;category:amount`` → claims."""
    claims = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        category, sep, amount = part.partition(":")
        if not sep:
            raise ValidationFailed(f"claim {part!r} is not category:amount", field="claims")
        try:
            claims.append(Claim(ClaimCategory(category.strip()), money(amount.strip())))
        except ValueError as exc:
            raise ValidationFailed(f"claim {part!r}: {exc}", field="claims") from None
    if not claims:
        raise ValidationFailed("a case needs at least one claim", field="claims")
    return claims


def parse_row(number: int, values: Mapping[str, str]) -> HistoricCase:
    """Typed values of one row; raises ``ValidationFailed`` naming the bad field."""
    outcome = _required(values, "outcome")
    if outcome not in OUTCOMES:
        raise ValidationFailed(f"outcome is one of {', '.join(OUTCOMES)}", field="outcome")
    region_code = _required(values, "region_code")
    received_on = _required_date(values, "received_on")
    route = _enum(Route, values, "route")
    entrusted_on = _date(values, "entrusted_on")
    studio = values.get("studio", "")
    if outcome != "not_entrusted":
        if route is None:
            raise ValidationFailed("route is required for an entrusted case", field="route")
        if entrusted_on is None:
            raise ValidationFailed("entrusted_on is required", field="entrusted_on")
        if not studio:
            raise ValidationFailed("studio is required for an entrusted case", field="studio")
    studio_region = values.get("studio_region_code", "")
    if not studio_region and regions.is_valid_region_code(region_code):
        city = regions.city_of(region_code)
        studio_region = city.code if city is not None else region_code
    session_dates = []
    for text in values.get("session_dates", "").split(";"):
        if text.strip():
            parsed = _date({"session_dates": text.strip()}, "session_dates")
            assert parsed is not None
            session_dates.append(parsed)
    worker_category = _enum(WorkerCategory, values, "worker_category")
    if worker_category is None:
        raise ValidationFailed("worker_category is required", field="worker_category")
    return HistoricCase(
        row=number,
        old_case_no=_required(values, "old_case_no"),
        region_code=region_code,
        received_on=received_on,
        infringement_known_on=_date(values, "infringement_known_on"),
        applicant=ApplicantInput(
            _required(values, "applicant_name"),
            _required(values, "applicant_id_number"),
            _required(values, "applicant_phone"),
            worker_category,
        ),
        respondent=RespondentInput(
            _required(values, "respondent_name"), _required(values, "respondent_credit_code")
        ),
        claims=parse_claims(_required(values, "claims")),
        outcome=outcome,
        route=route,
        assessed_on=_date(values, "assessed_on") or received_on,
        accepted_on=_date(values, "accepted_on"),
        consent_on=_date(values, "consent_on") or entrusted_on,
        entrusted_on=entrusted_on,
        studio=studio,
        studio_region_code=studio_region,
        mediator=values.get("mediator", ""),
        mediator_assigned_on=_date(values, "mediator_assigned_on") or entrusted_on,
        session_dates=session_dates,
        agreement_amount=_money(values, "agreement_amount"),
        agreement_signed_on=_date(values, "agreement_signed_on"),
        agreement_due_on=_date(values, "agreement_due_on"),
        amount_paid=_money(values, "amount_paid"),
        performance_on=_date(values, "performance_on"),
        review_applied_on=_date(values, "review_applied_on"),
        statement_issued_on=_date(values, "statement_issued_on"),
        statement_number=values.get("statement_number", ""),
        failed_on=_date(values, "failed_on"),
        failure_reason=values.get("failure_reason", ""),
        closed_on=_date(values, "closed_on"),
        disposition=_enum(Disposition, values, "disposition"),
    )


# ---------------------------------------------------------------------- organisation


class Organisation:
    """Studios by (name, region) and their mediators by name: found or created."""

    def __init__(self, app: MediationApplication, actor: Actor) -> None:
        self.app = app
        self.actor = actor
        self.studios: dict[tuple[str, str], Studio] = {}
        for studio_id in app.studio_ids():
            studio = app.get_studio(studio_id)
            self.studios.setdefault((studio.name, studio.region_code), studio)
        self.created = 0
        self.appointed = 0

    def prepare(self, cases: Iterable[HistoricCase]) -> dict[tuple[str, str], DomainError]:
        """Create the studios and mediators the rows need; returns the studios refused."""
        first_entrusted: dict[tuple[str, str], date] = {}
        first_assigned: dict[tuple[str, str], dict[str, date]] = {}
        for c in cases:
            if c.outcome == "not_entrusted" or c.entrusted_on is None:
                continue
            key = c.studio_key
            first_entrusted[key] = min(first_entrusted.get(key, c.entrusted_on), c.entrusted_on)
            if c.mediator and c.mediator_assigned_on is not None:
                names = first_assigned.setdefault(key, {})
                names[c.mediator] = min(
                    names.get(c.mediator, c.mediator_assigned_on), c.mediator_assigned_on
                )
        refused: dict[tuple[str, str], DomainError] = {}
        changed: list[Aggregate] = []
        with recording_with(self.app.clock):
            for key in sorted(first_entrusted):
                name, region_code = key
                mediators = first_assigned.get(key, {})
                try:
                    studio = self.studios.get(key)
                    if studio is None:
                        established_on = first_entrusted[key]
                        _not_future(self.app, established_on, "entrusted_on")
                        policy = self.app.policy_on(established_on)
                        studio = Studio.register(
                            actor=self.actor,
                            policy=policy,
                            name=name,
                            region_code=region_code,
                            kind=StudioKind.DOCKING_STUDIO,
                            established_on=established_on,
                            mediator_quota=max(policy.default_mediator_quota, len(mediators)),
                        )
                        self.created += 1
                    on_roster = {m.name for m in studio.roster.values()}
                    before = studio.version
                    for mediator, first in sorted(mediators.items(), key=lambda kv: kv[1]):
                        if mediator in on_roster:
                            continue
                        appointed_on = max(first, studio.established_on)
                        _not_future(self.app, appointed_on, "mediator_assigned_on")
                        studio.appoint_mediator(
                            actor=self.actor,
                            policy=self.app.policy_on(appointed_on),
                            name=mediator,
                            qualification=MEDIATOR_QUALIFICATION,
                            appointed_on=appointed_on,
                            mediator_id=uuid5(IMPORT_NAMESPACE, f"{studio.id}\n{mediator}"),
                        )
                        self.appointed += 1
                    if studio.version != before or key not in self.studios:
                        changed.append(studio)
                    self.studios[key] = studio
                except DomainError as exc:
                    refused[key] = exc
        if changed:
            self.app.save(*changed)
        return refused

    def mediator_id(self, studio: Studio, name: str) -> UUID | None:
        for m in studio.roster.values():
            if m.name == name:
                return m.mediator_id
        return None


# ---------------------------------------------------------------------- building


class Builder:
    """Turns a parsed row into a new Case aggregate through its command methods."""

    def __init__(self, app: MediationApplication, actor: Actor, org: Organisation) -> None:
        self.app = app
        self.actor = actor
        self.org = org
        self.today = app.today()

    def build(self, c: HistoricCase) -> Case:
        for name, on in c.dates():
            if on > self.today:
                raise DateInFuture(f"{name} {on.isoformat()} is later than today", field=name)
        a, policy = self.actor, self.app.policy_on
        case = Case.receive(
            actor=a,
            policy=policy(c.received_on),
            region_code=c.region_code,
            received_on=c.received_on,
            applicant=c.applicant,
            respondent=c.respondent,
            claims=c.claims,
            infringement_known_on=c.infringement_known_on,
            case_id=case_id_for(c.old_case_no),
        )
        if c.outcome == "not_entrusted":
            self._not_entrusted(case, c)
            return case
        assert c.route is not None and c.entrusted_on is not None
        case.assess(
            actor=a,
            policy=policy(c.assessed_on),
            on=c.assessed_on,
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=True,
            reason="历史案件导入：经审查适宜调解",
        )
        consent_on = c.consent_on or c.entrusted_on
        accept_first = c.route is Route.POST_FILING
        if accept_first:
            if c.accepted_on is None:
                raise ValidationFailed(
                    "accepted_on is required on the post-filing route", field="accepted_on"
                )
            if consent_on < c.accepted_on:
                self._consents(case, consent_on)
                accept_first = False
            case.decide_acceptance(
                actor=a, policy=policy(c.accepted_on), on=c.accepted_on, accepted=True
            )
        if accept_first or c.route is Route.PRE_FILING:
            self._consents(case, consent_on)
        studio = self.org.studios.get(c.studio_key)
        if studio is None:
            raise ValidationFailed(
                f"no studio {c.studio!r} in {c.studio_region_code}", field="studio"
            )
        case.entrust(
            actor=a, policy=policy(c.entrusted_on), on=c.entrusted_on, studio=studio, route=c.route
        )
        if c.mediator:
            mediator_id = self.org.mediator_id(studio, c.mediator)
            assigned_on = c.mediator_assigned_on or c.entrusted_on
            if mediator_id is None:
                raise ValidationFailed(
                    f"no mediator {c.mediator!r} at {c.studio}", field="mediator"
                )
            case.assign_mediator(
                actor=a,
                policy=policy(assigned_on),
                on=assigned_on,
                studio=studio,
                mediator_id=mediator_id,
            )
        elif c.outcome != "pending" or c.session_dates or c.agreement_signed_on:
            raise ValidationFailed("mediator is required once mediation began", field="mediator")
        for n, held_on in enumerate(sorted(c.session_dates), start=1):
            case.record_session(
                actor=a, policy=policy(held_on), on=held_on, summary=f"历史案件导入：第{n}次调解"
            )
        if c.agreement_signed_on is not None or c.outcome.startswith("succeeded"):
            self._agreement(case, c)
        if c.outcome == "succeeded_performance":
            self._performance(case, c, complete=True)
        elif c.outcome == "succeeded_statement":
            self._statement(case, c)
        elif c.outcome == "failed":
            if c.amount_paid:
                self._performance(case, c, complete=False)
            if c.failed_on is None:
                raise ValidationFailed("failed_on is required", field="failed_on")
            case.fail(
                actor=a,
                policy=policy(c.failed_on),
                on=c.failed_on,
                reason=c.failure_reason or "历史案件导入：调解不成",
            )
        elif c.outcome == "pending" and c.amount_paid:
            self._performance(case, c, complete=False)
        return case

    def _not_entrusted(self, case: Case, c: HistoricCase) -> None:
        a, policy = self.actor, self.app.policy_on
        if c.route is not None or c.entrusted_on is not None:
            raise ValidationFailed(
                "a not-entrusted case has no route or entrustment", field="outcome"
            )
        if c.accepted_on is not None:
            case.decide_acceptance(
                actor=a, policy=policy(c.accepted_on), on=c.accepted_on, accepted=True
            )
        if c.closed_on is not None:
            case.close(
                actor=a,
                policy=policy(c.closed_on),
                on=c.closed_on,
                disposition=c.disposition or Disposition.OTHER,
            )

    def _consents(self, case: Case, on: date) -> None:
        for party in (Party.APPLICANT, Party.RESPONDENT):
            case.record_consent(
                actor=self.actor, policy=self.app.policy_on(on), on=on, party=party, given=True
            )

    def _agreement(self, case: Case, c: HistoricCase) -> None:
        if c.agreement_signed_on is None or c.agreement_amount is None:
            raise ValidationFailed(
                "agreement_signed_on and agreement_amount are required", field="agreement_amount"
            )
        case.sign_agreement(
            actor=self.actor,
            policy=self.app.policy_on(c.agreement_signed_on),
            on=c.agreement_signed_on,
            amount=c.agreement_amount,
            performance_due_on=c.agreement_due_on or c.agreement_signed_on,
            terms="历史案件导入：调解协议",
        )

    def _performance(self, case: Case, c: HistoricCase, *, complete: bool) -> None:
        if c.performance_on is None or c.amount_paid is None:
            raise ValidationFailed(
                "performance_on and amount_paid are required", field="amount_paid"
            )
        if complete and c.amount_paid != c.agreement_amount:
            # 履行完毕: partial performance is not success.
            raise ValidationFailed(
                f"succeeded_performance needs the agreed {c.agreement_amount} paid in full, "
                f"not {c.amount_paid}",
                field="amount_paid",
            )
        case.record_performance(
            actor=self.actor,
            policy=self.app.policy_on(c.performance_on),
            on=c.performance_on,
            amount_paid=c.amount_paid,
            complete=complete,
        )

    def _statement(self, case: Case, c: HistoricCase) -> None:
        if c.statement_issued_on is None:
            raise ValidationFailed("statement_issued_on is required", field="statement_issued_on")
        if c.route is Route.PRE_FILING:
            applied_on = c.review_applied_on or c.agreement_signed_on
            assert applied_on is not None
            case.apply_review(
                actor=self.actor, policy=self.app.policy_on(applied_on), on=applied_on
            )
        case.issue_statement(
            actor=self.actor,
            policy=self.app.policy_on(c.statement_issued_on),
            on=c.statement_issued_on,
            number=c.statement_number or f"历史导入调字〔{c.statement_issued_on.year}〕{c.row}号",
        )


# ---------------------------------------------------------------------- the import


def import_file(
    app: MediationApplication,
    path: Path,
    *,
    actor: Actor,
    progress: bool = True,
    batch_size: int = DEFAULT_BATCH,
    after_batch: Callable[[], None] | None = None,
) -> ImportSummary:
    """Import every row of ``path`` as a case history; see the module docstring.

    ``after_batch`` runs after each saved batch (e.g. ``System.catch_up`` to keep
    in-process read models current); ``progress`` prints a line per batch to stderr.
    """
    started = time.perf_counter()
    summary = ImportSummary()
    refused_rows: set[int] = set()
    good = 0
    # The first pass's parsed rows, kept for the second while the file is small enough;
    # None once it is not (the second pass then reads and parses the file again).
    kept: list[HistoricCase] | None = []

    def first_pass() -> Iterator[HistoricCase]:
        """Parse every row once: refuse the malformed and the repeated, yield the rest."""
        nonlocal good, kept
        seen: set[str] = set()
        for number, values in read_rows(path):
            summary.rows += 1
            old_no = values.get("old_case_no", "")
            try:
                row = parse_row(number, values)
            except DomainError as exc:
                summary.refused.append(RowProblem(number, old_no, exc.code, exc.detail))
                refused_rows.add(number)
                continue
            if row.old_case_no in seen:
                summary.refused.append(
                    RowProblem(number, old_no, DUPLICATE_ROW, "old_case_no repeats an earlier row")
                )
                refused_rows.add(number)
                continue
            seen.add(row.old_case_no)
            good += 1
            if kept is not None and len(kept) >= KEEP_PARSED_ROWS:
                kept = None  # too long to keep: the second pass reads the file again
            if kept is not None:
                kept.append(row)
            yield row

    # Two passes over the file keep memory flat for a province's whole history: the
    # first finds the studios and mediators needed, the second builds and saves cases.
    org = Organisation(app, actor)
    refused_studios = org.prepare(first_pass())
    summary.studios_created, summary.mediators_appointed = org.created, org.appointed
    builder = Builder(app, actor, org)

    batch: list[tuple[HistoricCase, Case]] = []
    problems: list[RowProblem] = []

    def flush() -> None:
        if not batch:
            return
        saved = _save_batch(app, [case for _, case in batch])
        summary.imported += len(saved)
        summary.already_present += len(batch) - len(saved)
        summary.events += sum(case.version for case in saved)
        batch.clear()
        if after_batch is not None:
            after_batch()
        if progress:
            done = summary.imported + summary.already_present + len(problems)
            print(f"import: {done}/{good} rows", file=sys.stderr, flush=True)

    def second_pass() -> Iterator[HistoricCase]:
        if kept is not None:
            yield from kept
            return
        for number, values in read_rows(path):
            if number not in refused_rows:
                yield parse_row(number, values)

    with recording_with(app.clock):
        for row in second_pass():
            try:
                if row.studio_key in refused_studios and row.outcome != "not_entrusted":
                    raise refused_studios[row.studio_key]
                batch.append((row, builder.build(row)))
            except DomainError as exc:
                problems.append(RowProblem(row.row, row.old_case_no, exc.code, exc.detail))
            if len(batch) >= batch_size:
                flush()
        flush()
    summary.refused.extend(problems)
    summary.refused.sort(key=lambda p: p.row)
    summary.seconds = time.perf_counter() - started
    return summary


def _save_batch(app: MediationApplication, cases: list[Case]) -> list[Case]:
    """Save new cases in one transaction, leaving out those already stored; returns the saved.

    Events are collected once, up front: a save that fails has already taken them from
    the aggregates, and a retry must offer the same events again.
    """
    pending = [(case, case.collect_events()) for case in cases]
    try:
        record(app, [e for _, events in pending for e in events])
        return cases
    except IntegrityError:
        pass
    fresh = [(c, events) for c, events in pending if not _exists(app, c.id)]
    if not fresh:
        return []
    try:
        record(app, [e for _, events in fresh for e in events])
        return [c for c, _ in fresh]
    except IntegrityError:  # a concurrent import: fall back to one case at a time
        saved = []
        for case, events in fresh:
            try:
                record(app, events)
                saved.append(case)
            except IntegrityError:
                pass
        return saved


def _exists(app: MediationApplication, case_id: UUID) -> bool:
    return bool(app.recorder.select_events(case_id, limit=1))


def _not_future(app: MediationApplication, on: date, name: str) -> None:
    if on > app.today():
        raise DateInFuture(f"{name} {on.isoformat()} is later than today", field=name)
