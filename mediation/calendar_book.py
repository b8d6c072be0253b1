"""The holiday notices an operator loaded: one event-sourced, hash-chained record.

Every load of a year's notice (``mediation calendar load 2027.toml`` or the admin page) is a
``YearLoaded`` event with who loaded it, the business date, the policy in force, the
validated notice, the file's text and its SHA-256; the year's ``year_version`` counts its
loads (1, 2, …). Nothing is ever replaced: a corrected notice is a new version, and the
newest version of each year is the one in force. Event classes are stored format (see
``mediation.case``): their topics and fields are forever.

:class:`HolidayCalendars` is the application's service: it loads a notice and gives the
:class:`~mediation.calendar.HolidayCalendar` in force, rebuilt only when the record has
moved on (one small indexed read per call otherwise), so a notice loaded by another
process is used by the next command everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import AggregateRecorder, IntegrityError

from mediation.calendar import BASE, HolidayCalendar, YearNotice
from mediation.calendar_file import parse_notice
from mediation.clock import Clock, recording_with
from mediation.envelope import ChainedAggregate, Envelope
from mediation.errors import VersionConflict
from mediation.policy import Policy
from mediation.values import Actor

__all__ = ["BOOK_ID", "HolidayCalendarBook", "HolidayCalendars", "LoadResult", "LoadedYear"]

BOOK_ID = uuid5(NAMESPACE_URL, "urn:mediation:holiday-calendar")
_T = "mediation.calendar."


@dataclass(frozen=True)
class LoadedYear:
    """One recorded version of a year's notice."""

    notice: YearNotice
    version: int
    loaded_by: str
    loaded_role: str
    loaded_on: date
    recorded_at: datetime
    digest: str


class HolidayCalendarBook(ChainedAggregate):
    TOPIC = _T + "HolidayCalendarBook"

    class Event(Envelope, Aggregate.Event):
        TOPIC = _T + "Event"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = _T + "Created"

    class Opened(Envelope, Aggregate.Created):
        TOPIC = _T + "Opened"
        class_version = 1

        def apply(self, book: HolidayCalendarBook) -> None:
            pass

    class YearLoaded(Event):
        TOPIC = _T + "YearLoaded"
        class_version = 1
        year: int
        year_version: int
        notice: dict[str, Any]
        source_text: str
        digest: str

        def apply(self, book: HolidayCalendarBook) -> None:
            book.years.setdefault(self.year, []).append(
                LoadedYear(
                    notice=YearNotice.from_dict(self.notice),
                    version=self.year_version,
                    loaded_by=self.actor,
                    loaded_role=self.actor_role,
                    loaded_on=self.on,
                    recorded_at=self.timestamp,
                    digest=self.digest,
                )
            )

    def __init__(self) -> None:
        self.years: dict[int, list[LoadedYear]] = {}

    @classmethod
    def open(cls, *, actor: Actor, policy: Policy, on: date) -> HolidayCalendarBook:
        return cls._create_chained(cls.Opened, id=BOOK_ID, **cls.envelope(actor, on, policy))

    def load(
        self, *, actor: Actor, policy: Policy, on: date, notice: YearNotice, source_text: str
    ) -> None:
        self.trigger_event(
            self.YearLoaded,
            year=notice.year,
            year_version=len(self.years.get(notice.year, [])) + 1,
            notice=notice.to_dict(),
            source_text=source_text,
            digest=digest_of(source_text),
            **self.envelope(actor, on, policy),
        )

    def newest(self, year: int) -> LoadedYear | None:
        versions = self.years.get(year)
        return versions[-1] if versions else None

    def calendar(self) -> HolidayCalendar:
        """The newest version of every loaded year, over the package."""
        newest = {year: versions[-1] for year, versions in self.years.items()}
        return HolidayCalendar(
            {year: v.notice for year, v in newest.items()},
            versions={year: v.version for year, v in newest.items()},
        )


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadResult:
    """What a load did: the version in force for the year, and the days whose status changed."""

    loaded: LoadedYear
    recorded: bool  # False: the same text as the newest version, nothing recorded
    became_days_off: list[date]
    became_working_days: list[date]
    source_before: str | None  # what answered for the year before the load


class _Application(Protocol):
    """What the service needs of ``MediationApplication``."""

    @property
    def repository(self) -> Repository[UUID]: ...

    @property
    def recorder(self) -> AggregateRecorder: ...

    @property
    def clock(self) -> Clock: ...

    def today(self) -> date: ...

    def policy_on(self, on: date) -> Policy: ...

    def changed_since(self, aggregate_id: UUID, version: int) -> bool: ...


class HolidayCalendars:
    """Load notices and answer the calendar in force, for one application."""

    def __init__(self, app: _Application, save: Callable[[Aggregate], object]) -> None:
        self._app = app
        self._save = save
        # (book version, book, its calendar); replaced whole, never mutated; (0, None, BASE)
        # while no notice was loaded
        self._cached: tuple[int, HolidayCalendarBook | None, HolidayCalendar] | None = None

    def watch(self) -> dict[UUID, int]:
        """The record's id and the version this service knows (for a command's one read of
        what it loads, ``CachingRepository.prefetched``); empty before the first read."""
        cached = self._cached
        return {BOOK_ID: cached[0]} if cached is not None else {}

    def _refresh(self) -> tuple[int, HolidayCalendarBook | None, HolidayCalendar]:
        cached = self._cached
        if cached is not None and not self._app.changed_since(BOOK_ID, cached[0]):
            return cached
        book = self._stored()
        entry = (book.version, book, book.calendar()) if book is not None else (0, None, BASE)
        self._cached = entry
        return entry

    def _stored(self) -> HolidayCalendarBook | None:
        try:
            book: Aggregate = self._app.repository.get(BOOK_ID)
        except AggregateNotFoundError:
            return None
        assert isinstance(book, HolidayCalendarBook)
        return book

    def book(self) -> HolidayCalendarBook | None:
        """The record as stored now (None before the first load). Read it, never change it."""
        return self._refresh()[1]

    def current(self) -> HolidayCalendar:
        """The calendar in force: the newest loaded notices over the package."""
        return self._refresh()[2]

    def load(self, actor: Actor, text: str) -> LoadResult:
        """Validate ``text`` and record it as the next version of its year.

        Raises ``NoticeError`` (nothing recorded) for an invalid file. The same text as the
        year's newest version records nothing and says so.
        """
        notice = parse_notice(text)
        for attempt in (1, 2):
            book = self._stored()  # a private copy: a refused save changes nothing shared
            before = book.calendar() if book is not None else BASE
            newest = book.newest(notice.year) if book is not None else None
            if newest is not None and newest.digest == digest_of(text):
                return LoadResult(newest, False, [], [], before.source(notice.year))
            today = self._app.today()
            policy = self._app.policy_on(today)
            with recording_with(self._app.clock):
                if book is None:
                    book = HolidayCalendarBook.open(actor=actor, policy=policy, on=today)
                book.load(actor=actor, policy=policy, on=today, notice=notice, source_text=text)
            try:
                self._save(book)
            except IntegrityError:
                if attempt == 2:
                    raise VersionConflict(
                        "another load changed the holiday calendar first"
                    ) from None
                continue
            loaded = book.newest(notice.year)
            assert loaded is not None
            after = book.calendar()
            return LoadResult(
                loaded,
                True,
                *_changes(before, after, notice.year),
                before.source(notice.year),
            )
        raise AssertionError("unreachable")  # pragma: no cover


def _changes(
    before: HolidayCalendar, after: HolidayCalendar, year: int
) -> tuple[list[date], list[date]]:
    off: list[date] = []
    working: list[date] = []
    d = date(year, 1, 1)
    while d.year == year:
        was, now = before.is_working_day(d), after.is_working_day(d)
        if was and not now:
            off.append(d)
        elif now and not was:
            working.append(d)
        d = date.fromordinal(d.toordinal() + 1)
    return off, working
