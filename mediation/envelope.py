"""What every case and studio event carries, and the aggregate side of the hash chain.

``Envelope`` holds the common stored fields (who, business date, policy version, chain
hash) and is mixed into each aggregate's event base classes; ``ChainedAggregate`` computes
the chain when an event is triggered (see ``mediation.keyed_chain``) and builds the common
fields from a command's actor, date and policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from mediation.clock import recording_time
from mediation.integrity import GENESIS
from mediation.keyed_chain import next_chain
from mediation.policy import Policy
from mediation.values import Actor


@dataclass(frozen=True)
class Envelope:
    """Stored fields common to every case and studio event (part of the stored format)."""

    actor: str
    actor_role: str
    on: date
    policy_version: str
    chain: str

    @staticmethod
    def create_timestamp() -> datetime:
        return recording_time()

    def mutate(self, aggregate: Any) -> Any:
        mutated = super().mutate(aggregate)  # type: ignore[misc]
        assert mutated is not None
        mutated.chain_head = self.chain
        return mutated


class ChainedAggregate(Aggregate):
    """An aggregate whose events are hash-chained, with the common envelope helpers."""

    chain_head: str = GENESIS

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        timestamp = event_class.create_timestamp()
        kwargs["chain"] = next_chain(
            self.chain_head, event_class.TOPIC, self.id, self.version + 1, timestamp, kwargs
        )
        super().trigger_event(event_class, timestamp=timestamp, **kwargs)

    @classmethod
    def _create_chained(cls, event_class: type[Any], *, id: UUID, **kwargs: Any) -> Self:
        timestamp = event_class.create_timestamp()
        kwargs["chain"] = next_chain(
            GENESIS, event_class.TOPIC, id, cls.INITIAL_VERSION, timestamp, kwargs
        )
        return cls._create(event_class, id=id, timestamp=timestamp, **kwargs)

    @staticmethod
    def envelope(actor: Actor, on: date, policy: Policy) -> dict[str, Any]:
        return {
            "actor": actor.username,
            "actor_role": actor.role.value,
            "on": on,
            "policy_version": policy.version,
        }
