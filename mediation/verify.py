"""``verify(app)``: the chain-and-order walk of ``mediation.integrity_walk`` without checkpoints.

Kept for callers that only need to know whether every chain and version is intact (the
importer's tests, the fault tests). ``mediation verify`` also compares the log with the
signed checkpoints, which is what detects deleted events and aggregates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Application

from mediation.integrity_keys import current_keys
from mediation.integrity_walk import Finding, Kind, LogWalker, Report
from mediation.integrity_walk import verify as verify_log

__all__ = ["Finding", "Kind", "LogWalker", "Report", "verify"]


def verify(app: Application[Any]) -> Report:
    return verify_log(app, current_keys(), None, lambda: datetime.now(UTC), write=False)
