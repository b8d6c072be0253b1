"""One rule, one place: the case list's ``sort_due`` is the earliest of the deadlines the
aggregate itself reports open (both follow ``mediation.deadlines``), and every event class
of the domain has a handler in its view (a new event without one fails here)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select

from mediation.case import Case
from mediation.organisation import Studio
from projections import cases_view, organisation_view
from projections.cases_batch import NO_DUE
from projections.sql import case_tables
from projections.system import System
from tests.projections.history import drive
from tests.support.factories import SteppingClock


def _event_classes(aggregate: type[Any]) -> set[type[Any]]:
    """The aggregate's recorded event classes (``Event`` and ``Created`` are the bases the
    library asks for, never recorded)."""
    return {
        value
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and hasattr(value, "TOPIC")
        and value.__name__ not in ("Event", "Created")
    }


def test_every_event_class_has_a_handler() -> None:
    assert _event_classes(Case) == set(cases_view.ON_EVENT)
    assert _event_classes(Studio) == set(organisation_view.ON_EVENT)


def test_sort_due_is_the_earliest_deadline_the_case_reports(
    database_url: str, clock: SteppingClock
) -> None:
    system = System(database_url, clock=clock, in_process=False)
    try:
        drive(system.app, clock, random.Random(8), cases=40, days=60)
        system.catch_up()
        cases = case_tables()["cases"]
        with system.engine.connect() as conn:
            rows = conn.execute(select(cases.c.case_id, cases.c.sort_due)).all()
        assert len(rows) >= 40
        kinds: set[str] = set()
        for case_id, stored in rows:
            deadlines = system.app.get_case(UUID(case_id)).deadlines(date(2026, 1, 1))
            kinds.update(d.kind for d in deadlines)
            assert stored == min((d.due_on for d in deadlines), default=NO_DUE), case_id
        # the history reaches most of the rule's branches
        assert {"acceptance_decision", "mediation_window", "performance"} <= kinds
    finally:
        system.close()
