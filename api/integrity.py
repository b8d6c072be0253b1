"""The integrity result on ``/readyz``: ``mediation verify``, kept current in the background.

A daemon thread walks every hash chain once at startup, then checks only new events
(``mediation.verify.ChainWalker`` keeps each aggregate's last hash in memory) every
``interval`` seconds, and walks everything again from position zero every ``full_every``
seconds (an edit to an event already checked shows after that walk). ``/readyz`` only
reads the last result (and wakes the thread), so it stays fast whatever the store's size.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mediation.verify import ChainWalker

log = logging.getLogger("api.integrity")

IntegrityStatus = Literal["pending", "ok", "problems", "unavailable"]


@dataclass(frozen=True)
class IntegrityResult:
    status: IntegrityStatus
    verified_to: int = 0
    events: int = 0
    problems: int = 0
    first_problem: str | None = None
    checked_at: datetime | None = None
    full_walk_at: datetime | None = None
    error: str | None = None


class IntegrityMonitor:
    def __init__(
        self,
        app: Any,
        clock: Callable[[], datetime],
        *,
        interval: float = 10.0,
        full_every: float = 24 * 3600.0,
        step: int = 20_000,
    ) -> None:
        self.app = app
        self.clock = clock
        self.interval = interval
        self.full_every = full_every
        self.step = step
        self._result = IntegrityResult("pending")
        self._walker = ChainWalker()
        self._full_walk_at: datetime | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._logged = 0

    @property
    def result(self) -> IntegrityResult:
        return self._result

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="integrity-monitor", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        """Ask for a pass soon (``/readyz`` calls this; it never waits for it)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        started = 0.0
        while not self._stop.is_set():
            try:
                if self._full_walk_at is None or time.monotonic() - started >= self.full_every:
                    started = time.monotonic()
                    self._full_walk()
                else:
                    self._catch_up(self._walker)
                    self._publish(self._walker)
            except Exception as error:  # the database is away: say so, try again later
                log.warning("integrity check failed: %s", type(error).__name__)
                previous = self._result
                self._result = IntegrityResult(
                    "unavailable",
                    previous.verified_to,
                    previous.events,
                    previous.problems,
                    previous.first_problem,
                    previous.checked_at,
                    previous.full_walk_at,
                    error=type(error).__name__,
                )
            self._wake.wait(self.interval)
            self._wake.clear()

    def _catch_up(self, walker: ChainWalker) -> None:
        # bounded steps, so that a stop request is seen between them
        while not self._stop.is_set() and walker.advance(self.app, limit=self.step) > 0:
            pass

    def _full_walk(self) -> None:
        fresh = ChainWalker()  # the previous result stays published meanwhile
        self._catch_up(fresh)
        if self._stop.is_set():
            return
        self._walker = fresh
        self._full_walk_at = self.clock()
        self._publish(fresh)

    def _publish(self, walker: ChainWalker) -> None:
        findings = walker.findings
        if findings and len(findings) != self._logged:  # once per change, not every pass
            log.error("integrity: %d problem(s); first: %s", len(findings), findings[0])
        self._logged = len(findings)
        self._result = IntegrityResult(
            "problems" if findings else "ok",
            verified_to=walker.position,
            events=walker.events,
            problems=len(findings),
            first_problem=str(findings[0]) if findings else None,
            checked_at=self.clock(),
            full_walk_at=self._full_walk_at,
        )
