"""Brief §8 rule 11 in the read models: a recused or transferred case stays one mediation,
and neither step is a failure or earns a subsidy."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from projections import caseload, subsidies, worklists
from projections.system import System
from tests.support.factories import (
    ADMIN,
    CLERK,
    MEDIATOR,
    SteppingClock,
    in_mediation,
    studio_with_mediator,
)

CHINA = ZoneInfo("Asia/Shanghai")
D = date


def test_rule_11_recusal_and_transfer_count_one_mediation_and_earn_nothing(
    system: System, clock: SteppingClock
) -> None:
    app = system.app
    clock.set(datetime(2026, 3, 20, 9, tzinfo=CHINA))
    first, mediator_id = studio_with_mediator(app)
    second, second_mediator = studio_with_mediator(app)
    case = in_mediation(app, first, mediator_id)  # entrusted 03-04, assigned 03-05
    app.record_session(MEDIATOR, case.id, held_on=D(2026, 3, 5), summary="第一次")
    app.recuse(CLERK, case.id, on=D(2026, 3, 6), reason="利害关系")
    _, replacement = app.appoint_mediator(
        ADMIN, first, name="李调解", qualification="lawyer", appointed_on=D(2026, 3, 1)
    )
    app.assign_mediator(CLERK, case.id, mediator_id=replacement, on=D(2026, 3, 6))
    app.transfer(CLERK, case.id, studio_id=second, on=D(2026, 3, 9), reason="住所地")
    app.assign_mediator(CLERK, case.id, mediator_id=second_mediator, on=D(2026, 3, 9))

    march = dict(region="420000", from_=D(2026, 3, 1), to=D(2026, 3, 31))
    report = caseload.caseload(system.engine, group_by="city", **march)  # type: ignore[arg-type]
    assert report.totals.entrusted == 1
    assert report.totals.failed == 0 and report.totals.pending == 1
    statement = subsidies.subsidies(system.engine, region="420000", month="2026-03")
    assert statement.totals.amount == Decimal("0.00") and statement.totals.cases == 0

    # the case list finds it at its new studio, with its new mediator
    today = D(2026, 3, 20)
    at_second, _ = worklists.list_cases(
        system.engine, region_prefix="4201", studio_id=second, today=today
    )
    assert at_second == [case.id]
    assert worklists.list_cases(
        system.engine, region_prefix="4201", mediator_id=second_mediator, today=today
    )[0] == [case.id]
    assert (
        worklists.list_cases(system.engine, region_prefix="4201", studio_id=first, today=today)[0]
        == []
    )
    by_studio = caseload.caseload(system.engine, group_by="studio", **march)  # type: ignore[arg-type]
    entrusted = {r.key: r.entrusted for r in by_studio.rows}
    assert entrusted.get(str(first)) == 1 and not entrusted.get(str(second))
