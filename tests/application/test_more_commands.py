"""Remaining commands: acceptance, extensions, severance refusals, limitation warning."""

from __future__ import annotations

from datetime import date

import pytest

from mediation.application import MediationApplication
from mediation.errors import (
    AwardExtensionNotAllowed,
    DateInFuture,
    InvalidTransition,
    ReasonRequired,
    SeveranceInvalid,
    ValidationFailed,
    WindowExtensionNotAllowed,
)
from mediation.policy import Policy, PolicyBook
from mediation.values import ClaimCategory, Disposition, Party, Route, Status
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    SteppingClock,
    applicant,
    claims,
    in_mediation,
    new_case,
    respondent,
    studio_with_mediator,
)

D = date


def test_not_accepted_needs_a_reason_and_is_final(app: MediationApplication) -> None:
    case = new_case(app)
    with pytest.raises(ReasonRequired):
        app.decide_acceptance(CLERK, case.id, accepted=False, on=D(2026, 3, 3))
    refused = app.decide_acceptance(
        CLERK, case.id, accepted=False, on=D(2026, 3, 3), reason="不属于劳动争议受理范围"
    )
    assert refused.status is Status.NOT_ACCEPTED and refused.deadlines(D(2026, 3, 3)) == []
    with pytest.raises(InvalidTransition):
        app.close_case(CLERK, case.id, on=D(2026, 3, 4), disposition=Disposition.OTHER)


def test_acceptance_deadline_is_five_working_days_and_overdue_is_against_a_given_date(
    app: MediationApplication,
) -> None:
    case = new_case(app, received_on=D(2026, 2, 12))  # Thursday before Spring Festival 2026
    (deadline,) = case.deadlines(D(2026, 2, 12))
    # 2026-02-13 Fri, 02-14 Sat (make-up workday), 02-24 Tue, 02-25, 02-26 -> 5th working day
    assert deadline.kind == "acceptance_decision" and deadline.due_on == D(2026, 2, 26)
    assert not case.deadlines(D(2026, 2, 26))[0].overdue
    assert case.deadlines(D(2026, 2, 27))[0].overdue


def test_pre_filing_window_extension_once(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)  # entrusted 2026-03-04
    assert case.window_ends_on == D(2026, 3, 19)
    extended = app.extend_window(CLERK, case.id, days=15, on=D(2026, 3, 10), parties_agreed=True)
    assert extended.window_ends_on == D(2026, 4, 3)
    with pytest.raises(WindowExtensionNotAllowed):
        app.extend_window(CLERK, case.id, days=1, on=D(2026, 3, 11), parties_agreed=True)


def test_award_period_extension(app: MediationApplication) -> None:
    case = new_case(app)
    with pytest.raises(InvalidTransition):
        app.extend_award_period(CLERK, case.id, days=5, approved_by="主任", on=D(2026, 3, 3))
    accepted = app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 3))
    assert accepted.award_due_on == D(2026, 4, 17)
    with pytest.raises(AwardExtensionNotAllowed):
        app.extend_award_period(CLERK, case.id, days=16, approved_by="主任", on=D(2026, 3, 4))
    extended = app.extend_award_period(
        CLERK, case.id, days=15, approved_by="主任", on=D(2026, 3, 4)
    )
    assert extended.award_due_on == D(2026, 5, 6)  # 05-02 is in the Labour Day holiday


def test_severance_refusals(app: MediationApplication) -> None:
    case = new_case(app, ClaimCategory.REMUNERATION)
    with pytest.raises(SeveranceInvalid):
        app.sever(CLERK, case.id, categories=[ClaimCategory.REMUNERATION], on=D(2026, 3, 3))
    with pytest.raises(SeveranceInvalid):
        app.sever(CLERK, case.id, categories=[ClaimCategory.DISMISSAL], on=D(2026, 3, 3))


def test_intake_validation_and_limitation_warning(app: MediationApplication) -> None:
    with pytest.raises(ValidationFailed) as bad_region:
        app.receive_case(
            CLERK,
            region_code="429999",
            received_on=D(2026, 3, 2),
            applicant=applicant(),
            respondent=respondent(),
            claims=claims(),
        )
    assert bad_region.value.field == "region_code"
    with pytest.raises(DateInFuture):
        app.receive_case(
            CLERK,
            region_code="420102",
            received_on=D(2026, 7, 2),
            applicant=applicant(),
            respondent=respondent(),
            claims=claims(),
        )
    late = app.receive_case(
        CLERK,
        region_code="420102",
        received_on=D(2026, 3, 2),
        applicant=applicant(),
        respondent=respondent(),
        claims=claims(),
        infringement_known_on=D(2025, 2, 1),
    )
    assert late.limitation_warning and late.status is Status.RECEIVED  # warned, not rejected


def test_limitation_period_comes_from_the_policy(clock: SteppingClock) -> None:
    two_years = PolicyBook([Policy(limitation_years=2)])
    app = MediationApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, policies=two_years, clock=clock
    )
    case = app.receive_case(
        CLERK,
        region_code="420102",
        received_on=D(2026, 3, 2),
        applicant=applicant(),
        respondent=respondent(),
        claims=claims(),
        infringement_known_on=D(2025, 2, 1),
    )
    assert not case.limitation_warning


def test_pre_filing_failure_then_acceptance_then_post_filing_again(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    failed = app.fail(MEDIATOR, case.id, on=D(2026, 3, 10), reason="双方分歧较大")
    assert failed.status is Status.MEDIATION_FAILED
    with pytest.raises(InvalidTransition):  # pre-filing failure goes back to acceptance
        app.close_case(CLERK, case.id, on=D(2026, 3, 10), disposition=Disposition.OTHER)
    app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 11))
    for party in Party:  # brief §8 rule 1: fresh consents for the new mediation
        app.record_consent(CLERK, case.id, party=party, given=True, on=D(2026, 3, 12))
    again = app.entrust(
        CLERK, case.id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 12)
    )
    assert again.status is Status.ENTRUSTED and again.mediation_count == 2
    assert again.mediator_id is None
    withdrawn = app.record_consent(
        CLERK, case.id, party=Party.APPLICANT, given=False, on=D(2026, 3, 13)
    )
    assert withdrawn.status is Status.MEDIATION_FAILED


def test_negative_or_fractional_claim_amounts_refused(app: MediationApplication) -> None:
    for amount in ("-1.00", "0.001"):
        with pytest.raises(ValidationFailed) as refused:
            app.receive_case(
                CLERK,
                region_code="420102",
                received_on=D(2026, 3, 2),
                applicant=applicant(),
                respondent=respondent(),
                claims=claims(amount=amount),
            )
        assert refused.value.field == "claims.0.amount"  # the API's field path
