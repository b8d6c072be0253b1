"""Retention: whose personal data may be erased, and erasing it (``mediation retention``).

A person (a subject of the key table: each applicant, and each respondent's legal
representative, address and agent) is erased when every case that carries their sealed
data concluded (closed, not accepted, or succeeded) on or before the cutoff: ``today``
minus the retention period (default :data:`DEFAULT_YEARS`). One open case, or one that
concluded later, keeps the person. A key that no case uses (a command refused after the
key was made) is erased too.

Erasing deletes keys only: no event changes, so the chains, the checkpoints and every
read model (none holds a personal field in clear: ``rm_cases.parties`` keeps them
sealed) stay exactly as they were. Cases recorded before per-person keys hold their
personal data plain inside immutable events: they are reported (``legacy``) and cannot be
erased by this command.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, cast
from uuid import UUID

from mediation import personal
from mediation.case import Case
from mediation.identifiers import mask_name
from mediation.keystore import KeyRow
from mediation.values import Status

if TYPE_CHECKING:
    from mediation.application import MediationApplication

DEFAULT_YEARS = 10
# a case in one of these statuses is concluded since its status date
CONCLUDED = frozenset({Status.CLOSED, Status.NOT_ACCEPTED, Status.SUCCEEDED})
# a key used this recently is left alone (a command may be sealing with it right now)
IN_USE = timedelta(minutes=10)


def cutoff_for(today: date, years: int) -> date:
    """The last conclusion date that is past ``years`` of retention on ``today``."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


@dataclass
class Person:
    subject: str
    masked_name: str
    cases: list[UUID] = field(default_factory=list)
    concluded_on: date | None = None  # the latest conclusion among their cases


@dataclass
class RetentionPlan:
    today: date
    years: int
    cutoff: date
    erase: list[Person]  # every case past retention
    kept: int  # people with a case still open or within retention
    orphans: list[str]  # keys no case uses
    legacy: list[UUID]  # cases past retention whose personal data is stored plain
    seen: list[KeyRow]  # the key rows as read before the scan

    @property
    def cases(self) -> int:
        return sum(len(p.cases) for p in self.erase)


def _cases(app: MediationApplication) -> Iterator[Case]:
    start = 1
    while True:
        batch = app.recorder.select_notifications(start, 500, topics=[Case.Received.TOPIC])
        if not batch:
            return
        for n in batch:
            yield cast(Case, app.repository.get(UUID(str(n.originator_id))))
        start = batch[-1].id + 1


def plan(app: MediationApplication, today: date, years: int = DEFAULT_YEARS) -> RetentionPlan:
    """Who would be erased on ``today``; reads the keys first, then every case."""
    if years < 1:
        raise ValueError("the retention period is at least one year")
    cutoff = cutoff_for(today, years)
    seen = app.personal.rows()
    people: dict[str, Person] = {}
    kept: set[str] = set()
    legacy: list[UUID] = []
    for case in _cases(app):
        concluded = case.status_since if case.status in CONCLUDED else None
        past = concluded is not None and concluded <= cutoff
        # every party's subjects: each applicant, and each respondent with personal fields
        subjects: dict[str, dict[str, str]] = {}
        for party in case.every_party:
            for subject in personal.subjects_in(party):
                subjects.setdefault(subject, party)
        if not subjects and past:
            legacy.append(case.id)
        for subject, party in subjects.items():
            if not past:
                kept.add(subject)
                continue
            if subject not in people:
                name = app.personal.reveal(party).get("name", "")
                shown = name if name == personal.ERASED else mask_name(name)
                people[subject] = Person(subject, shown)
            person = people[subject]
            person.cases.append(case.id)
            assert concluded is not None
            if person.concluded_on is None or concluded > person.concluded_on:
                person.concluded_on = concluded
    stored = {row.subject for row in seen}
    erase = sorted(
        (p for s, p in people.items() if s not in kept and s in stored),
        key=lambda p: (p.concluded_on or date.min, p.subject),
    )
    orphans = sorted(stored - kept - set(people))
    return RetentionPlan(today, years, cutoff, erase, len(kept & stored), orphans, legacy, seen)


def apply(
    app: MediationApplication,
    retention: RetentionPlan,
    *,
    actor: str,
    now: datetime,
    in_use: timedelta = IN_USE,
) -> int:
    """Destroy the keys of the plan's people (and orphan keys); record it. Keys destroyed."""
    chosen = {p.subject for p in retention.erase} | set(retention.orphans)
    return app.personal.erase(
        [row for row in retention.seen if row.subject in chosen],
        used_before=now - in_use,
        actor=actor,
        retention_years=retention.years,
        cutoff=retention.cutoff,
        cases=retention.cases,
    )
