"""Read functions over the read models (pure: an Engine in, values out).

The caseload figures follow ``shared/api-contract.md`` ("Statistics") to the letter:

* ``received`` — cases with ``received_on`` in the period (claims move with a severance);
* ``entrusted`` — entrustments dated in the period (each starts one mediation);
* ``succeeded`` — successes dated in the period and not reversed as known at ``as_of``;
* ``failed`` — failures, withdrawals of consent during mediation and reversals, dated in
  the period; ``concluded`` = ``succeeded`` + ``failed``;
* ``pending`` — mediations entrusted on or before ``to`` and not concluded by ``to``
  (a mediation is concluded by its unreversed success or by its failure);
* ``overdue`` — pending mediations whose window (as extended by ``to``) ended before ``to``.

With ``as_of`` only what was recorded at or before that moment counts. A fact counts under
the region, studio and mediator the case had when the fact happened; ``pending`` and
``overdue`` count under the mediator assigned as of ``to`` and, by month, under the month
of entrustment. Days to conclusion run from the mediation's entrustment.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import operator
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)

from mediation import regions
from mediation.errors import ValidationFailed
from mediation.policy import DEFAULT_POLICY_VERSION
from mediation.values import ClaimCategory, Status
from projections import stats
from projections.sql import case_tables, from_utc_naive, organisation_tables, utc_naive

GROUP_BYS = (
    "city",
    "county",
    "studio",
    "mediator",
    "month",
    "claim_category",
    "route",
    "worker_category",
)
MEASURES = (
    "received",
    "entrusted",
    "concluded",
    "succeeded",
    "succeeded_by_performance",
    "succeeded_by_statement",
    "failed",
    "pending",
    "overdue",
    "amount_claimed",
    "amount_agreed",
    "amount_paid",
)
NONE_KEY = "none"
TOTAL_KEY = "total"
RATE = Decimal("0.0001")
CENT = Decimal("0.01")

CATEGORY_LABELS = {
    "labour_relationship_confirmation": "确认劳动关系",
    "contract": "劳动合同",
    "dismissal": "除名、辞退、辞职、离职",
    "working_conditions": "工时、休假、社保、福利、培训、劳动保护",
    "remuneration": "劳动报酬、工伤医疗费、经济补偿或赔偿金",
    "other": "其他",
}
WORKER_LABELS = {
    "employee": "职工",
    "delivery_rider": "外卖骑手",
    "ride_hailing_driver": "网约车司机",
    "truck_driver": "货车司机",
    "courier": "快递员",
    "domestic_worker": "家政服务员",
    "other_new_employment": "其他新就业形态劳动者",
}
ROUTE_LABELS = {"pre_filing": "立案前", "post_filing": "立案后", NONE_KEY: "未委托"}


@dataclass(frozen=True)
class CaseloadRow:
    key: str
    label: str
    received: int
    entrusted: int
    concluded: int
    succeeded: int
    succeeded_by_performance: int
    succeeded_by_statement: int
    failed: int
    pending: int
    overdue: int
    success_rate: Decimal | None
    mediation_share: Decimal | None
    amount_claimed: Decimal
    amount_agreed: Decimal
    amount_paid: Decimal
    median_days_to_conclusion: float | None


@dataclass(frozen=True)
class CaseloadReport:
    rows: list[CaseloadRow]
    totals: CaseloadRow
    as_of: datetime
    policy_version: str


@dataclass(frozen=True)
class SubsidyRow:
    kind: str  # "mediator" | "studio"
    id: UUID
    name: str
    cases: int
    amount: Decimal
    compensating_entries: int


@dataclass(frozen=True)
class SubsidyTotals:
    cases: int
    amount: Decimal
    compensating_entries: int


@dataclass(frozen=True)
class SubsidyStatement:
    region: str
    month: str
    rows: list[SubsidyRow]
    totals: SubsidyTotals


@dataclass(frozen=True)
class Coverage:
    region: str
    on: date
    counties_total: int
    counties_covered: int
    covered: list[str]
    uncovered: list[str]


# ---------------------------------------------------------------------- helpers


def _prefix(region: str) -> str:
    if re.fullmatch(r"\d{6}", region or ""):
        if not regions.is_valid_region_code(region):
            raise ValidationFailed(f"unknown region {region!r}", field="region")
        return regions.region_prefix(region)
    if re.fullmatch(r"\d{2,6}", region or "") and len(region) % 2 == 0:
        return region
    raise ValidationFailed(f"region must be a GB/T 2260 code, got {region!r}", field="region")


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _rate(num: int, den: int) -> Decimal | None:
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE, rounding=ROUND_HALF_UP)


def _like(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with the digits ``prefix``, as an index-friendly range."""
    upper = str(int(prefix) + 1).zfill(len(prefix))
    result: ColumnElement[bool] = and_(column >= prefix, column < upper)
    return result


Mediation = tuple[str, int]


@dataclass
class _Acc:
    received: set[str] = field(default_factory=set)
    entrusted: set[Mediation] = field(default_factory=set)
    succeeded: dict[Mediation, str] = field(default_factory=dict)
    failed: set[Mediation] = field(default_factory=set)
    pending: set[Mediation] = field(default_factory=set)
    overdue: set[Mediation] = field(default_factory=set)
    agreed_cases: set[str] = field(default_factory=set)
    paid_cases: set[str] = field(default_factory=set)
    claimed: int = 0
    agreed: int = 0
    paid: int = 0
    days: dict[Mediation, int] = field(default_factory=dict)

    def row(self, key: str, label: str) -> CaseloadRow:
        succeeded = len(self.succeeded)
        failed = len(self.failed)
        concluded = succeeded + failed
        by_perf = sum(1 for b in self.succeeded.values() if b == "performance")
        days = list(self.days.values())
        return CaseloadRow(
            key=key,
            label=label,
            received=len(self.received),
            entrusted=len(self.entrusted),
            concluded=concluded,
            succeeded=succeeded,
            succeeded_by_performance=by_perf,
            succeeded_by_statement=succeeded - by_perf,
            failed=failed,
            pending=len(self.pending),
            overdue=len(self.overdue),
            success_rate=_rate(succeeded, concluded),
            mediation_share=_rate(succeeded, len(self.received)),
            amount_claimed=_money(self.claimed),
            amount_agreed=_money(self.agreed),
            amount_paid=_money(self.paid),
            median_days_to_conclusion=float(statistics.median(days)) if days else None,
        )

    def cases(self, measure: str) -> set[str]:
        def ids(items: Iterable[Mediation]) -> set[str]:
            return {case_id for case_id, _ in items}

        by_measure: dict[str, Callable[[], set[str]]] = {
            "received": lambda: set(self.received),
            "amount_claimed": lambda: set(self.received),
            "entrusted": lambda: ids(self.entrusted),
            "succeeded": lambda: ids(self.succeeded),
            "succeeded_by_performance": lambda: ids(
                m for m, b in self.succeeded.items() if b == "performance"
            ),
            "succeeded_by_statement": lambda: ids(
                m for m, b in self.succeeded.items() if b == "statement"
            ),
            "failed": lambda: ids(self.failed),
            "concluded": lambda: ids(self.succeeded) | ids(self.failed),
            "pending": lambda: ids(self.pending),
            "overdue": lambda: ids(self.overdue),
            "amount_agreed": lambda: set(self.agreed_cases),
            "amount_paid": lambda: set(self.paid_cases),
        }
        return by_measure[measure]()


def _keys(group_by: str, dims: dict[str, Any], month_of: date) -> list[str]:
    if group_by == "city":
        city = regions.city_of(dims["region_code"])
        return [city.code if city else dims["region_code"][:4] + "00"]
    if group_by == "county":
        return [dims["region_code"]]
    if group_by == "studio":
        return [dims.get("studio_id") or NONE_KEY]
    if group_by == "mediator":
        return [dims.get("mediator_id") or NONE_KEY]
    if group_by == "month":
        return [month_of.strftime("%Y-%m")]
    if group_by == "claim_category":
        return [c for c in dims["categories"].split(",") if c] or [NONE_KEY]
    if group_by == "route":
        return [dims.get("route") or NONE_KEY]
    return [dims["worker_category"]]


class _Labels:
    def __init__(self, engine: Engine, group_by: str, keys: Iterable[str]) -> None:
        self.group_by = group_by
        self.names: dict[str, str] = {}
        wanted = [k for k in keys if k != NONE_KEY]
        if group_by in ("studio", "mediator") and wanted:
            org = organisation_tables()
            table = org["studios"] if group_by == "studio" else org["mediators"]
            id_col = table.c.studio_id if group_by == "studio" else table.c.mediator_id
            with engine.connect() as conn:
                for row in conn.execute(select(id_col, table.c.name).where(id_col.in_(wanted))):
                    self.names[row[0]] = row[1]

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
        return WORKER_LABELS.get(key, key)


def _validate(region: str, from_: date, to: date, group_by: str) -> str:
    if group_by not in GROUP_BYS:
        raise ValidationFailed(f"group_by must be one of {', '.join(GROUP_BYS)}", field="group_by")
    if from_ > to:
        raise ValidationFailed("the period starts after it ends", field="from")
    return _prefix(region)


def _compute(
    engine: Engine,
    *,
    region: str,
    from_: date,
    to: date,
    group_by: str,
    as_of: datetime | None,
) -> tuple[dict[str, _Acc], _Acc, str]:
    prefix = _validate(region, from_, to, group_by)
    if as_of is not None and as_of.tzinfo is None:
        raise ValidationFailed("as_of needs a UTC offset", field="as_of")
    cutoff = utc_naive(as_of) if as_of is not None else None
    t = case_tables()
    groups: dict[str, _Acc] = defaultdict(_Acc)
    total = _Acc()
    latest_policy: tuple[int, str] = (0, DEFAULT_POLICY_VERSION)

    def accs(dims: dict[str, Any], month_of: date) -> list[_Acc]:
        return [groups[k] for k in _keys(group_by, dims, month_of)] + [total]

    with engine.connect() as conn:
        # received: claims that belonged to the case as known at as_of
        cl = t["claims"].c
        where = [_like(cl.region_code, prefix), cl.received_on >= from_, cl.received_on <= to]
        if cutoff is None:
            where.append(cl.recorded_to.is_(None))
        else:
            where += [
                cl.recorded_from <= cutoff,
                or_(cl.recorded_to.is_(None), cl.recorded_to > cutoff),
            ]
        claims: dict[str, list[Any]] = defaultdict(list)
        for row in conn.execute(select(t["claims"]).where(and_(*where))):
            claims[row.case_id].append(row)
            latest_policy = max(latest_policy, (row.position, row.policy_version))
        for case_id, rows in claims.items():
            first = rows[0]
            dims = {
                "region_code": first.region_code,
                "worker_category": first.worker_category,
                "categories": ",".join(sorted({r.category for r in rows})),
            }
            for acc in accs(dims, first.received_on):
                acc.received.add(case_id)
            if group_by == "claim_category":
                for r in rows:
                    groups[r.category].claimed += r.amount_cents
            else:
                for key in _keys(group_by, dims, first.received_on):
                    groups[key].claimed += sum(r.amount_cents for r in rows)
            total.claimed += sum(r.amount_cents for r in rows)

        # facts dated in the period (and the reversals of successes dated in it)
        f = t["facts"].c
        known = [f.recorded_at <= cutoff] if cutoff is not None else []
        in_period = select(t["facts"]).where(
            and_(
                _like(f.region_code, prefix),
                f.kind.in_(("entrusted", "succeeded", "failed", "agreed", "paid", "reversed")),
                or_(
                    and_(f.on >= from_, f.on <= to),
                    and_(f.kind == "reversed", f.on >= from_),
                ),
                *known,
            )
        )
        rows = list(conn.execute(in_period))
        reversed_ = {(r.case_id, r.mediation) for r in rows if r.kind == "reversed"}
        for r in rows:
            if r.kind == "reversed" or r.on > to:
                continue
            latest_policy = max(latest_policy, (r.position, r.policy_version))
            m = (r.case_id, r.mediation)
            dims = dict(r._mapping)
            for acc in accs(dims, r.on):
                if r.kind == "entrusted":
                    acc.entrusted.add(m)
                elif r.kind == "succeeded" and m not in reversed_:
                    acc.succeeded[m] = r.branch
                    acc.days[m] = (r.on - r.started_on).days
                elif r.kind == "failed":
                    acc.failed.add(m)
                    acc.days[m] = (r.on - r.started_on).days
                elif r.kind == "agreed":
                    acc.agreed += r.amount_cents
                    acc.agreed_cases.add(r.case_id)
                elif r.kind == "paid":
                    acc.paid += r.amount_cents
                    acc.paid_cases.add(r.case_id)

        # pending and overdue at `to`
        for m, entrusted_on, dims in _pending(conn, prefix, to, cutoff):
            for acc in accs(dims, entrusted_on):
                acc.pending.add(m)
                if dims["window_ends_on"] < to:
                    acc.overdue.add(m)
    return groups, total, latest_policy[1]


def _pending(
    conn: Any, prefix: str, to: date, cutoff: datetime | None
) -> list[tuple[Mediation, date, dict[str, Any]]]:
    t = case_tables()
    e = t["facts"].alias("e")
    c = t["facts"].alias("c")
    r = t["facts"].alias("r")

    def known(alias: Any) -> list[ColumnElement[bool]]:
        return [alias.c.recorded_at <= cutoff] if cutoff is not None else []

    reversal = exists().where(
        and_(
            r.c.case_id == c.c.case_id,
            r.c.mediation == c.c.mediation,
            r.c.kind == "reversed",
            *known(r),
        )
    )
    concluded = exists().where(
        and_(
            c.c.case_id == e.c.case_id,
            c.c.mediation == e.c.mediation,
            c.c.on <= to,
            or_(c.c.kind == "failed", and_(c.c.kind == "succeeded", ~reversal)),
            *known(c),
        )
    )
    query: Select[Any] = select(e).where(
        and_(
            _like(e.c.region_code, prefix),
            e.c.kind == "entrusted",
            e.c.on <= to,
            ~concluded,
            *known(e),
        )
    )
    entrusted = {(row.case_id, row.mediation): dict(row._mapping) for row in conn.execute(query)}
    if not entrusted:
        return []
    # the mediator assigned and the window as they stood at `to`, as known at as_of
    f = t["facts"].c
    case_ids = sorted({case_id for case_id, _ in entrusted})
    updates: dict[Mediation, list[Any]] = defaultdict(list)
    for i in range(0, len(case_ids), 500):
        chunk = case_ids[i : i + 500]
        q = select(t["facts"]).where(
            and_(
                f.case_id.in_(chunk),
                f.kind.in_(("assigned", "window")),
                f.on <= to,
                *([f.recorded_at <= cutoff] if cutoff is not None else []),
            )
        )
        for row in conn.execute(q):
            updates[(row.case_id, row.mediation)].append(row)
    out = []
    for m, dims in entrusted.items():
        for row in sorted(updates.get(m, []), key=lambda x: x.position):
            if row.kind == "assigned":
                dims["mediator_id"] = row.mediator_id
            else:
                dims["window_ends_on"] = row.window_ends_on
        out.append((m, dims["on"], dims))
    return out


# ---------------------------------------------------------------------- set-based figures


@dataclass
class _Fig:
    """Figures of one row, aggregated in SQL (days kept as a histogram for the median)."""

    received: int = 0
    entrusted: int = 0
    by_performance: int = 0
    by_statement: int = 0
    failed: int = 0
    pending: int = 0
    overdue: int = 0
    claimed: int = 0
    agreed: int = 0
    paid: int = 0
    days: Counter[int] = field(default_factory=Counter)
    # or a dense histogram: dense[i] conclusions after dense_lo + i days
    dense_lo: int = 0
    dense: list[int] = field(default_factory=list)

    def add(self, other: _Fig) -> None:
        for name in (
            "received",
            "entrusted",
            "by_performance",
            "by_statement",
            "failed",
            "pending",
            "overdue",
            "claimed",
            "agreed",
            "paid",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.days.update(other.days)

    def add_hist(self, text: str) -> None:
        """Add a stored dense histogram (``first:count,count,...``, see projections.stats)."""
        first, _, rest = text.partition(":")
        lo = int(first)
        counts = list(map(int, rest.split(",")))
        mine = self.dense
        if not mine:
            self.dense_lo, self.dense = lo, counts
            return
        if lo < self.dense_lo:
            mine[:0] = [0] * (self.dense_lo - lo)
            self.dense_lo = lo
        start = lo - self.dense_lo
        end = start + len(counts)
        if end > len(mine):
            mine.extend([0] * (end - len(mine)))
        mine[start:end] = map(operator.add, mine[start:end], counts)

    def median(self) -> float | None:
        if not self.days:  # dense only: the two middle ranks by bisection over running counts
            running = list(itertools.accumulate(self.dense))
            n = running[-1] if running else 0
            if n == 0:
                return None
            return (
                self.dense_lo * 2
                + bisect.bisect_right(running, (n - 1) // 2)
                + bisect.bisect_right(running, n // 2)
            ) / 2
        days = Counter(self.days)
        for i, count in enumerate(self.dense):
            if count:
                days[self.dense_lo + i] += count
        n = sum(days.values())
        if n == 0:
            return None
        wanted = [(n - 1) // 2, n // 2]
        found: list[int] = []
        seen = 0
        for value in sorted(days):
            count = days[value]
            for index in wanted:
                if seen <= index < seen + count:
                    found.append(value)
            seen += count
        return (found[0] + found[1]) / 2

    def row(self, key: str, label: str) -> CaseloadRow:
        succeeded = self.by_performance + self.by_statement
        concluded = succeeded + self.failed
        return CaseloadRow(
            key=key,
            label=label,
            received=self.received,
            entrusted=self.entrusted,
            concluded=concluded,
            succeeded=succeeded,
            succeeded_by_performance=self.by_performance,
            succeeded_by_statement=self.by_statement,
            failed=self.failed,
            pending=self.pending,
            overdue=self.overdue,
            success_rate=_rate(succeeded, concluded),
            mediation_share=_rate(succeeded, self.received),
            amount_claimed=_money(self.claimed),
            amount_agreed=_money(self.agreed),
            amount_paid=_money(self.paid),
            median_days_to_conclusion=self.median(),
        )


def _categories() -> Any:
    parts = [select(literal(c.value).label("category")) for c in ClaimCategory]
    return union_all(*parts).subquery("cats")


def _key_expr(
    group_by: str | None,
    *,
    region: Any,
    studio: Any,
    mediator: Any,
    route: Any,
    worker: Any,
    on: Any,
    category: Any,
) -> Any:
    none = literal(NONE_KEY)
    if group_by is None:
        return literal(TOTAL_KEY)
    if group_by == "city":
        return func.substr(region, 1, 4) + literal("00")
    if group_by == "county":
        return region
    if group_by == "studio":
        return none if studio is None else func.coalesce(studio, none)
    if group_by == "mediator":
        return none if mediator is None else func.coalesce(mediator, none)
    if group_by == "month":
        return func.substr(cast(on, String), 1, 7)
    if group_by == "route":
        return none if route is None else func.coalesce(route, none)
    if group_by == "worker_category":
        return worker
    return category


def _with_categories(query: Any, categories_col: Any, cats: Any) -> Any:
    return query.join(
        cats,
        (literal(",") + categories_col + literal(",")).contains(
            literal(",") + cats.c.category + literal(",")
        ),
    )


def _aggregate(
    conn: Any, group_by: str | None, prefix: str, from_: date, to: date, cutoff: datetime | None
) -> dict[str, _Fig]:
    t = case_tables()
    figs: dict[str, _Fig] = defaultdict(_Fig)
    by_category = group_by == "claim_category"

    # received and claimed: claims belonging to their case as known at as_of
    cl = t["claims"].c
    where: list[Any] = [
        _like(cl.region_code, prefix),
        cl.received_on >= from_,
        cl.received_on <= to,
    ]
    if cutoff is None:
        where.append(cl.recorded_to.is_(None))
    else:
        where += [
            cl.recorded_from <= cutoff,
            or_(cl.recorded_to.is_(None), cl.recorded_to > cutoff),
        ]
    key = _key_expr(
        group_by,
        region=cl.region_code,
        studio=None,
        mediator=None,
        route=None,
        worker=cl.worker_category,
        on=cl.received_on,
        category=cl.category,
    )
    inner = select(key.label("k"), cl.case_id, cl.amount_cents).where(and_(*where)).subquery("r")
    for k, cases, cents in conn.execute(
        select(
            inner.c.k, func.count(distinct(inner.c.case_id)), func.sum(inner.c.amount_cents)
        ).group_by(inner.c.k)
    ):
        figs[k].received += cases
        figs[k].claimed += int(cents or 0)

    # facts dated in the period
    facts = t["facts"]
    f = facts.c
    cats = _categories()
    key = _key_expr(
        group_by,
        region=f.region_code,
        studio=f.studio_id,
        mediator=f.mediator_id,
        route=f.route,
        worker=f.worker_category,
        on=f.on,
        category=cats.c.category if by_category else None,
    )
    reversed_: ColumnElement[bool] = f.reversed_at.is_not(None)
    if cutoff is not None:
        reversed_ = and_(reversed_, f.reversed_at <= cutoff)
    query = select(
        key.label("k"),
        f.kind,
        f.branch,
        case((reversed_, 1), else_=0).label("rev"),
        f.days,
        f.amount_cents,
    ).select_from(facts)
    if by_category:
        query = _with_categories(query, f.categories, cats)
    inner = query.where(
        and_(
            _like(f.region_code, prefix),
            f.kind.in_(("entrusted", "succeeded", "failed", "agreed", "paid")),
            f.on >= from_,
            f.on <= to,
            *([f.recorded_at <= cutoff] if cutoff is not None else []),
        )
    ).subquery("f")
    grouped = select(
        inner.c.k,
        inner.c.kind,
        inner.c.branch,
        inner.c.rev,
        inner.c.days,
        func.count(),
        func.sum(inner.c.amount_cents),
    ).group_by(inner.c.k, inner.c.kind, inner.c.branch, inner.c.rev, inner.c.days)
    for k, kind, branch, rev, days, count, cents in conn.execute(grouped):
        if kind == "succeeded" and rev:
            continue  # a reversed success counts nowhere (and makes no row appear)
        fig = figs[k]
        if kind == "entrusted":
            fig.entrusted += count
        elif kind == "succeeded" and not rev:
            if branch == "performance":
                fig.by_performance += count
            else:
                fig.by_statement += count
            fig.days[days] += count
        elif kind == "failed":
            fig.failed += count
            fig.days[days] += count
        elif kind == "agreed":
            fig.agreed += int(cents or 0)
        elif kind == "paid":
            fig.paid += int(cents or 0)

    # pending and overdue at `to`
    e, a, w, c, r = (facts.alias(n) for n in ("e", "a", "w", "c", "r"))

    def known(alias: Any) -> list[Any]:
        return [alias.c.recorded_at <= cutoff] if cutoff is not None else []

    def same(alias: Any, other: Any) -> Any:
        return and_(alias.c.case_id == other.c.case_id, alias.c.mediation == other.c.mediation)

    reversal = exists().where(and_(same(r, c), r.c.kind == "reversed", *known(r)))
    concluded = exists().where(
        and_(
            same(c, e),
            c.c.on <= to,
            or_(c.c.kind == "failed", and_(c.c.kind == "succeeded", ~reversal)),
            *known(c),
        )
    )
    mediator_at = (
        select(a.c.mediator_id)
        .where(and_(same(a, e), a.c.kind == "assigned", a.c.on <= to, *known(a)))
        .order_by(a.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    window_at = func.coalesce(
        select(w.c.window_ends_on)
        .where(and_(same(w, e), w.c.kind == "window", w.c.on <= to, *known(w)))
        .order_by(w.c.position.desc())
        .limit(1)
        .scalar_subquery(),
        e.c.window_ends_on,
    )
    open_then = [e.c.closed_on.is_(None), e.c.closed_on > to]
    if cutoff is not None:
        open_then.append(e.c.closed_at > cutoff)
    candidates = (
        select(
            e.c.region_code,
            e.c.studio_id,
            mediator_at.label("mediator_id"),
            e.c.route,
            e.c.worker_category,
            e.c.categories,
            e.c.on,
            window_at.label("window_end"),
        )
        .where(
            and_(
                e.c.kind == "entrusted",
                _like(e.c.region_code, prefix),
                e.c.on <= to,
                or_(*open_then),
                *known(e),
                ~concluded,
            )
        )
        .subquery("p")
    )
    p = candidates.c
    key = _key_expr(
        group_by,
        region=p.region_code,
        studio=p.studio_id,
        mediator=p.mediator_id,
        route=p.route,
        worker=p.worker_category,
        on=p.on,
        category=cats.c.category if by_category else None,
    )
    query = select(key.label("k"), case((p.window_end < to, 1), else_=0).label("late")).select_from(
        candidates
    )
    if by_category:
        query = _with_categories(query, p.categories, cats)
    keyed = query.subquery("q")
    for k, pending, overdue in conn.execute(
        select(keyed.c.k, func.count(), func.sum(keyed.c.late)).group_by(keyed.c.k)
    ):
        figs[k].pending += pending
        figs[k].overdue += int(overdue or 0)
    return figs


def _latest_policy(conn: Any, to: date) -> str:
    """The policy version of the latest fact (by position) dated up to ``to``."""
    p = case_tables()["policy_days"].c
    version = conn.execute(
        select(p.policy_version)
        .where(and_(p.grain == "d", p.on <= to))
        .order_by(p.position.desc())
        .limit(1)
    ).scalar()
    return str(version) if version else DEFAULT_POLICY_VERSION


_DIM = {
    "city": "none",
    "county": "none",
    "studio": "studio",
    "mediator": "mediator",
    "month": "month",
    "claim_category": "category",
    "route": "route",
    "worker_category": "worker",
}


def _month_aligned(from_: date, to: date) -> bool:
    return from_.day == 1 and (to + timedelta(days=1)).day == 1


_FLOW_COLUMNS = "n, received, claimed, entrusted, perf, stmt, failed, agreed, paid"
_ZERO_FLOWS = "0, 0, 0, 0, 0, 0, 0, 0, 0"


def _pieces(from_: date, to: date) -> list[tuple[str, date]]:
    """Whole months [from_, to] as the fewest (grain, first day) rows: years, quarters, months."""
    out: list[tuple[str, date]] = []
    m = from_
    while m <= to:
        year_end = date(m.year, 12, 31)
        quarter_end = stats.next_month(stats.next_month(stats.next_month(m))) - timedelta(days=1)
        if m.month == 1 and year_end <= to:
            out.append(("y", m))
            m = date(m.year + 1, 1, 1)
        elif m.month % 3 == 1 and quarter_end <= to:
            out.append(("q", m))
            m = quarter_end + timedelta(days=1)
        else:
            out.append(("m", m))
            m = stats.next_month(m)
    return out


@cache
def _counters_sql(postgres: bool, grouped_by_scope: bool, pieces: int) -> str:
    """The whole counters query, one statement (one round trip), every part tagged.

    ``g``/``t``: the flow rows of the report's keys / of its total, one per piece of the
    period (year, quarter or month; their histograms are merged in Python); ``s``/``S``:
    the stock at ``to`` per key / in total — the month-end stock of ``to``'s month plus
    every open tail started by then (the year rows of the years before, the month rows of
    ``to``'s year up to its month); ``v``: the policy version of the latest fact dated up
    to ``to``. Each branch fixes (level, dim, grain) and bounds the bucket, so it is one
    range of the key index (``pk_rm_stats``: level, dim, grain, bucket, scope, key); an OR
    of grains made PostgreSQL read every grain's rows of the level and filter them.

    Parameters, in order (built by ``_from_counters``): per piece, the keys and the piece
    (``g``), then per piece the total's keys and the piece (``t``); the month-end month,
    then the keys with the years' bound and with the months' bounds (``s``); the same with
    the total's keys (``S``); the month for ``v``.
    """
    t = case_tables()
    st, pd = t["stats"].name, t["policy_days"].name
    m = "%s" if postgres else "?"
    bigint = "BIGINT" if postgres else "INTEGER"
    if grouped_by_scope:  # city / county: every scope of the level inside the prefix
        keys = f"level = {m} AND dim = {m} AND scope >= {m} AND scope < {m}"
    else:  # one scope, the report's dim
        keys = f"level = {m} AND dim = {m} AND scope = {m} AND scope = {m}"
    total = f"level = {m} AND dim = 'none' AND scope = {m}"

    def flows(tag: str, where: str) -> str:
        one = (
            f"SELECT '{tag}', scope, key, {_FLOW_COLUMNS}, 0, 0, hist FROM {st} "
            f"WHERE {where} AND grain = {m} AND bucket = {m}"
        )
        return " UNION ALL ".join([one] * pieces)

    def stock(tag: str, where: str) -> str:
        sums = ", ".join(
            f"CAST(SUM(CASE WHEN grain = 'm' AND bucket = {m} THEN {c} ELSE 0 END) "
            f"+ SUM(open_{c}) AS {bigint})"
            for c in ("pending", "overdue")
        )
        columns = "scope, key, grain, bucket, pending, overdue, open_pending, open_overdue"
        tails = (
            f"SELECT {columns} FROM {st} WHERE {where} AND grain = 'y' AND bucket < {m} "
            f"UNION ALL SELECT {columns} FROM {st} "
            f"WHERE {where} AND grain = 'm' AND bucket >= {m} AND bucket <= {m}"
        )
        return (
            f"SELECT '{tag}', scope, key, {_ZERO_FLOWS}, {sums}, '' FROM ({tails}) {tag}x "
            "GROUP BY scope, key"
        )

    policy = (
        f"SELECT 'v', policy_version, '', {_ZERO_FLOWS}, 0, 0, '' FROM ("
        f"SELECT policy_version FROM {pd} WHERE grain = 'm' AND \"on\" <= {m} "
        "ORDER BY position DESC LIMIT 1) pv"
    )
    return " UNION ALL ".join(
        (flows("g", keys), flows("t", total), stock("s", keys), stock("S", total), policy)
    )


def _read_once(raw: Any, postgres: bool, sql: str, params: Sequence[Any]) -> list[Any]:
    """Every row of one read statement (a snapshot of its own), on the driver connection.

    On PostgreSQL a connection outside a transaction runs it in autocommit: one round trip,
    no ``BEGIN``/``ROLLBACK``, and the driver keeps the statement prepared across calls.
    """
    idle = (
        postgres
        and not raw.autocommit
        and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    )
    if idle:
        raw.autocommit = True
    cur = raw.cursor()
    try:
        if postgres:  # prepared on its first use on a connection, not its fifth
            cur.execute(sql, params, prepare=True)
        else:
            cur.execute(sql, params)
        rows: list[Any] = cur.fetchall()
        return rows
    finally:
        cur.close()
        if idle and not raw.closed:
            raw.autocommit = False


def _from_counters(
    conn: Any, group_by: str, prefix: str, from_: date, to: date
) -> tuple[dict[str, _Fig], _Fig, str]:
    """Figures "as known now" for whole months, from the pre-aggregated counters.

    The rows of the report's own level (``projections.stats``): by city under a province,
    a dozen city rows per piece of the period (a half-year is two quarters); flows sum
    the pieces, ``pending`` and ``overdue`` are the stock at ``to``, the median comes from
    the merged histograms.
    """
    level, scope = stats.level_of(prefix)
    upper = str(int(prefix) + 1).zfill(len(prefix))
    by_scope = group_by in ("city", "county")
    if group_by == "city":
        keys: tuple[Any, ...] = ("c" if len(prefix) <= 4 else "d", "none", prefix, upper)
    elif group_by == "county":
        keys = ("d", "none", prefix, upper)
    else:
        keys = (level, _DIM[group_by], scope, scope)
    total_keys = (level, scope)
    last_month = to.replace(day=1)
    pieces = _pieces(from_, to)
    this_year = date(to.year, 1, 1)
    # the parameters in the order of the SQL (``_counters_sql``)
    month_end = (last_month, last_month)  # pending, overdue
    params = (
        *[v for piece in pieces for v in (*keys, *piece)],
        *[v for piece in pieces for v in (*total_keys, *piece)],
        *month_end, *keys, this_year, *keys, this_year, last_month,
        *month_end, *total_keys, this_year, *total_keys, this_year, last_month,
        last_month,
    )  # fmt: skip
    raw: Any = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    if not postgres:  # dates as SQLAlchemy stores them on SQLite
        params = tuple(v.isoformat() if isinstance(v, date) else v for v in params)
    result = _read_once(raw, postgres, _counters_sql(postgres, by_scope, len(pieces)), params)
    figs: dict[str, _Fig] = {}
    total = _Fig()
    present: set[str] = set()
    presence: dict[str, int] = {}  # per key, the contributions that make it appear
    policy_version = DEFAULT_POLICY_VERSION
    city = group_by == "city"
    for row in result:
        part, row_scope, key, n, rec, cla, ent, perf, stmt, fail, agr, paid, pen, ovd, hist = row
        if part == "v":
            policy_version = row_scope
            continue
        if part in ("t", "S"):
            fig = total
        else:
            k = (row_scope[:4] + "00" if city else row_scope) if by_scope else key
            fig = figs.get(k) or figs.setdefault(k, _Fig())
            if part == "g":
                presence[k] = presence.get(k, 0) + n
            elif pen or ovd:
                present.add(k)
        if part in ("g", "t"):
            fig.received += rec
            fig.claimed += cla
            fig.entrusted += ent
            fig.by_performance += perf
            fig.by_statement += stmt
            fig.failed += fail
            fig.agreed += agr
            fig.paid += paid
            if hist:
                fig.add_hist(hist)
        else:
            fig.pending += pen
            fig.overdue += ovd
    present.update(k for k, n in presence.items() if n > 0)
    return {k: figs[k] for k in present}, total, policy_version


# ---------------------------------------------------------------------- caseload


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
    prefix = _validate(region, from_, to, group_by)
    if as_of is not None and as_of.tzinfo is None:
        raise ValidationFailed("as_of needs a UTC offset", field="as_of")
    cutoff = utc_naive(as_of) if as_of is not None else None
    with engine.connect() as conn:
        if cutoff is None and _month_aligned(from_, to) and stats.counted(prefix, _DIM[group_by]):
            # as known now, whole months: the pre-aggregated counters (projections.stats)
            groups, total, policy_version = _from_counters(conn, group_by, prefix, from_, to)
        else:
            groups = _aggregate(conn, group_by, prefix, from_, to, cutoff)
            if group_by == "claim_category":  # a case counts under each category, once in total
                total = _aggregate(conn, None, prefix, from_, to, cutoff).get(TOTAL_KEY, _Fig())
            else:
                total = _Fig()
                for fig in groups.values():
                    total.add(fig)
            policy_version = _latest_policy(conn, to)
    labels = _Labels(engine, group_by, groups)
    rows = [groups[key].row(key, labels(key)) for key in sorted(groups)]
    return CaseloadReport(
        rows=rows,
        totals=total.row(TOTAL_KEY, "合计"),
        as_of=as_of if as_of is not None else datetime.now(UTC),
        policy_version=policy_version,
    )


def caseload_cases(
    engine: Engine,
    *,
    region: str,
    from_: date,
    to: date,
    group_by: str,
    as_of: datetime | None = None,
    measure: str,
    key: str,
) -> list[UUID]:
    """The cases behind one figure (``key`` = a row's key, or ``"total"``)."""
    if measure not in MEASURES:
        raise ValidationFailed(f"measure must be one of {', '.join(MEASURES)}", field="measure")
    groups, total, _ = _compute(
        engine, region=region, from_=from_, to=to, group_by=group_by, as_of=as_of
    )
    acc = total if key == TOTAL_KEY else groups.get(key, _Acc())
    return sorted(UUID(c) for c in acc.cases(measure))


# ---------------------------------------------------------------------- subsidies


def subsidies(engine: Engine, *, region: str, month: str) -> SubsidyStatement:
    prefix = _prefix(region)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise ValidationFailed("month is YYYY-MM", field="month")
    t = case_tables()
    s = t["subsidies"].c
    with engine.connect() as conn:
        entries = list(
            conn.execute(
                select(t["subsidies"]).where(and_(s.month == month, _like(s.region_code, prefix)))
            )
        )
    per: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for e in entries:
        if e.mediator_id:
            per[("mediator", e.mediator_id)].append(e)
        if e.studio_id:
            per[("studio", e.studio_id)].append(e)
    names = _org_names(engine, [k[1] for k in per])
    rows = [
        SubsidyRow(
            kind=kind,
            id=UUID(ident),
            name=names.get(ident, ident),
            cases=len({e.case_id for e in items if not e.compensating}),
            amount=_money(sum(e.amount_cents for e in items)),
            compensating_entries=sum(1 for e in items if e.compensating),
        )
        for (kind, ident), items in sorted(
            per.items(), key=lambda kv: (kv[0][0] != "studio", kv[0])
        )
    ]
    totals = SubsidyTotals(
        cases=len({e.case_id for e in entries if not e.compensating}),
        amount=_money(sum(e.amount_cents for e in entries)),
        compensating_entries=sum(1 for e in entries if e.compensating),
    )
    return SubsidyStatement(region=region, month=month, rows=rows, totals=totals)


def _org_names(engine: Engine, ids: Sequence[str]) -> dict[str, str]:
    org = organisation_tables()
    names: dict[str, str] = {}
    if not ids:
        return names
    with engine.connect() as conn:
        for row in conn.execute(
            select(org["studios"].c.studio_id, org["studios"].c.name).where(
                org["studios"].c.studio_id.in_(ids)
            )
        ):
            names[row[0]] = row[1]
        for row in conn.execute(
            select(org["mediators"].c.mediator_id, org["mediators"].c.name).where(
                org["mediators"].c.mediator_id.in_(ids)
            )
        ):
            names[row[0]] = row[1]
    return names


# ---------------------------------------------------------------------- coverage


def pilot_coverage(engine: Engine, *, region: str, on: date) -> Coverage:
    """Counties of ``region`` with at least one studio located in them and active on ``on``.

    A studio is located in a county when its region code is the county's (or falls
    within it); city-level workstations and outposts serve the whole city but do not make
    each of its counties a pilot county.
    """
    prefix = _prefix(region)
    code = (prefix + "0000")[:6]
    own = regions.get_region(code)
    if own is not None and own.level == "county":
        counties = [code]
    else:
        counties = [r.code for r in regions.counties_under(code)]
    studios = organisation_tables()["studios"]
    c = studios.c
    with engine.connect() as conn:
        located = {
            row.region_code
            for row in conn.execute(
                select(c.region_code).where(
                    and_(
                        _like(c.region_code, prefix),
                        c.established_on <= on,
                        or_(c.closed_on.is_(None), c.closed_on > on),
                    )
                )
            )
        }
    covered = [county for county in counties if county in located]
    uncovered = [county for county in counties if county not in located]
    return Coverage(
        region=region,
        on=on,
        counties_total=len(counties),
        counties_covered=len(covered),
        covered=covered,
        uncovered=uncovered,
    )


# ---------------------------------------------------------------------- lists


def _encode_cursor(kind: str, values: list[str]) -> str:
    raw = json.dumps({"k": kind, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: str) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(data, dict) or data.get("k") != kind:
            raise ValueError("wrong kind")
        values = data["v"]
        if not (isinstance(values, list) and len(values) == 2):
            raise ValueError("malformed")
        date.fromisoformat(values[0])
        UUID(values[1])
        return [str(v) for v in values]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("the cursor is not valid", field="cursor") from None


def _limit(limit: int) -> int:
    if not 1 <= limit <= 500:
        raise ValidationFailed("limit is 1 to 500", field="limit")
    return limit


def list_cases(
    engine: Engine,
    *,
    region_prefix: str,
    status: str | None = None,
    studio_id: UUID | None = None,
    mediator_id: UUID | None = None,
    overdue: bool | None = None,
    today: date,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[UUID], str | None]:
    """Cases in a jurisdiction, newest received first (then by id), with a stable cursor."""
    prefix = _prefix(region_prefix)
    _limit(limit)
    c = case_tables()["cases"].c
    where: list[ColumnElement[bool]] = [_like(c.region_code, prefix)]
    if status is not None:
        if status not in {s.value for s in Status}:
            raise ValidationFailed(f"unknown status {status!r}", field="status")
        where.append(c.status == status)
    if studio_id is not None:
        where.append(c.studio_id == str(studio_id))
    if mediator_id is not None:
        where.append(c.mediator_id == str(mediator_id))
    if overdue is True:
        where.append(c.sort_due < today)
    elif overdue is False:
        where.append(c.sort_due >= today)
    if cursor:
        received, case_id = _decode_cursor("cases", cursor)
        on = date.fromisoformat(received)
        where.append(or_(c.received_on < on, and_(c.received_on == on, c.case_id < case_id)))
    query = (
        select(c.case_id, c.received_on)
        .where(and_(*where))
        .order_by(c.received_on.desc(), c.case_id.desc())
        .limit(limit + 1)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    page = rows[:limit]
    next_cursor = (
        _encode_cursor("cases", [page[-1].received_on.isoformat(), page[-1].case_id])
        if len(rows) > limit
        else None
    )
    return [UUID(r.case_id) for r in page], next_cursor


def _queue(
    engine: Engine, kind: str, where: list[ColumnElement[bool]], limit: int, cursor: str | None
) -> tuple[list[UUID], str | None]:
    _limit(limit)
    c = case_tables()["cases"].c
    if cursor:
        due, case_id = _decode_cursor(kind, cursor)
        on = date.fromisoformat(due)
        where = [*where, or_(c.sort_due > on, and_(c.sort_due == on, c.case_id > case_id))]
    query = (
        select(c.case_id, c.sort_due)
        .where(and_(*where))
        .order_by(c.sort_due, c.case_id)
        .limit(limit + 1)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    page = rows[:limit]
    next_cursor = (
        _encode_cursor(kind, [page[-1].sort_due.isoformat(), page[-1].case_id])
        if len(rows) > limit
        else None
    )
    return [UUID(r.case_id) for r in page], next_cursor


def clerk_queue(
    engine: Engine,
    *,
    region_prefix: str,
    today: date,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[UUID], str | None]:
    """Received cases (acceptance deadlines) and cases back from mediation, earliest due first.

    Ordering by the earliest open deadline puts every overdue case (due before ``today``)
    ahead of the others.
    """
    prefix = _prefix(region_prefix)
    c = case_tables()["cases"].c
    where = [
        _like(c.region_code, prefix),
        c.status.in_((Status.RECEIVED.value, Status.MEDIATION_FAILED.value)),
    ]
    return _queue(engine, "clerk", where, limit, cursor)


def mediator_queue(
    engine: Engine,
    *,
    mediator_id: UUID,
    today: date,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[UUID], str | None]:
    """A mediator's open cases (windows, performance dates), overdue first then earliest due."""
    c = case_tables()["cases"].c
    where = [
        c.mediator_id == str(mediator_id),
        c.status.in_((Status.IN_MEDIATION.value, Status.AGREEMENT_SIGNED.value)),
    ]
    return _queue(engine, "mediator", where, limit, cursor)


def recorded_at(value: datetime) -> datetime:
    """A stored recorded moment as an aware UTC datetime."""
    return from_utc_naive(value)
