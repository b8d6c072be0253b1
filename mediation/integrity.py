"""Tamper evidence: every case and studio event carries a hash chained to the previous one.

``chain = sha256(previous chain | topic | originator id | version | recorded timestamp |
canonical JSON of the event's fields)``; the first event of an aggregate chains to
``GENESIS``. An edited, deleted, inserted or reordered event breaks the chain of its
aggregate from that position on (``mediation verify`` walks it). The chain is per
aggregate, not global, so that writers of different cases never contend for one head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
EXCLUDED = frozenset(
    {"chain", "timestamp", "originator_id", "originator_version", "originator_topic"}
)


def _default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return str(value)


# json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)
# with the encoder built once (json.dumps builds one per call); same text.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default
)


def canonical(fields: Mapping[str, Any]) -> str:
    return _CANONICAL.encode({k: v for k, v in fields.items() if k not in EXCLUDED})


def material(
    previous: str,
    topic: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> bytes:
    """What a chain value covers: the previous value, the event's identity and its fields."""
    parts = (previous, topic, str(originator_id), str(version), timestamp.isoformat())
    return "|".join((*parts, canonical(fields))).encode("utf-8")


def chain_hash(
    previous: str,
    topic: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> str:
    covered = material(previous, topic, originator_id, version, timestamp, fields)
    return hashlib.sha256(covered).hexdigest()
