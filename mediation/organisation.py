"""Studios and their mediator rosters.

A studio (docking studio, union legal-service workstation or arbitration outpost) is an
aggregate; its roster lives inside it so that the mediator quota is enforced in one
consistency boundary. Event classes are stored format: see ``mediation.case``.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from mediation import rules
from mediation.envelope import ChainedAggregate, Envelope
from mediation.errors import InvalidTransition, NotFound, ValidationFailed
from mediation.policy import Policy
from mediation.values import Actor, Mediator, StudioKind, active_on

QUALIFICATIONS = (
    "union_cadre",
    "lawyer",
    "retired_judge",
    "retired_arbitrator",
    "legal_worker",
    "hr_professional",
    "other",
)

_T = "mediation.organisation."


class Studio(ChainedAggregate):
    TOPIC = "mediation.organisation.Studio"

    class Event(Envelope, Aggregate.Event):
        TOPIC = _T + "Event"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = _T + "Created"

    class Registered(Envelope, Aggregate.Created):
        TOPIC = _T + "Registered"
        class_version = 1
        name: str
        region_code: str
        kind: str
        mediator_quota: int

        def apply(self, studio: Studio) -> None:
            studio.name = self.name
            studio.region_code = self.region_code
            studio.kind = StudioKind(self.kind)
            studio.established_on = self.on
            studio.mediator_quota = self.mediator_quota

    class MediatorAppointed(Event):
        TOPIC = _T + "MediatorAppointed"
        class_version = 1
        mediator_id: UUID
        name: str
        qualification: str

        def apply(self, studio: Studio) -> None:
            studio.roster[self.mediator_id] = Mediator(
                self.mediator_id, self.name, self.qualification, self.on
            )

    class MediatorRetired(Event):
        TOPIC = _T + "MediatorRetired"
        class_version = 1
        mediator_id: UUID

        def apply(self, studio: Studio) -> None:
            m = studio.roster[self.mediator_id]
            studio.roster[self.mediator_id] = Mediator(
                m.mediator_id, m.name, m.qualification, m.appointed_on, self.on
            )

    class Closed(Event):
        TOPIC = _T + "Closed"
        class_version = 1

        def apply(self, studio: Studio) -> None:
            studio.closed_on = self.on

    def __init__(self) -> None:
        self.name = ""
        self.region_code = ""
        self.kind = StudioKind.DOCKING_STUDIO
        self.established_on = date.min
        self.closed_on: date | None = None
        self.mediator_quota = 0
        self.roster: dict[UUID, Mediator] = {}

    @classmethod
    def register(
        cls,
        *,
        actor: Actor,
        policy: Policy,
        name: str,
        region_code: str,
        kind: StudioKind,
        established_on: date,
        mediator_quota: int | None = None,
    ) -> Studio:
        rules.require_text(name, "name", 200)
        rules.require_region_exists(region_code)
        quota = policy.default_mediator_quota if mediator_quota is None else mediator_quota
        if not 1 <= quota <= 1000:
            raise ValidationFailed("mediator_quota is 1 to 1000", field="mediator_quota")
        return cls._create_chained(
            cls.Registered,
            id=uuid4(),
            actor=actor.username,
            actor_role=actor.role.value,
            on=established_on,
            policy_version=policy.version,
            name=name.strip(),
            region_code=region_code,
            kind=kind.value,
            mediator_quota=quota,
        )

    def active_on(self, on: date) -> bool:
        return active_on(self.established_on, self.closed_on, on)

    def active_mediators(self, on: date | None = None) -> list[Mediator]:
        return [
            m
            for m in self.roster.values()
            if (m.retired_on is None if on is None else m.active_on(on))
        ]

    def appoint_mediator(
        self,
        *,
        actor: Actor,
        policy: Policy,
        name: str,
        qualification: str,
        appointed_on: date,
        mediator_id: UUID | None = None,
    ) -> UUID:
        if self.closed_on is not None:
            raise InvalidTransition("the studio is closed")
        rules.require_mediation_body(self.kind)  # brief §8 rule 10
        rules.require_not_before(appointed_on, self.established_on, "the studio's establishment")
        rules.require_text(name, "name", 100)
        if qualification not in QUALIFICATIONS:
            raise ValidationFailed(
                f"qualification is one of {', '.join(QUALIFICATIONS)}", field="qualification"
            )
        rules.require_quota(len(self.active_mediators()), self.mediator_quota)
        new_id = mediator_id or uuid4()
        self.trigger_event(
            self.MediatorAppointed,
            mediator_id=new_id,
            name=name.strip(),
            qualification=qualification,
            **self.envelope(actor, appointed_on, policy),
        )
        return new_id

    def retire_mediator(
        self, *, actor: Actor, policy: Policy, mediator_id: UUID, retired_on: date
    ) -> None:
        m = self.roster.get(mediator_id)
        if m is None:
            raise NotFound("no such mediator on this studio's roster")
        if m.retired_on is not None:
            raise InvalidTransition("the mediator is already retired")
        rules.require_not_before(retired_on, m.appointed_on, "the mediator's appointment")
        self.trigger_event(
            self.MediatorRetired,
            mediator_id=mediator_id,
            **self.envelope(actor, retired_on, policy),
        )

    def close(self, *, actor: Actor, policy: Policy, closed_on: date) -> None:
        if self.closed_on is not None:
            raise InvalidTransition("the studio is already closed")
        rules.require_not_before(closed_on, self.established_on, "the studio's establishment")
        self.trigger_event(self.Closed, **self.envelope(actor, closed_on, policy))
