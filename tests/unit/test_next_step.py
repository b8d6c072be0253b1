"""The next step of a case and the commands that make sense, per status, route and outcome
(the Case aggregate only, no I/O)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mediation import labels
from mediation.calendar import current
from mediation.case import Case
from mediation.next_step import DeadlineState, Plan, deadline_state, plan, possible
from mediation.organisation import Studio
from mediation.policy import Policy
from mediation.values import (
    Actor,
    Claim,
    ClaimCategory,
    Party,
    ReviewState,
    Role,
    Route,
    Status,
    StudioKind,
    VerificationMethod,
)
from tests.support.factories import applicant, respondent

POLICY = Policy()
CLERK = Actor("clerk", Role.CLERK)
MEDIATOR = Actor("mediator", Role.MEDIATOR)
ADMIN = Actor("admin", Role.ADMIN)
START = date(2025, 3, 3)  # a Monday


def _studio() -> tuple[Studio, object]:
    studio = Studio.register(
        actor=ADMIN,
        policy=POLICY,
        name="江岸区裁调对接工作室",
        region_code="420102",
        kind=StudioKind.DOCKING_STUDIO,
        established_on=date(2024, 1, 1),
    )
    mediator_id = studio.appoint_mediator(
        actor=ADMIN,
        policy=POLICY,
        name="王调解",
        qualification="lawyer",
        appointed_on=date(2024, 1, 2),
    )
    return studio, mediator_id


STUDIO, MEDIATOR_ID = _studio()


def received(*categories: ClaimCategory) -> Case:
    return Case.receive(
        actor=CLERK,
        policy=POLICY,
        region_code="420102",
        received_on=START,
        applicant=applicant(3),
        respondent=respondent(3),
        claims=[Claim(c, Decimal("8000.00")) for c in categories or (ClaimCategory.REMUNERATION,)],
    )


def assessed(case: Case, ok: bool = True) -> Case:
    case.assess(
        actor=CLERK,
        policy=POLICY,
        on=START,
        within_scope=True,
        meets_acceptance_conditions=True,
        suitable_for_mediation=ok,
        reason="事实清楚",
    )
    return case


def consented(case: Case, on: date = START) -> Case:
    for party in Party:
        case.record_consent(actor=CLERK, policy=POLICY, on=on, party=party, given=True)
    return case


def accepted(case: Case) -> Case:
    case.decide_acceptance(actor=CLERK, policy=POLICY, on=START, accepted=True)
    return case


def entrusted(route: Route = Route.PRE_FILING) -> Case:
    case = received()
    if route is Route.POST_FILING:
        accepted(case)
    consented(assessed(case))
    case.entrust(actor=CLERK, policy=POLICY, on=START, studio=STUDIO, route=route)
    return case


def mediating(route: Route = Route.PRE_FILING) -> Case:
    case = entrusted(route)
    case.assign_mediator(
        actor=CLERK, policy=POLICY, on=START, studio=STUDIO, mediator_id=MEDIATOR_ID
    )
    return case


def agreed(route: Route = Route.PRE_FILING) -> Case:
    case = mediating(route)
    case.record_session(actor=MEDIATOR, policy=POLICY, on=START, summary="双方到场")
    case.sign_agreement(
        actor=MEDIATOR,
        policy=POLICY,
        on=START,
        amount=Decimal("8000.00"),
        performance_due_on=START + timedelta(days=10),
        terms="十日内付清",
    )
    return case


def performed(route: Route = Route.PRE_FILING) -> Case:
    case = agreed(route)
    case.record_performance(
        actor=MEDIATOR, policy=POLICY, on=START, amount_paid=Decimal("8000.00"), complete=True
    )
    return case


def by_statement(route: Route = Route.PRE_FILING) -> Case:
    case = agreed(route)
    if route is Route.PRE_FILING:
        case.apply_review(actor=CLERK, policy=POLICY, on=START)
        case.decide_review(actor=CLERK, policy=POLICY, on=START, accepted=True)
    case.issue_statement(actor=CLERK, policy=POLICY, on=START, number="鄂仲调字〔2025〕1号")
    return case


def keys(p: Plan) -> list[str]:
    return [s.key for s in p.steps]


def test_a_new_case_is_assessed_first_within_the_acceptance_period() -> None:
    p = plan(received(), START)
    assert keys(p) == ["assess"]
    step = p.steps[0]
    assert step.by == (Role.CLERK,)
    assert step.deadline is not None and step.deadline.kind == "acceptance_decision"
    assert {"assess", "record_consent", "entrust", "decide_acceptance"} <= p.possible
    assert "sign_agreement" not in p.possible


def test_after_the_assessment_both_consents_then_entrustment_before_filing() -> None:
    case = assessed(received())
    assert keys(plan(case, START)) == ["consents", "decide_acceptance"]
    case.record_consent(actor=CLERK, policy=POLICY, on=START, party=Party.APPLICANT, given=True)
    assert keys(plan(case, START))[0] == "consents"  # one is not enough
    case.record_consent(actor=CLERK, policy=POLICY, on=START, party=Party.RESPONDENT, given=True)
    p = plan(case, START)
    assert keys(p) == ["entrust_pre_filing", "decide_acceptance"]
    assert p.steps[0].command == "entrust"


def test_an_accepted_case_is_entrusted_after_filing_within_the_award_period() -> None:
    case = consented(assessed(accepted(received())))
    p = plan(case, START)
    assert keys(p) == ["entrust_post_filing", "hearing"]
    assert p.steps[0].deadline is not None and p.steps[0].deadline.kind == "award"


def test_no_mediation_when_unsuitable_or_a_party_says_no() -> None:
    assert keys(plan(assessed(received(), ok=False), START)) == ["decide_acceptance"]
    case = assessed(received())
    case.record_consent(actor=CLERK, policy=POLICY, on=START, party=Party.RESPONDENT, given=False)
    assert keys(plan(case, START)) == ["decide_acceptance"]


def test_a_confirmation_claim_is_severed_first() -> None:
    case = consented(
        assessed(
            received(ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION, ClaimCategory.REMUNERATION)
        )
    )
    p = plan(case, START)
    assert keys(p) == ["sever_confirmation", "decide_acceptance"]
    assert "sever" in p.possible
    # a single claim cannot be severed: nothing would be left
    assert "sever" not in possible(received(ClaimCategory.REMUNERATION))


def test_entrusted_waits_for_a_mediator_and_a_lapsed_window_offers_the_failure() -> None:
    case = entrusted()
    p = plan(case, START)
    assert keys(p) == ["assign_mediator"]
    assert p.steps[0].by == (Role.CLERK, Role.COORDINATOR)
    window = p.steps[0].deadline
    assert window is not None and window.kind == "mediation_window" and not window.overdue
    late = plan(case, window.due_on + timedelta(days=1))
    assert keys(late) == ["assign_mediator", "fail_window_lapsed"]
    assert late.steps[1].deadline is not None and late.steps[1].deadline.overdue


def test_in_mediation_the_mediator_holds_sessions_and_signs() -> None:
    case = mediating()
    p = plan(case, START)
    assert keys(p) == ["record_session", "sign_agreement"]
    assert all(s.by == (Role.MEDIATOR,) for s in p.steps)
    assert {"record_session", "sign_agreement", "fail", "recuse", "transfer"} <= p.possible
    assert "record_consent" in p.possible  # a withdrawal ends the mediation
    window = p.steps[0].deadline
    assert window is not None
    assert keys(plan(case, window.due_on + timedelta(days=1)))[0] == "fail_window_lapsed"


def test_a_signed_agreement_binds_performance_or_review_next() -> None:
    case = agreed()
    p = plan(case, START)
    assert keys(p) == ["record_performance", "apply_review"]
    assert p.steps[0].deadline is not None and p.steps[0].deadline.kind == "performance"
    assert p.steps[1].deadline is not None and p.steps[1].deadline.kind == "review_application"
    assert "record_consent" not in p.possible  # rule 2
    assert "serve_statement" not in p.possible
    overdue = plan(case, START + timedelta(days=11))
    assert keys(overdue)[:2] == ["fail_not_performed", "record_performance_late"]


def test_the_review_stage_in_order() -> None:
    case = agreed()
    case.apply_review(actor=CLERK, policy=POLICY, on=START)
    p = plan(case, START)
    assert keys(p) == ["record_performance", "decide_review"]
    assert {"decide_review", "withdraw_review", "issue_statement"} <= p.possible
    assert "apply_review" not in p.possible
    case.decide_review(actor=CLERK, policy=POLICY, on=START, accepted=True)
    assert case.review_state is ReviewState.ACCEPTED
    p = plan(case, START)
    assert keys(p) == ["record_performance", "issue_statement"]
    assert "decide_review" not in p.possible


def test_post_filing_agreement_the_tribunal_issues_directly() -> None:
    p = plan(agreed(Route.POST_FILING), START)
    assert keys(p) == ["record_performance", "issue_statement_post"]
    assert "apply_review" not in p.possible


def test_after_success_by_performance_no_statement_is_served_or_retracted() -> None:
    case = performed()
    assert case.status is Status.SUCCEEDED
    p = plan(case, START)
    assert keys(p) == ["verify_performance"]
    assert "serve_statement" not in p.possible
    assert "retract_statement" not in p.possible
    case.verify_performance(
        actor=CLERK, policy=POLICY, on=START, method=VerificationMethod.PHONE, note="已回访"
    )
    p = plan(case, START)
    assert p.steps == () and p.ended == "succeeded"
    assert "verify_performance" not in p.possible


def test_after_success_by_statement_each_party_signs_for_it() -> None:
    case = by_statement()
    p = plan(case, START)
    assert keys(p) == ["serve_statement"]
    assert {"serve_statement", "retract_statement"} <= p.possible
    assert "verify_performance" not in p.possible
    for party in Party:
        case.serve_statement(actor=CLERK, policy=POLICY, on=START, party=party)
    p = plan(case, START)
    assert p.ended == "succeeded"
    assert not {"serve_statement", "retract_statement"} & p.possible


def test_a_post_filing_success_is_closed_within_the_award_period() -> None:
    p = plan(performed(Route.POST_FILING), START)
    assert keys(p) == ["verify_performance", "close_after_success"]
    assert p.steps[1].deadline is not None and p.steps[1].deadline.kind == "award"


def test_after_a_failure_the_arbitration_resumes() -> None:
    pre = mediating()
    pre.fail(actor=MEDIATOR, policy=POLICY, on=START, reason="未达成一致")
    p = plan(pre, START)
    assert keys(p) == ["acceptance_after_failure"]
    assert p.steps[0].deadline is not None and p.steps[0].deadline.kind == "acceptance_decision"
    post = mediating(Route.POST_FILING)
    post.fail(actor=MEDIATOR, policy=POLICY, on=START, reason="未达成一致")
    assert keys(plan(post, START)) == ["award_after_failure"]


def test_a_case_not_accepted_or_closed_expects_nothing() -> None:
    case = received()
    case.decide_acceptance(actor=CLERK, policy=POLICY, on=START, accepted=False, reason="超过时效")
    p = plan(case, START)
    assert p.steps == () and p.ended == "not_accepted" and p.possible == frozenset()


@pytest.mark.parametrize(
    "make",
    [received, entrusted, mediating, agreed, performed, by_statement],
)
def test_every_step_and_ending_has_its_chinese_text(make) -> None:  # type: ignore[no-untyped-def]
    for today in (START, START + timedelta(days=40)):
        p = plan(make(), today)
        for step in p.steps:
            assert labels.NEXT_STEP[step.key] and labels.NEXT_STEP_WHY[step.key]
            assert step.command in labels.COMMAND
        if p.ended:
            assert labels.ENDED[p.ended]
    assert set(labels.NEXT_STEP) == set(labels.NEXT_STEP_WHY)


def test_deadline_states_count_working_days() -> None:
    calendar = current()
    friday = date(2025, 3, 7)
    assert deadline_state(friday, friday, calendar) is DeadlineState.DUE_SOON
    assert deadline_state(friday, friday + timedelta(days=1), calendar) is DeadlineState.OVERDUE
    # Monday 3 March to Friday 7 March: 4 working days left, on time
    assert deadline_state(friday, date(2025, 3, 3), calendar) is DeadlineState.ON_TIME
    assert deadline_state(friday, date(2025, 3, 4), calendar) is DeadlineState.DUE_SOON
    # over a weekend: Thursday to the next Tuesday is 3 working days
    assert deadline_state(date(2025, 3, 11), date(2025, 3, 6), calendar) is DeadlineState.DUE_SOON
    assert deadline_state(date(2025, 3, 11), date(2025, 3, 5), calendar) is DeadlineState.ON_TIME
    assert {s.value for s in DeadlineState} == set(labels.DEADLINE_STATE)
