"""The aggregate cache and the caller's preloaded copy never weaken a command's guarantees."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from mediation import repository
from mediation.application import CommandContext, MediationApplication
from mediation.calendar_book import BOOK_ID
from mediation.errors import MediatorNotActive, VersionConflict
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from tests.support.factories import (
    ADMIN,
    MEDIATOR,
    SteppingClock,
    in_mediation,
    studio_with_mediator,
)
from tests.support.notices import SYNTHETIC_2031

HELD_ON = date(2026, 3, 10)


def _session(app: MediationApplication, ctx: CommandContext, case_id: object, n: int) -> int:
    case = app.record_session(ctx, case_id, held_on=HELD_ON, summary=f"session {n}")  # type: ignore[arg-type]
    return case.version


def test_cache_is_on_by_default_and_can_be_turned_off(
    app: MediationApplication, database_url: str
) -> None:
    assert app.repository.cache is not None
    off = MediationApplication({**persistence_env(database_url), "AGGREGATE_CACHE_MAXSIZE": ""})
    try:
        assert off.repository.cache is None
    finally:
        off.close()


def test_cached_case_sees_another_writers_events(
    app: MediationApplication, database_url: str, clock: SteppingClock
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    app.get_case(case.id)  # now cached here
    other = MediationApplication(persistence_env(database_url), clock=clock)  # "another process"
    try:
        version = _session(other, MEDIATOR, case.id, 1)
        assert app.get_case(case.id).version == version  # fast-forwarded, not stale
        assert _session(app, MEDIATOR, case.id, 2) == version + 1
        fresh = MediationApplication(
            {**persistence_env(database_url), "AGGREGATE_CACHE_MAXSIZE": ""}, clock=clock
        )
        try:
            assert fresh.get_case(case.id).__dict__ == app.get_case(case.id).__dict__
        finally:
            fresh.close()
    finally:
        other.close()


def test_a_stale_preloaded_case_is_reloaded(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    stale = app.get_case(case.id)
    moved = _session(app, MEDIATOR, case.id, 1)
    # no If-Match: the stale copy loses the race on save, the retry loads afresh
    version = _session(app, replace(MEDIATOR, loaded=stale), case.id, 2)
    assert version == moved + 1
    assert [e.originator_version for e in app.events.get(case.id)] == list(range(1, version + 1))


def test_a_stale_preloaded_case_with_if_match_is_a_conflict(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    stale = app.get_case(case.id)
    moved = _session(app, MEDIATOR, case.id, 1)
    ctx = replace(MEDIATOR, expected_version=stale.version, loaded=stale)
    with pytest.raises(VersionConflict):
        _session(app, ctx, case.id, 2)
    assert app.get_case(case.id).version == moved  # nothing recorded


def test_a_preloaded_copy_of_another_case_is_ignored(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    one = in_mediation(app, studio_id, mediator_id)
    two = in_mediation(app, studio_id, mediator_id)
    version = _session(app, replace(MEDIATOR, loaded=app.get_case(one.id)), two.id, 1)
    assert version == two.version + 1
    assert app.get_case(one.id).version == one.version


def test_projected_position_follows_the_callbacks(app: MediationApplication) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    assert app.projected_position() is None  # no callback registered: unknown
    reached: list[object] = [None]
    app.on_saved(lambda: reached[0])
    _session(app, MEDIATOR, case.id, 1)
    assert app.projected_position() is None  # the callback did not say
    reached[0] = 10**9
    _session(app, MEDIATOR, case.id, 2)
    assert app.projected_position() == 10**9

    def broken() -> int:
        raise RuntimeError("read model down")

    app.on_saved(broken)
    _session(app, MEDIATOR, case.id, 3)  # the command is still acknowledged
    assert app.projected_position() is None


def test_concurrent_copies_are_whole(app: MediationApplication) -> None:
    """Readers copying a cached case while it is fast-forwarded never see a torn state."""
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    base = case.version - case.sessions
    done = threading.Event()
    torn: list[tuple[int, int]] = []

    def reader() -> None:
        while not done.is_set():
            copy = app.get_case(case.id)
            if copy.sessions != copy.version - base:
                torn.append((copy.version, copy.sessions))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for n in range(30):
            _session(app, MEDIATOR, case.id, n)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=10)
    assert torn == []
    assert app.get_case(case.id).version == case.version + 30


def test_one_read_for_a_command_still_sees_other_writers(
    app: MediationApplication, database_url: str, clock: SteppingClock
) -> None:
    """A mediator's command reads its case, the studio (rule 16) and the calendar's record
    by one statement (``CachingRepository.prefetched``): all three as another process
    left them, and the command is decided on that."""
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)
    _session(app, MEDIATOR, case.id, 1)  # case, studio and calendar record now cached here
    reads: list[dict[object, int]] = []
    select_after = repository.select_after

    def spy(recorder: object, wanted: dict[object, int]) -> object:
        reads.append(dict(wanted))
        return select_after(recorder, wanted)  # type: ignore[arg-type]

    other = MediationApplication(persistence_env(database_url), clock=clock)
    try:
        version = _session(other, MEDIATOR, case.id, 2)  # the case moves on elsewhere
        repository.select_after = spy  # type: ignore[assignment]
        try:
            assert _session(app, MEDIATOR, case.id, 3) == version + 1
            assert set(reads[-1]) == {case.id, studio_id, BOOK_ID}
            other.retire_mediator(ADMIN, studio_id, mediator_id=mediator_id, retired_on=HELD_ON)
            with pytest.raises(MediatorNotActive):  # rule 16 on the studio as stored now
                _session(app, MEDIATOR, case.id, 4)
            assert studio_id in reads[-1]
        finally:
            repository.select_after = select_after  # type: ignore[assignment]
    finally:
        other.close()


def test_a_calendar_loaded_elsewhere_is_seen_by_the_one_read(
    app: MediationApplication, database_url: str, clock: SteppingClock
) -> None:
    other = MediationApplication(persistence_env(database_url), clock=clock)
    try:
        assert not app.calendars.current().covers_year(2031)  # known: nothing loaded
        other.calendars.load(Actor("ops-li", Role.ADMIN), SYNTHETIC_2031)
        with app.repository.prefetched({**app.calendars.watch(), UUID(int=1): 0}):  # type: ignore[attr-defined]
            assert app.calendars.current().covers_year(2031)
    finally:
        other.close()


def test_a_list_of_cases_is_read_by_one_statement_and_equals_each_case_loaded_alone(
    app: MediationApplication, database_url: str, clock: SteppingClock
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    cases = [in_mediation(app, studio_id, mediator_id).id for _ in range(4)]
    fresh = MediationApplication(persistence_env(database_url), clock=clock)  # nothing cached
    other = MediationApplication(persistence_env(database_url), clock=clock)
    reads: list[int] = []
    select_after = repository.select_after

    def spy(recorder: object, wanted: dict[object, int]) -> object:
        reads.append(len(wanted))
        return select_after(recorder, wanted)  # type: ignore[arg-type]

    try:
        fresh.get_case(cases[0])  # one cached, the others not
        _session(other, MEDIATOR, cases[0], 1)  # and it moves on elsewhere
        repository.select_after = spy  # type: ignore[assignment]
        try:
            ids = [cases[0], UUID(int=5), *cases[1:], studio_id]  # a missing id, a studio
            listed = fresh.get_cases(ids)
        finally:
            repository.select_after = select_after  # type: ignore[assignment]
        assert reads == [len(ids)]
        assert [c.id for c in listed] == cases
        uncached = MediationApplication(
            {**persistence_env(database_url), "AGGREGATE_CACHE_MAXSIZE": ""}, clock=clock
        )
        try:
            for case in listed:
                assert case.__dict__ == uncached.get_case(case.id).__dict__
        finally:
            uncached.close()
        assert fresh.get_case(cases[1]).version == listed[1].version  # now cached, and whole
    finally:
        other.close()
        fresh.close()
