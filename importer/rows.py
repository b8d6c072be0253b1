"""Reading an export: CSV or XLSX rows → typed :class:`HistoricCase` values.

A province moving to this system exports its old cases, one row per case, as CSV (UTF-8,
a byte-order mark is accepted) or XLSX (the first sheet). This module only reads and
types the cells; :mod:`importer.build` checks them against the domain's rules.

Columns (header names; blank cells mean "not applicable"; dates ``YYYY-MM-DD``; money
as decimal CNY strings):

=========================  ==================================================================
``old_case_no``            required; the old system's case number, unique in the province.
                           The new case id is derived from it
                           (``importer.build.case_id_for``), so importing a
                           file twice adds nothing.
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

Row numbers are spreadsheet row numbers: the header is row 1.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from mediation import regions
from mediation.errors import ValidationFailed
from mediation.values import (
    ApplicantInput,
    Claim,
    ClaimCategory,
    Disposition,
    RespondentInput,
    Route,
    WorkerCategory,
    money,
)

OUTCOMES = (
    "not_entrusted",
    "pending",
    "failed",
    "succeeded_performance",
    "succeeded_statement",
)
# The columns in the order the sample exports write them.
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
# Required in every row: the first twelve columns but the infringement date (case number,
# region, date received, the parties, claims, outcome).
REQUIRED = tuple(c for c in COLUMNS[:12] if c != "infringement_known_on")

E = TypeVar("E")


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
