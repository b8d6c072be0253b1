"""Value types shared by the domain: statuses, routes, categories, money, and the small
frozen records the Case aggregate holds (claims, assessment, consents, agreement, deadlines)
and takes as input (applicant, respondent).

The enums' *string values* are part of the stored event format and of the HTTP contract
(``shared/api-contract.md``): never rename a value, only add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import UUID

from mediation.labels import message


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    ENTRUSTED = "entrusted"
    IN_MEDIATION = "in_mediation"
    AGREEMENT_SIGNED = "agreement_signed"
    SUCCEEDED = "succeeded"
    MEDIATION_FAILED = "mediation_failed"
    CLOSED = "closed"


class Route(StrEnum):
    PRE_FILING = "pre_filing"
    POST_FILING = "post_filing"


class ClaimCategory(StrEnum):
    LABOUR_RELATIONSHIP_CONFIRMATION = "labour_relationship_confirmation"
    CONTRACT = "contract"
    DISMISSAL = "dismissal"
    WORKING_CONDITIONS = "working_conditions"
    REMUNERATION = "remuneration"
    OTHER = "other"


class WorkerCategory(StrEnum):
    EMPLOYEE = "employee"
    DELIVERY_RIDER = "delivery_rider"
    RIDE_HAILING_DRIVER = "ride_hailing_driver"
    TRUCK_DRIVER = "truck_driver"
    COURIER = "courier"
    DOMESTIC_WORKER = "domestic_worker"
    OTHER_NEW_EMPLOYMENT = "other_new_employment"


class Party(StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"


class StudioKind(StrEnum):
    DOCKING_STUDIO = "docking_studio"
    UNION_WORKSTATION = "union_workstation"
    ARBITRATION_OUTPOST = "arbitration_outpost"


class Disposition(StrEnum):
    AWARD = "award"
    WITHDRAWN = "withdrawn"
    TRIBUNAL_MEDIATION = "tribunal_mediation"
    OTHER = "other"
    # v1.1 (rule 13): a post-filing success closed by its arbitration statement
    MEDIATION_STATEMENT = "mediation_statement"


class ReviewState(StrEnum):
    """Where a pre-filing agreement's arbitral review stands (Rules arts. 74-79)."""

    APPLIED = "applied"  # awaiting the decision whether to accept the application
    ACCEPTED = "accepted"  # accepted: awaiting the conclusion (a statement)
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"  # the statement was retracted before service


class ReviewRefusal(StrEnum):
    LABOUR_RELATIONSHIP = "labour_relationship"
    OUTSIDE_SCOPE = "outside_scope"
    LATE = "late"
    NOT_JOINT = "not_joint"
    AGREEMENT_DEFECTIVE = "agreement_defective"


class SuccessBranch(StrEnum):
    PERFORMANCE = "performance"
    STATEMENT = "statement"


# --- law-a (issue 15): agreements, failures, verification ---------------------------------


class FailureReason(StrEnum):
    """Why a mediation failed (brief 8.12; national statistical reporting)."""

    NO_AGREEMENT = "no_agreement"
    PARTY_ABSENT = "party_absent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    WINDOW_LAPSED = "window_lapsed"
    NOT_PERFORMED = "not_performed"
    DECLARED_REFUSAL = "declared_refusal"
    STATEMENT_RETRACTED = "statement_retracted"
    REVIEW_REFUSED_AND_ABANDONED = "review_refused_and_abandoned"
    OTHER = "other"


class Signatory(StrEnum):
    """Who signs a mediation agreement (LDMAL art. 14)."""

    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    MEDIATOR = "mediator"


ALL_SIGNATORIES: tuple[Signatory, ...] = tuple(Signatory)


class VerificationMethod(StrEnum):
    """How a clerk or coordinator verified performance (回访)."""

    PHONE = "phone"
    VISIT = "visit"
    DOCUMENT = "document"


# categories whose overdue agreement supports a payment order (LDMAL art. 16)
PAYMENT_ORDER_CATEGORIES = frozenset({ClaimCategory.REMUNERATION})


class Role(StrEnum):
    ADMIN = "admin"
    CLERK = "clerk"
    MEDIATOR = "mediator"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    SYSTEM = "system"  # imports and migrations; never a login role


CENT = Decimal("0.01")


def money(value: str | int | Decimal) -> Decimal:
    """Parse a non-negative CNY amount with at most two decimal places."""
    if isinstance(value, float):  # pragma: no cover - guarded by typing, kept for callers
        raise ValueError("amounts must be decimal strings, not floats")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(message("amount")) from None
    if not amount.is_finite():
        raise ValueError(message("amount"))
    if amount < 0:
        raise ValueError(message("amount_negative"))
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(message("amount_decimals"))
    if amount >= Decimal("1e12"):
        raise ValueError(message("amount_too_large"))
    return amount.quantize(CENT)


def money_str(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


@dataclass(frozen=True)
class Actor:
    """Who issues a command: every event records the username and role."""

    username: str
    role: Role


def active_on(start: date, end: date | None, on: date) -> bool:
    """Whether something begun on ``start`` and ended on ``end`` (None: not ended) is active
    on ``on``: from its first day up to, not including, its last (studios, mediators)."""
    return start <= on and (end is None or on < end)


# --- what a case holds and takes ---------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    category: ClaimCategory
    amount: Decimal

    def to_dict(self) -> dict[str, str]:
        return {"category": self.category.value, "amount": money_str(self.amount)}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Claim:
        return cls(ClaimCategory(data["category"]), Decimal(data["amount"]))


@dataclass(frozen=True)
class Assessment:
    within_scope: bool
    meets_acceptance_conditions: bool
    suitable_for_mediation: bool
    reason: str
    on: date

    @property
    def eligible(self) -> bool:
        return (
            self.within_scope and self.meets_acceptance_conditions and self.suitable_for_mediation
        )


@dataclass(frozen=True)
class Consent:
    given: bool
    on: date
    round: int = 0  # mediations that had ended when it was recorded (one mediation each)


@dataclass(frozen=True)
class Agreement:
    signed_on: date
    amount: Decimal
    performance_due_on: date
    terms: str
    review_due_on: date
    # what it settles and who owes (None: recorded before v1.1; judged from the claims)
    settles: tuple[ClaimCategory, ...] | None = None
    obligor: Party = Party.RESPONDENT


@dataclass(frozen=True)
class Deadline:
    kind: str  # acceptance_decision | mediation_window | performance | review_application | award
    due_on: date
    overdue: bool


class AgentKind(StrEnum):
    """Who acts for a party (委托代理人): a lawyer, a union, a close relative, another."""

    LAWYER = "lawyer"
    UNION = "union"
    RELATIVE = "relative"
    OTHER = "other"


@dataclass(frozen=True)
class AgentInput:
    name: str
    kind: AgentKind


@dataclass(frozen=True)
class ApplicantInput:
    name: str
    id_number: str
    phone: str
    worker_category: WorkerCategory
    # v1.1 (brief §8, "several parties"): the address for service and an agent
    address: str = ""
    agent: AgentInput | None = None

    def params(self) -> dict[str, Any]:
        """The fields as a command fingerprints them (v1.1 ones only when given)."""
        return _given(self, ("address", "agent"))


@dataclass(frozen=True)
class RespondentInput:
    name: str
    credit_code: str
    address: str = ""
    agent: AgentInput | None = None
    legal_representative: str = ""  # 法定代表人 (Rules art. 29)

    def params(self) -> dict[str, Any]:
        return _given(self, ("address", "agent", "legal_representative"))


def _given(party: ApplicantInput | RespondentInput, added: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in party.__dict__.items():
        if name in added and not value:
            continue
        out[name] = value.__dict__ if isinstance(value, AgentInput) else value
    return out


@dataclass(frozen=True)
class Mediator:
    mediator_id: UUID
    name: str
    qualification: str
    appointed_on: date
    retired_on: date | None = None

    def active_on(self, on: date) -> bool:
        return active_on(self.appointed_on, self.retired_on, on)
