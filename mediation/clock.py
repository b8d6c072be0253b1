"""The recording clock: when an event was *recorded* (as opposed to its business date).

Domain code never reads the wall clock. The library stamps each event with
``create_timestamp()``; our event classes ask this module, which answers from the clock
the application installed for the current command (a real clock in production, a fixed
or stepping one in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from eventsourcing.domain import datetime_now_with_tzinfo

Clock = Callable[[], datetime]

_current: ContextVar[Clock | None] = ContextVar("mediation_recording_clock", default=None)


def recording_time() -> datetime:
    clock = _current.get()
    return clock() if clock is not None else datetime_now_with_tzinfo()


@contextmanager
def recording_with(clock: Clock) -> Iterator[None]:
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)
