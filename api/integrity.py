"""The integrity result on ``/readyz`` and in the case view: ``mediation verify``, kept current.

A daemon thread walks the whole log once at startup and compares it with the signed
checkpoints (``mediation.integrity_walk``), then checks only new events every ``interval``
seconds, walks everything again every ``full_every`` seconds (an edit or deletion of an
event already checked shows after that walk), and appends a checkpoint every
``checkpoint_every`` seconds while nothing is wrong and the log has moved. ``/readyz``
and the case view only read the last result (and wake the thread).

Anonymous callers of ``/readyz`` learn only the status word; an admin's token also gets
the findings (case ids, versions, positions: no personal data).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from fastapi import Request
from pydantic import BaseModel, Field

from mediation.checkpoints import CheckpointStore
from mediation.integrity_keys import (
    IntegrityKeys,
    IntegritySettings,
    checkpoint_dir_for,
    current_keys,
)
from mediation.integrity_walk import LogWalker, take_checkpoint
from mediation.values import Role

log = logging.getLogger("api.integrity")

IntegrityStatus = Literal["pending", "ok", "problem", "unavailable"]
CaseIntegrity = Literal["ok", "problem"]
SHOWN_FINDINGS = 100


@dataclass(frozen=True)
class IntegrityResult:
    status: IntegrityStatus
    verified_to: int = 0
    events: int = 0
    problems: int = 0
    findings: tuple[str, ...] = ()
    problem_cases: frozenset[UUID] = field(default_factory=frozenset)
    checked_at: datetime | None = None
    full_walk_at: datetime | None = None
    checkpoints: int = 0
    last_checkpoint: str | None = None
    checkpoint_dir: str | None = None
    checkpoint_error: str | None = None
    error: str | None = None

    @property
    def first_problem(self) -> str | None:
        return self.findings[0] if self.findings else None


_MONITORS: weakref.WeakKeyDictionary[Any, IntegrityMonitor] = weakref.WeakKeyDictionary()


def case_integrity(app: Any, case_id: UUID) -> CaseIntegrity:
    """ "problem" if the running check found anything wrong with this case's events."""
    monitor = _MONITORS.get(app)
    if monitor is None:
        return "ok"
    return "problem" if case_id in monitor.result.problem_cases else "ok"


class IntegrityMonitor:
    def __init__(
        self,
        app: Any,
        clock: Callable[[], datetime],
        *,
        database_url: str | None = None,
        checkpoint_dir: Path | None = None,
        keys: IntegrityKeys | None = None,
        interval: float = 10.0,
        full_every: float = 24 * 3600.0,
        checkpoint_every: float | None = None,
        step: int = 20_000,
    ) -> None:
        settings = IntegritySettings()
        self.app = app
        self.clock = clock
        self.keys = keys or current_keys()
        if checkpoint_dir is None and database_url is not None:
            checkpoint_dir = checkpoint_dir_for(database_url, settings.checkpoint_dir)
        self.checkpoint_dir = checkpoint_dir
        self.interval = interval
        self.full_every = full_every
        self.checkpoint_every = (
            settings.checkpoint_interval if checkpoint_every is None else checkpoint_every
        )
        self.step = step
        self._result = IntegrityResult("pending", checkpoint_dir=self._dir_text())
        self._store: CheckpointStore | None = None
        self._walker: LogWalker | None = None
        self._full_walk_at: datetime | None = None
        self._checkpoint_due = 0.0
        self._checkpoint_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._logged = 0
        _MONITORS[app] = self
        if checkpoint_dir is None:
            log.warning(
                "no checkpoint directory (MEDIATION_CHECKPOINT_DIR): deleted events and "
                "aggregates cannot be detected"
            )

    def _dir_text(self) -> str | None:
        return str(self.checkpoint_dir) if self.checkpoint_dir is not None else None

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
                walker = self._walker
                if walker is None or time.monotonic() - started >= self.full_every:
                    started = time.monotonic()
                    self._full_walk()
                else:
                    self._catch_up(walker)
                    self._publish(walker)
            except Exception as error:  # the database is away: say so, try again later
                log.warning("integrity check failed: %s", type(error).__name__)
                previous = self._result
                self._result = IntegrityResult(
                    "unavailable",
                    previous.verified_to,
                    previous.events,
                    previous.problems,
                    previous.findings,
                    previous.problem_cases,
                    previous.checked_at,
                    previous.full_walk_at,
                    previous.checkpoints,
                    previous.last_checkpoint,
                    previous.checkpoint_dir,
                    previous.checkpoint_error,
                    error=type(error).__name__,
                )
            self._wake.wait(self.interval)
            self._wake.clear()

    def _catch_up(self, walker: LogWalker) -> None:
        # bounded steps, so that a stop request is seen between them
        while not self._stop.is_set() and walker.advance(self.app, limit=self.step) > 0:
            pass

    def _full_walk(self) -> None:
        # a fresh store re-reads (and re-checks) every checkpoint file
        store = (
            CheckpointStore(self.checkpoint_dir, self.keys)
            if self.checkpoint_dir is not None
            else None
        )
        fresh = LogWalker(self.keys, store.load() if store is not None else None)
        self._catch_up(fresh)  # the previous result stays published meanwhile
        if self._stop.is_set():
            return
        self._walker, self._store = fresh, store
        self._full_walk_at = self.clock()
        self._publish(fresh)

    def _checkpoint(self, walker: LogWalker) -> None:
        store = self._store
        if store is None or time.monotonic() < self._checkpoint_due:
            return
        self._checkpoint_due = time.monotonic() + self.checkpoint_every
        try:
            written = take_checkpoint(walker, store, self.clock())
            self._checkpoint_error = None
        except OSError as error:  # the directory is not writable: say so, keep checking
            self._checkpoint_error = f"{type(error).__name__}: {error.strerror or error}"
            log.error("integrity: checkpoint not written: %s", self._checkpoint_error)
            return
        if written is not None:
            log.info("integrity: wrote %s", written)

    def _publish(self, walker: LogWalker) -> None:
        findings = walker.findings()
        if not findings:
            self._checkpoint(walker)
        if findings and len(findings) != self._logged:  # once per change, not every pass
            log.error("integrity: %d problem(s); first: %s", len(findings), findings[0])
        self._logged = len(findings)
        checkpoints = walker.checkpoints
        self._result = IntegrityResult(
            "problem" if findings else "ok",
            verified_to=walker.position,
            events=walker.events,
            problems=len(findings),
            findings=tuple(str(f) for f in findings[:SHOWN_FINDINGS]),
            problem_cases=frozenset(f.originator_id for f in findings if f.originator_id),
            checked_at=self.clock(),
            full_walk_at=self._full_walk_at,
            checkpoints=len(checkpoints.checkpoints),
            last_checkpoint=str(checkpoints.last) if checkpoints.last else None,
            checkpoint_dir=self._dir_text(),
            checkpoint_error=self._checkpoint_error,
        )


# ---------------------------------------------------------------------- /readyz


class IntegrityDetails(BaseModel):
    """For admins only."""

    verified_to: int = Field(description="every event up to this position was checked")
    events: int = Field(description="events checked")
    problems: int = Field(description="findings, as `mediation verify` reports them")
    findings: list[str] = Field(description=f"the first {SHOWN_FINDINGS} findings")
    problem_cases: list[UUID] = Field(description="aggregates (cases, studios) with a finding")
    checked_at: datetime | None = Field(None, description="end of the last pass")
    full_walk_at: datetime | None = Field(None, description="end of the last walk from zero")
    checkpoints: int = Field(description="signed checkpoints compared")
    last_checkpoint: str | None = None
    checkpoint_dir: str | None = Field(None, description="null: no checkpoints are taken")
    checkpoint_error: str | None = None


class IntegrityOut(BaseModel):
    """The tamper check (``mediation verify``), kept current in the background."""

    status: IntegrityStatus = Field(
        description="pending (first walk not done), ok, problem (tampering found), "
        "unavailable (the last pass could not read the store)"
    )
    details: IntegrityDetails | None = Field(default=None, description="admins only")


def _is_admin(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    user = request.app.state.runtime.tokens.read(token.strip())
    return user is not None and user.role is Role.ADMIN


def readyz_integrity(request: Request, monitor: IntegrityMonitor) -> IntegrityOut:
    """The status word for everyone; the details for an admin."""
    monitor.wake()  # a pass soon; this request only reads the last result
    r = monitor.result
    if not _is_admin(request):
        return IntegrityOut(status=r.status)
    return IntegrityOut(
        status=r.status,
        details=IntegrityDetails(
            verified_to=r.verified_to,
            events=r.events,
            problems=r.problems,
            findings=list(r.findings),
            problem_cases=sorted(r.problem_cases),
            checked_at=r.checked_at,
            full_walk_at=r.full_walk_at,
            checkpoints=r.checkpoints,
            last_checkpoint=r.last_checkpoint,
            checkpoint_dir=r.checkpoint_dir,
            checkpoint_error=r.checkpoint_error,
        ),
    )
