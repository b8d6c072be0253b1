"""Decoding stored events for the views, once per event and only as far as needed.

The library's mapper builds a full domain event object for every notification (JSON,
every transcoded value, the event class). A view needs a few fields, so ``decode`` reads
the stored JSON itself into an :class:`Ev`: the envelope (event class, case id, version,
recorded moment, business date, policy version) and the raw payload ``d``, whose values
are converted by the accessors below when they are used. Events whose payload no view
reads (an assessment, a session, a served statement, a consent that does not end the
mediation) are not parsed at all: only their recorded moment is cut from the front of
the stored JSON.

Anything unusual goes through the mapper instead, so nothing is ever decoded wrongly: an
encrypted or compressed store, an event whose stored ``class_version`` is not the
current one (the mapper's upcasters apply), or a state that does not look as expected.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, Notification

from mediation.case import Case
from projections.sql import utc_naive

_STAMP = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'
# payload-free for every view, given the class (and, for consents, this exact member)
LIGHT: frozenset[type[Any]] = frozenset(
    {Case.Assessed, Case.SessionRecorded, Case.StatementServed, Case.ReviewApplied}
)
_NOT_ENDING = b'"ends_mediation":false'


class EventTypes:
    """The event classes a view reads: by stored topic, with each one's current version."""

    def __init__(self, *classes: type[Any]) -> None:
        self.by_topic: dict[str, type[Any]] = {str(c.TOPIC): c for c in classes}
        self.topics = tuple(self.by_topic)
        self.version = {c: int(getattr(c, "class_version", 1)) for c in classes}


class Ev:
    """One decoded event: its class, the envelope and the raw payload (see the accessors)."""

    __slots__ = ("d", "on", "originator_id", "policy_version", "recorded", "ts", "type", "version")

    def __init__(
        self,
        type_: type[Any],
        originator_id: str,
        version: int,
        ts: datetime,
        on: date | None,
        policy_version: str,
        d: dict[str, Any],
    ) -> None:
        self.type = type_
        self.originator_id = originator_id
        self.version = version
        self.ts = ts
        offset = ts.utcoffset()
        # utc_naive(ts), inline: this runs once per event
        self.recorded = ts.replace(tzinfo=None) - offset if offset else utc_naive(ts)
        self.on = on
        self.policy_version = policy_version
        self.d = d


def _value(v: Any) -> Any:
    return v["_data_"] if type(v) is dict else v


def day(v: Any) -> date | None:
    """A date field (transcoded ``date_iso``, a ``date``, or null)."""
    if v is None:
        return None
    if type(v) is dict:
        return date.fromisoformat(v["_data_"])
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def ident(v: Any) -> str | None:
    """A UUID field as its canonical string (transcoded ``uuid_hex``, a UUID, or null)."""
    if v is None:
        return None
    if type(v) is dict:
        h: str = v["_data_"]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(UUID(str(v))) if not isinstance(v, UUID) else str(v)


def cents(amount: str | Decimal) -> int:
    return int((Decimal(_value(amount)) * 100).to_integral_value())


def _slow(n: Notification, mapper: Mapper[Any]) -> Ev:
    if not isinstance(n.originator_id, UUID):  # a rebuild's raw read carries it as text
        n = Notification(
            id=n.id,
            originator_id=UUID(str(n.originator_id)),
            originator_version=n.originator_version,
            topic=n.topic,
            state=bytes(n.state),
        )
    ev: Any = mapper.to_domain_event(n)
    data = {k: v for k, v in vars(ev).items()}
    return Ev(
        type(ev),
        str(ev.originator_id),
        int(ev.originator_version),
        ev.timestamp,
        getattr(ev, "on", None),
        getattr(ev, "policy_version", ""),
        data,
    )


def plain(mapper: Mapper[Any]) -> bool:
    """True when the stored state is plain JSON (no cipher, no compressor)."""
    return getattr(mapper, "cipher", None) is None and getattr(mapper, "compressor", None) is None


def decode(n: Notification, mapper: Mapper[Any], fast: bool, types: EventTypes) -> Ev:
    """``n`` as an :class:`Ev` (``fast``: the stored state is plain JSON, see ``plain``)."""
    cls = types.by_topic.get(n.topic)
    if not fast or cls is None:
        return _slow(n, mapper)
    state = n.state
    if (
        cls in LIGHT or (cls is Case.ConsentRecorded and _NOT_ENDING in state)
    ) and state.startswith(_STAMP):
        end = state.find(b'"', len(_STAMP))
        ts = datetime.fromisoformat(state[len(_STAMP) : end].decode())
        return Ev(cls, str(n.originator_id), n.originator_version, ts, None, "", {})
    try:
        data = orjson.loads(state)
        if data.get("class_version", 1) != types.version[cls]:
            return _slow(n, mapper)
        ts = datetime.fromisoformat(data["timestamp"]["_data_"])
        on = day(data["on"])
        policy = data["policy_version"]
    except (ValueError, KeyError, TypeError):  # orjson.JSONDecodeError is a ValueError
        return _slow(n, mapper)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return Ev(cls, str(n.originator_id), n.originator_version, ts, on, policy, data)
