"""The composition root: the event-sourced application, its read models and their runner.

Public interface other layers rely on (keep these signatures):

    System(database_url: str | None = None, *, settings: Settings | None = None,
           clock: Clock | None = None, in_process: bool = True,
           read_model_url: str | None = None)
        .app: MediationApplication
        .engine: sqlalchemy.Engine            # read-model database
        .catch_up() -> int                    # process new events; last tracked position
        .wait_for(position: int, timeout: float = 5.0) -> None   # read-your-writes
        .lag() -> int                         # latest position - tracked position
        .close() -> None
        .today() -> date
        .halts() -> list[dict]                # views stopped by a poison event (see runner)

The read models live in the event store's database unless ``read_model_url`` (or the
environment variable ``MEDIATION_READ_MODEL_URL``) names another. In-process mode (the
default) catches the views up after every save, under a lock, before the command returns;
a worker (``mediation project --follow``) does the same from another process, and readers
use ``wait_for`` to read their own writes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Engine

from mediation.application import MediationApplication
from mediation.clock import Clock
from mediation.policy import PolicyBook
from mediation.settings import Settings, get_settings, persistence_env
from projections.cases_view import CasesView
from projections.organisation_view import OrganisationView
from projections.rebuild import Rebuilder
from projections.runner import PoisonEvent, PositionAlreadyTracked, TrackingConflict
from projections.search import Hasher, SearchView
from projections.sql import make_engine
from projections.views import View

log = logging.getLogger("projections.system")

# Read models in another database than the events (default: the same one).
READ_MODEL_URL_ENV = "MEDIATION_READ_MODEL_URL"


def all_views(policies: PolicyBook | None = None, hasher: Hasher | None = None) -> list[View]:
    """Every view; the search view needs the key table (``hasher``) to read and hash terms."""
    views: list[View] = [OrganisationView(), CasesView(policies)]
    if hasher is not None:
        views.append(SearchView(hasher))
    return views


class ProjectionTimeout(TimeoutError):
    """The read models did not reach a position in time."""


class ProjectionHalted(ProjectionTimeout):
    """A view is halted by a poison event: it will not reach the position by waiting."""


class System:
    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        in_process: bool = True,
        read_model_url: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.database_url = database_url or self.settings.database_url
        self.policies = (
            PolicyBook.from_file(self.settings.policy_file)
            if self.settings.policy_file
            else PolicyBook.default()
        )
        self.app = MediationApplication(
            persistence_env(
                self.database_url,
                self.settings.encryption_key,
                lock_timeout=self.settings.postgres_lock_timeout,
            ),
            policies=self.policies,
            clock=clock,
        )
        self.read_model_url = (
            read_model_url or os.environ.get(READ_MODEL_URL_ENV) or self.database_url
        )
        self.engine: Engine = make_engine(self.read_model_url)
        self.runner = Rebuilder(self.app, self.engine, all_views(self.policies, self.app.personal))
        self.runner.opener = self._open_again
        self.runner.ensure()
        self.in_process = in_process
        self._lock = threading.Lock()
        self._deferred = False
        if in_process:
            self.app.on_saved(self._after_save)
            self._after_save()  # a halted view is logged and shown, and does not stop startup

    def _open_again(self) -> tuple[MediationApplication, Engine]:
        """The same event store and read models on new connections (a rebuild's worker)."""
        app = MediationApplication(
            persistence_env(
                self.database_url,
                self.settings.encryption_key,
                lock_timeout=self.settings.postgres_lock_timeout,
            ),
            policies=self.policies,
        )
        return app, make_engine(self.read_model_url)

    def _after_save(self) -> int | None:
        """Catch up after a save; the position reached lets the API skip waiting for it."""
        if self._deferred:
            return None
        try:
            return self.catch_up()
        except PoisonEvent as poison:
            # The command's events are saved: it stays acknowledged. The view stays halted
            # (see ``halts``, shown on /readyz) until the cause is fixed and the process
            # restarted; the other views go on.
            log.error("read model halted after an acknowledged command: %s", poison)
            return None

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Bulk loading: skip the in-process catch-up after each save, catch up once at the end."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
            if self.in_process:
                self.catch_up()

    def catch_up(self) -> int:
        """Process every new event in every view; returns the lowest tracked position.

        Another runner (a worker, another API process, a rebuild's swap) may commit a batch
        first; ours is then refused and rolled back, and we resume from its position.
        """
        with self._lock:
            for attempt in range(1, 6):
                try:
                    return self.runner.catch_up()
                except (TrackingConflict, PositionAlreadyTracked) as race:
                    log.info("lost a race (%s); catching up again (attempt %s)", race, attempt)
                except sqlalchemy.exc.OperationalError as error:
                    if "locked" not in str(error):  # SQLite: another writer held the lock
                        raise
                    log.info("read models busy; catching up again (attempt %s)", attempt)
                    time.sleep(0.01 * attempt)
            return self.runner.catch_up()

    def tracked(self) -> int:
        return self.runner.min_tracked()

    def wait_for(self, position: int, timeout: float = 5.0) -> None:
        """Return once every view has tracked ``position`` (read-your-writes)."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        looked = False
        while self.runner.min_tracked() < position:
            if self.in_process:
                self.catch_up()
                if self.runner.min_tracked() >= position:
                    return
            if self.runner.halted or (not looked and self.runner.halts()):
                raise ProjectionHalted(f"a read model is halted before position {position}")
            looked = True
            if time.monotonic() > deadline:
                raise ProjectionTimeout(f"read models did not reach position {position}")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def lag(self) -> int:
        return self.runner.lag()

    def halts(self) -> list[dict[str, Any]]:
        """Views halted by a poison event (in this process or, recorded, in a worker).

        Each: ``view``, ``position`` (the event it cannot process), ``tracked`` (where it
        stays), ``error`` and ``halted_at`` (naive UTC).
        """
        found = {h["view"]: h for h in self.runner.halts()}
        for name, poison in self.runner.halted.items():
            if name not in found:  # its record could not be written
                found[name] = {
                    "view": name,
                    "position": poison.position,
                    "tracked": self.runner.tracked(name),
                    "error": f"{type(poison.cause).__name__}: {poison.cause}",
                    "halted_at": None,
                }
        return [found[name] for name in sorted(found)]

    def today(self) -> date:
        return self.app.today()

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()
