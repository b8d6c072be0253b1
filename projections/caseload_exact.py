"""Caseload figures aggregated in SQL over ``rm_facts`` and ``rm_claims``: exact for any
period and any ``as_of`` (the definitions are in ``projections.caseload``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from mediation.policy import DEFAULT_POLICY_VERSION
from mediation.values import ClaimCategory
from projections.common import (
    NONE_KEY,
    TOTAL_KEY,
    claims_received,
    concluded_by,
    known,
    same_mediation,
    starts_with,
)
from projections.figures import Figures
from projections.sql import case_tables

# the fact kinds the figures count (``reversed``, ``window`` and ``assigned`` only qualify them)
COUNTED_KINDS = ("entrusted", "succeeded", "failed", "agreed", "paid")


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
    reason: Any = None,
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
    if group_by == "failure_reason":  # only failed facts have one; all else counts under none
        return none if reason is None else func.coalesce(reason, none)
    return category


def _fact_key(group_by: str | None, columns: Any, category: Any) -> Any:
    """The key of a row of facts (or of pending mediations, with the same column names)."""
    return _key_expr(
        group_by,
        region=columns.region_code,
        studio=columns.studio_id,
        mediator=columns.mediator_id,
        route=columns.route,
        worker=columns.worker_category,
        on=columns.on,
        category=category,
        reason=getattr(columns, "reason_code", None),
    )


def _claim_key(group_by: str | None, cl: Any) -> Any:
    """The key of an ``rm_claims`` row (claims have no studio, mediator, route or reason)."""
    return _key_expr(
        group_by,
        region=cl.region_code,
        studio=None,
        mediator=None,
        route=None,
        worker=cl.worker_category,
        on=cl.received_on,
        category=cl.category,
    )


def _reversed(f: Any, cutoff: datetime | None) -> ColumnElement[bool]:
    """A success row reversed as known at ``cutoff``: it counts nowhere."""
    reversed_: ColumnElement[bool] = f.reversed_at.is_not(None)
    if cutoff is not None:
        reversed_ = and_(reversed_, f.reversed_at <= cutoff)
    return reversed_


def _in_period(
    f: Any, prefix: str, kinds: Sequence[str], from_: date, to: date, cutoff: datetime | None
) -> list[ColumnElement[bool]]:
    """Facts of ``kinds`` in the region, dated in the period, known at ``cutoff``."""
    return [
        starts_with(f.region_code, prefix),
        f.kind.in_(kinds),
        f.on >= from_,
        f.on <= to,
        *known(f, cutoff),
    ]


def _with_categories(query: Any, categories_col: Any, cats: Any) -> Any:
    return query.join(
        cats,
        (literal(",") + categories_col + literal(",")).contains(
            literal(",") + cats.c.category + literal(",")
        ),
    )


def aggregate(
    conn: Any, group_by: str | None, prefix: str, from_: date, to: date, cutoff: datetime | None
) -> dict[str, Figures]:
    """The figures per key of ``group_by`` (``None``: one row keyed ``total``)."""
    t = case_tables()
    figs: dict[str, Figures] = defaultdict(Figures)
    by_category = group_by == "claim_category"

    # received and claimed: claims belonging to their case as known at as_of
    cl = t["claims"].c
    key = _claim_key(group_by, cl)
    # one row per (key, case): its claims' sum, its applicants, whether it is collective
    claimed = (
        select(
            key.label("k"),
            cl.case_id,
            cl.amount_cents,
            cl.applicants,
            case((cl.collective, 1), else_=0).label("collective"),
        )
        .where(and_(*claims_received(prefix, from_, to, cutoff)))
        .subquery("c")
    )
    c = claimed.c
    per_case = (
        select(
            c.k,
            func.sum(c.amount_cents).label("cents"),
            func.max(c.applicants).label("applicants"),
            func.max(c.collective).label("collective"),
        )
        .group_by(c.k, c.case_id)
        .subquery("r")
    )
    r = per_case.c
    for k, cases, cents, workers, collective in conn.execute(
        select(
            r.k, func.count(), func.sum(r.cents), func.sum(r.applicants), func.sum(r.collective)
        ).group_by(r.k)
    ):
        fig = figs[k]
        fig.received += cases
        fig.claimed += int(cents or 0)
        fig.workers += int(workers or 0)
        fig.collective += int(collective or 0)

    # facts dated in the period
    facts = t["facts"]
    f = facts.c
    cats = _categories()
    category = cats.c.category if by_category else None
    query = select(
        _fact_key(group_by, f, category).label("k"),
        f.kind,
        f.branch,
        case((_reversed(f, cutoff), 1), else_=0).label("rev"),
        f.days,
        f.amount_cents,
    ).select_from(facts)
    if by_category:
        query = _with_categories(query, f.categories, cats)
    inner = query.where(and_(*_in_period(f, prefix, COUNTED_KINDS, from_, to, cutoff))).subquery(
        "f"
    )
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

    for k, pending, overdue in conn.execute(_pending(group_by, prefix, to, cutoff, cats)):
        figs[k].pending += pending
        figs[k].overdue += int(overdue or 0)
    return figs


def _pending_candidates(prefix: str, to: date, cutoff: datetime | None) -> Any:
    """The mediations pending at ``to``: their case, dimensions (mediator as assigned by
    ``to``) and the window's end as extended by ``to``, as known at ``cutoff``."""
    facts = case_tables()["facts"]
    e, a, w = (facts.alias(n) for n in ("e", "a", "w"))
    mediator_at = (
        select(a.c.mediator_id)
        .where(
            and_(same_mediation(a, e), a.c.kind == "assigned", a.c.on <= to, *known(a.c, cutoff))
        )
        .order_by(a.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    window_at = func.coalesce(
        select(w.c.window_ends_on)
        .where(and_(same_mediation(w, e), w.c.kind == "window", w.c.on <= to, *known(w.c, cutoff)))
        .order_by(w.c.position.desc())
        .limit(1)
        .scalar_subquery(),
        e.c.window_ends_on,
    )
    open_then = [e.c.closed_on.is_(None), e.c.closed_on > to]
    if cutoff is not None:
        open_then.append(e.c.closed_at > cutoff)
    return (
        select(
            e.c.case_id,
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
                starts_with(e.c.region_code, prefix),
                e.c.on <= to,
                or_(*open_then),
                *known(e.c, cutoff),
                ~concluded_by(e, to, cutoff),
            )
        )
        .subquery("p")
    )


def _pending(
    group_by: str | None, prefix: str, to: date, cutoff: datetime | None, cats: Any
) -> Any:
    """Per key: the mediations pending at ``to`` and how many of them are overdue."""
    candidates = _pending_candidates(prefix, to, cutoff)
    p = candidates.c
    category = cats.c.category if group_by == "claim_category" else None
    query = select(
        _fact_key(group_by, p, category).label("k"),
        case((p.window_end < to, 1), else_=0).label("late"),
    ).select_from(candidates)
    if category is not None:
        query = _with_categories(query, p.categories, cats)
    keyed = query.subquery("q")
    return select(keyed.c.k, func.count(), func.sum(keyed.c.late)).group_by(keyed.c.k)


# ---------------------------------------------------------------------- the cases behind a figure

# the fact kinds each measure counts (``succeeded`` only unreversed; ``pending`` and
# ``overdue`` come from the pending mediations, the received measures from the claims)
_FACT_KINDS: dict[str, tuple[str, ...]] = {
    "entrusted": ("entrusted",),
    "succeeded": ("succeeded",),
    "succeeded_by_performance": ("succeeded",),
    "succeeded_by_statement": ("succeeded",),
    "failed": ("failed",),
    "concluded": ("succeeded", "failed"),
    "amount_agreed": ("agreed",),
    "amount_paid": ("paid",),
}
_RECEIVED = ("received", "amount_claimed", "workers", "collective")


def _narrowed(group_by: str | None, key: str, prefix: str) -> str:
    """The region prefix of a city's or county's row inside ``prefix`` (an index range
    instead of a computed key); ``prefix`` itself otherwise."""
    if group_by not in ("city", "county") or not key.isdigit() or len(key) != 6:
        return prefix
    own = key[:4] if group_by == "city" else key
    return own if own.startswith(prefix) else prefix


def case_ids(
    measure: str,
    group_by: str | None,
    key: str,
    prefix: str,
    from_: date,
    to: date,
    cutoff: datetime | None,
) -> Any:
    """One statement: the cases one figure counts (``case_id`` and ``on``, the latest date of
    what counted it: receipt, entrustment, the fact) — the row ``key`` of
    ``group_by`` (``None``: the totals) — by the same predicates as :func:`aggregate`."""
    prefix = _narrowed(group_by, key, prefix)
    by_category = group_by == "claim_category"
    cats = _categories()
    category = cats.c.category if by_category else None
    if measure in _RECEIVED:
        cl = case_tables()["claims"].c
        where = claims_received(prefix, from_, to, cutoff)
        if measure == "collective":
            where.append(cl.collective.is_(True))
        if group_by is not None:
            where.append(_claim_key(group_by, cl) == key)
        return (
            select(cl.case_id, func.max(cl.received_on).label("on"))
            .where(and_(*where))
            .group_by(cl.case_id)
        )
    if measure in ("pending", "overdue"):
        candidates = _pending_candidates(prefix, to, cutoff)
        p = candidates.c
        query = select(p.case_id, func.max(p.on).label("on")).select_from(candidates)
        if category is not None:
            query = _with_categories(query, p.categories, cats)
        where = [] if group_by is None else [_fact_key(group_by, p, category) == key]
        if measure == "overdue":
            where.append(p.window_end < to)
        return query.where(and_(true(), *where)).group_by(p.case_id)
    facts = case_tables()["facts"]
    f = facts.c
    where = [
        *_in_period(f, prefix, _FACT_KINDS[measure], from_, to, cutoff),
        or_(f.kind != "succeeded", ~_reversed(f, cutoff)),  # a reversed success counts nowhere
    ]
    if measure == "succeeded_by_performance":
        where.append(f.branch == "performance")
    elif measure == "succeeded_by_statement":
        where.append(func.coalesce(f.branch, "") != "performance")  # as aggregate() counts
    query = select(f.case_id, func.max(f.on).label("on")).select_from(facts)
    if category is not None:
        query = _with_categories(query, f.categories, cats)
    if group_by is not None:
        where.append(_fact_key(group_by, f, category) == key)
    return query.where(and_(*where)).group_by(f.case_id)


def latest_policy(conn: Any, to: date) -> str:
    """The policy version of the latest fact (by position) dated up to ``to``."""
    p = case_tables()["policy_days"].c
    version = conn.execute(
        select(p.policy_version)
        .where(and_(p.grain == "d", p.on <= to))
        .order_by(p.position.desc())
        .limit(1)
    ).scalar()
    return str(version) if version else DEFAULT_POLICY_VERSION
