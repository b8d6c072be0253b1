"""The holiday-calendar record's stored events (checked in) decode, replay and verify forever."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from mediation.application import MediationApplication
from mediation.calendar_book import BOOK_ID, HolidayCalendarBook
from mediation.verify import verify

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored_calendar_events_v1.json"


def _stored() -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(r["originator_id"]),
            originator_version=r["originator_version"],
            topic=r["topic"],
            state=r["state"].encode(),
        )
        for r in json.loads(FIXTURE.read_text(encoding="utf-8"))
    ]


def test_the_stored_calendar_events_decode_and_replay() -> None:
    app = MediationApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = _stored()
    assert [s.topic for s in stored] == [
        HolidayCalendarBook.Opened.TOPIC,
        HolidayCalendarBook.YearLoaded.TOPIC,
        HolidayCalendarBook.YearLoaded.TOPIC,
    ]
    book: Any = None
    for record in stored:
        event: Any = app.mapper.to_domain_event(record)
        assert record.topic == type(event).TOPIC
        book = event.mutate(book)
    assert isinstance(book, HolidayCalendarBook) and book.id == BOOK_ID
    assert [(v.version, v.loaded_by) for v in book.years[2031]] == [(1, "ops-li"), (2, "ops-wang")]
    calendar = book.calendar()
    assert calendar.version.endswith("+2031v2")
    assert calendar.is_working_day(date(2031, 10, 6))  # version 2's shorter break
    assert not calendar.is_working_day(date(2031, 10, 5))


def test_the_stored_calendar_events_verify() -> None:
    app = MediationApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.recorder.insert_events(_stored())
    report = verify(app)
    assert report.ok and report.events == 3
    assert app.calendars.current().loaded_years == [2031]
