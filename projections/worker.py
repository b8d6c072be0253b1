"""The projection worker: follows the event log and keeps the read models current.

    python -m projections.worker --url postgresql://... [--follow | --once] [--batch N]

In follow mode it catches up whenever an event is stored — on PostgreSQL it ``LISTEN``s to
the channel the insert function ``NOTIFY``s (``mediation.storage``), so a command's events
are projected within milliseconds and a page waiting for them (read-your-writes) waits that
long, not half a polling interval — and otherwise every ``poll`` seconds (SQLite cannot
notify: it polls; a poll costs one indexed ``max(id)`` query). It reports its lag
(latest position minus tracked position) every ``report_every`` seconds, and when the
database goes away it drops its connections, waits with a growing back-off and reconnects
by itself. Every batch is exactly-once, so it can be killed at any moment (even
``kill -9``) and restarted.

An event a view cannot process (``PoisonEvent``) is not retried: the worker says which
view and position, and exits with status ``HALTED`` (3) so a supervisor can tell it from
a crash (systemd: ``RestartPreventExitStatus=3``). Fix the cause, then start it again.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from projections.runner import PoisonEvent
from projections.system import System

log = logging.getLogger("projections.worker")

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    PersistenceError,
    sqlalchemy.exc.DBAPIError,
    psycopg.OperationalError,  # the waker's own connection
    OSError,
)

Report = Callable[[str], None]

HALTED = 3  # exit status: a view met a poison event


def _say(message: str) -> None:
    print(message, flush=True)


class Waker:
    """Waits until an event may have been stored: a ``NOTIFY`` of the events table's
    channel (PostgreSQL, on a connection of its own), or ``poll`` seconds."""

    def __init__(self, system: System) -> None:
        self.conn: psycopg.Connection[Any] | None = None
        recorder = system.app.recorder
        if isinstance(recorder, PostgresAggregateRecorder):
            given = recorder.datastore.pool.kwargs
            params = dict((given() if callable(given) else given) or {})
            params.pop("row_factory", None)
            self.conn = psycopg.connect(**params, autocommit=True)
            channel = getattr(recorder, "channel_name", recorder.events_table_name)
            self.conn.execute(SQL("LISTEN {}").format(Identifier(channel)))

    def wait(self, poll: float, stop: threading.Event) -> None:
        if self.conn is None:
            stop.wait(poll)
            return
        deadline = time.monotonic() + poll
        while not stop.is_set():  # in slices, so that a stop is seen within half a second
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if any(True for _ in self.conn.notifies(timeout=min(left, 0.5), stop_after=1)):
                for _ in self.conn.notifies(timeout=0):  # those since: the same catch-up
                    pass
                return

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def follow(
    make_system: Callable[[], System],
    *,
    poll: float = 0.2,
    report_every: float = 10.0,
    stop: threading.Event | None = None,
    report: Report = _say,
    batch_size: int | None = None,
) -> None:
    """Catch up forever (until ``stop`` is set), reconnecting after database failures."""
    stop = stop or threading.Event()
    system: System | None = None
    waker: Waker | None = None
    backoff = 0.5
    last_report = 0.0
    while not stop.is_set():
        try:
            if system is None:
                system = make_system()
                if batch_size:
                    system.runner.batch_size = batch_size
                report(f"connected; tracked position {system.tracked()}")
            if waker is None:
                waker = Waker(system)
            before = system.tracked()
            after = system.catch_up()
            backoff = 0.5
            now = time.monotonic()
            if now - last_report >= report_every:
                report(f"tracked position {after}, lag {system.lag()}")
                last_report = now
            if after == before:
                waker.wait(poll, stop)
        except PoisonEvent as poison:
            report(f"HALTED: {poison}")
            log.error("projection worker halted: %s", poison)
            if waker is not None:
                waker.close()
            if system is not None:
                system.close()
            raise
        except CONNECTION_ERRORS as error:
            report(f"database unavailable ({type(error).__name__}); retrying in {backoff:.1f}s")
            log.warning("projection worker lost the database", exc_info=True)
            for closing in (system, waker):
                if closing is not None:
                    try:
                        closing.close()
                    except Exception:  # the connection is already broken
                        log.debug("close after failure", exc_info=True)
            system, waker = None, None
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)
    if waker is not None:
        waker.close()
    if system is not None:
        system.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="projections.worker")
    parser.add_argument("--url", default=None, help="event store URL (default: settings)")
    parser.add_argument("--read-model-url", default=None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--follow", action="store_true")
    mode.add_argument("--once", action="store_true")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--poll", type=float, default=0.2)
    parser.add_argument("--report-every", type=float, default=10.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)

    def make() -> System:
        return System(args.url, in_process=False, read_model_url=args.read_model_url)

    if args.follow:
        try:
            follow(make, poll=args.poll, report_every=args.report_every, batch_size=args.batch)
        except KeyboardInterrupt:
            return 0
        except PoisonEvent:
            return HALTED
        return 0
    system = make()
    try:
        if args.batch:
            system.runner.batch_size = args.batch
        position = system.catch_up()
        _say(f"tracked position {position}, lag {system.lag()}")
    except PoisonEvent as poison:
        _say(f"HALTED: {poison}")
        return HALTED
    finally:
        system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
