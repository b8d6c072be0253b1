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


# 机关代字 of the labour-personnel dispute arbitration commissions of Hubei, by the region
# code of the commission (a deployment changes or adds them in its policy file)
HUBEI_COMMISSIONS: tuple[tuple[str, str], ...] = (
    ("420000", "鄂劳人仲"),
    ("420100", "武劳人仲"),
    ("420200", "黄石劳人仲"),
    ("420300", "十劳人仲"),
    ("420500", "宜劳人仲"),
    ("420600", "襄劳人仲"),
    ("420700", "鄂州劳人仲"),
    ("420800", "荆门劳人仲"),
    ("420900", "孝劳人仲"),
    ("421000", "荆州劳人仲"),
    ("421100", "黄冈劳人仲"),
    ("421200", "咸劳人仲"),
    ("421300", "随劳人仲"),
    ("422800", "恩施州劳人仲"),
    ("429004", "仙劳人仲"),
    ("429005", "潜劳人仲"),
    ("429006", "天劳人仲"),
    ("429021", "神劳人仲"),
)


@dataclass(frozen=True)
class NumberingPolicy:
    """Case numbers (brief §8, "What a clerk's file holds"; ``mediation.numbering``).

    Which commission numbers a region's cases: a city's commission numbers the cases of
    its districts and counties; a county-level division listed in ``own_commission`` has
    its own (Hubei's directly administered cities and the Shennongjia forestry district);
    ``numbered_by`` maps a code to another commission explicitly (429000, the province's
    directly administered group, is not a commission: the province's numbers its cases);
    a province-level code is its own. ``abbreviations`` gives each commission's 机关代字;
    one without falls back to its name without the administrative suffix + "劳人仲".
    Formats take ``{abbr}``, ``{year}`` and ``{seq}``; ``formats`` overrides them per
    commission: ``(commission code, "registration" | "filing", format)``.
    """

    own_commission: tuple[str, ...] = ("429004", "429005", "429006", "429021")
    numbered_by: tuple[tuple[str, str], ...] = (("429000", "420000"),)
    abbreviations: tuple[tuple[str, str], ...] = HUBEI_COMMISSIONS
    registration_format: str = "{abbr}登字〔{year}〕第{seq}号"
    filing_format: str = "{abbr}案字〔{year}〕第{seq}号"
    formats: tuple[tuple[str, str, str], ...] = ()


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
    numbering: NumberingPolicy = field(default_factory=NumberingPolicy)


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
        elif isinstance(current, NumberingPolicy):
            changes[key] = _numbering_from_dict(value)
        elif isinstance(current, date):
            changes[key] = date.fromisoformat(value)
        elif isinstance(current, bool):
            changes[key] = bool(value)
        elif isinstance(current, int):
            changes[key] = int(value)
        else:
            changes[key] = str(value)
    return replace(policy, **changes)


def _numbering_from_dict(data: dict[str, Any]) -> NumberingPolicy:
    """``{"abbreviations": {"420100": "武劳人仲"}, "own_commission": ["429004"],
    "numbered_by": {"429000": "420000"}, "registration_format": "...", "filing_format":
    "...", "formats": [["420100", "filing", "..."]]}``; what is left out keeps its default
    (abbreviations given are added to the defaults)."""
    known = {f.name for f in fields(NumberingPolicy)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown numbering policy fields: {sorted(unknown)}")
    base = NumberingPolicy()
    changes: dict[str, Any] = {}
    if "abbreviations" in data:
        merged = dict(base.abbreviations) | {
            str(k): str(v) for k, v in data["abbreviations"].items()
        }
        changes["abbreviations"] = tuple(sorted(merged.items()))
    if "own_commission" in data:
        changes["own_commission"] = tuple(str(c) for c in data["own_commission"])
    if "numbered_by" in data:
        changes["numbered_by"] = tuple((str(k), str(v)) for k, v in data["numbered_by"].items())
    for key in ("registration_format", "filing_format"):
        if key in data:
            changes[key] = str(data[key])
    if "formats" in data:
        changes["formats"] = tuple((str(c), str(k), str(f)) for c, k, f in data["formats"])
    return replace(base, **changes)
