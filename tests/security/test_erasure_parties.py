"""Erasure reaches every party (issue 17): each applicant of a collective dispute, and each
respondent's legal representative, address and agent; the statistics stay. Both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from api.views import case_view, history_event
from mediation import retention
from mediation.personal import ERASED
from mediation.values import Disposition
from projections import caseload
from projections.system import System
from tests.support.factories import CLERK, SteppingClock, collective_case, new_case


def _shown(system: System, case_id: Any, mask: bool = False) -> Any:
    app = system.app
    case = app.get_case(case_id)
    return case_view(
        case,
        date(2037, 1, 1),
        calendar=app.calendars.current(),
        reveal=app.personal.reveal,
        mask=mask,
    )


def test_retention_erases_every_party_of_a_case(database_url: str, clock: SteppingClock) -> None:
    system = System(database_url, clock=clock)
    try:
        app = system.app
        old = collective_case(app, 11, representatives=2, start=500)
        app.close_case(CLERK, old.id, on=date(2026, 3, 3), disposition=Disposition.WITHDRAWN)
        recent = new_case(app, received_on=date(2026, 3, 2))  # open: kept
        before = caseload.caseload(
            system.engine,
            region="420000",
            from_=date(2026, 3, 1),
            to=date(2026, 3, 31),
            group_by="county",
        ).totals
        plan = retention.plan(app, date(2037, 1, 1))
        erased_cases = {c for p in plan.erase for c in p.cases}
        assert erased_cases == {old.id}
        # eleven applicants, and the one respondent that recorded personal fields
        assert len(plan.erase) == 12
        keys = retention.apply(app, plan, actor="admin", now=datetime(2037, 1, 1, tzinfo=UTC))
        assert keys == 12
        view = _shown(system, old.id)
        for a in view.applicants:
            assert (a.name, a.id_number, a.phone) == (ERASED,) * 3
            assert a.worker_category == "employee"
        assert view.applicants[0].address == ERASED and view.applicants[0].agent is not None
        assert view.applicants[0].agent.name == ERASED
        assert view.representatives == [ERASED, ERASED]
        employer = view.respondents[0]
        assert employer.name.startswith("武汉第1") and employer.credit_code  # an organisation
        assert (employer.legal_representative, employer.address) == (ERASED, ERASED)
        masked = _shown(system, old.id, mask=True)
        assert masked.applicants[3].name == ERASED  # erased, not masked
        history = [history_event(e, reveal=app.personal.reveal) for e in app.history(old.id)]
        text = str(history[0].data)
        assert "工人003" not in text and "赵法人" not in text and ERASED in text
        assert _shown(system, recent.id).applicant.name == "张三"
        after = caseload.caseload(
            system.engine,
            region="420000",
            from_=date(2026, 3, 1),
            to=date(2026, 3, 31),
            group_by="county",
        ).totals
        assert (
            (after.received, after.workers, after.collective)
            == (
                before.received,
                before.workers,
                before.collective,
            )
            == (2, 12, 1)
        )
    finally:
        system.close()


def test_a_key_ring_reveals_a_list_as_one_read_per_person_would(
    database_url: str, clock: SteppingClock
) -> None:
    """Lists of cases reveal their parties through ``PersonalKeys.ring`` (one read for the
    page): the same names as one read per person, erased keys included, and a subject the
    ring was not given is still read from the store."""
    system = System(database_url, clock=clock)
    try:
        app = system.app
        old = collective_case(app, 11, representatives=2, start=700)
        app.close_case(CLERK, old.id, on=date(2026, 3, 3), disposition=Disposition.WITHDRAWN)
        recent = new_case(app, received_on=date(2026, 3, 2))
        plan = retention.plan(app, date(2037, 1, 1))
        retention.apply(app, plan, actor="admin", now=datetime(2037, 1, 1, tzinfo=UTC))
        cases = app.get_cases([old.id, recent.id])
        parties = [p for c in cases for p in c.every_party]
        ring = app.personal.ring(parties)
        for party in parties:
            assert ring.reveal(party) == app.personal.reveal(party)
        opened = [ring.reveal(a)["name"] for a in cases[0].applicants]
        assert opened == [ERASED] * 11
        assert ring.reveal(cases[1].applicant)["name"] == "张三"
        # reads: the ring's one; a subject outside it falls back to its own read
        outside = app.personal.ring(cases[0].applicants)
        assert outside.reveal(cases[1].applicant)["name"] == "张三"
        keys = app.personal.keys_of([*ring._keys, "no-such-subject"])
        assert keys["no-such-subject"] is None
        assert sum(k is not None for k in keys.values()) == len(
            {s for p in cases[1].applicants + cases[1].respondents for s in _subjects(p)}
        )
    finally:
        system.close()


def _subjects(party: dict[str, str]) -> set[str]:
    from mediation.personal import subjects_in

    return subjects_in(party)
