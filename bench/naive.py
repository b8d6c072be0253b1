"""The naive statistics: read every case event's payload and fold it, per query.

What a system without read models would do for ``GET /stats/caseload?group_by=city``:
scan the events table, parse each JSON payload, and count. It follows the contract's
definitions for the figures it computes (received, entrusted, succeeded by branch,
failed, amounts claimed/agreed/paid), so its numbers must equal the read model's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from mediation import regions

# the event kinds the fold reads (the others change no figure it computes)
TOPICS = (
    "Received",
    "ClaimsSevered",
    "Entrusted",
    "AgreementSigned",
    "PerformanceRecorded",
    "StatementIssued",
    "StatementRetracted",
    "MediationFailed",
    "ConsentRecorded",
)

FIELDS = (
    "received",
    "entrusted",
    "succeeded",
    "succeeded_by_performance",
    "succeeded_by_statement",
    "failed",
    "concluded",
    "amount_claimed",
    "amount_agreed",
    "amount_paid",
)


@dataclass
class Acc:
    received: int = 0
    entrusted: int = 0
    succeeded_by_performance: int = 0
    succeeded_by_statement: int = 0
    failed: int = 0
    amount_claimed: Decimal = Decimal("0.00")
    amount_agreed: Decimal = Decimal("0.00")
    amount_paid: Decimal = Decimal("0.00")

    def figures(self) -> dict[str, Any]:
        succeeded = self.succeeded_by_performance + self.succeeded_by_statement
        return {
            "received": self.received,
            "entrusted": self.entrusted,
            "succeeded": succeeded,
            "succeeded_by_performance": self.succeeded_by_performance,
            "succeeded_by_statement": self.succeeded_by_statement,
            "failed": self.failed,
            "concluded": succeeded + self.failed,
            "amount_claimed": self.amount_claimed,
            "amount_agreed": self.amount_agreed,
            "amount_paid": self.amount_paid,
        }


@dataclass
class _Case:
    region: str = ""
    received_on: date = date.min
    claims: dict[str, Decimal] = field(default_factory=dict)
    mediation: int = 0
    # (mediation, branch, on) of successes; reversed mediations
    successes: list[tuple[int, str, date]] = field(default_factory=list)
    reversed: set[int] = field(default_factory=set)
    facts: list[tuple[str, date, Decimal]] = field(default_factory=list)


def _value(v: Any) -> Any:
    return v["_data_"] if isinstance(v, dict) and "_data_" in v else v


def _day(v: Any) -> date:
    return date.fromisoformat(_value(v))


def _city(region_code: str) -> str:
    city = regions.city_of(region_code)
    return city.code if city else region_code[:4] + "00"


def caseload_by_city(
    rows: Any, *, prefix: str, from_: date, to: date
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Fold ``rows`` of (originator_id, topic, state) in log order; (per city, totals)."""
    cases: dict[Any, _Case] = defaultdict(_Case)
    for originator_id, topic, state in rows:
        if not topic.startswith("mediation.case."):
            continue
        kind = topic[len("mediation.case.") :]
        data = json.loads(bytes(state))
        c = cases[originator_id]
        on = _day(data["on"])
        if kind == "Received":
            c.region, c.received_on = data["region_code"], on
            for claim in data["claims"]:
                c.claims[claim["category"]] = Decimal(claim["amount"])
        elif kind == "ClaimsSevered":
            for category in data["categories"]:
                c.claims.pop(category, None)
        elif kind == "Entrusted":
            c.mediation += 1
            c.facts.append(("entrusted", on, Decimal(0)))
        elif kind == "AgreementSigned":
            c.facts.append(("agreed", on, Decimal(data["amount"])))
        elif kind == "PerformanceRecorded":
            c.facts.append(("paid", on, Decimal(data["amount_paid"])))
            if data["complete"]:
                c.successes.append((c.mediation, "performance", on))
        elif kind == "StatementIssued":
            c.successes.append((c.mediation, "statement", on))
        elif kind == "StatementRetracted":
            c.reversed.add(c.mediation)
            c.facts.append(("failed", on, Decimal(0)))
        elif kind == "MediationFailed" or (kind == "ConsentRecorded" and data["ends_mediation"]):
            c.facts.append(("failed", on, Decimal(0)))
    groups: dict[str, Acc] = defaultdict(Acc)
    total = Acc()
    for c in cases.values():
        if not c.region.startswith(prefix):
            continue
        accs = (groups[_city(c.region)], total)
        if from_ <= c.received_on <= to:
            for acc in accs:
                acc.received += 1
                acc.amount_claimed += sum(c.claims.values(), Decimal("0.00"))
        for kind, on, amount in c.facts:
            if not from_ <= on <= to:
                continue
            for acc in accs:
                if kind == "entrusted":
                    acc.entrusted += 1
                elif kind == "failed":
                    acc.failed += 1
                elif kind == "agreed":
                    acc.amount_agreed += amount
                elif kind == "paid":
                    acc.amount_paid += amount
        for mediation, branch, on in c.successes:
            if from_ <= on <= to and mediation not in c.reversed:
                for acc in accs:
                    if branch == "performance":
                        acc.succeeded_by_performance += 1
                    else:
                        acc.succeeded_by_statement += 1
    return _nonzero({k: a.figures() for k, a in groups.items()}), total.figures()


def _nonzero(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in rows.items() if any(v.values())}


def project(report: Any) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The same figures from a ``projections.caseload.CaseloadReport``."""

    def pick(row: Any) -> dict[str, Any]:
        return {f: getattr(row, f) for f in FIELDS}

    return _nonzero({r.key: pick(r) for r in report.rows}), pick(report.totals)
