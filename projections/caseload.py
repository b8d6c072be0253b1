"""The caseload question: its vocabulary (groupings and measures) and its report.

The figures follow ``shared/api-contract.md`` ("Statistics") to the letter:

* ``received`` — cases with ``received_on`` in the period (claims move with a severance);
* ``entrusted`` — entrustments dated in the period (each starts one mediation);
* ``succeeded`` — successes dated in the period and not reversed as known at ``as_of``;
* ``failed`` — failures, withdrawals of consent during mediation and reversals, dated in
  the period; ``concluded`` = ``succeeded`` + ``failed``;
* ``pending`` — mediations entrusted on or before ``to`` and not concluded by ``to``
  (a mediation is concluded by its unreversed success or by its failure);
* ``overdue`` — pending mediations whose window (as extended by ``to``) ended before ``to``;
* ``workers`` — the applicants of the received cases (a severed case is its own case, so
  its applicants count with it, as its ``received`` does); ``collective`` — the received
  cases that are collective disputes (ten or more applicants, LDMAL art. 7).

With ``as_of`` only what was recorded at or before that moment counts. A fact counts under
the region, studio and mediator the case had when the fact happened; ``pending`` and
``overdue`` count under the mediator assigned as of ``to`` and, by month, under the month
of entrustment. Days to conclusion run from the mediation's entrustment.

Answered from the counters (``projections.caseload_counters``) for whole months as known
now, else aggregated in SQL (``projections.caseload_exact``); the cases behind a figure
come from ``projections.drilldown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, get_args

from sqlalchemy import Engine

from mediation import labels, regions
from mediation.errors import ValidationFailed
from projections import caseload_counters, caseload_exact
from projections.common import NONE_KEY, TOTAL_KEY, org_names, prefix_of
from projections.figures import CaseloadRow, Figures
from projections.sql import utc_naive

GroupBy = Literal[
    "city",
    "county",
    "studio",
    "mediator",
    "month",
    "claim_category",
    "route",
    "worker_category",
    "failure_reason",
]
GROUP_BYS: tuple[GroupBy, ...] = get_args(GroupBy)
# the measures that count cases (and mediations); the amounts are sums of money
Count = Literal[
    "received",
    "entrusted",
    "concluded",
    "succeeded",
    "succeeded_by_performance",
    "succeeded_by_statement",
    "failed",
    "pending",
    "overdue",
    "workers",  # issue 17: applicants in received cases
    "collective",  # issue 17: collective disputes received
]
COUNTS: tuple[str, ...] = get_args(Count)
RATES = ("success_rate", "mediation_share")
AMOUNTS = ("amount_claimed", "amount_agreed", "amount_paid")
# the figures whose cases a drill-down can list
MEASURES: tuple[str, ...] = (*COUNTS, *AMOUNTS)

# the glossary's labels (mediation.labels); claim categories in their short form
CATEGORY_LABELS = {code: text.split("（")[0] for code, text in labels.CLAIM.items()}
ROUTE_LABELS = {**labels.ROUTE, NONE_KEY: "未委托"}
# by failure reason: what is not a failure (received, entrusted, successes, amounts, pending)
FAILURE_REASON_LABELS = {**labels.FAILURE_REASON, NONE_KEY: "非调解不成"}


@dataclass(frozen=True)
class CaseloadReport:
    rows: list[CaseloadRow]
    totals: CaseloadRow
    as_of: datetime
    policy_version: str


class _Labels:
    def __init__(self, engine: Engine, group_by: str, keys: Iterable[str]) -> None:
        self.group_by = group_by
        self.names: dict[str, str] = {}
        if group_by in ("studio", "mediator"):
            wanted = [k for k in keys if k != NONE_KEY]
            self.names = org_names(engine, [f"{group_by}s"], wanted)

    def __call__(self, key: str) -> str:
        g = self.group_by
        if g in ("city", "county"):
            region = regions.get_region(key)
            return region.name if region else key
        if g == "studio":
            return "未委托" if key == NONE_KEY else self.names.get(key, key)
        if g == "mediator":
            return "未指派调解员" if key == NONE_KEY else self.names.get(key, key)
        if g == "month":
            year, month = key.split("-")
            return f"{year}年{int(month)}月"
        if g == "claim_category":
            return CATEGORY_LABELS.get(key, key)
        if g == "route":
            return ROUTE_LABELS.get(key, key)
        if g == "failure_reason":
            return FAILURE_REASON_LABELS.get(key, key)
        return labels.WORKER.get(key, key)


def check(
    region: str, from_: date, to: date, group_by: str, as_of: datetime | None
) -> tuple[str, datetime | None]:
    """The region's prefix and the ``as_of`` cutoff (naive UTC) of a valid query."""
    if group_by not in GROUP_BYS:
        raise ValidationFailed(f"group_by must be one of {', '.join(GROUP_BYS)}", field="group_by")
    if from_ > to:
        raise ValidationFailed("the period starts after it ends", field="from")
    prefix = prefix_of(region)
    if as_of is not None and as_of.tzinfo is None:
        raise ValidationFailed("as_of needs a UTC offset", field="as_of")
    return prefix, utc_naive(as_of) if as_of is not None else None


def caseload(
    engine: Engine,
    *,
    region: str,
    from_: date,
    to: date,
    group_by: str,
    as_of: datetime | None = None,
) -> CaseloadReport:
    """The caseload figures of ``shared/api-contract.md``, aggregated in the database."""
    prefix, cutoff = check(region, from_, to, group_by, as_of)
    with engine.connect() as conn:
        if cutoff is None and caseload_counters.answers(prefix, group_by, from_, to):
            groups, total, policy_version = caseload_counters.read(
                conn, group_by, prefix, from_, to
            )
        else:
            groups = caseload_exact.aggregate(conn, group_by, prefix, from_, to, cutoff)
            if group_by == "claim_category":  # a case counts under each category, once in total
                everything = caseload_exact.aggregate(conn, None, prefix, from_, to, cutoff)
                total = everything.get(TOTAL_KEY, Figures())
            else:
                total = Figures()
                for fig in groups.values():
                    total.add(fig)
            policy_version = caseload_exact.latest_policy(conn, to)
    labels = _Labels(engine, group_by, groups)
    rows = [groups[key].row(key, labels(key)) for key in sorted(groups)]
    return CaseloadReport(
        rows=rows,
        totals=total.row(TOTAL_KEY, "合计"),
        as_of=as_of if as_of is not None else datetime.now(UTC),
        policy_version=policy_version,
    )
