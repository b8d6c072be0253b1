"""Brief section 8, rules 2, 3, 4, 12 and 14 (issue 15, law-a): a signed agreement binds,
takes effect when signed and sealed, is performed completely only when paid in full or
confirmed in writing, is verified by someone other than its mediator; failures carry a
reason code; the payment-order flag follows what the agreement settles and who owes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from mediation.application import CommandContext, MediationApplication
from mediation.errors import (
    AgreementBinding,
    AgreementNotSigned,
    AgreementNotYetDue,
    Forbidden,
    InvalidTransition,
    PerformanceIncomplete,
    ValidationFailed,
)
from mediation.values import (
    Actor,
    ClaimCategory,
    FailureReason,
    Party,
    Role,
    Signatory,
    Status,
    VerificationMethod,
)
from tests.support.factories import CLERK, MEDIATOR, in_mediation, studio_with_mediator

D = date
COORDINATOR = CommandContext(Actor("coordinator", Role.COORDINATOR))


def _signed(app: MediationApplication, *categories: ClaimCategory, **agreement: object) -> UUID:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id, *categories)
    args: dict[str, object] = {
        "signed_on": D(2026, 3, 9),
        "amount": Decimal("10000.00"),
        "performance_due_on": D(2026, 3, 31),
        "terms": "分两期支付",
        **agreement,
    }
    app.sign_agreement(MEDIATOR, case.id, **args)  # type: ignore[arg-type]
    return case.id


def test_rule_02_agreement_binding_no_consent_withdrawal_after_signing(
    app: MediationApplication,
) -> None:
    case_id = _signed(app)
    with pytest.raises(AgreementBinding):
        app.record_consent(CLERK, case_id, party=Party.RESPONDENT, given=False, on=D(2026, 3, 10))
    case = app.get_case(case_id)
    assert case.status is Status.AGREEMENT_SIGNED and case.version == 8  # 7 + its number


def test_rule_02_agreement_not_yet_due_unless_declared_refusal(
    app: MediationApplication,
) -> None:
    case_id = _signed(app)
    with pytest.raises(AgreementNotYetDue):
        app.fail(MEDIATOR, case_id, on=D(2026, 3, 10), reason="对方拖延")
    with pytest.raises(AgreementNotYetDue):
        app.fail(
            MEDIATOR,
            case_id,
            on=D(2026, 3, 30),
            reason="未付款",
            reason_code=FailureReason.NOT_PERFORMED,
        )
    failed = app.fail(
        MEDIATOR,
        case_id,
        on=D(2026, 3, 10),
        reason="被申请人书面表示不履行",
        reason_code=FailureReason.DECLARED_REFUSAL,
    )
    assert failed.status is Status.MEDIATION_FAILED
    assert failed.failure_reason_code is FailureReason.DECLARED_REFUSAL


def test_rule_02_a_failure_from_the_due_date_on_is_recorded(app: MediationApplication) -> None:
    case_id = _signed(app)
    failed = app.fail(
        MEDIATOR,
        case_id,
        on=D(2026, 3, 31),
        reason="到期未履行",
        reason_code=FailureReason.NOT_PERFORMED,
    )
    assert failed.failure_reason_code is FailureReason.NOT_PERFORMED


def test_rule_03_agreement_not_signed_without_every_signature_and_the_seal(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    base = {
        "signed_on": D(2026, 3, 9),
        "amount": Decimal("100.00"),
        "performance_due_on": D(2026, 3, 31),
        "terms": "t",
    }
    with pytest.raises(AgreementNotSigned):
        app.sign_agreement(
            MEDIATOR,
            case.id,
            signed_by=(Signatory.APPLICANT, Signatory.MEDIATOR),
            **base,  # type: ignore[arg-type]
        )
    with pytest.raises(AgreementNotSigned):
        app.sign_agreement(MEDIATOR, case.id, sealed=False, **base)  # type: ignore[arg-type]
    signed = app.sign_agreement(MEDIATOR, case.id, **base)  # type: ignore[arg-type]
    assert signed.status is Status.AGREEMENT_SIGNED
    event = app.history(case.id)[-1]
    assert event.data["signed_by"] == ["applicant", "respondent", "mediator"]
    assert event.data["sealed"] is True


def test_rule_04_performance_incomplete_below_the_agreed_amount_without_confirmation(
    app: MediationApplication,
) -> None:
    case_id = _signed(app)
    with pytest.raises(PerformanceIncomplete):
        app.record_performance(
            MEDIATOR, case_id, on=D(2026, 3, 10), amount_paid=Decimal("1000.00"), complete=True
        )
    assert app.get_case(case_id).status is Status.AGREEMENT_SIGNED
    app.record_performance(
        MEDIATOR, case_id, on=D(2026, 3, 10), amount_paid=Decimal("1000.00"), complete=False
    )
    done = app.record_performance(
        MEDIATOR, case_id, on=D(2026, 3, 20), amount_paid=Decimal("9000.00"), complete=True
    )
    assert done.status is Status.SUCCEEDED and done.awaiting_verification


def test_rule_04_a_written_confirmation_completes_non_monetary_terms(
    app: MediationApplication,
) -> None:
    unpaid = _signed(app)
    with pytest.raises(PerformanceIncomplete):
        app.record_performance(
            MEDIATOR, unpaid, on=D(2026, 3, 10), amount_paid=Decimal("0.00"), complete=True
        )
    done = app.record_performance(
        MEDIATOR,
        unpaid,
        on=D(2026, 3, 10),
        amount_paid=Decimal("0.00"),
        complete=True,
        confirmation="劳动者书面确认书（2026-03-10）",
    )
    assert done.status is Status.SUCCEEDED
    nothing_owed = _signed(app, amount=Decimal("0.00"))
    zero = app.record_performance(
        MEDIATOR, nothing_owed, on=D(2026, 3, 10), amount_paid=Decimal("0.00"), complete=True
    )
    assert zero.status is Status.SUCCEEDED  # nothing owed: paid in full


def test_rule_04_verification_by_a_clerk_or_coordinator_never_the_mediator(
    app: MediationApplication,
) -> None:
    case_id = _signed(app)
    with pytest.raises(InvalidTransition):  # not succeeded yet
        app.verify_performance(CLERK, case_id, on=D(2026, 3, 21), method=VerificationMethod.PHONE)
    app.record_performance(
        MEDIATOR, case_id, on=D(2026, 3, 20), amount_paid=Decimal("10000.00"), complete=True
    )
    with pytest.raises(Forbidden):
        app.verify_performance(
            MEDIATOR, case_id, on=D(2026, 3, 21), method=VerificationMethod.PHONE
        )
    verified = app.verify_performance(
        COORDINATOR, case_id, on=D(2026, 3, 21), method=VerificationMethod.VISIT, note="上门"
    )
    assert verified.performance_verified_on == D(2026, 3, 21)
    assert not verified.awaiting_verification and verified.verified_by == "coordinator"
    with pytest.raises(InvalidTransition):
        app.verify_performance(CLERK, case_id, on=D(2026, 3, 22), method=VerificationMethod.PHONE)


def test_rule_12_failure_reason_codes(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    absent = in_mediation(app, studio_id, mediator_id)
    failed = app.fail(
        MEDIATOR,
        absent.id,
        on=D(2026, 3, 6),
        reason="被申请人两次未到场",
        reason_code=FailureReason.PARTY_ABSENT,
    )
    assert failed.failure_reason_code is FailureReason.PARTY_ABSENT
    assert app.history(absent.id)[-1].data["reason_code"] == "party_absent"
    plain = in_mediation(app, studio_id, mediator_id)
    assert app.fail(MEDIATOR, plain.id, on=D(2026, 3, 6), reason="r").failure_reason_code is (
        FailureReason.OTHER
    )
    withdrawn = in_mediation(app, studio_id, mediator_id)
    ended = app.record_consent(
        CLERK, withdrawn.id, party=Party.APPLICANT, given=False, on=D(2026, 3, 6)
    )
    assert ended.failure_reason_code is FailureReason.CONSENT_WITHDRAWN


def test_rule_14_payment_order_from_what_the_agreement_settles_and_who_owes(
    app: MediationApplication,
) -> None:
    overdue = D(2026, 4, 1)
    pay = _signed(app, ClaimCategory.REMUNERATION, ClaimCategory.CONTRACT)
    assert app.get_case(pay).payment_order_eligible(overdue)
    assert not app.get_case(pay).payment_order_eligible(D(2026, 3, 31))  # not yet overdue
    # the claims include pay, but the agreement settles only the contract claim
    contract_only = _signed(
        app,
        ClaimCategory.REMUNERATION,
        ClaimCategory.CONTRACT,
        settles=(ClaimCategory.CONTRACT,),
    )
    assert not app.get_case(contract_only).payment_order_eligible(overdue)
    # the worker owes (e.g. returns equipment): no payment order against the employer
    worker_owes = _signed(app, ClaimCategory.REMUNERATION, obligor=Party.APPLICANT)
    assert not app.get_case(worker_owes).payment_order_eligible(overdue)
    with pytest.raises(ValidationFailed):
        _signed(app, ClaimCategory.CONTRACT, settles=(ClaimCategory.DISMISSAL,))
