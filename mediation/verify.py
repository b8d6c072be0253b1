"""Walk the event store and check every aggregate's hash chain (``mediation verify``).

Reports an edited event (its chain or payload no longer matches), a deleted or inserted
event (a gap or repeat in the aggregate's versions), and a reordered pair (the chain
breaks at the first moved position). Read-only; safe to run against production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from mediation.integrity import GENESIS, chain_hash

CHAINED_PREFIXES = ("mediation.case.", "mediation.organisation.", "mediation.calendar.")


@dataclass(frozen=True)
class Finding:
    originator_id: UUID
    version: int
    position: int | None
    problem: str

    def __str__(self) -> str:
        where = f"position {self.position}" if self.position is not None else "no position"
        return f"{self.originator_id} v{self.version} ({where}): {self.problem}"


@dataclass
class Report:
    aggregates: int = 0
    events: int = 0
    findings: list[Finding] | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def _all_notifications(app: Application[Any], batch: int = 1000) -> Iterator[Any]:
    start = 1
    while True:
        rows = app.recorder.select_notifications(start, batch)
        if not rows:
            return
        yield from rows
        start = rows[-1].id + 1


def _version_gap(originator_id: UUID, expected: int, row: Any) -> Finding:
    """The finding for a stored version other than the one the chain expects next."""
    version = row.originator_version
    kind = "missing" if version > expected else "repeated"
    detail = f"event version {expected} {kind} (next stored is v{version})"
    return Finding(originator_id, expected, row.id, detail)


def _recomputed(app: Application[Any], originator_id: UUID, row: Any, head: str) -> tuple[str, str]:
    """(stored chain, chain recomputed from ``head``) of one stored row; raises if unreadable."""
    event = app.mapper.to_domain_event(
        StoredEvent(row.originator_id, row.originator_version, row.topic, row.state)
    )
    fields = dict(event.__dict__)
    recomputed = chain_hash(
        head,
        type(event).TOPIC,  # type: ignore[attr-defined]
        originator_id,
        row.originator_version,
        fields["timestamp"],
        fields,
    )
    return str(fields.get("chain")), recomputed


class ChainWalker:
    """Incremental verification: checks events in position order, remembering each
    aggregate's last hash and version, so that later calls check only new events.

    ``position`` is the last position checked. An aggregate whose chain broke is not
    checked further (as ``verify`` reports the first break only). Memory: one head per
    aggregate (about 150 bytes each). Events stored later at an earlier position (not
    possible with the library's recorders) or edits to events already checked are found
    by a fresh walker (a full walk), not by ``advance``.
    """

    def __init__(self) -> None:
        self.position = 0
        self.events = 0
        self.findings: list[Finding] = []
        self._heads: dict[UUID, tuple[str, int]] = {}
        self._broken: set[UUID] = set()

    @property
    def aggregates(self) -> int:
        return len(self._heads) + len(self._broken - self._heads.keys())

    def advance(self, app: Application[Any], limit: int = 10_000, batch: int = 1000) -> int:
        """Check up to ``limit`` further events; returns how many positions were read."""
        read = 0
        while read < limit:
            rows = app.recorder.select_notifications(self.position + 1, min(batch, limit - read))
            if not rows:
                break
            for row in rows:
                if row.topic.startswith(CHAINED_PREFIXES):
                    self._check(app, row)
                self.position = row.id
            read += len(rows)
        return read

    def _check(self, app: Application[Any], row: Any) -> None:
        originator_id = UUID(str(row.originator_id))
        if originator_id in self._broken:
            return
        self.events += 1
        head, expected = self._heads.get(originator_id, (GENESIS, 1))
        version = row.originator_version
        if version != expected:
            self.findings.append(_version_gap(originator_id, expected, row))
        try:
            stored, recomputed = _recomputed(app, originator_id, row, head)
        except Exception as exc:  # any decode failure is evidence of tampering
            self.findings.append(
                Finding(originator_id, version, row.id, f"payload unreadable: {exc!r}")
            )
            self._broken.add(originator_id)
            return
        if stored != recomputed:
            self.findings.append(
                Finding(originator_id, version, row.id, "hash chain broken (edited or moved)")
            )
            self._broken.add(originator_id)
            self._heads.pop(originator_id, None)
            return
        self._heads[originator_id] = (recomputed, version + 1)


def verify(app: Application[Any]) -> Report:
    report = Report(findings=[])
    assert report.findings is not None
    by_aggregate: dict[UUID, list[Any]] = {}
    for n in _all_notifications(app):
        if n.topic.startswith(CHAINED_PREFIXES):
            by_aggregate.setdefault(UUID(str(n.originator_id)), []).append(n)
    for originator_id, rows in by_aggregate.items():
        report.aggregates += 1
        rows.sort(key=lambda r: r.originator_version)
        head = GENESIS
        expected_version = 1
        for row in rows:
            report.events += 1
            version = row.originator_version
            if version != expected_version:
                report.findings.append(_version_gap(originator_id, expected_version, row))
                expected_version = version
            try:
                stored, recomputed = _recomputed(app, originator_id, row, head)
            except Exception as exc:  # any decode failure is evidence of tampering
                report.findings.append(
                    Finding(originator_id, version, row.id, f"payload unreadable: {exc!r}")
                )
                break
            if stored != recomputed:
                report.findings.append(
                    Finding(originator_id, version, row.id, "hash chain broken (edited or moved)")
                )
                break  # later events chain to a broken head; report the first break only
            head = recomputed
            expected_version += 1
    return report
