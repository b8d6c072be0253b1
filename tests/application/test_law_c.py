"""Brief §8 rules 1, 9, 10, 11, 15 and 16 (issue 15): one test named after each rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mediation.application import MediationApplication
from mediation.calendar import add_working_days
from mediation.errors import (
    ConsentMissing,
    ExtensionNeedsBothParties,
    InvalidTransition,
    MediatorNotActive,
    NotAMediationBody,
    TransferInvalid,
)
from mediation.values import ClaimCategory, Party, Route, Status, StudioKind
from tests.support.factories import (
    ADMIN,
    CLERK,
    MEDIATOR,
    applicant,
    claims,
    in_mediation,
    ready_for_entrustment,
    respondent,
    studio_with_mediator,
)

D = date


def _failed_pre_filing_then_accepted(app: MediationApplication) -> tuple[object, object]:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)  # consents 03-03, entrusted 03-04
    app.fail(MEDIATOR, case.id, on=D(2026, 3, 10), reason="双方分歧较大")
    app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 11))
    return case.id, studio_id


def test_rule_01_consent_is_for_one_mediation_reentrustment_needs_fresh_consents(
    app: MediationApplication,
) -> None:
    case_id, studio_id = _failed_pre_filing_then_accepted(app)
    with pytest.raises(ConsentMissing):  # the consents of the failed mediation are used up
        app.entrust(CLERK, case_id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 12))
    app.record_consent(CLERK, case_id, party=Party.APPLICANT, given=True, on=D(2026, 3, 12))
    with pytest.raises(ConsentMissing):  # one fresh consent is not enough
        app.entrust(CLERK, case_id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 12))
    app.record_consent(CLERK, case_id, party=Party.RESPONDENT, given=True, on=D(2026, 3, 16))
    again = app.entrust(
        CLERK, case_id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 16)
    )
    assert again.status is Status.ENTRUSTED and again.mediation_count == 2
    # the post-filing window counts from the later fresh consent, not from acceptance
    assert again.window_ends_on == add_working_days(D(2026, 3, 16), 10)


def test_rule_01_a_consent_withdrawn_ends_the_mediation_and_its_consents(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    app.record_consent(CLERK, case.id, party=Party.RESPONDENT, given=False, on=D(2026, 3, 6))
    app.decide_acceptance(CLERK, case.id, accepted=True, on=D(2026, 3, 9))
    app.record_consent(CLERK, case.id, party=Party.RESPONDENT, given=True, on=D(2026, 3, 9))
    with pytest.raises(ConsentMissing):  # the applicant's consent was for the first one
        app.entrust(CLERK, case.id, studio_id=studio_id, route=Route.POST_FILING, on=D(2026, 3, 9))


def test_rule_09_window_extension_needs_both_parties_agreement(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    before = len(app.history(case.id))
    with pytest.raises(ExtensionNeedsBothParties):
        app.extend_window(CLERK, case.id, days=10, on=D(2026, 3, 6))
    assert len(app.history(case.id)) == before  # nothing recorded
    extended = app.extend_window(CLERK, case.id, days=10, on=D(2026, 3, 6), parties_agreed=True)
    assert extended.window_extended
    entry = app.history(case.id)[-1]
    assert entry.type == "WindowExtended" and entry.data["parties_agreed"] is True


def _outpost(app: MediationApplication) -> object:
    return app.register_studio(
        ADMIN,
        name="江岸区仲裁驻庭",
        region_code="420100",
        kind=StudioKind.ARBITRATION_OUTPOST,
        established_on=D(2025, 1, 1),
    )


def test_rule_10_an_arbitration_outpost_is_not_a_mediation_body(
    app: MediationApplication,
) -> None:
    outpost = _outpost(app)
    with pytest.raises(NotAMediationBody):  # no mediators
        app.appoint_mediator(
            ADMIN, outpost.id, name="赵调解", qualification="lawyer", appointed_on=D(2025, 2, 1)
        )
    case = app.receive_case(
        CLERK,
        region_code="420102",
        received_on=D(2026, 3, 2),
        applicant=applicant(3),
        respondent=respondent(),
        claims=claims(),
    )
    ready_for_entrustment(app, case.id, D(2026, 3, 3))
    with pytest.raises(NotAMediationBody):  # no entrusted cases
        app.entrust(CLERK, case.id, studio_id=outpost.id, route=Route.PRE_FILING, on=D(2026, 3, 4))


def test_rule_11_recusal_keeps_the_mediation_and_its_window(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    window = case.window_ends_on
    recused = app.recuse(CLERK, case.id, on=D(2026, 3, 6), reason="调解员与被申请人有利害关系")
    assert recused.status is Status.ENTRUSTED and recused.mediator_id is None
    assert recused.mediation_count == 1 and recused.window_ends_on == window
    assert recused.failure_reason is None and recused.mediations_ended == 0
    with pytest.raises(InvalidTransition):  # no mediator to step aside now
        app.recuse(CLERK, case.id, on=D(2026, 3, 6), reason="再次")
    _, other = app.appoint_mediator(
        ADMIN, studio_id, name="李调解", qualification="lawyer", appointed_on=D(2026, 3, 1)
    )
    again = app.assign_mediator(CLERK, case.id, mediator_id=other, on=D(2026, 3, 7))
    assert again.status is Status.IN_MEDIATION and again.mediation_count == 1


def test_rule_11_transfer_moves_the_same_mediation_to_another_studio(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    second, _ = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    window = case.window_ends_on
    with pytest.raises(TransferInvalid):
        app.transfer(CLERK, case.id, studio_id=studio_id, on=D(2026, 3, 6), reason="同一工作室")
    with pytest.raises(NotAMediationBody):
        app.transfer(CLERK, case.id, studio_id=_outpost(app).id, on=D(2026, 3, 6), reason="驻庭")
    moved = app.transfer(CLERK, case.id, studio_id=second, on=D(2026, 3, 6), reason="住所地")
    assert moved.studio_id == second and moved.mediator_id is None
    assert moved.status is Status.ENTRUSTED and moved.mediation_count == 1
    assert moved.window_ends_on == window and moved.route is Route.PRE_FILING


def test_rule_15_limitation_counts_pay_owed_during_employment_from_its_end(
    app: MediationApplication,
) -> None:
    def receive(*categories: ClaimCategory, ended: date | None) -> bool:
        case = app.receive_case(
            CLERK,
            region_code="420102",
            received_on=D(2026, 3, 2),
            applicant=applicant(5),
            respondent=respondent(),
            claims=claims(*categories),
            infringement_known_on=D(2024, 6, 1),
            employment_ended_on=ended,
        )
        return case.limitation_warning

    # unpaid pay known since 2024, employment ended 2025-12: within the year from the end
    assert receive(ClaimCategory.REMUNERATION, ended=D(2025, 12, 31)) is False
    assert receive(ClaimCategory.REMUNERATION, ended=D(2025, 1, 31)) is True
    # another claim still runs from when the worker knew
    assert receive(ClaimCategory.DISMISSAL, ended=D(2025, 12, 31)) is True
    assert receive(ClaimCategory.REMUNERATION, ended=None) is True  # end unknown


def test_rule_16_a_retired_mediator_records_nothing(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    app.retire_mediator(ADMIN, studio_id, mediator_id, retired_on=D(2026, 3, 8))
    app.record_session(MEDIATOR, case.id, held_on=D(2026, 3, 7), summary="退出前的会谈")
    with pytest.raises(MediatorNotActive):
        app.record_session(MEDIATOR, case.id, held_on=D(2026, 3, 9), summary="退出后")
    with pytest.raises(MediatorNotActive):
        app.fail(MEDIATOR, case.id, on=D(2026, 3, 9), reason="退出后")
    with pytest.raises(InvalidTransition):  # the state answers first
        app.record_performance(
            MEDIATOR, case.id, on=D(2026, 3, 9), amount_paid=Decimal("1.00"), complete=True
        )
    # the clerk replaces the mediator by recusal; the mediation goes on
    recused = app.recuse(CLERK, case.id, on=D(2026, 3, 9), reason="调解员已退出")
    assert recused.status is Status.ENTRUSTED
