"""The keyed event chain: HMAC-SHA256 over what the unkeyed chain hashed.

A chain value written since the key was introduced reads ``k1:<key id>:<64 hex digits>``:
``HMAC(chain key, previous chain | topic | originator id | version | recorded timestamp |
canonical JSON of the event's fields)`` — the material of ``mediation.integrity.chain_hash``,
so the field keeps its meaning (the event's link in its aggregate's chain) and only its
computation changes, told apart by its form. Values of 64 hex digits are the unkeyed
SHA-256 chains of events stored before; they stay as they were (events are never
rewritten) and are trusted only up to the position the first signed checkpoint recorded
(``mediation.checkpoints``). Without the key, an edited event cannot be given a valid
keyed chain; giving it an unkeyed one after that position is itself a finding.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from mediation.integrity import chain_hash, material
from mediation.integrity_keys import IntegrityKeys, current_keys, hmac_sha256

PREFIX = "k1"


class ChainCheck(StrEnum):
    KEYED = "keyed"  # a keyed chain, and it matches
    UNKEYED = "unkeyed"  # an unkeyed (legacy) chain, and it matches
    MISMATCH = "mismatch"  # does not match the event (edited, moved, or forged)
    UNKNOWN_KEY = "unknown_key"  # keyed with a key that is neither current nor retired
    MALFORMED = "malformed"


def keyed_chain(
    key: bytes,
    key_id: str,
    previous: str,
    topic: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> str:
    covered = material(previous, topic, originator_id, version, timestamp, fields)
    return f"{PREFIX}:{key_id}:{hmac_sha256(key, covered)}"


def next_chain(
    previous: str,
    topic: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> str:
    """The chain value of a new event, keyed with the current key (the domain calls this)."""
    key = current_keys().current
    return keyed_chain(
        key.chain_key, key.key_id, previous, topic, originator_id, version, timestamp, fields
    )


def is_keyed(chain: str) -> bool:
    return chain.startswith(PREFIX + ":")


def check_chain(
    keys: IntegrityKeys,
    stored: str,
    previous: str,
    topic: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> ChainCheck:
    """Whether ``stored`` is the chain value of this event after ``previous``."""
    if is_keyed(stored):
        _, key_id, mac = [*stored.split(":", 2), "", ""][:3]
        key = keys.chain_key(key_id)
        if key is None:
            return ChainCheck.UNKNOWN_KEY
        expected = keyed_chain(
            key, key_id, previous, topic, originator_id, version, timestamp, fields
        )
        ok = hmac.compare_digest(expected.encode(), stored.encode()) and len(mac) == 64
        return ChainCheck.KEYED if ok else ChainCheck.MISMATCH
    if len(stored) != 64:
        return ChainCheck.MALFORMED
    unkeyed = chain_hash(previous, topic, originator_id, version, timestamp, fields)
    return ChainCheck.UNKEYED if unkeyed == stored else ChainCheck.MISMATCH
