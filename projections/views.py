"""What a view is: the protocol the runner drives.

A view owns a few read-model tables and processes a *batch* of its events inside the
caller's transaction (``process``); it never reads the wall clock or commits, so a
rebuild gives identical rows. The views: ``cases_view.CasesView`` (cases, claims, facts,
subsidies, counters), ``organisation_view.OrganisationView`` (studios, mediators) and
``search.SearchView`` (the hashed search terms); ``system.all_views`` lists them. The last
two load in one process (``Unpartitioned``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import Connection, Table

from projections.decode import Ev

# called with each event's position before it is applied, and with 0 after a batch's
# writes (before its commit): tests inject failures through it
Fault = Callable[[int], None]
# runs a function in a transaction of its own (for a rebuild's part: holding the lock
# under which the parts take turns to write)
Run = Callable[[Callable[[Connection], Any]], Any]
Positioned = tuple[int, Ev]


class View(Protocol):
    name: str
    topics: tuple[str, ...]
    # every event belongs to one aggregate whose rows no other aggregate's events touch:
    # a rebuild may fold disjoint sets of aggregates in parallel (``end_part``, ``absorb``)
    partitioned: bool
    # tables of an older layout, dropped when a rebuilt view is swapped in
    obsolete: tuple[str, ...]

    def tables(self, suffix: str = "") -> dict[str, Table]: ...

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev: ...

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None: ...

    # a rebuild's load into side tables (a view may carry work across its batches)
    def begin_load(self) -> None: ...

    def end_load(self, conn: Connection, suffix: str) -> None: ...

    def abort_load(self) -> None: ...

    # a partitioned rebuild: what the parts share is created before they start; each part
    # folds a batch before its transaction and writes it inside, writes its own rows at
    # the end and hands back what is summed
    def begin_parts(self, conn: Connection, suffix: str) -> None: ...

    def fold(
        self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run
    ) -> Any: ...

    def write(self, conn: Connection, suffix: str, folded: Any) -> None: ...

    def end_part(self, suffix: str, run: Run) -> Any: ...

    def absorb(self, parts: Sequence[Any]) -> None: ...


class Unpartitioned:
    """What a view that loads in one process and carries nothing across batches has for the
    load and parts protocol (``organisation_view``, ``search``): nothing to carry, and a
    refusal to be rebuilt in parts (the rebuild never asks it: ``partitioned`` is False)."""

    name: str
    partitioned = False
    obsolete: tuple[str, ...] = ()

    def begin_load(self) -> None:
        pass

    def end_load(self, conn: Connection, suffix: str) -> None:
        pass

    def abort_load(self) -> None:
        pass

    def _not_in_parts(self) -> NotImplementedError:
        return NotImplementedError(f"the {self.name} view is not rebuilt in parts")

    def begin_parts(self, conn: Connection, suffix: str) -> None:
        raise self._not_in_parts()

    def fold(self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run) -> Any:
        raise self._not_in_parts()

    def write(self, conn: Connection, suffix: str, folded: Any) -> None:
        raise self._not_in_parts()

    def end_part(self, suffix: str, run: Run) -> None:
        raise self._not_in_parts()

    def absorb(self, parts: Sequence[Any]) -> None:
        raise self._not_in_parts()
