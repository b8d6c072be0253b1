"""Document numbers (文号): one gap-free counter per commission, category and year.

A ``DocumentNumbers`` aggregate per (commission, category, year) records each number it
hands out. It is saved in the *same* ``save()`` as the case's ``DocumentIssued`` event, so
a number exists exactly when its document does: two clerks racing for the next number
collide on the counter's version, the loser is re-decided with the next number, and a
refused or failed issue leaves no gap (documents.md §10: "allocate numbers atomically").

Not chained (like the idempotency record): it holds no personal data and no decision, and
the case event that uses the number is chained.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mediation.clock import recording_time

_NS = uuid5(NAMESPACE_URL, "urn:mediation:document-numbers")
_T = "mediation.document_numbers."


class DocumentNumbers(Aggregate):
    TOPIC = _T + "DocumentNumbers"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = _T + "Created"

    class Started(Aggregate.Created):
        """The counter's first number, taken by the document it was started for."""

        TOPIC = _T + "Started"
        class_version = 1
        commission: str
        category: str
        year: int
        document_id: UUID

        @staticmethod
        def create_timestamp() -> datetime:
            return recording_time()

        def apply(self, counter: DocumentNumbers) -> None:
            counter.commission, counter.category, counter.year = (
                self.commission,
                self.category,
                self.year,
            )
            counter.last = 1

    class Taken(Aggregate.Event):
        TOPIC = _T + "Taken"
        class_version = 1
        number: int
        document_id: UUID

        @staticmethod
        def create_timestamp() -> datetime:
            return recording_time()

        def apply(self, counter: DocumentNumbers) -> None:
            counter.last = self.number

    def __init__(self) -> None:
        self.commission = ""
        self.category = ""
        self.year = 0
        self.last = 0

    @staticmethod
    def id_for(commission: str, category: str, year: int) -> UUID:
        return uuid5(_NS, f"{commission}|{category}|{year}")

    @classmethod
    def start(cls, commission: str, category: str, year: int, document_id: UUID) -> DocumentNumbers:
        return cls._create(
            cls.Started,
            id=cls.id_for(commission, category, year),
            commission=commission,
            category=category,
            year=year,
            document_id=document_id,
        )

    def take(self, document_id: UUID) -> int:
        self.trigger_event(self.Taken, number=self.last + 1, document_id=document_id)
        return self.last
