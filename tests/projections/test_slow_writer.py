"""Positions commit in order on PostgreSQL, so catch-up never passes over a slow writer.

A catch-up reads up to the newest committed position and tracks it. If a writer that took
a lower position could commit *after* that, its event would be skipped for good. The
library's insert function takes no lock against it; ours (``mediation/storage.py``) takes
an exclusive lock on the events table before positions are drawn. Here a slow writer
holds an uncommitted insert while a command is saved and projected; afterwards the read
models must equal a clean rebuild.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg

from projections.rebuild import table_rows
from projections.sql import NEXT, case_tables
from projections.system import System
from tests.support.factories import SteppingClock, new_case


def test_a_slow_writer_is_never_passed_over(postgres_url: str, clock: SteppingClock) -> None:
    system = System(postgres_url, clock=clock)
    slow: psycopg.Connection[tuple[object, ...]] | None = None
    try:
        first = new_case(system.app, received_on=system.today())
        template = system.app.recorder.select_events(first.id, limit=1)[0]
        base, schema = postgres_url.split("?schema=")
        slow = psycopg.connect(base)
        slow.execute(f'SET search_path TO "{schema}"')
        slow.execute(  # takes the next position, does not commit yet
            "INSERT INTO mediation_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, %s, %s)",
            (uuid.uuid4(), template.topic, template.state),
        )
        errors: list[BaseException] = []

        def command() -> None:
            try:  # saved and projected in-process while the slow writer is open
                new_case(system.app, received_on=system.today())
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        writer = threading.Thread(target=command)
        writer.start()
        time.sleep(0.5)
        slow.commit()
        slow.close()
        slow = None
        writer.join(timeout=30)
        assert not writer.is_alive()
        assert errors == []
        system.catch_up()
        assert system.lag() == 0
        live = table_rows(system.engine, case_tables())
        system.runner.rebuild("cases", swap=False)
        assert len(live["cases"]) == 3
        assert live == table_rows(system.engine, case_tables(NEXT))
    finally:
        if slow is not None:
            slow.close()
        system.close()
