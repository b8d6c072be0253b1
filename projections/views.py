"""The views: how each recorded event changes the read-model tables.

A view processes a *batch* of events inside the caller's transaction: it loads the state
rows of the cases the batch touches, folds the events in memory, and writes the changed
rows back with a few bulk statements. Nothing here reads the wall clock or commits; every
value written is derived from the events alone, so a rebuild gives identical rows.

``cases`` view (tables ``rm_cases``, ``rm_claims``, ``rm_facts``, ``rm_subsidies``):

* ``rm_cases`` — one row per case as it stands now (status, studio, mediator, open
  deadlines, ``sort_due`` = the earliest open deadline): work lists and case lists.
* ``rm_claims`` — one row per claim with the recorded interval during which it belonged
  to the case (``recorded_to`` is set when the claim is severed into a new case): the
  ``received`` figures and claimed amounts, as of any moment.
* ``rm_facts`` — append-only, one row per dated fact of a mediation (entrusted, succeeded,
  reversed, failed, agreed, paid, window, assigned), each with its business date (``on``),
  its recorded moment (``recorded_at``) and the region, studio, mediator, route, worker
  category and claim categories the case had when it happened.
* ``rm_subsidies`` — append-only subsidy entries by month of recording; a reversed success
  adds a compensating (negative) entry, never edits an old one.

``organisation`` view (``rm_studios``, ``rm_mediators``): studios, rosters, closures.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, select, update

from mediation.case import Case
from mediation.organisation import Studio
from mediation.policy import Policy, PolicyBook
from mediation.values import Route, Status
from projections.sql import case_tables, organisation_tables, utc_naive

CHINA = ZoneInfo("Asia/Shanghai")
NO_DUE = date(9999, 12, 31)
CHUNK = 500

Fault = Callable[[int], None]
Positioned = tuple[int, Any]


class View(Protocol):
    name: str
    topics: tuple[str, ...]

    def tables(self, suffix: str = "") -> dict[str, Table]: ...

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None: ...


def cents(amount: str | Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


def _topics(*classes: type[Any]) -> tuple[str, ...]:
    return tuple(str(c.TOPIC) for c in classes)


CASE_EVENTS: tuple[type[Any], ...] = (
    Case.Received,
    Case.Assessed,
    Case.ConsentRecorded,
    Case.Entrusted,
    Case.ClaimsSevered,
    Case.MediatorAssigned,
    Case.SessionRecorded,
    Case.WindowExtended,
    Case.AgreementSigned,
    Case.PerformanceRecorded,
    Case.ReviewApplied,
    Case.StatementIssued,
    Case.StatementServed,
    Case.StatementRetracted,
    Case.MediationFailed,
    Case.AcceptanceDecided,
    Case.AwardPeriodExtended,
    Case.Closed,
)

STUDIO_EVENTS: tuple[type[Any], ...] = (
    Studio.Registered,
    Studio.MediatorAppointed,
    Studio.MediatorRetired,
    Studio.Closed,
)


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write a batch's new rows: ``COPY`` on PostgreSQL, one executemany elsewhere.

    Both run on the caller's connection, inside its transaction.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = [c.name for c in table.columns]
    names = ", ".join(f'"{c}"' for c in columns)
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _categories(claims: list[list[Any]]) -> str:
    return ",".join(sorted({str(c[0]) for c in claims}))


def _days(row: dict[str, Any], on: date) -> int:
    started: date = row["entrusted_on"]
    return (on - started).days


def sort_due(row: dict[str, Any]) -> date:
    """The earliest open deadline, as ``Case.deadlines`` opens them (status decides)."""
    status = Status(row["status"])
    due: list[date] = []
    if row["acceptance_due_on"] is not None and status in (
        Status.RECEIVED,
        Status.MEDIATION_FAILED,
    ):
        due.append(row["acceptance_due_on"])
    if status in (Status.ENTRUSTED, Status.IN_MEDIATION) and row["window_ends_on"]:
        due.append(row["window_ends_on"])
    if status is Status.AGREEMENT_SIGNED and row["performance_due_on"] is not None:
        due.append(row["performance_due_on"])
        if row["route"] == Route.PRE_FILING.value and not row["review_applied"]:
            due.append(row["review_due_on"])
    if row["award_due_on"] is not None and status in (
        Status.ACCEPTED,
        Status.ENTRUSTED,
        Status.IN_MEDIATION,
        Status.AGREEMENT_SIGNED,
        Status.MEDIATION_FAILED,
    ):
        due.append(row["award_due_on"])
    return min(due) if due else NO_DUE


class _Batch:
    """What one batch of the cases view will write."""

    def __init__(self) -> None:
        self.facts: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.subsidies: list[dict[str, Any]] = []
        self.severed: list[tuple[str, list[str], datetime]] = []
        self.dirty: set[str] = set()
        self.marks: list[tuple[tuple[str, int, str], dict[str, Any]]] = []
        self.by_key: dict[tuple[str, int, str], dict[str, Any]] = {}
        self._seq: dict[tuple[str, int], int] = {}

    def seq(self, table: str, position: int) -> int:
        n = self._seq.get((table, position), 0)
        self._seq[(table, position)] = n + 1
        return n


class CasesView:
    name = "cases"
    topics = _topics(*CASE_EVENTS)

    def __init__(self, policies: PolicyBook | None = None) -> None:
        self.policies = policies or PolicyBook.default()

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return case_tables(suffix)

    # ------------------------------------------------------------------ batch

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        t = case_tables(suffix)
        ids = sorted({str(ev.originator_id) for _, ev in events})
        states: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            for row in conn.execute(select(t["cases"]).where(t["cases"].c.case_id.in_(chunk))):
                states[row.case_id] = dict(row._mapping)
        batch = _Batch()
        for position, ev in events:
            if fault is not None:
                fault(position)
            self._apply(states, batch, position, ev)
        _insert_many(conn, t["claims"], batch.claims)
        for case_id, categories, moment in batch.severed:
            c = t["claims"].c
            conn.execute(
                update(t["claims"])
                .where(
                    and_(
                        c.case_id == case_id,
                        c.category.in_(categories),
                        c.recorded_to.is_(None),
                    )
                )
                .values(recorded_to=moment)
            )
        _insert_many(conn, t["facts"], batch.facts)
        f = t["facts"].c
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for (case_id, mediation, kind), values in batch.marks:
            params = {f"m_{k}": v for k, v in values.items()}
            params.update(m_case_id=case_id, m_mediation=mediation, m_kind=kind)
            by_columns[tuple(sorted(values))].append(params)
        for columns, params_list in by_columns.items():
            conn.execute(
                update(t["facts"])
                .where(
                    and_(
                        f.case_id == bindparam("m_case_id"),
                        f.mediation == bindparam("m_mediation"),
                        f.kind == bindparam("m_kind"),
                    )
                )
                .values({c: bindparam(f"m_{c}") for c in columns}),
                params_list,
            )
        _insert_many(conn, t["subsidies"], batch.subsidies)
        dirty = sorted(batch.dirty)
        for i in range(0, len(dirty), CHUNK):
            chunk = dirty[i : i + CHUNK]
            conn.execute(delete(t["cases"]).where(t["cases"].c.case_id.in_(chunk)))
            changed: list[dict[str, Any]] = []
            for case_id in chunk:
                state = states[case_id]
                state["sort_due"] = sort_due(state)
                changed.append(state)
            _insert_many(conn, t["cases"], changed)

    # ------------------------------------------------------------------ events

    def _policy(self, version: str, on: date) -> Policy:
        try:
            return self.policies.get(version)
        except KeyError:
            return self.policies.in_force(on)

    def _fact(
        self,
        batch: _Batch,
        row: dict[str, Any],
        position: int,
        ev: Any,
        kind: str,
        **values: Any,
    ) -> None:
        fact = {
            "position": position,
            "seq": batch.seq("facts", position),
            "case_id": row["case_id"],
            "mediation": row["mediation"],
            "kind": kind,
            "branch": None,
            "on": ev.on,
            "recorded_at": utc_naive(ev.timestamp),
            "region_code": row["region_code"],
            "studio_id": row["studio_id"],
            "mediator_id": row["mediator_id"],
            "route": row["route"],
            "worker_category": row["worker_category"],
            "categories": row["categories"],
            "amount_cents": 0,
            "started_on": row["entrusted_on"],
            "window_ends_on": None,
            "days": None,
            "closed_on": None,
            "closed_at": None,
            "reversed_at": None,
            "policy_version": ev.policy_version,
        }
        fact.update(values)
        batch.facts.append(fact)
        batch.by_key[(fact["case_id"], fact["mediation"], kind)] = fact

    def _mark(self, batch: _Batch, row: dict[str, Any], kind: str, **values: Any) -> None:
        """Set columns on this mediation's ``kind`` fact (written earlier or in this batch)."""
        key = (row["case_id"], row["mediation"], kind)
        fact = batch.by_key.get(key)
        if fact is not None:
            fact.update(values)
        else:
            batch.marks.append((key, values))

    def _subsidy(
        self,
        batch: _Batch,
        row: dict[str, Any],
        position: int,
        ev: Any,
        outcome: str,
        amount_cents: int,
        compensating: bool = False,
    ) -> None:
        batch.subsidies.append(
            {
                "position": position,
                "seq": batch.seq("subsidies", position),
                "month": ev.timestamp.astimezone(CHINA).strftime("%Y-%m"),
                "recorded_at": utc_naive(ev.timestamp),
                "on": ev.on,
                "case_id": row["case_id"],
                "mediation": row["mediation"],
                "region_code": row["region_code"],
                "studio_id": row["studio_id"],
                "mediator_id": row["mediator_id"],
                "outcome": outcome,
                "amount_cents": amount_cents,
                "compensating": compensating,
                "policy_version": ev.policy_version,
            }
        )

    def _end_mediation(
        self,
        batch: _Batch,
        row: dict[str, Any],
        position: int,
        ev: Any,
        acceptance_due_on: date | None,
    ) -> None:
        self._fact(batch, row, position, ev, "failed", days=_days(row, ev.on))
        self._mark(batch, row, "entrusted", closed_on=ev.on, closed_at=utc_naive(ev.timestamp))
        table = self._policy(ev.policy_version, ev.on).subsidy
        amount = (
            table.failure_after_session if row["sessions"] > 0 else table.failure_without_session
        )
        self._subsidy(batch, row, position, ev, "failed", cents(amount))
        row["status"] = Status.MEDIATION_FAILED.value
        row["status_since"] = ev.on
        row["success_branch"] = None
        if acceptance_due_on is not None:
            row["acceptance_due_on"] = acceptance_due_on

    def _apply(
        self, states: dict[str, dict[str, Any]], batch: _Batch, position: int, ev: Any
    ) -> None:
        case_id = str(ev.originator_id)
        if isinstance(ev, Case.Received):
            claims = [[c["category"], cents(c["amount"])] for c in ev.claims]
            recorded = utc_naive(ev.timestamp)
            row: dict[str, Any] = {
                "case_id": case_id,
                "region_code": ev.region_code,
                "received_on": ev.on,
                "received_at": recorded,
                "worker_category": ev.applicant["worker_category"],
                "claims": json.dumps(claims),
                "categories": _categories(claims),
                "status": Status.RECEIVED.value,
                "status_since": ev.on,
                "route": None,
                "studio_id": None,
                "mediator_id": None,
                "mediation": 0,
                "entrusted_on": None,
                "window_ends_on": None,
                "acceptance_due_on": ev.acceptance_due_on,
                "award_due_on": None,
                "performance_due_on": None,
                "review_due_on": None,
                "review_applied": False,
                "sessions": 0,
                "success_branch": None,
                "success_subsidy_cents": 0,
                "severed_from": str(ev.severed_from) if ev.severed_from else None,
                "version": ev.originator_version,
                "sort_due": NO_DUE,
                "updated_at": recorded,
            }
            states[case_id] = row
            for idx, (category, amount) in enumerate(claims):
                batch.claims.append(
                    {
                        "position": position,
                        "idx": idx,
                        "case_id": case_id,
                        "category": category,
                        "amount_cents": amount,
                        "region_code": ev.region_code,
                        "worker_category": row["worker_category"],
                        "received_on": ev.on,
                        "recorded_from": recorded,
                        "recorded_to": None,
                        "policy_version": ev.policy_version,
                    }
                )
            batch.dirty.add(case_id)
            return
        row = states[case_id]
        batch.dirty.add(case_id)
        row["version"] = ev.originator_version
        row["updated_at"] = utc_naive(ev.timestamp)
        if isinstance(ev, Case.ConsentRecorded):
            if ev.ends_mediation:
                self._end_mediation(batch, row, position, ev, ev.acceptance_due_on)
        elif isinstance(ev, Case.Entrusted):
            row.update(
                mediation=row["mediation"] + 1,
                status=Status.ENTRUSTED.value,
                status_since=ev.on,
                studio_id=str(ev.studio_id),
                mediator_id=None,
                route=ev.route,
                entrusted_on=ev.on,
                window_ends_on=ev.window_ends_on,
                sessions=0,
                performance_due_on=None,
                review_due_on=None,
                review_applied=False,
                success_branch=None,
                success_subsidy_cents=0,
            )
            if ev.route == Route.PRE_FILING.value:
                row["acceptance_due_on"] = None
            self._fact(batch, row, position, ev, "entrusted", window_ends_on=ev.window_ends_on)
        elif isinstance(ev, Case.ClaimsSevered):
            moved = set(ev.categories)
            claims = [c for c in json.loads(row["claims"]) if c[0] not in moved]
            row["claims"] = json.dumps(claims)
            row["categories"] = _categories(claims)
            batch.severed.append((case_id, sorted(moved), utc_naive(ev.timestamp)))
            # claims of this very batch are not inserted yet: close them in memory too
            for claim in batch.claims:
                if (
                    claim["case_id"] == case_id
                    and claim["category"] in moved
                    and claim["recorded_to"] is None
                ):
                    claim["recorded_to"] = utc_naive(ev.timestamp)
        elif isinstance(ev, Case.MediatorAssigned):
            if row["status"] == Status.ENTRUSTED.value:
                row["status"] = Status.IN_MEDIATION.value
                row["status_since"] = ev.on
            row["mediator_id"] = str(ev.mediator_id)
            self._fact(batch, row, position, ev, "assigned")
        elif isinstance(ev, Case.SessionRecorded):
            row["sessions"] += 1
        elif isinstance(ev, Case.WindowExtended):
            row["window_ends_on"] = ev.window_ends_on
            self._fact(batch, row, position, ev, "window", window_ends_on=ev.window_ends_on)
        elif isinstance(ev, Case.AgreementSigned):
            row.update(
                status=Status.AGREEMENT_SIGNED.value,
                status_since=ev.on,
                performance_due_on=ev.performance_due_on,
                review_due_on=ev.review_due_on,
            )
            self._fact(batch, row, position, ev, "agreed", amount_cents=cents(ev.amount))
        elif isinstance(ev, Case.PerformanceRecorded):
            self._fact(batch, row, position, ev, "paid", amount_cents=cents(ev.amount_paid))
            if ev.complete:
                self._succeed(batch, row, position, ev, "performance")
        elif isinstance(ev, Case.ReviewApplied):
            row["review_applied"] = True
        elif isinstance(ev, Case.StatementIssued):
            self._succeed(batch, row, position, ev, "statement")
        elif isinstance(ev, Case.StatementRetracted):
            self._fact(batch, row, position, ev, "reversed", branch=row["success_branch"])
            self._mark(batch, row, "succeeded", reversed_at=utc_naive(ev.timestamp))
            self._subsidy(
                batch,
                row,
                position,
                ev,
                "reversal",
                -row["success_subsidy_cents"],
                compensating=True,
            )
            row["success_subsidy_cents"] = 0
            self._end_mediation(batch, row, position, ev, ev.acceptance_due_on)
        elif isinstance(ev, Case.MediationFailed):
            self._end_mediation(batch, row, position, ev, ev.acceptance_due_on)
        elif isinstance(ev, Case.AcceptanceDecided):
            row.update(
                status=(Status.ACCEPTED if ev.accepted else Status.NOT_ACCEPTED).value,
                status_since=ev.on,
                acceptance_due_on=None,
                award_due_on=ev.award_due_on,
            )
        elif isinstance(ev, Case.AwardPeriodExtended):
            row["award_due_on"] = ev.award_due_on
        elif isinstance(ev, Case.Closed):
            row.update(status=Status.CLOSED.value, status_since=ev.on, acceptance_due_on=None)
        # Assessed and StatementServed change no figure (version only).

    def _succeed(
        self, batch: _Batch, row: dict[str, Any], position: int, ev: Any, branch: str
    ) -> None:
        row.update(status=Status.SUCCEEDED.value, status_since=ev.on, success_branch=branch)
        self._fact(batch, row, position, ev, "succeeded", branch=branch, days=_days(row, ev.on))
        self._mark(batch, row, "entrusted", closed_on=ev.on, closed_at=utc_naive(ev.timestamp))
        amount = cents(self._policy(ev.policy_version, ev.on).subsidy.success)
        row["success_subsidy_cents"] = amount
        self._subsidy(batch, row, position, ev, "succeeded", amount)


class OrganisationView:
    name = "organisation"
    topics = _topics(*STUDIO_EVENTS)

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return organisation_tables(suffix)

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        t = organisation_tables(suffix)
        studios, mediators = t["studios"], t["mediators"]
        for position, ev in events:
            if fault is not None:
                fault(position)
            if isinstance(ev, Studio.Registered):
                conn.execute(
                    insert(studios).values(
                        studio_id=str(ev.originator_id),
                        name=ev.name,
                        region_code=ev.region_code,
                        kind=ev.kind,
                        established_on=ev.on,
                        closed_on=None,
                        mediator_quota=ev.mediator_quota,
                        registered_at=utc_naive(ev.timestamp),
                    )
                )
            elif isinstance(ev, Studio.MediatorAppointed):
                conn.execute(
                    insert(mediators).values(
                        mediator_id=str(ev.mediator_id),
                        studio_id=str(ev.originator_id),
                        name=ev.name,
                        qualification=ev.qualification,
                        appointed_on=ev.on,
                        retired_on=None,
                    )
                )
            elif isinstance(ev, Studio.MediatorRetired):
                conn.execute(
                    update(mediators)
                    .where(mediators.c.mediator_id == str(ev.mediator_id))
                    .values(retired_on=ev.on)
                )
            elif isinstance(ev, Studio.Closed):
                conn.execute(
                    update(studios)
                    .where(studios.c.studio_id == str(ev.originator_id))
                    .values(closed_on=ev.on)
                )


def all_views(policies: PolicyBook | None = None) -> list[View]:
    return [OrganisationView(), CasesView(policies)]
