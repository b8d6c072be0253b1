"""Named business rules. Each raises a named error with a stable code and legal source.

Small pure functions, tested on their own (``tests/unit/test_rules.py``) and used by the
aggregates' command methods. ``docs/domain.md`` lists them with their sources.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from mediation import identifiers, regions, text
from mediation.calendar import add_working_days, working_days_between
from mediation.deadlines import IN_WINDOW
from mediation.errors import (
    AgreementBinding,
    AgreementNotSigned,
    AgreementNotYetDue,
    AwardExtensionNotAllowed,
    ConsentMissing,
    DateOutOfOrder,
    DispositionNotAllowed,
    ExtensionNeedsBothParties,
    InvalidTransition,
    LabourRelationshipNotEntrustable,
    MediatorNotActive,
    MediatorNotOnRoster,
    MediatorQuotaExceeded,
    NotAMediationBody,
    NotEligibleForEntrustment,
    PaymentExceedsAgreement,
    PerformanceIncomplete,
    ReviewNotApplicable,
    ReviewNotApplied,
    ReviewNotStanding,
    ReviewWindowExpired,
    StatementAlreadyServed,
    StudioInactive,
    StudioOutsideJurisdiction,
    TransferInvalid,
    ValidationFailed,
    VerifierIsMediator,
    WindowExtensionNotAllowed,
)
from mediation.labels import SIGNATORY, message
from mediation.transitions import allowed
from mediation.values import (
    PAYMENT_ORDER_CATEGORIES,
    Agreement,
    ApplicantInput,
    Assessment,
    Claim,
    ClaimCategory,
    Consent,
    Disposition,
    FailureReason,
    Mediator,
    Party,
    RespondentInput,
    ReviewState,
    Role,
    Route,
    Signatory,
    Status,
    StudioKind,
    active_on,
    money,
)

T = TypeVar("T")
V = TypeVar("V")

# --- state ------------------------------------------------------------------------------


def require_transition(command: str, status: Status, route: Route | None) -> None:
    if not allowed(command, status, route):
        where = f"{status.value}" + (f" ({route.value})" if route else "")
        raise InvalidTransition(f"'{command}' is not possible while the case is {where}")


def require_not_before(on: date, floor: date, what: str) -> None:
    if on < floor:
        raise DateOutOfOrder(f"{on.isoformat()} is before {what} ({floor.isoformat()})")


# --- entrustment ------------------------------------------------------------------------


def require_entrustable(claims: Iterable[Claim]) -> None:
    if any(c.category is ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION for c in claims):
        raise LabourRelationshipNotEntrustable(
            "the case contains a labour-relationship-confirmation claim; sever it first"
        )


def require_assessed_eligible(assessment: Assessment | None) -> None:
    if assessment is None:
        raise NotEligibleForEntrustment("the case has not been assessed")
    missing = [
        name
        for name, ok in (
            ("within the scope of arbitration", assessment.within_scope),
            ("meets the acceptance conditions", assessment.meets_acceptance_conditions),
            ("suitable for mediation", assessment.suitable_for_mediation),
        )
        if not ok
    ]
    if missing:
        raise NotEligibleForEntrustment("the assessment found it not " + ", not ".join(missing))


def _parties(codes: Iterable[str]) -> str:
    return "、".join(SIGNATORY[c] for c in codes)


def require_both_consents(consents: Mapping[Party, Consent]) -> None:
    missing = [p.value for p in Party if not (p in consents and consents[p].given)]
    if missing:
        raise ConsentMissing(message("consent_missing", parties=_parties(missing)))


def require_studio_covers(studio_region: str, region_code: str) -> None:
    if not regions.covers(studio_region, region_code):
        raise StudioOutsideJurisdiction(
            f"studio region {studio_region} does not cover case region {region_code}"
        )


def require_studio_active(established_on: date, closed_on: date | None, on: date) -> None:
    if not active_on(established_on, closed_on, on):
        raise StudioInactive(f"the studio is not active on {on.isoformat()}")


def require_mediator_on_roster(mediator: Mediator | None, mediator_id: UUID, on: date) -> None:
    """``mediator``: the roster's entry for ``mediator_id`` (None: not on the roster)."""
    if mediator is None or not mediator.active_on(on):
        raise MediatorNotOnRoster(
            f"mediator {mediator_id} is not active on the studio's roster on {on.isoformat()}"
        )


def require_quota(active_mediators: int, quota: int) -> None:
    if active_mediators >= quota:
        raise MediatorQuotaExceeded(f"the studio already has {active_mediators} of {quota}")


def require_window_extension(
    route: Route | None, already_extended: bool, days: int, max_days: int
) -> None:
    if route is not Route.PRE_FILING:
        raise WindowExtensionNotAllowed("only the pre-filing window can be extended")
    if already_extended:
        raise WindowExtensionNotAllowed("the window has already been extended once")
    if not 1 <= days <= max_days:
        raise WindowExtensionNotAllowed(f"an extension is 1 to {max_days} days")


def require_award_extension(
    award_due_on: date | None, already_extended: bool, days: int, max_days: int
) -> None:
    if award_due_on is None:
        raise AwardExtensionNotAllowed("the case has not been accepted")
    if already_extended:
        raise AwardExtensionNotAllowed("the award period has already been extended")
    if not 1 <= days <= max_days:
        raise AwardExtensionNotAllowed(f"an extension is 1 to {max_days} days")


# --- limitation ---------------------------------------------------------------------------


def limitation_expired(known_on: date | None, received_on: date, years: int) -> bool:
    """LDMAL art. 27: received more than ``years`` after the worker knew of the infringement.

    A warning stored on the case, never a refusal. A limit falling on a 29 February that
    does not exist is the 28th.
    """
    if known_on is None:
        return False
    try:
        limit = known_on.replace(year=known_on.year + years)
    except ValueError:  # 29 February
        limit = known_on.replace(year=known_on.year + years, day=28)
    return received_on > limit


# --- agreement, review, statement ---------------------------------------------------------


def require_payment_within_agreement(total_paid: Decimal, agreed: Decimal) -> None:
    if total_paid > agreed:
        raise PaymentExceedsAgreement(f"payments would total {total_paid}, agreed {agreed}")


def require_review_applicable(
    route: Route | None, review_applied_on: date | None, claims: Iterable[Claim]
) -> None:
    if route is not Route.PRE_FILING:
        raise ReviewNotApplicable(
            "on the post-filing route the tribunal issues the statement directly"
        )
    if review_applied_on is not None:
        raise ReviewNotApplicable("arbitral review has already been applied for")
    try:
        require_entrustable(claims)
    except LabourRelationshipNotEntrustable:
        raise ReviewNotApplicable(
            "review is refused for labour-relationship confirmation (Rules art. 75)"
        ) from None


def require_review_in_time(applied_on: date, review_due_on: date) -> None:
    if applied_on > review_due_on:
        raise ReviewWindowExpired(f"the review window closed on {review_due_on.isoformat()}")


def require_review_applied(review_applied_on: date | None) -> None:
    if review_applied_on is None:
        raise ReviewNotApplied()


def require_statement_not_served(served: Collection[Party], party: Party) -> None:
    if party in served or len(served) == len(Party):
        raise StatementAlreadyServed(f"the statement was served on the {party.value}")


# --- law-a (issue 15): a signed agreement binds; performance; verification (brief 8) -------


def require_consent_withdrawable(status: Status, given: bool) -> None:
    """Rule 2 (LDMAL arts. 14-15): after signing, a consent can no longer be withdrawn."""
    if not given and status is Status.AGREEMENT_SIGNED:
        raise AgreementBinding("the signed agreement binds both parties")


def require_failure_due(
    status: Status, performance_due_on: date | None, on: date, reason_code: FailureReason
) -> None:
    """Rule 2 (LDMAL art. 15): after signing, a failure only from the due date on, or on a
    written declaration that a party will not perform."""
    if (
        status is Status.AGREEMENT_SIGNED
        and performance_due_on is not None
        and on < performance_due_on
        and reason_code is not FailureReason.DECLARED_REFUSAL
    ):
        raise AgreementNotYetDue(
            f"performance is due on {performance_due_on.isoformat()}; before it only "
            "'declared_refusal' ends the mediation"
        )


def require_agreement_effective(signed_by: Collection[Signatory], sealed: bool) -> None:
    """Rule 3 (LDMAL art. 14): both parties and the mediator signed, the organisation sealed."""
    missing = [s.value for s in Signatory if s not in signed_by]
    if missing or not sealed:
        what = [f"not signed by {', '.join(missing)}"] if missing else []
        what += [] if sealed else ["not sealed"]
        raise AgreementNotSigned("the agreement is " + "; ".join(what))


def validated_settles(
    settles: Iterable[ClaimCategory] | None, claims: Iterable[Claim]
) -> tuple[ClaimCategory, ...]:
    """Rule 14: the claim categories an agreement settles, among the case's (default: all)."""
    present = sorted({c.category for c in claims})
    if settles is None:
        return tuple(present)
    wanted = sorted(set(settles))
    if not wanted:
        raise ValidationFailed("an agreement settles at least one claim category", field="settles")
    unknown = [c.value for c in wanted if c not in present]
    if unknown:
        raise ValidationFailed(f"the case has no claim of categories {unknown}", field="settles")
    return tuple(wanted)


def require_performance_complete(total_paid: Decimal, agreed: Decimal, confirmation: str) -> None:
    """Rule 4 (seed, 履行完毕): complete means paid in full or confirmed in writing."""
    if total_paid < agreed and not confirmation.strip():
        raise PerformanceIncomplete(
            f"payments total {total_paid} of {agreed} agreed and no written confirmation "
            "of the worker is referenced"
        )


def require_verifier_not_mediator(role: Role) -> None:
    """Rule 4 (subsidy integrity): the mediator who earns the subsidy does not certify it."""
    if role is Role.MEDIATOR:
        raise VerifierIsMediator("a clerk or the studio's coordinator verifies performance")


def payment_order_applies(
    route: Route | None,
    status: Status,
    agreement: Agreement | None,
    claims: Iterable[Claim],
    today: date,
) -> bool:
    """Rule 14 (LDMAL art. 16): a pre-filing agreement, overdue, owed by the employer, over
    pay, injury medical costs or compensation — judged from what the agreement settles
    (an agreement recorded before v1.1 names nothing: its case's claims stand in)."""
    if agreement is None or status is not Status.AGREEMENT_SIGNED:
        return False
    if route is not Route.PRE_FILING or agreement.obligor is not Party.RESPONDENT:
        return False
    settles = agreement.settles
    covered = set(settles) if settles is not None else {c.category for c in claims}
    return today > agreement.performance_due_on and bool(covered & PAYMENT_ORDER_CATEGORIES)


# --- input values -------------------------------------------------------------------------


def require_text(value: str, field: str, max_length: int = 4000) -> None:
    if not value or not value.strip():
        raise ValidationFailed(message("required"), field=field)
    if text.problem(value, multiline=True) is not None:
        raise ValidationFailed(message("bad_text"), field=field)
    if len(value) > max_length:
        raise ValidationFailed(message("too_long", limit=max_length), field=field)


def _valid(parse: Callable[[V], T], value: V, field: str) -> T:
    """``parse(value)``, its ``ValueError`` a ``ValidationFailed`` of ``field``."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field) from None


def require_money(value: Decimal | str, field: str) -> Decimal:
    return _valid(money, value, field)


def require_region_exists(code: str) -> regions.Region:
    region = regions.get_region(code)
    if region is None:
        raise ValidationFailed(message("region"), field="region_code")
    return region


def require_known_region(code: str) -> None:
    """A case's region: an existing city- or county-level division."""
    if require_region_exists(code).level == "province":
        raise ValidationFailed(message("region_province"), field="region_code")


def validated_phone(phone: str, *, recorded: bool = False, field: str = "applicant.phone") -> str:
    """A phone typed at intake (``identifiers.validate_phone``); ``recorded``: one the
    system or a historic record already holds (a severed case's, an import's), kept as the
    rule of its day had it (7 to 15 digits)."""
    if recorded:
        phone = phone.strip()
        if not (phone.isdigit() and 7 <= len(phone) <= 15):
            raise ValidationFailed(message("phone"), field=field)
        return phone
    return _valid(identifiers.validate_phone, phone, field)


def validated_applicant(
    applicant: ApplicantInput, field: str = "applicant", *, recorded: bool = False
) -> dict[str, str]:
    require_text(applicant.name, f"{field}.name", 100)
    id_number = _valid(identifiers.validate_resident_id, applicant.id_number, f"{field}.id_number")
    phone = validated_phone(applicant.phone, recorded=recorded, field=f"{field}.phone")
    return {
        "name": applicant.name.strip(),
        "id_number": id_number,
        "phone": phone,
        "worker_category": applicant.worker_category.value,
    }


def validated_respondent(respondent: RespondentInput, field: str = "respondent") -> dict[str, str]:
    require_text(respondent.name, f"{field}.name", 200)
    code = _valid(identifiers.validate_credit_code, respondent.credit_code, f"{field}.credit_code")
    return {"name": respondent.name.strip(), "credit_code": code}


# --- v1.1, law-b: brief section 8, rules 5, 6, 7, 8, 13 ---------------------------------


@dataclass(frozen=True)
class NamedRule:
    """A rule of brief section 8 that is a behaviour rather than a refusal."""

    number: int
    code: str
    source: str
    title_zh: str


RULE_05_RETRACTION_BY_ROUTE = NamedRule(
    5,
    "retraction_by_route",
    "《劳动争议调解仲裁法》第42条; 《劳动人事争议仲裁办案规则》第74-79条 (to be checked)",
    "送达前反悔：仲裁前调解的，仅审查终结，调解协议继续有效；仲裁中调解的，调解不成，及时裁决",
)
RULE_06_REVIEW_STAGE = NamedRule(
    6,
    "review_stage",
    "《劳动人事争议仲裁办案规则》第74-79条 (to be checked against the official text)",
    "仲裁审查：5个工作日内决定是否受理，受理后5个工作日内审查完毕（可延长5个工作日）",
)
RULE_07_SEVERANCE_KEEPS_DATES = NamedRule(
    7,
    "severance_keeps_dates",
    "《劳动人事争议仲裁办案规则》第46条 (to be checked against the official text)",
    "分案不重新起算：新案保留原收案日期及已受理案件的受理日期和审理期限",
)
RULE_08_ACCEPTANCE_RESUMES = NamedRule(
    8,
    "acceptance_resumes",
    "《劳动争议调解仲裁法》第14条、第29条; 人社厅发〔2024〕4号",
    "暂缓受理以调解期限为限：期满未达成协议的，受理审查期限自期满次日起继续计算",
)
RULE_13_CLOSURE_AFTER_SUCCESS = NamedRule(
    13,
    "closure_after_success",
    "《劳动争议调解仲裁法》第41-42条",
    "仲裁中调解成功的，以调解书结案或撤回结案；结案前审理期限继续计算",
)
LAW_B_NAMED_RULES = (
    RULE_05_RETRACTION_BY_ROUTE,
    RULE_06_REVIEW_STAGE,
    RULE_07_SEVERANCE_KEEPS_DATES,
    RULE_08_ACCEPTANCE_RESUMES,
    RULE_13_CLOSURE_AFTER_SUCCESS,
)


def retraction_restores_agreement(route: Route | None) -> bool:
    """Rule 5: retracting a pre-filing statement ends only the review; the agreement binds."""
    return route is Route.PRE_FILING


def require_review_undecided(state: ReviewState | None) -> None:
    """Rule 6: the commission decides once, on an application awaiting its decision."""
    if state is not ReviewState.APPLIED:
        what = "no review application awaits a decision"
        raise InvalidTransition(what if state is None else f"{what} (the review is {state})")


def require_review_pending(state: ReviewState | None) -> None:
    """Rule 6: the parties withdraw an application that is awaiting a decision or a conclusion."""
    if state not in (ReviewState.APPLIED, ReviewState.ACCEPTED):
        raise InvalidTransition("no review application is pending")


def require_review_standing(state: ReviewState | None) -> None:
    """Rule 6: a statement needs a review that was not refused, withdrawn or ended."""
    if state in (ReviewState.REFUSED, ReviewState.WITHDRAWN, ReviewState.ENDED):
        raise ReviewNotStanding(f"the arbitral review was {state}")


@dataclass(frozen=True)
class KeptDates:
    """Rule 7: what a severed case keeps of the original."""

    acceptance_due_on: date | None
    accepted_on: date | None
    award_due_on: date | None


def severance_kept_dates(
    received_on: date,
    acceptance_due_on: date | None,
    accepted_on: date | None,
    award_due_on: date | None,
) -> KeptDates:
    """Rule 7: an accepted original passes on its acceptance and award dates; one not yet
    accepted, its acceptance deadline (the original's receipt date is kept by the caller)."""
    if accepted_on is not None:
        return KeptDates(None, accepted_on, award_due_on)
    return KeptDates(acceptance_due_on, None, None)


def acceptance_due_after(received_on: date, entrusted_on: date, start: date, days: int) -> date:
    """Rule 8: the acceptance days left at a pre-filing entrustment, counted after ``start``."""
    used = working_days_between(received_on, entrusted_on)
    return add_working_days(start, max(days - used, 0))


def acceptance_resumed(
    status: Status, route: Route | None, window_ends_on: date | None, today: date
) -> bool:
    """Rule 8: a pre-filing mediation still running after its window: acceptance runs."""
    return (
        route is Route.PRE_FILING
        and status in IN_WINDOW
        and window_ends_on is not None
        and today > window_ends_on
    )


def require_closure_disposition(status: Status, disposition: Disposition) -> None:
    """Rule 13: a post-filing success closes by its statement or by withdrawal."""
    if status is Status.SUCCEEDED:
        if disposition not in (Disposition.MEDIATION_STATEMENT, Disposition.WITHDRAWN):
            raise DispositionNotAllowed(
                "a mediated success closes with 'mediation_statement' or 'withdrawn'",
                field="disposition",
            )
    elif disposition is Disposition.MEDIATION_STATEMENT:
        raise DispositionNotAllowed(
            "'mediation_statement' closes only a post-filing success", field="disposition"
        )


# --- brief §8 rules 1, 9, 10, 11, 15, 16 (issue 15, law-c) ---------------------------------


def require_consents_for_this_mediation(
    consents: Mapping[Party, Consent], mediations_ended: int, ended_on: date | None
) -> None:
    """Rule 1 (LDMAL art. 14; Rules art. 70): consent is given for one mediation.

    A mediation that ended (failure, consent withdrawn, window given up, statement
    retracted) used its consents up: a new entrustment needs both parties' consent again,
    recorded after that end (so dated on or after it). ``Consent.round`` is the number of
    mediations that had ended when the consent was recorded.
    """
    if mediations_ended == 0 or ended_on is None:
        require_both_consents(consents)
        return
    stale = [
        p.value
        for p in Party
        if not (
            p in consents
            and consents[p].given
            and consents[p].round >= mediations_ended
            and consents[p].on >= ended_on
        )
    ]
    if stale:
        raise ConsentMissing(
            message("consent_stale", on=ended_on.isoformat(), parties=_parties(stale))
        )


def require_parties_agreed(parties_agreed: bool) -> None:
    """Rule 9 (LDMAL art. 14): an extension names both parties' agreement."""
    if not parties_agreed:
        raise ExtensionNeedsBothParties(
            "record the extension with both parties' agreement (parties_agreed: true)"
        )


def require_mediation_body(kind: StudioKind) -> None:
    """Rule 10 (seed 001): an arbitration outpost neither mediates nor has mediators."""
    if kind is StudioKind.ARBITRATION_OUTPOST:
        raise NotAMediationBody("an arbitration outpost (仲裁驻庭) is not a mediation body")


def require_other_studio(current: UUID | None, target: UUID) -> None:
    """Rule 11: a transfer moves the case to another studio (same mediation and window)."""
    if current == target:
        raise TransferInvalid("the case is already with that studio")


def require_mediator_active(mediator: Mediator | None, mediator_id: UUID, on: date) -> None:
    """Rule 16: a mediator records nothing dated on or after their retirement (nor while
    not on the case's studio's roster)."""
    if mediator is None or not mediator.active_on(on):
        raise MediatorNotActive(
            f"mediator {mediator_id} is not an appointed mediator of the case's studio on "
            f"{on.isoformat()}"
        )


def limitation_warning(
    claims: Iterable[Claim],
    known_on: date | None,
    employment_ended_on: date | None,
    received_on: date,
    years: int,
) -> bool:
    """Rule 15 (LDMAL art. 27 (1), (4)): the period of ``years`` (policy) runs from when
    the worker knew of the infringement; for pay owed during employment (a remuneration
    claim) it runs from the end of employment when that is known. A warning, never a
    refusal; without the end of employment the pay claim is judged like the others.
    """
    for claim in claims:
        pay = claim.category is ClaimCategory.REMUNERATION
        start = employment_ended_on if pay and employment_ended_on is not None else known_on
        if limitation_expired(start, received_on, years):
            return True
    return False
