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

CHAINED_PREFIXES = ("mediation.case.", "mediation.organisation.")


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
                kind = "missing" if version > expected_version else "repeated"
                report.findings.append(
                    Finding(
                        originator_id,
                        expected_version,
                        row.id,
                        f"event version {expected_version} {kind} (next stored is v{version})",
                    )
                )
                expected_version = version
            try:
                event = app.mapper.to_domain_event(
                    StoredEvent(row.originator_id, version, row.topic, row.state)
                )
            except Exception as exc:  # any decode failure is evidence of tampering
                report.findings.append(
                    Finding(originator_id, version, row.id, f"payload unreadable: {exc!r}")
                )
                break
            fields = dict(event.__dict__)
            recomputed = chain_hash(
                head,
                type(event).TOPIC,  # type: ignore[attr-defined]
                originator_id,
                version,
                fields["timestamp"],
                fields,
            )
            stored = fields.get("chain")
            if stored != recomputed:
                report.findings.append(
                    Finding(originator_id, version, row.id, "hash chain broken (edited or moved)")
                )
                break  # later events chain to a broken head; report the first break only
            head = recomputed
            expected_version += 1
    return report
