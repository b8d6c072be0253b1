"""Work lists and case lists: filters, overdue first, stable cursors; read-your-writes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from mediation.errors import ValidationFailed
from mediation.values import Route
from projections import caseload, worklists
from projections.system import System
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    SteppingClock,
    in_mediation,
    new_case,
    ready_for_entrustment,
    studio_with_mediator,
)

CHINA = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, tzinfo=CHINA)


def _pages(fetch: object, limit: int) -> list[UUID]:
    seen: list[UUID] = []
    cursor: str | None = None
    while True:
        ids, cursor = fetch(limit=limit, cursor=cursor)  # type: ignore[operator]
        seen += ids
        if cursor is None:
            return seen


def test_queues_put_overdue_first_and_paginate_stably(system: System, clock: SteppingClock) -> None:
    app = system.app
    clock.set(at(2026, 3, 1))
    studio_id, mediator_id = studio_with_mediator(app)
    clock.set(at(2026, 3, 31))
    received = [
        new_case(app, received_on=date(2026, 3, 2) + timedelta(days=i)).id for i in range(7)
    ]
    mediating = [
        in_mediation(app, studio_id, mediator_id, received_on=date(2026, 3, 20) - timedelta(i)).id
        for i in range(4)
    ]
    app.record_session(MEDIATOR, mediating[0], held_on=date(2026, 3, 25), summary="调解")
    app.sign_agreement(
        MEDIATOR,
        mediating[0],
        signed_on=date(2026, 3, 25),
        amount=Decimal("100.00"),
        performance_due_on=date(2026, 4, 30),
        terms="t",
    )
    today = date(2026, 3, 31)

    clerk = _pages(
        lambda **kw: worklists.clerk_queue(system.engine, region_prefix="420100", **kw),
        limit=3,
    )
    assert sorted(clerk) == sorted(received)
    # acceptance is due 5 working days after receipt: the earliest received are overdue
    overdue = [
        i
        for i in worklists.list_cases(
            system.engine, region_prefix="4201", overdue=True, today=today, limit=100
        )[0]
        if i in received
    ]
    assert overdue and set(clerk[: len(overdue)]) == set(overdue)

    mine = _pages(
        lambda **kw: worklists.mediator_queue(system.engine, mediator_id=mediator_id, **kw),
        limit=2,
    )
    assert sorted(mine) == sorted(mediating)
    # the agreement (performance due 30 April) comes after every open window
    assert mine[-1] == mediating[0]

    everything = _pages(
        lambda **kw: worklists.list_cases(system.engine, region_prefix="420000", today=today, **kw),
        limit=4,
    )
    assert len(everything) == len(set(everything)) == 11
    in_studio = worklists.list_cases(
        system.engine, region_prefix="42", studio_id=studio_id, today=today, limit=50
    )[0]
    assert sorted(in_studio) == sorted(mediating)
    signed = worklists.list_cases(
        system.engine, region_prefix="42", status="agreement_signed", today=today
    )[0]
    assert signed == [mediating[0]]
    assert worklists.list_cases(system.engine, region_prefix="4205", today=today) == ([], None)
    for bad in ("nonsense", "eyJrIjoiY2xlcmsiLCJ2IjpbXX0", "!!!"):
        with pytest.raises(ValidationFailed):
            worklists.list_cases(system.engine, region_prefix="42", today=today, cursor=bad)
    # a clerk-queue cursor is not a case-list cursor
    _, clerk_cursor = worklists.clerk_queue(system.engine, region_prefix="42", limit=1)
    assert clerk_cursor is not None
    with pytest.raises(ValidationFailed):
        worklists.list_cases(system.engine, region_prefix="42", today=today, cursor=clerk_cursor)
    with pytest.raises(ValidationFailed):
        caseload.caseload(
            system.engine,
            region="420000",
            from_=today,
            to=today,
            group_by="weekday",
        )


def test_in_process_reads_its_own_writes(system: System, clock: SteppingClock) -> None:
    clock.set(at(2026, 3, 10))
    case = new_case(system.app, received_on=date(2026, 3, 9))
    position = system.app.last_position()
    assert position is not None
    system.wait_for(position, timeout=1)
    assert system.lag() == 0
    ids, _ = worklists.list_cases(system.engine, region_prefix="42", today=system.today())
    assert ids == [case.id]


def test_a_worker_mode_reader_waits_for_the_position_of_its_write(
    database_url: str, clock: SteppingClock
) -> None:
    writer = System(database_url, clock=clock, in_process=False)
    try:
        clock.set(at(2026, 3, 10))
        case = new_case(writer.app, received_on=date(2026, 3, 9))
        position = writer.app.last_position()
        assert position is not None and writer.lag() > 0
        with pytest.raises(TimeoutError):
            writer.wait_for(position, timeout=0.05)
        writer.catch_up()  # what the worker would do
        writer.wait_for(position, timeout=1)
        ids, _ = worklists.list_cases(writer.engine, region_prefix="42", today=date(2026, 3, 10))
        assert ids == [case.id]
    finally:
        writer.close()


def test_read_models_in_a_separate_database(tmp_path: Path, clock: SteppingClock) -> None:
    system = System(
        f"sqlite:///{tmp_path / 'events.sqlite3'}",
        clock=clock,
        read_model_url=f"sqlite:///{tmp_path / 'views.sqlite3'}",
    )
    try:
        clock.set(at(2026, 3, 10))
        studio_id, mediator_id = studio_with_mediator(system.app)
        case = new_case(system.app, received_on=date(2026, 3, 9))
        ready_for_entrustment(system.app, case.id, date(2026, 3, 9))
        system.app.entrust(
            CLERK, case.id, studio_id=studio_id, route=Route.PRE_FILING, on=date(2026, 3, 10)
        )
        report = caseload.caseload(
            system.engine,
            region="420000",
            from_=date(2026, 3, 1),
            to=date(2026, 3, 31),
            group_by="studio",
        )
        assert report.totals.entrusted == 1 and report.totals.pending == 1
        assert {r.label for r in report.rows} == {"江岸区裁调对接工作室", "未委托"}
    finally:
        system.close()
    assert (tmp_path / "views.sqlite3").exists()
    _ = mediator_id
