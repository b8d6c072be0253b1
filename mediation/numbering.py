"""Case numbers: the registration number (登记号) at receipt, the arbitration 案号 at acceptance.

Each number comes from one gap-free sequence per commission, kind and year of the business
date (brief §8, "What a clerk's file holds"). A sequence is a small event-sourced
aggregate, :class:`NumberSequence`, whose id is derived from those three; every number it
gives is an ``Issued`` event at the next version. The application saves that event in the
*same* ``save()`` as the case's ``Numbered`` event: two writers that drew the same next
number cannot both commit, because the second insert of that version of the sequence
breaks the store's unique (aggregate, version) key. The loser's transaction stores
nothing (neither its number nor its case event) and it draws again (ADR 0012). A number
is therefore given exactly when a case event records it: no gap, no duplicate, on either
backend, without database-specific code.

Loading a sequence reads only its last event (:meth:`NumberSequence.resume`): the next
number and the chain head are all it needs, however many numbers it has given.

Which commission numbers a case, its abbreviation and the formats are policy
(``mediation.policy.NumberingPolicy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Self, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mediation.envelope import ChainedAggregate, Envelope
from mediation.policy import NumberingPolicy, Policy
from mediation.regions import city_of, get_region, province_of
from mediation.values import Actor

_T = "mediation.numbering."
_NS = uuid5(NAMESPACE_URL, "urn:mediation:number-sequence")

# administrative suffixes left out of a commission's fallback abbreviation, longest first
_SUFFIXES = (
    "土家族苗族自治州",
    "特别行政区",
    "自治区",
    "自治州",
    "林区",
    "省",
    "市",
    "区",
    "县",
    "州",
)


class NumberKind(StrEnum):
    REGISTRATION = "registration"  # 登记号, given at receipt (收案登记)
    FILING = "filing"  # 案号, given at acceptance (立案)


@dataclass(frozen=True)
class Commission:
    """The arbitration commission that numbers a case: its region code, name, 机关代字."""

    code: str
    name: str
    abbreviation: str


def commission_of(region_code: str, policy: NumberingPolicy) -> Commission:
    """The commission whose sequences number the cases of ``region_code`` (a known code)."""
    explicit = dict(policy.numbered_by)
    code = region_code
    for _ in range(4):  # explicit mappings may chain (county → city → province)
        if code in explicit:
            code = explicit[code]
            continue
        region = get_region(code)
        if region is None or region.level == "province" or region.level == "city":
            break
        if code in policy.own_commission:
            break
        parent = city_of(code) or province_of(code)
        if parent is None:
            break
        code = parent.code
    region = get_region(code)
    name = region.name if region is not None else code
    return Commission(code, name, abbreviation(code, name, policy))


def abbreviation(code: str, name: str, policy: NumberingPolicy) -> str:
    known = dict(policy.abbreviations)
    if code in known:
        return known[code]
    short = name
    for suffix in _SUFFIXES:
        if short.endswith(suffix) and len(short) > len(suffix):
            short = short[: -len(suffix)]
            break
    return short + "劳人仲"


def format_number(
    policy: NumberingPolicy, commission: Commission, kind: NumberKind, year: int, sequence: int
) -> str:
    """``武劳人仲登字〔2026〕第123号`` (the commission's format for the kind, or the default)."""
    template = (
        policy.registration_format if kind is NumberKind.REGISTRATION else policy.filing_format
    )
    for code, which, override in policy.formats:
        if code == commission.code and which == kind.value:
            template = override
    return template.format(abbr=commission.abbreviation, year=year, seq=sequence)


def sequence_id(commission: str, kind: NumberKind, year: int) -> UUID:
    return uuid5(_NS, f"{commission}/{kind.value}/{year}")


class NumberSequence(ChainedAggregate):
    """One commission's numbers of one kind in one year; ``last`` is the latest given."""

    TOPIC = "mediation.numbering.NumberSequence"

    class Event(Envelope, Aggregate.Event):
        TOPIC = _T + "Event"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = _T + "Created"

    class Started(Envelope, Aggregate.Created):
        TOPIC = _T + "Started"
        class_version = 1
        commission: str
        kind: str
        year: int

        def apply(self, sequence: NumberSequence) -> None:
            sequence.commission = self.commission
            sequence.kind = NumberKind(self.kind)
            sequence.year = self.year
            sequence.last = 0

    class Issued(Event):
        TOPIC = _T + "Issued"
        class_version = 1
        sequence: int
        number: str
        case_id: UUID

        def apply(self, sequence: NumberSequence) -> None:
            sequence.last = self.sequence

    def __init__(self) -> None:
        self.commission = ""
        self.kind = NumberKind.REGISTRATION
        self.year = 0
        self.last = 0

    @classmethod
    def start(
        cls, *, actor: Actor, policy: Policy, on: date, commission: str, kind: NumberKind, year: int
    ) -> NumberSequence:
        return cls._create_chained(
            cls.Started,
            id=sequence_id(commission, kind, year),
            commission=commission,
            kind=kind.value,
            year=year,
            **cls.envelope(actor, on, policy),
        )

    @classmethod
    def resume(cls, last: Any, commission: str, kind: NumberKind, year: int) -> Self:
        """The sequence as its latest stored event leaves it (without replaying the others:
        the next number, the version and the chain head are all a new number needs)."""
        if isinstance(last, cls.Started):
            return cast(Self, last.mutate(None))
        assert isinstance(last, cls.Issued)
        sequence = cls.__new__(cls)
        sequence.__base_init__(last.originator_id, last.originator_version - 1, last.timestamp)
        sequence.__init__()  # type: ignore[misc]
        sequence.commission, sequence.kind, sequence.year = commission, kind, year
        return cast(Self, last.mutate(sequence))

    def issue(
        self, *, actor: Actor, policy: Policy, on: date, case_id: UUID, commission: Commission
    ) -> tuple[int, str]:
        """The next number of this sequence, for ``case_id``: (sequence, number text)."""
        sequence = self.last + 1
        number = format_number(policy.numbering, commission, self.kind, self.year, sequence)
        self.trigger_event(
            self.Issued,
            sequence=sequence,
            number=number,
            case_id=case_id,
            **self.envelope(actor, on, policy),
        )
        return sequence, number
