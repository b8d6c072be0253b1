"""Versioned policy: the brief's configurable decisions.

Provinces differ and rules change during a system's life, so every value that the brief
marks as *policy* lives here, under a version string. Each decision event records the
version it was taken under (``policy_version``), and the version in force on a business
date is the newest whose ``effective_from`` is on or before that date.

A deployment may supply its own versions as a JSON file (``MEDIATION_POLICY_FILE``): a
list of objects with the fields of :class:`Policy` (periods as ``{"days": n, "unit":
"working"|"calendar"}``, amounts as decimal strings).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from mediation.calendar import DayUnit, Period

DEFAULT_POLICY_VERSION = "hubei-2023.1"


@dataclass(frozen=True)
class SubsidyTable:
    """Case-handling subsidy (办案补贴) per concluded mediation, CNY (illustrative defaults)."""

    success: Decimal = Decimal("300.00")
    failure_after_session: Decimal = Decimal("100.00")
    failure_without_session: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Policy:
    version: str = DEFAULT_POLICY_VERSION
    effective_from: date = date(2023, 1, 1)
    # LDMAL art. 29: acceptance decided within 5 (working) days of receipt.
    acceptance_decision: Period = Period(5, DayUnit.WORKING)
    # LDMAL art. 14 / Rules (调解建议书): pre-filing window, calendar days from entrustment.
    pre_filing_window: Period = Period(15, DayUnit.CALENDAR)
    pre_filing_extension_max_days: int = 15
    # Rules (委托调解): post-filing window from the later party's consent.
    post_filing_window: Period = Period(10, DayUnit.WORKING)
    # Rules art. 74: joint application for arbitral review within 15 days.
    review_window: Period = Period(15, DayUnit.CALENDAR)
    # Rules arts. 74-79 (to be checked against the official text): the commission decides
    # whether to accept a review application within 5 working days and, once accepted,
    # concludes within 5 working days, extendable by 5.
    review_decision: Period = Period(5, DayUnit.WORKING)
    review_conclusion: Period = Period(5, DayUnit.WORKING)
    review_conclusion_extension_max_days: int = 5
    # LDMAL art. 43: award within 45 days, extendable by <= 15 with the chair's approval.
    award_period: Period = Period(45, DayUnit.CALENDAR)
    award_extension_max_days: int = 15
    # LDMAL art. 27: limitation one year from when the worker knew of the infringement
    # (years, not 365 days: a year that spans 29 February has 366).
    limitation_years: int = 1
    # Success branch (b) counts when the statement is issued; court confirmation does not.
    court_confirmation_counts: bool = False
    subsidy: SubsidyTable = field(default_factory=SubsidyTable)
    default_mediator_quota: int = 10


class PolicyBook:
    """All policy versions known to this deployment."""

    def __init__(self, versions: Iterable[Policy]) -> None:
        ordered = sorted(versions, key=lambda p: p.effective_from)
        if not ordered:
            raise ValueError("a policy book needs at least one version")
        names = [p.version for p in ordered]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate policy versions: {names}")
        self._versions = ordered
        self._by_version = {p.version: p for p in ordered}

    @property
    def versions(self) -> list[Policy]:
        return list(self._versions)

    def in_force(self, on: date) -> Policy:
        chosen = self._versions[0]
        for policy in self._versions:
            if policy.effective_from <= on:
                chosen = policy
        return chosen

    def get(self, version: str) -> Policy:
        try:
            return self._by_version[version]
        except KeyError:
            raise KeyError(f"unknown policy version {version!r}") from None

    @classmethod
    def default(cls) -> PolicyBook:
        return cls([Policy()])

    @classmethod
    def from_file(cls, path: str | Path) -> PolicyBook:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(raw, list):
            raise ValueError("a policy file holds a JSON list of policy versions")
        return cls(_policy_from_dict(item) for item in raw)


def _policy_from_dict(data: dict[str, Any]) -> Policy:
    known = {f.name for f in fields(Policy)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown policy fields: {sorted(unknown)}")
    policy = Policy()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        current = getattr(policy, key)
        if isinstance(current, Period):
            changes[key] = Period(int(value["days"]), DayUnit(value["unit"]))
        elif isinstance(current, SubsidyTable):
            changes[key] = SubsidyTable(**{k: Decimal(str(v)) for k, v in value.items()})
        elif isinstance(current, date):
            changes[key] = date.fromisoformat(value)
        elif isinstance(current, bool):
            changes[key] = bool(value)
        elif isinstance(current, int):
            changes[key] = int(value)
        else:
            changes[key] = str(value)
    return replace(policy, **changes)
