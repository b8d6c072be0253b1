"""The application's storage plumbing: dates as ISO strings, the cached repository whose
copies are whole, and the record that makes a keyed command idempotent.

``IdempotencyRecord`` keeps the topics it was first stored under (``mediation.application``).
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Transcoding

from mediation.clock import recording_time

_IDEMPOTENCY_NS = uuid5(NAMESPACE_URL, "urn:mediation:idempotency")


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class IdempotencyRecord(Aggregate):
    """Remembers a keyed command's request fingerprint and its result, atomically with it."""

    TOPIC = "mediation.application.IdempotencyRecord"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = "mediation.application.IdempotencyRecord.Created"

    class Recorded(Aggregate.Created):
        TOPIC = "mediation.application.IdempotencyRecord.Recorded"
        class_version = 1
        username: str
        fingerprint: str
        result_id: UUID
        result_version: int

        @staticmethod
        def create_timestamp() -> datetime:
            return recording_time()

        def apply(self, record: IdempotencyRecord) -> None:
            record.username = self.username
            record.fingerprint = self.fingerprint
            record.result_id = self.result_id
            record.result_version = self.result_version

    def __init__(self) -> None:
        self.username = ""
        self.fingerprint = ""
        self.result_id = UUID(int=0)
        self.result_version = 0

    @staticmethod
    def id_for(username: str, key: str) -> UUID:
        return uuid5(_IDEMPOTENCY_NS, f"{username}\n{key}")

    @classmethod
    def record(
        cls, username: str, key: str, fingerprint: str, result: Aggregate
    ) -> IdempotencyRecord:
        return cls._create(
            cls.Recorded,
            id=cls.id_for(username, key),
            username=username,
            fingerprint=fingerprint,
            result_id=result.id,
            result_version=result.version,
        )


class CachingRepository(Repository[UUID]):
    """The library's repository, with each cached aggregate's fast-forward *and copy* atomic.

    The library fast-forwards a cached aggregate under a lock but deep-copies it after
    releasing that lock, so another thread's fast-forward of the same aggregate could
    change it mid-copy (a torn copy). Here both happen under one lock per aggregate
    (striped: 64 locks), so every caller gets a whole aggregate at one version.
    """

    STRIPES = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(self.STRIPES)]

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, **kwargs)
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            return super().get(aggregate_id, **kwargs)
