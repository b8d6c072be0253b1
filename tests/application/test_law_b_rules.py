"""Brief section 8, rules 5, 6, 7, 8 and 13 (law-b): each test is named after its rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from mediation.application import MediationApplication
from mediation.calendar import add_working_days, working_days_between
from mediation.case import Case
from mediation.errors import DispositionNotAllowed, InvalidTransition, ReviewNotStanding
from mediation.values import (
    ClaimCategory,
    Disposition,
    Party,
    ReviewRefusal,
    ReviewState,
    Route,
    Status,
    SuccessBranch,
)
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    in_mediation,
    new_case,
    ready_for_entrustment,
    studio_with_mediator,
)

D = date


def _signed(app: MediationApplication, amount: str = "8000.00") -> tuple[Case, UUID]:
    """A pre-filing case with a signed agreement (signed 2026-03-09, due 2026-04-30)."""
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    signed = app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 9),
        amount=Decimal(amount),
        performance_due_on=D(2026, 4, 30),
        terms="一次性支付",
    )
    return signed, mediator_id


def _kinds(case: Case, today: date) -> dict[str, date]:
    return {d.kind: d.due_on for d in case.deadlines(today)}


# --- rule 5 ----------------------------------------------------------------------------


def test_rule_05_retraction_pre_filing_keeps_the_agreement_and_performance_may_succeed(
    app: MediationApplication,
) -> None:
    case, _ = _signed(app)
    app.apply_review(CLERK, case.id, applied_on=D(2026, 3, 10))
    app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 11), number="No.1")
    back = app.retract_statement(CLERK, case.id, party=Party.RESPONDENT, on=D(2026, 3, 12))
    assert back.status is Status.AGREEMENT_SIGNED
    assert back.success_reversed and back.outcome is None
    assert back.review_state is ReviewState.ENDED
    assert back.mediation_count == 1
    with pytest.raises(ReviewNotStanding):  # the review ended: no statement on it
        app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 13), number="No.2")
    done = app.record_performance(
        MEDIATOR, case.id, on=D(2026, 3, 20), amount_paid=Decimal("8000.00"), complete=True
    )
    assert done.status is Status.SUCCEEDED and done.outcome is SuccessBranch.PERFORMANCE


def test_rule_05_retraction_post_filing_is_a_failure_of_the_mediation(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = new_case(app)
    app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 3))
    ready_for_entrustment(app, case.id, D(2026, 3, 4))
    app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 4))
    app.assign_mediator(CLERK, case.id, mediator_id=mediator_id, on=D(2026, 3, 5))
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 6),
        amount=Decimal("100.00"),
        performance_due_on=D(2026, 3, 31),
        terms="t",
    )
    app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 9), number="No.1")
    failed = app.retract_statement(CLERK, case.id, party=Party.APPLICANT, on=D(2026, 3, 10))
    assert failed.status is Status.MEDIATION_FAILED and failed.success_reversed
    assert "award" in _kinds(failed, D(2026, 3, 10))


# --- rule 6 ----------------------------------------------------------------------------


def test_rule_06_review_decision_then_conclusion_deadlines_five_working_days_each(
    app: MediationApplication,
) -> None:
    case, _ = _signed(app)
    applied = app.apply_review(CLERK, case.id, applied_on=D(2026, 3, 10))
    assert applied.review_state is ReviewState.APPLIED
    due = _kinds(applied, D(2026, 3, 10))
    assert due["review_decision"] == add_working_days(D(2026, 3, 10), 5)
    assert "review_application" not in due
    accepted = app.decide_review(CLERK, case.id, on=D(2026, 3, 12), accepted=True)
    due = _kinds(accepted, D(2026, 3, 12))
    assert "review_decision" not in due
    assert due["review_conclusion"] == add_working_days(D(2026, 3, 12), 5)
    with pytest.raises(InvalidTransition):  # decided once
        app.decide_review(CLERK, case.id, on=D(2026, 3, 12), accepted=False)
    issued = app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 13), number="No.1")
    assert issued.status is Status.SUCCEEDED
    assert "review_conclusion" not in _kinds(issued, D(2026, 3, 13))


@pytest.mark.parametrize("end", ["refused", "withdrawn"])
def test_rule_06_refused_or_withdrawn_review_leaves_the_agreement_and_allows_no_statement(
    app: MediationApplication, end: str
) -> None:
    case, _ = _signed(app)
    with pytest.raises(InvalidTransition):  # nothing to decide yet
        app.decide_review(CLERK, case.id, on=D(2026, 3, 10), accepted=True)
    app.apply_review(CLERK, case.id, applied_on=D(2026, 3, 10))
    if end == "refused":
        after = app.decide_review(
            CLERK, case.id, on=D(2026, 3, 11), accepted=False, reason_code=ReviewRefusal.NOT_JOINT
        )
        assert after.review_state is ReviewState.REFUSED
    else:
        after = app.withdraw_review(CLERK, case.id, on=D(2026, 3, 11), party=Party.RESPONDENT)
        assert after.review_state is ReviewState.WITHDRAWN
    assert after.status is Status.AGREEMENT_SIGNED
    assert set(_kinds(after, D(2026, 3, 11))) == {"performance"}
    with pytest.raises(ReviewNotStanding):
        app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 12), number="No.1")
    with pytest.raises(InvalidTransition):
        app.withdraw_review(CLERK, case.id, on=D(2026, 3, 12), party=Party.APPLICANT)


def test_rule_06_statement_on_an_undecided_review_records_the_acceptance_in_the_same_step(
    app: MediationApplication,
) -> None:
    case, _ = _signed(app)
    app.apply_review(CLERK, case.id, applied_on=D(2026, 3, 10))
    issued = app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 11), number="No.1")
    assert issued.status is Status.SUCCEEDED and issued.review_state is ReviewState.ACCEPTED
    types = [e.type for e in app.history(case.id)][-2:]
    assert types == ["ReviewDecided", "StatementIssued"]


# --- rule 7 ----------------------------------------------------------------------------


def test_rule_07_severance_after_acceptance_keeps_receipt_acceptance_and_award(
    app: MediationApplication,
) -> None:
    case = new_case(app, ClaimCategory.REMUNERATION, ClaimCategory.CONTRACT)
    accepted = app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 4))
    app.sever(CLERK, case.id, categories=[ClaimCategory.CONTRACT], on=D(2026, 3, 20))
    original = app.get_case(case.id)
    severed = app.get_case(original.severed_into[0])
    assert severed.status is Status.ACCEPTED
    assert severed.received_on == accepted.received_on
    assert severed.accepted_on == D(2026, 3, 4)
    assert severed.award_due_on == accepted.award_due_on
    assert _kinds(severed, D(2026, 3, 20)) == {"award": accepted.award_due_on}
    with pytest.raises(InvalidTransition):  # no second acceptance
        app.decide_acceptance(CLERK, severed.id, accepted=True, on=D(2026, 3, 21))


def test_rule_07_severance_before_acceptance_keeps_the_acceptance_deadline(
    app: MediationApplication,
) -> None:
    case = new_case(app, ClaimCategory.REMUNERATION, ClaimCategory.CONTRACT)
    app.sever(CLERK, case.id, categories=[ClaimCategory.CONTRACT], on=D(2026, 3, 4))
    original = app.get_case(case.id)
    severed = app.get_case(original.severed_into[0])
    assert severed.status is Status.RECEIVED
    assert severed.acceptance_due_on == original.acceptance_due_on
    assert _kinds(severed, D(2026, 3, 4)) == {"acceptance_decision": original.acceptance_due_on}


# --- rule 8 ----------------------------------------------------------------------------


def test_rule_08_acceptance_deadline_reappears_after_a_lapsed_pre_filing_window(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)  # received 03-02, entrusted 03-04
    assert case.window_ends_on is not None
    end = case.window_ends_on
    assert "acceptance_decision" not in _kinds(case, end)  # suspended during the window
    used = working_days_between(D(2026, 3, 2), D(2026, 3, 4))
    resumed = add_working_days(end, 5 - used)
    after = _kinds(case, D(2026, 3, 31))
    assert after["acceptance_decision"] == resumed
    assert [d.overdue for d in case.deadlines(D(2026, 3, 31))] == [True, True]
    # a late agreement is still possible; a failure later keeps the resumed clock
    failed = app.fail(MEDIATOR, case.id, on=D(2026, 3, 31), reason="未达成协议")
    assert failed.acceptance_due_on == resumed


def test_rule_08_extension_moves_the_resumed_acceptance_deadline(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    extended = app.extend_window(CLERK, case.id, days=10, on=D(2026, 3, 6), parties_agreed=True)
    assert extended.window_ends_on is not None
    end = extended.window_ends_on
    assert "acceptance_decision" not in _kinds(extended, end)
    used = working_days_between(D(2026, 3, 2), D(2026, 3, 4))
    later = _kinds(extended, D(2026, 5, 1))
    assert later["acceptance_decision"] == add_working_days(end, 5 - used)


# --- rule 13 ---------------------------------------------------------------------------


def test_rule_13_a_post_filing_success_is_closed_by_statement_or_withdrawal(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = new_case(app)
    app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 3))
    ready_for_entrustment(app, case.id, D(2026, 3, 4))
    app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 4))
    app.assign_mediator(CLERK, case.id, mediator_id=mediator_id, on=D(2026, 3, 5))
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 6),
        amount=Decimal("100.00"),
        performance_due_on=D(2026, 3, 31),
        terms="t",
    )
    done = app.issue_statement(CLERK, case.id, issued_on=D(2026, 3, 9), number="No.1")
    assert "award" in _kinds(done, D(2026, 3, 9))  # open until closure
    with pytest.raises(DispositionNotAllowed):
        app.close_case(CLERK, case.id, on=D(2026, 3, 10), disposition=Disposition.AWARD)
    closed = app.close_case(
        CLERK, case.id, on=D(2026, 3, 10), disposition=Disposition.MEDIATION_STATEMENT
    )
    assert closed.status is Status.CLOSED and closed.deadlines(D(2026, 3, 10)) == []


def test_rule_13_a_pre_filing_success_is_not_closed_and_mediation_statement_needs_a_success(
    app: MediationApplication,
) -> None:
    case, _ = _signed(app)
    done = app.record_performance(
        MEDIATOR, case.id, on=D(2026, 3, 10), amount_paid=Decimal("8000.00"), complete=True
    )
    with pytest.raises(InvalidTransition):
        app.close_case(CLERK, done.id, on=D(2026, 3, 11), disposition=Disposition.WITHDRAWN)
    other = new_case(app)
    app.decide_acceptance(CLERK, other.id, accepted=True, on=D(2026, 3, 3))
    with pytest.raises(DispositionNotAllowed):
        app.close_case(
            CLERK, other.id, on=D(2026, 3, 4), disposition=Disposition.MEDIATION_STATEMENT
        )
