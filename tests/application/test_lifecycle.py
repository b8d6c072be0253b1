"""Service-layer tests of the case lifecycle, run on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from mediation.application import CommandContext, MediationApplication
from mediation.errors import (
    ConsentMissing,
    DateInFuture,
    DateOutOfOrder,
    IdempotencyKeyReused,
    InvalidTransition,
    LabourRelationshipNotEntrustable,
    MediatorNotOnRoster,
    NotEligibleForEntrustment,
    ReviewNotApplied,
    ReviewWindowExpired,
    StatementAlreadyServed,
    StudioInactive,
    StudioOutsideJurisdiction,
    VersionConflict,
)
from mediation.values import (
    Actor,
    ClaimCategory,
    Disposition,
    Party,
    Role,
    Route,
    Status,
    StudioKind,
    SuccessBranch,
)
from tests.support.factories import (
    ADMIN,
    CLERK,
    MEDIATOR,
    in_mediation,
    new_case,
    ready_for_entrustment,
    studio_with_mediator,
)

D = date


def _events(app: MediationApplication, case_id: object) -> int:
    return len(list(app.events.get(case_id)))  # type: ignore[arg-type]


def test_confirmation_claim_refused_whatever_else_then_severance(app: MediationApplication) -> None:
    studio_id, _ = studio_with_mediator(app)
    case = new_case(app, ClaimCategory.REMUNERATION, ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION)
    ready_for_entrustment(app, case.id, D(2026, 3, 3))
    before = _events(app, case.id)
    with pytest.raises(LabourRelationshipNotEntrustable) as refused:
        app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=D(2026, 3, 4))
    assert refused.value.code == "labour_relationship_not_entrustable"
    assert _events(app, case.id) == before  # nothing recorded

    severed = app.sever(
        CLERK,
        case.id,
        categories=[ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION],
        on=D(2026, 3, 4),
    )
    original = app.get_case(case.id)
    assert severed.severed_from == case.id and original.severed_into == [severed.id]
    assert severed.received_on == original.received_on
    assert [c.category for c in original.claims] == [ClaimCategory.REMUNERATION]
    assert [c.category for c in severed.claims] == [ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION]

    entrusted = app.entrust(
        CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=D(2026, 3, 4)
    )
    assert entrusted.status is Status.ENTRUSTED
    ready_for_entrustment(app, severed.id, D(2026, 3, 4))
    with pytest.raises(LabourRelationshipNotEntrustable):
        app.entrust(
            CLERK, severed.id, studio_id=studio_id, route=Route.PRE_FILING, on=D(2026, 3, 5)
        )


def test_confirmation_rule_answers_before_missing_consent(app: MediationApplication) -> None:
    studio_id, _ = studio_with_mediator(app)
    case = new_case(app, ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION)
    with pytest.raises(LabourRelationshipNotEntrustable):
        app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=D(2026, 3, 4))


@pytest.mark.parametrize("missing", ["assessment", "negative_assessment", "consent", "withdrawn"])
def test_entrustment_preconditions(app: MediationApplication, missing: str) -> None:
    studio_id, _ = studio_with_mediator(app)
    case = new_case(app)
    on = D(2026, 3, 3)
    if missing != "assessment":
        app.assess(
            CLERK,
            case.id,
            on=on,
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=missing != "negative_assessment",
            reason="审查",
        )
    if missing != "consent":
        app.record_consent(CLERK, case.id, party=Party.APPLICANT, given=True, on=on)
    app.record_consent(CLERK, case.id, party=Party.RESPONDENT, given=True, on=on)
    if missing == "withdrawn":
        app.record_consent(CLERK, case.id, party=Party.RESPONDENT, given=False, on=on)
    expected = NotEligibleForEntrustment if "assessment" in missing else ConsentMissing
    before = _events(app, case.id)
    with pytest.raises(expected):
        app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=on)
    assert _events(app, case.id) == before


def test_studio_must_cover_region_and_be_active(app: MediationApplication) -> None:
    far_studio, _ = studio_with_mediator(app, region_code="420200")  # 黄石 does not cover 武汉
    closed_studio, _ = studio_with_mediator(app, region_code="420100")
    app.close_studio(ADMIN, closed_studio, closed_on=D(2026, 1, 31))
    future_studio, _ = studio_with_mediator(app, region_code="420102", established_on=D(2026, 5, 1))
    case = new_case(app)
    ready_for_entrustment(app, case.id, D(2026, 3, 3))
    for studio_id, error in (
        (far_studio, StudioOutsideJurisdiction),
        (closed_studio, StudioInactive),
        (future_studio, StudioInactive),
    ):
        with pytest.raises(error):
            app.entrust(
                CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=D(2026, 3, 4)
            )
    assert app.get_case(case.id).status is Status.RECEIVED


def test_success_by_complete_performance_only(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    app.record_session(MEDIATOR, case.id, held_on=D(2026, 3, 6), summary="第一次调解")
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 9),
        amount=Decimal("10000.00"),
        performance_due_on=D(2026, 3, 31),
        terms="分两期支付",
    )
    partial = app.record_performance(
        MEDIATOR, case.id, on=D(2026, 3, 15), amount_paid=Decimal("4000.00"), complete=False
    )
    assert partial.status is Status.AGREEMENT_SIGNED and partial.outcome is None
    # late but complete performance is still success (until a failure is recorded)
    done = app.record_performance(
        MEDIATOR, case.id, on=D(2026, 4, 10), amount_paid=Decimal("6000.00"), complete=True
    )
    assert done.status is Status.SUCCEEDED and done.outcome is SuccessBranch.PERFORMANCE
    assert done.amount_paid == Decimal("10000.00")
    with pytest.raises(InvalidTransition):
        app.fail(MEDIATOR, case.id, on=D(2026, 4, 11), reason="x")


def test_statement_success_and_retraction_before_service(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 9),
        amount=Decimal("8000.00"),
        performance_due_on=D(2026, 4, 30),
        terms="一次性支付",
    )
    with pytest.raises(ReviewNotApplied):  # pre-filing: review first
        app.issue_statement(
            CLERK, case.id, issued_on=D(2026, 3, 12), number="鄂劳人仲调字〔2026〕1号"
        )
    app.apply_review(CLERK, case.id, applied_on=D(2026, 3, 10))
    ok = app.issue_statement(
        CLERK, case.id, issued_on=D(2026, 3, 12), number="鄂劳人仲调字〔2026〕1号"
    )
    assert ok.status is Status.SUCCEEDED and ok.outcome is SuccessBranch.STATEMENT
    app.serve_statement(CLERK, case.id, party=Party.APPLICANT, on=D(2026, 3, 13))
    with pytest.raises(StatementAlreadyServed):
        app.retract_statement(CLERK, case.id, party=Party.APPLICANT, on=D(2026, 3, 14))
    reversed_ = app.retract_statement(CLERK, case.id, party=Party.RESPONDENT, on=D(2026, 3, 14))
    # v1.1 rule 5: pre-filing, only the review ends; the agreement stays in force
    assert reversed_.status is Status.AGREEMENT_SIGNED and reversed_.success_reversed
    assert [d.kind for d in reversed_.deadlines(D(2026, 3, 14))] == ["performance"]


def test_review_window_is_fifteen_days(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    signed = app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 9),
        amount=Decimal("100.00"),
        performance_due_on=D(2026, 6, 30),
        terms="t",
    )
    assert signed.agreement is not None and signed.agreement.review_due_on == D(2026, 3, 24)
    with pytest.raises(ReviewWindowExpired):
        app.apply_review(CLERK, case.id, applied_on=D(2026, 3, 25))


def test_post_filing_statement_directly_and_consent_withdrawal_fails(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = new_case(app)
    app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 4))
    ready_for_entrustment(app, case.id, D(2026, 3, 5))
    entrusted = app.entrust(
        CLERK, case.id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 6)
    )
    kinds = {d.kind: d.due_on for d in entrusted.deadlines(D(2026, 3, 6))}
    assert kinds["mediation_window"] == D(2026, 3, 19)  # 10 working days from 2026-03-05
    assert kinds["award"] == D(2026, 4, 20)  # 45 days from 03-04 is Sat 04-18 -> Mon 04-20
    app.assign_mediator(CLERK, case.id, mediator_id=mediator_id, on=D(2026, 3, 6))
    failed = app.record_consent(
        CLERK, case.id, party=Party.RESPONDENT, given=False, on=D(2026, 3, 9)
    )
    assert failed.status is Status.MEDIATION_FAILED
    closed = app.close_case(CLERK, case.id, on=D(2026, 4, 1), disposition=Disposition.AWARD)
    assert closed.status is Status.CLOSED


def test_mediator_must_be_on_roster_and_active(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    other_studio, other_mediator = studio_with_mediator(app)
    case = new_case(app)
    ready_for_entrustment(app, case.id, D(2026, 3, 3))
    app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=D(2026, 3, 4))
    with pytest.raises(MediatorNotOnRoster):
        app.assign_mediator(CLERK, case.id, mediator_id=other_mediator, on=D(2026, 3, 5))
    app.retire_mediator(ADMIN, studio_id, mediator_id, retired_on=D(2026, 3, 5))
    with pytest.raises(MediatorNotOnRoster):
        app.assign_mediator(CLERK, case.id, mediator_id=mediator_id, on=D(2026, 3, 5))
    assert other_studio != studio_id


def test_dates_may_not_go_backwards_or_into_the_future(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)  # assigned on 2026-03-05
    with pytest.raises(DateOutOfOrder):
        app.sign_agreement(
            MEDIATOR,
            case.id,
            signed_on=D(2026, 3, 4),
            amount=Decimal("1.00"),
            performance_due_on=D(2026, 3, 31),
            terms="t",
        )
    with pytest.raises(DateOutOfOrder):
        app.assess(
            CLERK,
            new_case(app).id,
            on=D(2026, 3, 1),
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=True,
            reason="r",
        )
    with pytest.raises(DateInFuture):
        app.record_session(MEDIATOR, case.id, held_on=D(2026, 7, 2), summary="s")


def test_stale_expected_version_records_nothing(app: MediationApplication) -> None:
    case = new_case(app)
    stale = CommandContext(Actor("clerk", Role.CLERK), expected_version=case.version)
    app.decide_acceptance(stale, case.id, accepted=True, on=D(2026, 3, 3))
    with pytest.raises(VersionConflict):
        app.assess(
            stale,
            case.id,
            on=D(2026, 3, 3),
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=True,
            reason="r",
        )
    # the acceptance and its 案号 (Case.Numbered), nothing of the refused command
    assert app.get_case(case.id).version == case.version + 2


def test_idempotency_key_replays_and_refuses_reuse(app: MediationApplication) -> None:
    case = new_case(app)
    keyed = CommandContext(Actor("clerk", Role.CLERK), idempotency_key="abc-1")
    first = app.decide_acceptance(keyed, case.id, accepted=True, on=D(2026, 3, 3))
    again = app.decide_acceptance(keyed, case.id, accepted=True, on=D(2026, 3, 3))
    # received, numbered; accepted, numbered (its 案号): nothing more for the replay
    assert again.version == first.version and _events(app, case.id) == 4
    with pytest.raises(IdempotencyKeyReused):
        app.decide_acceptance(keyed, case.id, accepted=False, on=D(2026, 3, 3), reason="r")
    # scoped to the user: another user may use the same key
    other = CommandContext(Actor("clerk2", Role.CLERK), idempotency_key="abc-1")
    with pytest.raises(InvalidTransition):
        app.decide_acceptance(other, case.id, accepted=True, on=D(2026, 3, 3))


def test_racing_commands_same_expected_version_one_winner(app: MediationApplication) -> None:
    case = new_case(app)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def race(i: int) -> None:
        ctx = CommandContext(Actor(f"clerk{i}", Role.CLERK), expected_version=case.version)
        barrier.wait()
        try:
            app.assess(
                ctx,
                case.id,
                on=D(2026, 3, 3),
                within_scope=True,
                meets_acceptance_conditions=True,
                suitable_for_mediation=True,
                reason=f"r{i}",
            )
            results.append("ok")
        except VersionConflict:
            results.append("conflict")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    assert _events(app, case.id) == 3  # received, numbered, the winner's assessment


def test_racing_without_expected_version_redecides(app: MediationApplication) -> None:
    case = new_case(app)
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def session(i: int) -> None:
        barrier.wait()
        try:
            app.assess(
                CommandContext(Actor(f"c{i}", Role.CLERK)),
                case.id,
                on=D(2026, 3, 3),
                within_scope=True,
                meets_acceptance_conditions=True,
                suitable_for_mediation=True,
                reason=f"r{i}",
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and _events(app, case.id) == 4  # received, numbered, two assessments


def test_studio_quota(app: MediationApplication) -> None:
    from mediation.errors import MediatorQuotaExceeded

    studio = app.register_studio(
        ADMIN,
        name="工会法律服务工作站",
        region_code="420100",
        kind=StudioKind.UNION_WORKSTATION,
        established_on=D(2025, 1, 1),
        mediator_quota=1,
    )
    app.appoint_mediator(
        ADMIN, studio.id, name="甲", qualification="lawyer", appointed_on=D(2025, 1, 2)
    )
    with pytest.raises(MediatorQuotaExceeded):
        app.appoint_mediator(
            ADMIN, studio.id, name="乙", qualification="union_cadre", appointed_on=D(2025, 1, 2)
        )
