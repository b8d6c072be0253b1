"""Request and response bodies of the HTTP contract, separate from the domain objects.

Over 500 lines on purpose: every body of the contract in one place, read beside the contract.

Request models forbid unknown fields and validate what can be validated without the case
(formats, checksums, ranges), so that malformed input is a 422 ``validation_error``
before any command runs. Every text value of every request model follows
``mediation.text`` (no control, bidirectional-override or tag characters, something
visible); line breaks only where the type is marked ``MULTILINE``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeAlias
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.holidays import CalendarOut
from api.integrity import IntegrityOut
from mediation import text
from mediation.identifiers import validate_credit_code, validate_phone, validate_resident_id
from mediation.labels import message
from mediation.organisation import QUALIFICATIONS
from mediation.parties import MAX_PARTIES
from mediation.regions import is_valid_region_code
from mediation.values import (
    AgentInput,
    AgentKind,
    ApplicantInput,
    ClaimCategory,
    Disposition,
    FailureReason,
    Party,
    RespondentInput,
    ReviewRefusal,
    ReviewState,
    Route,
    Signatory,
    Status,
    StudioKind,
    VerificationMethod,
    WorkerCategory,
)
from projections import caseload

EARLIEST = date(1990, 1, 1)
LATEST = date(2099, 12, 31)


def _date_range(value: date) -> date:
    if not (EARLIEST <= value <= LATEST):
        raise ValueError(f"dates must lie between {EARLIEST} and {LATEST}")
    return value


def _region(value: str) -> str:
    if not is_valid_region_code(value):
        raise ValueError("not a known GB/T 2260 region code")
    return value


def _resident_id(value: str) -> str:
    return validate_resident_id(value)


def _credit_code(value: str) -> str:
    return validate_credit_code(value)


Day = Annotated[date, AfterValidator(_date_range)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$"), AfterValidator(_region)]
Money = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$"),
    Field(description='CNY as a decimal string, e.g. "12800.00"', examples=["12800.00"]),
]


class _MultiLine:
    """Marks a text type whose values may hold line breaks and tabs."""


MULTILINE = _MultiLine()
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTILINE]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Qualification = Literal[
    "union_cadre",
    "lawyer",
    "retired_judge",
    "retired_arbitrator",
    "legal_worker",
    "hr_professional",
    "other",
]
assert set(QUALIFICATIONS) == set(Qualification.__args__)  # type: ignore[attr-defined]


def _texts_checked(value: Any, multiline: bool) -> None:
    if isinstance(value, str):
        text.check(value, multiline=multiline)
    elif isinstance(value, list | tuple):
        for item in value:
            _texts_checked(item, multiline)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Every text field of every request model (nested models check their own)."""
        name = info.field_name
        field = cls.model_fields.get(name) if name is not None else None
        multiline = field is not None and any(m is MULTILINE for m in field.metadata)
        _texts_checked(value, multiline)
        return value


def multiline_fields() -> frozenset[str]:
    """Names of the request fields that may hold line breaks (the web forms use the same)."""
    names: set[str] = set()
    models: list[type[BaseModel]] = [Request]
    while models:
        model = models.pop()
        models.extend(model.__subclasses__())
        names.update(
            n for n, f in model.model_fields.items() if any(m is MULTILINE for m in f.metadata)
        )
    return frozenset(names)


# ---------------------------------------------------------------------- auth


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Me(BaseModel):
    username: str
    role: str
    region_code: str
    studio_id: UUID | None
    mediator_id: UUID | None


# ---------------------------------------------------------------------- cases: requests


ResidentId = Annotated[
    str, StringConstraints(min_length=18, max_length=18), AfterValidator(_resident_id)
]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class AgentIn(Request):
    """A party's agent (委托代理人), v1.1."""

    name: PersonName
    kind: AgentKind


class ApplicantIn(Request):
    name: PersonName
    id_number: ResidentId = Field(
        description="18-character resident identity number (checksum verified)"
    )
    phone: Annotated[str, StringConstraints(max_length=30), AfterValidator(validate_phone)] = Field(
        description="a mobile number (11 digits, 1[3-9]…), a landline with its area code "
        '("027-88888888") or an international number with "+"; stored normalised'
    )
    worker_category: WorkerCategory
    address: ShortText | None = Field(None, description="address for service (v1.1)")
    agent: AgentIn | None = None

    def to_input(self) -> ApplicantInput:
        return ApplicantInput(
            self.name,
            self.id_number,
            self.phone,
            self.worker_category,
            self.address or "",
            AgentInput(self.agent.name, self.agent.kind) if self.agent else None,
        )


class RespondentIn(Request):
    name: ShortText
    credit_code: Annotated[
        str, StringConstraints(min_length=18, max_length=18), AfterValidator(_credit_code)
    ] = Field(description="18-character unified social credit code (checksum verified)")
    address: ShortText | None = Field(None, description="address for service (v1.1)")
    agent: AgentIn | None = None
    legal_representative: PersonName | None = Field(
        None, description="法定代表人 or principal (v1.1)"
    )

    def to_input(self) -> RespondentInput:
        return RespondentInput(
            self.name,
            self.credit_code,
            self.address or "",
            AgentInput(self.agent.name, self.agent.kind) if self.agent else None,
            self.legal_representative or "",
        )


class ClaimIn(Request):
    category: ClaimCategory
    amount: Money | None = Field(
        default=None,
        description="required, except for a labour_relationship_confirmation claim "
        '(then "0.00" when omitted)',
    )

    @model_validator(mode="after")
    def _amount_needed(self) -> ClaimIn:
        if (
            self.amount is None
            and self.category is not ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION
        ):
            raise ValueError(message("amount_required"))
        return self


class CaseCreate(Request):
    """A new case. Parties (v1.1): ``applicant``/``respondent`` as in v1, or the lists
    ``applicants``/``respondents`` (or both, the list's first equal to the single one)."""

    region_code: RegionCode
    received_on: Day
    applicant: ApplicantIn | None = Field(None, description="v1: the (first) applicant")
    respondent: RespondentIn | None = Field(None, description="v1: the (first) respondent")
    applicants: Annotated[list[ApplicantIn], Field(min_length=1, max_length=MAX_PARTIES)] | None = (
        None
    )
    respondents: (
        Annotated[list[RespondentIn], Field(min_length=1, max_length=MAX_PARTIES)] | None
    ) = None
    representatives: Annotated[list[ResidentId], Field(max_length=MAX_PARTIES)] | None = Field(
        None,
        description="resident ID numbers of the applicants chosen as representatives "
        "(collective disputes: 1-5, LDMAL art. 7)",
    )
    claims: Annotated[list[ClaimIn], Field(min_length=1, max_length=20)]
    infringement_known_on: Day | None = None

    @model_validator(mode="after")
    def _one_form_of_each_side(self) -> CaseCreate:
        for name in ("applicant", "respondent"):
            single, listed = getattr(self, name), getattr(self, f"{name}s")
            who = "申请人" if name == "applicant" else "被申请人"
            if single is None and not listed:
                raise ValueError(message("party_required", who=who))
            if single is not None and listed and listed[0] != single:
                raise ValueError(message("party_forms_differ", who=who))
        return self

    employment_ended_on: Day | None = Field(
        default=None,
        description="end of employment: pay owed during it is limited from then (art. 27(4))",
    )


class AssessmentIn(Request):
    within_scope: bool
    meets_acceptance_conditions: bool
    suitable_for_mediation: bool
    reason: Text
    on: Day | None = Field(default=None, description="date of the assessment; default today")


class ConsentIn(Request):
    party: Party
    given: bool
    on: Day


class EntrustmentIn(Request):
    studio_id: UUID
    route: Route
    on: Day


class SeveranceIn(Request):
    claim_categories: Annotated[list[ClaimCategory], Field(min_length=1, max_length=6)]
    on: Day


class MediatorAssignmentIn(Request):
    mediator_id: UUID
    on: Day


class SessionIn(Request):
    held_on: Day
    summary: Text


class AgreementIn(Request):
    signed_on: Day
    amount: Money
    performance_due_on: Day
    terms: Text
    signed_by: list[Signatory] = Field(
        default_factory=lambda: list(Signatory),
        max_length=3,
        description="who signed (default: both parties and the mediator); LDMAL art. 14",
    )
    sealed: bool = Field(default=True, description="the mediation organisation's seal")
    settles: list[ClaimCategory] | None = Field(
        default=None, max_length=6, description="claim categories settled (default: all)"
    )
    obligor: Party = Field(default=Party.RESPONDENT, description="who owes performance")


class PerformanceIn(Request):
    on: Day
    amount_paid: Money
    complete: bool
    confirmation: Annotated[str, StringConstraints(max_length=200)] = Field(
        default="",
        description="reference of the worker's written confirmation (needed for complete "
        "while payments are below the agreed amount)",
    )


class PerformanceVerificationIn(Request):
    on: Day
    method: VerificationMethod
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class ReviewIn(Request):
    applied_on: Day


class StatementIn(Request):
    issued_on: Day
    number: ShortText


class StatementServiceIn(Request):
    party: Party
    on: Day


class StatementRetractionIn(Request):
    on: Day
    party: Party


class FailureIn(Request):
    on: Day
    reason: Text
    reason_code: FailureReason = FailureReason.OTHER


class AcceptanceIn(Request):
    accepted: bool
    on: Day
    reason: Annotated[str, StringConstraints(max_length=2000), MULTILINE] = ""


class ClosureIn(Request):
    on: Day
    disposition: Disposition


class WindowExtensionIn(Request):
    days: Annotated[int, Field(ge=1, le=365)]
    on: Day
    parties_agreed: bool = Field(
        default=False, description="both parties agreed to the extension (required: true)"
    )


class RecusalIn(Request):
    on: Day
    reason: Text


class TransferIn(Request):
    on: Day
    studio_id: UUID
    reason: Text


class ReviewDecisionIn(Request):
    on: Day
    accepted: bool
    reason_code: ReviewRefusal | None = Field(
        default=None,
        description="why the review application is refused (only with accepted=false)",
    )


class ReviewWithdrawalIn(Request):
    on: Day
    party: Party


class AwardExtensionIn(Request):
    days: Annotated[int, Field(ge=1, le=365)]
    approved_by: ShortText
    on: Day


# ---------------------------------------------------------------------- cases: views


class AgentOut(BaseModel):
    name: str
    kind: AgentKind


class ApplicantOut(BaseModel):
    name: str
    id_number: str
    phone: str
    worker_category: str
    address: str | None = None
    agent: AgentOut | None = None
    representative: bool = Field(False, description="chosen as a representative (v1.1)")


class RespondentOut(BaseModel):
    name: str
    credit_code: str
    address: str | None = None
    agent: AgentOut | None = None
    legal_representative: str | None = None


class ClaimOut(BaseModel):
    category: ClaimCategory
    amount: str


class DeadlineOut(BaseModel):
    kind: Literal[
        "acceptance_decision",
        "mediation_window",
        "performance",
        "review_application",
        "review_decision",
        "review_conclusion",
        "award",
    ]
    due_on: date
    overdue: bool
    calendar_uncovered: bool = Field(
        default=False,
        description="counted Monday-Friday: no holiday notice covers the days it counts",
    )


class AssessmentOut(BaseModel):
    within_scope: bool
    meets_acceptance_conditions: bool
    suitable_for_mediation: bool
    eligible: bool
    reason: str
    on: date


class ConsentOut(BaseModel):
    given: bool
    on: date


class AgreementOut(BaseModel):
    signed_on: date
    amount: str
    performance_due_on: date
    review_due_on: date
    terms: str
    settles: list[ClaimCategory] | None = None
    obligor: Party = Party.RESPONDENT


class CaseView(BaseModel):
    case_id: UUID
    version: int
    status: Status
    status_since: date
    route: Route | None
    region_code: str
    received_on: date
    applicant: ApplicantOut = Field(description="the first of applicants (v1)")
    respondent: RespondentOut = Field(description="the first of respondents (v1)")
    applicants: list[ApplicantOut] = Field(description="every applicant (v1.1)")
    respondents: list[RespondentOut] = Field(description="every respondent (v1.1)")
    collective: bool = Field(
        description="ten or more applicants sharing the claims (LDMAL art. 7, v1.1)"
    )
    representatives: list[str] = Field(
        description="resident ID numbers of the chosen representatives (masked as the "
        "applicants' are)"
    )
    claims: list[ClaimOut]
    amount_claimed: str
    studio_id: UUID | None
    mediator_id: UUID | None
    deadlines: list[DeadlineOut]
    outcome: Literal["performance", "statement"] | None
    success_reversed: bool
    severed_from: UUID | None
    severed_into: list[UUID]
    assessment: AssessmentOut | None
    consents: dict[str, ConsentOut]
    entrusted_on: date | None
    mediation_count: int
    sessions: int
    agreement: AgreementOut | None
    amount_paid: str
    review_applied_on: date | None
    review_state: ReviewState | None = None
    statement_number: str | None
    statement_served: list[Party]
    failure_reason: str | None
    failure_reason_code: FailureReason | None = None
    performance_verified_on: date | None = None
    awaiting_verification: bool = False
    accepted_on: date | None
    disposition: Disposition | None
    infringement_known_on: date | None
    employment_ended_on: date | None = None
    limitation_warning: bool
    payment_order_eligible: bool
    policy_version: str
    integrity: Literal["ok", "problem"] = Field(
        "ok", description="problem: the tamper check found something wrong with its events"
    )
    # v1.1, the official record (issue 17)
    case_number: str | None = Field(
        None,
        description="the registration number (登记号) given at receipt, e.g. "
        "武劳人仲登字〔2026〕第123号; null for a case recorded before numbers were given",
    )
    filing_number: str | None = Field(
        None,
        description="the arbitration 案号 given at acceptance, e.g. 武劳人仲案字〔2026〕第45号; "
        "null until accepted (a case settled before filing never gets one)",
    )
    severed_from_number: str | None = Field(
        None, description="a severed case: the number of the case it was severed from"
    )


class CaseList(BaseModel):
    items: list[CaseView]
    next_cursor: str | None


class HistoryEvent(BaseModel):
    position: int = Field(description="the event's version within the case, from 1")
    type: str
    recorded_at: datetime
    actor: str
    actor_role: str
    on: date | None
    data: dict[str, Any]


class History(BaseModel):
    case_id: UUID
    events: list[HistoryEvent]


# ---------------------------------------------------------------------- studios


class StudioCreate(Request):
    name: ShortText
    region_code: RegionCode
    kind: StudioKind
    established_on: Day
    mediator_quota: Annotated[int, Field(ge=1, le=1000)] | None = None


class MediatorAppointIn(Request):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    qualification: Qualification
    appointed_on: Day


class RetirementIn(Request):
    retired_on: Day


class StudioClosureIn(Request):
    closed_on: Day


class MediatorOut(BaseModel):
    mediator_id: UUID
    name: str
    qualification: str
    appointed_on: date
    retired_on: date | None
    active: bool


class StudioView(BaseModel):
    studio_id: UUID
    version: int
    name: str
    region_code: str
    kind: StudioKind
    established_on: date
    closed_on: date | None
    active: bool
    mediator_quota: int
    mediators: list[MediatorOut]


class AppointedMediator(MediatorOut):
    studio_id: UUID
    studio: StudioView


class StudioList(BaseModel):
    items: list[StudioView]


# ---------------------------------------------------------------------- statistics

GroupBy: TypeAlias = caseload.GroupBy
Measure: TypeAlias = caseload.Count  # a drill-down over the API lists the cases behind a count


class CaseloadRowOut(BaseModel):
    key: str
    label: str
    received: int
    entrusted: int
    concluded: int
    succeeded: int
    succeeded_by_performance: int
    succeeded_by_statement: int
    failed: int
    pending: int
    overdue: int
    success_rate: str | None = Field(description="4 decimal places, or null")
    mediation_share: str | None = Field(description="4 decimal places, or null")
    amount_claimed: str
    amount_agreed: str
    amount_paid: str
    median_days_to_conclusion: float | None
    workers: int = Field(0, description="applicants in the received cases (v1.1)")
    collective: int = Field(0, description="collective disputes received, LDMAL art. 7 (v1.1)")


class CaseloadOut(BaseModel):
    region: str
    from_: date = Field(alias="from")
    to: date
    group_by: GroupBy
    rows: list[CaseloadRowOut]
    totals: CaseloadRowOut
    as_of: datetime
    policy_version: str

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class DrillDownOut(BaseModel):
    measure: Measure
    key: str
    count: int
    case_ids: list[UUID]


class SubsidyRowOut(BaseModel):
    kind: str
    id: str
    name: str
    cases: int
    amount: str
    compensating_entries: int
    awaiting_verification_cases: int = Field(
        default=0, description="successes by performance not yet verified (nothing paid)"
    )
    awaiting_verification_amount: str = "0.00"


class SubsidyTotalsOut(BaseModel):
    cases: int
    amount: str
    compensating_entries: int
    awaiting_verification_cases: int = 0
    awaiting_verification_amount: str = "0.00"


class SubsidiesOut(BaseModel):
    region: str
    month: str
    rows: list[SubsidyRowOut]
    totals: SubsidyTotalsOut


class CoverageOut(BaseModel):
    region: str
    on: date
    counties_total: int
    counties_covered: int
    covered: list[str]
    uncovered: list[str]


class Health(BaseModel):
    status: Literal["ok"]


class HaltedView(BaseModel):
    """A read model stopped by an event it cannot process (see docs/operations.md)."""

    view: str
    position: int = Field(description="the event the view cannot process")
    tracked: int = Field(description="the view stays at this position until the cause is fixed")
    error: str
    halted_at: datetime | None = None


class Ready(BaseModel):
    status: Literal["ready"]
    database: Literal["ok"]
    projection_lag: int
    position: int
    integrity: IntegrityOut | None = None
    projections_halted: list[HaltedView] = Field(default_factory=list)
    calendar: CalendarOut | None = None


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    source: str | None = None
