"""The ``organisation`` view (``rm_studios``, ``rm_mediators``): studios, rosters, closures.

Small, and a mediator's rows follow their studio's events: it is never rebuilt in parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import Connection, Table, update

from mediation.organisation import Studio
from mediation.text import storable
from projections.decode import Ev, EventTypes, decode, ident, plain
from projections.sql import insert_many, organisation_tables
from projections.views import Fault, Positioned, Unpartitioned


class _Batch:
    """New studios and mediators, inserted in bulk before any update that may touch them."""

    def __init__(self, conn: Connection, suffix: str) -> None:
        self.conn = conn
        self.tables = organisation_tables(suffix)
        self.studios: list[dict[str, Any]] = []
        self.mediators: list[dict[str, Any]] = []

    def flush(self) -> None:
        insert_many(self.conn, self.tables["studios"], self.studios)
        insert_many(self.conn, self.tables["mediators"], self.mediators)
        self.studios.clear()
        self.mediators.clear()


def _registered(batch: _Batch, ev: Ev) -> None:
    d = ev.d
    batch.studios.append(
        dict(
            studio_id=ev.originator_id,
            name=storable(d["name"]),  # NUL: PostgreSQL refuses it
            region_code=d["region_code"],
            kind=d["kind"],
            established_on=ev.on,
            closed_on=None,
            mediator_quota=d["mediator_quota"],
            registered_at=ev.recorded,
        )
    )


def _mediator_appointed(batch: _Batch, ev: Ev) -> None:
    d = ev.d
    batch.mediators.append(
        dict(
            mediator_id=ident(d["mediator_id"]),
            studio_id=ev.originator_id,
            name=storable(d["name"]),  # NUL: PostgreSQL refuses it
            qualification=d["qualification"],
            appointed_on=ev.on,
            retired_on=None,
        )
    )


def _mediator_retired(batch: _Batch, ev: Ev) -> None:
    batch.flush()
    mediators = batch.tables["mediators"]
    batch.conn.execute(
        update(mediators)
        .where(mediators.c.mediator_id == ident(ev.d["mediator_id"]))
        .values(retired_on=ev.on)
    )


def _closed(batch: _Batch, ev: Ev) -> None:
    batch.flush()
    studios = batch.tables["studios"]
    batch.conn.execute(
        update(studios).where(studios.c.studio_id == ev.originator_id).values(closed_on=ev.on)
    )


# how each studio event changes the tables, by event class
ON_EVENT: dict[type[Any], Callable[[_Batch, Ev], None]] = {
    Studio.Registered: _registered,
    Studio.MediatorAppointed: _mediator_appointed,
    Studio.MediatorRetired: _mediator_retired,
    Studio.Closed: _closed,
}
STUDIO_EVENTS: tuple[type[Any], ...] = tuple(ON_EVENT)


class OrganisationView(Unpartitioned):
    name = "organisation"

    def __init__(self) -> None:
        self.types = EventTypes(*STUDIO_EVENTS)
        self.topics = self.types.topics

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return organisation_tables(suffix)

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev:
        return decode(notification, mapper, plain(mapper), self.types)

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        batch = _Batch(conn, suffix)
        for position, ev in events:
            if fault is not None:
                fault(position)
            ON_EVENT[ev.type](batch, ev)
        batch.flush()
