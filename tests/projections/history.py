"""Random case histories driven through the application, and an independent fold.

``drive`` walks a timeline day by day: new cases arrive, and open cases take random
steps (any command; refusals are simply not recorded). ``fold`` recomputes every caseload
figure straight from the event log with plain Python, without any projection code, for
comparison with the read models.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from mediation import regions
from mediation.application import MediationApplication
from mediation.case import Case, Claim
from mediation.errors import DomainError
from mediation.values import (
    ClaimCategory,
    Disposition,
    FailureReason,
    Party,
    Route,
    Status,
    StudioKind,
    SuccessBranch,
    WorkerCategory,
)
from tests.support.factories import ADMIN, CLERK, MEDIATOR, SteppingClock, applicant, respondent

CASE_REGIONS = ["420102", "420106", "420111", "420502", "420506"]
STUDIO_REGIONS = ["420100", "420500"]
# reason codes a failure may carry at any point of a mediation
SOME_REASONS = [FailureReason.OTHER, FailureReason.NO_AGREEMENT, FailureReason.PARTY_ABSENT]


def drive(
    app: MediationApplication,
    clock: SteppingClock,
    rng: random.Random,
    *,
    cases: int,
    days: int,
    start: date = date(2026, 1, 5),
) -> list[UUID]:
    clock.set(datetime(2026, 1, 1, 1, tzinfo=UTC))
    studios: dict[str, tuple[UUID, list[UUID]]] = {}
    for code in STUDIO_REGIONS:
        studio = app.register_studio(
            ADMIN,
            name=f"{code}裁调对接工作室",
            region_code=code,
            kind=StudioKind.DOCKING_STUDIO,
            established_on=date(2025, 6, 1),
        )
        mediators = [
            app.appoint_mediator(
                ADMIN,
                studio.id,
                name=f"调解员{code}-{i}",
                qualification="lawyer",
                appointed_on=date(2025, 6, 1),
            )[1]
            for i in range(2)
        ]
        studios[code[:4]] = (studio.id, mediators)
    case_ids: list[UUID] = []
    for day in range(days):
        today = start + timedelta(days=day)
        clock.set(max(clock.now, datetime.combine(today, time(1, 0), UTC)))
        while len(case_ids) < cases and rng.random() < 0.45:
            categories = rng.sample(list(ClaimCategory), rng.choice([1, 1, 2, 3]))
            if rng.random() < 0.15 and ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION not in (
                categories
            ):
                categories.append(ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION)
            received_on = today - timedelta(days=rng.choice([0, 0, 1, 3]))
            region = rng.choice(CASE_REGIONS)
            seed, worker = rng.randint(1, 9999), rng.choice(list(WorkerCategory))
            # issue 17: some cases have several applicants, some are collective (the same
            # draws as before, so that every other figure of a history stays as it was)
            count = 12 if seed % 7 == 0 else 2 if seed % 5 == 0 else 1
            applicants = [applicant(seed + j, worker) for j in range(count)]
            case = app.receive_case(
                CLERK,
                region_code=region,
                received_on=received_on,
                applicants=applicants,
                respondents=[respondent(rng.randint(1, 9999))],
                representatives=[applicants[0].id_number] if count >= 10 else [],
                claims=[Claim(c, Decimal(rng.randint(100, 50000))) for c in categories],
            )
            case_ids.append(case.id)
        for case_id in list(case_ids):
            if rng.random() < 0.4:
                severed = step(app, rng, case_id, today, studios)
                if severed is not None:
                    case_ids.append(severed)
    return case_ids


def step(
    app: MediationApplication,
    rng: random.Random,
    case_id: UUID,
    today: date,
    studios: dict[str, tuple[UUID, list[UUID]]],
) -> UUID | None:
    case = app.get_case(case_id)
    on = min(today, max(case.status_since, today - timedelta(days=rng.choice([0, 0, 0, 1, 4]))))
    studio_id, mediators = studios[case.region_code[:4]]
    s = case.status
    options: list[Any] = []
    if s in (Status.RECEIVED, Status.ACCEPTED, Status.MEDIATION_FAILED):
        if case.assessment is None or rng.random() < 0.05:
            options.append(
                lambda: app.assess(
                    CLERK,
                    case_id,
                    on=on,
                    within_scope=True,
                    meets_acceptance_conditions=True,
                    suitable_for_mediation=rng.random() < 0.9,
                    reason="适宜调解",
                )
            )
        missing = [  # consent is for one mediation (brief §8 rule 1)
            p
            for p in Party
            if not (
                p in case.consents
                and case.consents[p].given
                and case.consents[p].round >= case.mediations_ended
            )
        ]
        if missing:
            options.append(
                lambda: app.record_consent(
                    CLERK, case_id, party=rng.choice(missing), given=True, on=on
                )
            )
    if s is Status.RECEIVED:
        options += [
            lambda: app.entrust(CLERK, case_id, studio_id=studio_id, route=Route.PRE_FILING, on=on),
        ] * 3
        if rng.random() < 0.2:
            options.append(
                lambda: app.decide_acceptance(
                    CLERK, case_id, accepted=rng.random() < 0.8, on=on, reason="不符合受理条件"
                )
            )
    if s is Status.ACCEPTED:
        options += [
            lambda: app.entrust(
                CLERK, case_id, studio_id=studio_id, route=Route.POST_FILING, on=on
            ),
        ] * 3
        options.append(lambda: app.close_case(CLERK, case_id, on=on, disposition=Disposition.AWARD))
    if s in (Status.RECEIVED, Status.ACCEPTED, Status.MEDIATION_FAILED) and (
        case.has_confirmation_claim() and len(case.claims) > 1
    ):
        options += [
            lambda: app.sever(
                CLERK,
                case_id,
                categories=[ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION],
                on=on,
            )
        ] * 4
    if s is Status.MEDIATION_FAILED:
        options += [
            lambda: app.decide_acceptance(CLERK, case_id, accepted=True, on=on),
            lambda: app.close_case(CLERK, case_id, on=on, disposition=Disposition.AWARD),
        ]
    if s in (Status.ENTRUSTED, Status.IN_MEDIATION):
        options += [
            lambda: app.assign_mediator(CLERK, case_id, mediator_id=rng.choice(mediators), on=on),
        ] * (4 if s is Status.ENTRUSTED else 1)
        options.append(
            lambda: app.extend_window(
                CLERK, case_id, days=rng.randint(1, 15), on=on, parties_agreed=True
            )
        )
    if s is Status.IN_MEDIATION and rng.random() < 0.3:  # brief §8 rule 11
        options.append(lambda: app.recuse(CLERK, case_id, on=on, reason="利害关系"))
    if s is Status.IN_MEDIATION:
        options += [
            lambda: app.record_session(MEDIATOR, case_id, held_on=on, summary="调解"),
            lambda: app.sign_agreement(
                MEDIATOR,
                case_id,
                signed_on=on,
                amount=Decimal(rng.randint(100, 20000)),
                performance_due_on=on + timedelta(days=rng.randint(0, 20)),
                terms="分期支付",
            ),
        ] * 2
    if s in (Status.ENTRUSTED, Status.IN_MEDIATION, Status.AGREEMENT_SIGNED):
        if rng.random() < 0.5:
            options.append(
                lambda: app.fail(
                    MEDIATOR,
                    case_id,
                    on=on,
                    reason="双方分歧较大",
                    reason_code=rng.choice(SOME_REASONS),
                )
            )
        if rng.random() < 0.2:
            options.append(
                lambda: app.record_consent(
                    CLERK, case_id, party=rng.choice(list(Party)), given=False, on=on
                )
            )
    if s is Status.AGREEMENT_SIGNED and case.agreement is not None:
        remaining = case.agreement.amount - case.amount_paid
        options += [
            lambda: app.record_performance(
                MEDIATOR, case_id, on=on, amount_paid=remaining, complete=True
            ),
            lambda: app.record_performance(
                MEDIATOR,
                case_id,
                on=on,
                amount_paid=(remaining / 2).quantize(Decimal("0.01")),
                complete=False,
            ),
            lambda: app.apply_review(CLERK, case_id, applied_on=on),
            lambda: app.issue_statement(CLERK, case_id, issued_on=on, number="鄂劳人仲调字1号"),
        ] * 2
    if s is Status.SUCCEEDED and case.outcome is SuccessBranch.STATEMENT:
        options += [
            lambda: app.serve_statement(CLERK, case_id, party=rng.choice(list(Party)), on=on),
            lambda: app.retract_statement(CLERK, case_id, party=rng.choice(list(Party)), on=on),
        ]
    if not options:
        return None
    try:
        result = rng.choice(options)()
    except DomainError:
        return None
    if isinstance(result, Case) and result.id != case_id:
        return result.id
    return None


# ---------------------------------------------------------------------- independent fold


@dataclass
class Med:
    case_id: str
    entrusted_on: date
    dims: dict[str, Any]
    window: list[tuple[date, date]] = field(default_factory=list)
    assigned: list[tuple[date, str | None]] = field(default_factory=list)
    success: tuple[date, str, dict[str, Any]] | None = None
    reversed: bool = False
    failure: tuple[date, dict[str, Any]] | None = None


def all_events(app: MediationApplication) -> list[Any]:
    out: list[Any] = []
    start = 1
    while True:
        batch = app.recorder.select_notifications(start, 1000)
        if not batch:
            return out
        out += [app.mapper.to_domain_event(n) for n in batch]
        start = batch[-1].id + 1


def _keys(group_by: str, dims: dict[str, Any], month_of: date) -> list[str]:
    code = dims["region"]
    if group_by == "city":
        city = regions.city_of(code)
        assert city is not None
        return [city.code]
    if group_by == "county":
        return [code]
    if group_by == "studio":
        return [dims["studio"] or "none"]
    if group_by == "mediator":
        return [dims["mediator"] or "none"]
    if group_by == "month":
        return [f"{month_of.year:04d}-{month_of.month:02d}"]
    if group_by == "claim_category":
        return sorted(dims["categories"])
    if group_by == "route":
        return [dims["route"] or "none"]
    if group_by == "failure_reason":  # only a failure has a reason
        return [dims.get("reason") or "none"]
    return [dims["worker"]]


def fold(
    events: list[Any],
    *,
    prefix: str,
    from_: date,
    to: date,
    group_by: str,
    as_of: datetime | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    meds: dict[tuple[str, int], Med] = {}
    agreed: list[tuple[date, int, dict[str, Any]]] = []
    paid: list[tuple[date, int, dict[str, Any]]] = []
    for ev in events:
        if as_of is not None and ev.timestamp > as_of:
            continue
        if not isinstance(ev, Case.Event | Case.Received):
            continue
        cid = str(ev.originator_id)
        if isinstance(ev, Case.Received):
            cases[cid] = {
                "region": ev.region_code,
                "worker": ev.applicants[0]["worker_category"],
                "applicants": len(ev.applicants),
                "collective": ev.collective,
                "received_on": ev.on,
                "claims": [(c["category"], Decimal(c["amount"])) for c in ev.claims],
                "n": 0,
                "studio": None,
                "mediator": None,
                "route": None,
            }
            continue
        c = cases[cid]

        def dims(c: dict[str, Any] = c) -> dict[str, Any]:
            return {
                "region": c["region"],
                "worker": c["worker"],
                "categories": {cat for cat, _ in c["claims"]},
                "studio": c["studio"],
                "mediator": c["mediator"],
                "route": c["route"],
            }

        key = (cid, c["n"])
        if isinstance(ev, Case.ClaimsSevered):
            c["claims"] = [x for x in c["claims"] if x[0] not in set(ev.categories)]
        elif isinstance(ev, Case.Entrusted):
            c["n"] += 1
            c["studio"], c["mediator"], c["route"] = str(ev.studio_id), None, ev.route
            meds[(cid, c["n"])] = Med(cid, ev.on, dims(), window=[(ev.on, ev.window_ends_on)])
        elif isinstance(ev, Case.MediatorAssigned):
            c["mediator"] = str(ev.mediator_id)
            meds[key].assigned.append((ev.on, str(ev.mediator_id)))
        elif isinstance(ev, Case.MediatorRecused | Case.Transferred):
            # the same mediation goes on without a mediator (a transfer: at another studio)
            if isinstance(ev, Case.Transferred):
                c["studio"] = str(ev.studio_id)
            c["mediator"] = None
            meds[key].assigned.append((ev.on, None))
        elif isinstance(ev, Case.WindowExtended):
            meds[key].window.append((ev.on, ev.window_ends_on))
        elif isinstance(ev, Case.AgreementSigned):
            agreed.append((ev.on, int(Decimal(ev.amount) * 100), {**dims(), "case": cid}))
        elif isinstance(ev, Case.PerformanceRecorded):
            paid.append((ev.on, int(Decimal(ev.amount_paid) * 100), {**dims(), "case": cid}))
            if ev.complete:
                meds[key].success = (ev.on, "performance", dims())
        elif isinstance(ev, Case.StatementIssued):
            meds[key].success = (ev.on, "statement", dims())
        elif isinstance(ev, Case.StatementRetracted):
            if getattr(ev, "restores_agreement", False):
                # v1.1 rule 5 (pre-filing): the success counts nowhere, the mediation runs on
                meds[key].success = None
            else:
                meds[key].reversed = True
                meds[key].failure = (ev.on, {**dims(), "reason": "statement_retracted"})
        elif isinstance(ev, Case.MediationFailed):
            reason = getattr(ev, "reason_code", None) or "other"
            meds[key].failure = (ev.on, {**dims(), "reason": str(reason)})
        elif isinstance(ev, Case.ConsentRecorded) and ev.ends_mediation:
            meds[key].failure = (ev.on, {**dims(), "reason": "consent_withdrawn"})

    groups: dict[str, dict[str, Any]] = defaultdict(_empty)
    total = _empty()

    def targets(d: dict[str, Any], month_of: date) -> list[dict[str, Any]]:
        return [groups[k] for k in _keys(group_by, d, month_of)] + [total]

    def inside(code: str) -> bool:
        return code.startswith(prefix)

    for cid, c in cases.items():
        if not (inside(c["region"]) and from_ <= c["received_on"] <= to):
            continue
        d = {
            "region": c["region"],
            "worker": c["worker"],
            "categories": {cat for cat, _ in c["claims"]},
            "studio": None,
            "mediator": None,
            "route": None,
        }
        for g in targets(d, c["received_on"]):
            g["received"].add(cid)
            g["workers"][cid] = c["applicants"]
            if c["collective"]:
                g["collective"].add(cid)
        for cat, amount in c["claims"]:
            total["claimed"] += amount
            if group_by == "claim_category":
                groups[cat]["claimed"] += amount
        if group_by != "claim_category":
            for k in _keys(group_by, d, c["received_on"]):
                groups[k]["claimed"] += sum(a for _, a in c["claims"])
    for (cid, n), m in meds.items():
        if not inside(m.dims["region"]):
            continue
        if from_ <= m.entrusted_on <= to:
            for g in targets(m.dims, m.entrusted_on):
                g["entrusted"].add((cid, n))
        if m.success and not m.reversed and from_ <= m.success[0] <= to:
            for g in targets(m.success[2], m.success[0]):
                g["succeeded"][(cid, n)] = m.success[1]
                g["days"][(cid, n)] = (m.success[0] - m.entrusted_on).days
        if m.failure and from_ <= m.failure[0] <= to:
            for g in targets(m.failure[1], m.failure[0]):
                g["failed"].add((cid, n))
                g["days"][(cid, n)] = (m.failure[0] - m.entrusted_on).days
        concluded_by_to = (m.success is not None and not m.reversed and m.success[0] <= to) or (
            m.failure is not None and m.failure[0] <= to
        )
        if m.entrusted_on <= to and not concluded_by_to:
            d = dict(m.dims)
            for on, mediator in m.assigned:
                if on <= to:
                    d["mediator"] = mediator
            window = [end for on, end in m.window if on <= to][-1]
            for g in targets(d, m.entrusted_on):
                g["pending"].add((cid, n))
                if window < to:
                    g["overdue"].add((cid, n))
    for on, amount, d in agreed:
        if inside(d["region"]) and from_ <= on <= to:
            for g in targets(d, on):
                g["agreed"] += amount
    for on, amount, d in paid:
        if inside(d["region"]) and from_ <= on <= to:
            for g in targets(d, on):
                g["paid"] += amount
    return {k: _figures(v) for k, v in groups.items()}, _figures(total)


def _empty() -> dict[str, Any]:
    return {
        "received": set(),
        "workers": {},
        "collective": set(),
        "entrusted": set(),
        "succeeded": {},
        "failed": set(),
        "pending": set(),
        "overdue": set(),
        "days": {},
        "claimed": Decimal(0),
        "agreed": 0,
        "paid": 0,
    }


def _ratio(a: int, b: int) -> Decimal | None:
    if not b:
        return None
    return (Decimal(a) / Decimal(b)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _figures(g: dict[str, Any]) -> dict[str, Any]:
    succeeded = len(g["succeeded"])
    failed = len(g["failed"])
    by_perf = sum(1 for b in g["succeeded"].values() if b == "performance")
    days = list(g["days"].values())

    def ids(items: Any) -> set[str]:
        return {item if isinstance(item, str) else item[0] for item in items}

    cases = {
        "received": ids(g["received"]),
        "entrusted": ids(g["entrusted"]),
        "succeeded": ids(g["succeeded"]),
        "succeeded_by_performance": ids(m for m, b in g["succeeded"].items() if b == "performance"),
        "succeeded_by_statement": ids(m for m, b in g["succeeded"].items() if b == "statement"),
        "failed": ids(g["failed"]),
        "concluded": ids(g["succeeded"]) | ids(g["failed"]),
        "pending": ids(g["pending"]),
        "overdue": ids(g["overdue"]),
        "workers": ids(g["received"]),
        "collective": ids(g["collective"]),
    }
    return {
        "cases": cases,
        "received": len(g["received"]),
        "entrusted": len(g["entrusted"]),
        "concluded": succeeded + failed,
        "succeeded": succeeded,
        "succeeded_by_performance": by_perf,
        "succeeded_by_statement": succeeded - by_perf,
        "failed": failed,
        "pending": len(g["pending"]),
        "overdue": len(g["overdue"]),
        "success_rate": _ratio(succeeded, succeeded + failed),
        "mediation_share": _ratio(succeeded, len(g["received"])),
        "amount_claimed": Decimal(g["claimed"]).quantize(Decimal("0.01")),
        "amount_agreed": (Decimal(g["agreed"]) / 100).quantize(Decimal("0.01")),
        "amount_paid": (Decimal(g["paid"]) / 100).quantize(Decimal("0.01")),
        "median_days_to_conclusion": float(statistics.median(days)) if days else None,
        "workers": sum(g["workers"].values()),
        "collective": len(g["collective"]),
    }
