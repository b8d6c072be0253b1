"""The ``cases`` view: how each case event changes the read-model tables.

A batch loads the rows of the cases it touches, folds its events in memory (``apply``:
one handler per event class, ``ON_EVENT``) and writes the changed rows back with a few
bulk statements (``cases_batch``). A rebuild folds with the same handlers but carries the
case rows across its batches (``cases_load``). Every value written is derived from the
events alone, so a rebuild gives identical rows.

* ``rm_cases`` — one row per case as it stands now (status, studio, mediator, open
  deadlines, ``sort_due`` = the earliest open deadline): work lists and case lists; its
  ``parties`` (JSON, see ``party_rows``), number of applicants and collective flag.
* ``rm_claims`` — one row per claim with the recorded interval during which it belonged
  to the case (``recorded_to`` is set when the claim is severed into a new case): the
  ``received`` figures and claimed amounts, as of any moment.
* ``rm_facts`` — append-only, one row per dated fact of a mediation (entrusted, succeeded,
  reversed, failed, agreed, paid, window, assigned), each with its business date (``on``),
  its recorded moment (``recorded_at``) and the region, studio, mediator, route, worker
  category and claim categories the case had when it happened.
* ``rm_subsidies`` — append-only subsidy entries by month of recording; a reversed success
  adds a compensating (negative) entry, never edits an old one.
* ``rm_stats``, ``rm_policy_days`` — the caseload counters (``projections.counters``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import Connection, Table, delete

from mediation.case import Case
from mediation.policy import Policy, PolicyBook
from mediation.values import Route, Status
from projections import counters
from projections.cases_batch import (
    CHUNK,
    NO_DUE,
    Batch,
    Marks,
    Row,
    dump_state,
    read_cases,
    sort_due,
)
from projections.cases_load import Load, LoadPart
from projections.decode import Ev, EventTypes, cents, day, decode, ident, plain
from projections.sql import OBSOLETE_CASE_TABLES, MediationState, case_tables, insert_many
from projections.views import Fault, Positioned, Run

Handler = Callable[["CasesView", Row, Batch, int, Ev], None]
H = TypeVar("H", bound=Handler)

# how each case event changes the tables: its handler, by event class (every case event
# has one, so the view's topics are this table's keys)
ON_EVENT: dict[type[Any], Handler] = {}


def on(*classes: type[Any]) -> Callable[[H], H]:
    """Register the decorated method as the handler of ``classes`` in ``ON_EVENT``."""

    def register(handler: H) -> H:
        for cls in classes:
            ON_EVENT[cls] = handler
        return handler

    return register


# what a case's row holds for a mediation that has not started (reset by each entrustment)
NEW_MEDIATION: dict[str, Any] = {
    "mediator_id": None,
    "sessions": 0,
    "performance_due_on": None,
    "review_due_on": None,
    "review_applied": False,
    "success_branch": None,
    "success_subsidy_cents": 0,
}


def _categories(claims: list[list[Any]]) -> str:
    return ",".join(sorted({str(c[0]) for c in claims}))


def _days(row: Row, on: date) -> int:
    started: date = row["entrusted_on"]
    return (on - started).days


def _count_received(batch: Batch, row: Row, claims: list[list[Any]], sign: int) -> None:
    region, worker, received_on = row["region_code"], row["worker_category"], row["received_on"]
    contribution = counters.received_contribution(
        region, worker, received_on, claims, row["applicants"], row["collective"]
    )
    counters.apply_received(batch.agg, region, received_on, contribution, sign)


def party_rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``parties`` of a case row: each applicant, then each respondent, as stored by its
    ``Received`` event (personal values sealed), with its ``role``; a representative
    applicant (LDMAL art. 7) also has ``"representative": true``."""
    chosen = set(d["representatives"])
    out: list[dict[str, Any]] = []
    for i, a in enumerate(d["applicants"]):
        out.append({"role": "applicant", **a, **({"representative": True} if i in chosen else {})})
    out.extend({"role": "respondent", **r} for r in d["respondents"])
    return out


class CasesView:
    name = "cases"
    partitioned = True
    obsolete: tuple[str, ...] = OBSOLETE_CASE_TABLES

    def __init__(self, policies: PolicyBook | None = None) -> None:
        self.policies = policies or PolicyBook.default()
        self.types = EventTypes(*ON_EVENT)
        self.topics = self.types.topics
        # during a rebuild's load: what is carried across its batches
        self.carried: Load | None = None

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return case_tables(suffix)

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev:
        return decode(notification, mapper, plain(mapper), self.types)

    # ------------------------------------------------------------------ a batch

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        """Apply a batch inside the caller's transaction (a rebuild's: ``Load.process``)."""
        if suffix and self.carried is not None:
            self.carried.process(conn, suffix, events, fault)
            return
        t = case_tables(suffix)
        batch = Batch()
        ids = sorted({ev.originator_id for _, ev in events if ev.type is not Case.Received})
        states: dict[str, Row] = {}
        orig: dict[str, str | None] = {}  # each case's stored m_state at the batch's start
        for state, stored in read_cases(conn, t["cases"], ids):
            orig[state["case_id"]] = stored
            states[state["case_id"]] = state
        for position, ev in events:
            if fault is not None:
                fault(position)
            self.apply(states, batch, position, ev)
        marks = Marks(*Marks.BY_KEY)
        for key, at, values in batch.marks:
            marks.add(key, values, at)
        batch.write(conn, t, marks)
        dirty = sorted(batch.dirty)
        agg = batch.agg
        for i in range(0, len(dirty), CHUNK):
            chunk = dirty[i : i + CHUNK]
            loaded = [case_id for case_id in chunk if case_id in orig]
            if loaded:
                conn.execute(delete(t["cases"]).where(t["cases"].c.case_id.in_(loaded)))
            changed: list[Row] = []
            for case_id in chunk:
                state = states[case_id]
                state["sort_due"] = sort_due(state)
                ms = state["m_state"]
                stored = dump_state(ms)
                before = orig.get(case_id)
                retired = batch.retired.get(case_id, [])
                if stored != before or retired:  # its pending stock changed
                    counters.apply_pending(agg, json.loads(before) if before else None, -1)
                    for old in retired:
                        counters.apply_pending(agg, old, +1)
                    counters.apply_pending(agg, ms, +1)
                changed.append({**state, "m_state": stored})
            insert_many(conn, t["cases"], changed)
        agg.write(conn, t["stats"], t["policy_days"])

    def apply(self, states: dict[str, Row], batch: Batch, position: int, ev: Ev) -> None:
        """Fold one event into the case rows (``states``, by case id) and the batch."""
        case_id = ev.originator_id
        if ev.type is Case.Received:
            states[case_id] = {}
        row = states[case_id]
        batch.dirty.add(case_id)
        row["version"] = ev.version
        row["updated_at"] = ev.recorded
        ON_EVENT[ev.type](self, row, batch, position, ev)

    # ------------------------------------------------------------------ a rebuild's load

    def begin_load(self) -> None:
        """A rebuild into side tables starts: carry work across its batches (``Load``)."""
        self.carried = Load(self.apply)

    def _load(self) -> Load:
        assert self.carried is not None, "no rebuild's load in progress"
        return self.carried

    def begin_parts(self, conn: Connection, suffix: str) -> None:
        self._load().begin_parts(conn, suffix)

    def fold(self, suffix: str, events: Sequence[Positioned], fault: Fault | None, run: Run) -> Any:
        return self._load().fold(suffix, events, fault, run)

    def write(self, conn: Connection, suffix: str, folded: Any) -> None:
        self._load().write(conn, suffix, folded)

    def end_part(self, suffix: str, run: Run) -> LoadPart:
        return self._load().end_part(suffix, run)

    def absorb(self, parts: Sequence[LoadPart]) -> None:
        self._load().absorb(parts)

    def end_load(self, conn: Connection, suffix: str) -> None:
        load, self.carried = self.carried, None
        if load is not None:
            load.end(conn, suffix)

    def abort_load(self) -> None:
        self.carried = None

    # ------------------------------------------------------------------ the events

    @on(Case.Received)
    def _received(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        d = ev.d
        on = ev.on
        assert on is not None
        claims = [[c["category"], cents(c["amount"])] for c in d["claims"]]
        recorded = ev.recorded
        row.update(
            case_id=ev.originator_id,
            region_code=d["region_code"],
            received_on=on,
            received_at=recorded,
            worker_category=d["applicants"][0]["worker_category"],
            claims=json.dumps(claims),
            parties=json.dumps(party_rows(d), ensure_ascii=False, separators=(",", ":")),
            applicants=len(d["applicants"]),
            collective=bool(d["collective"]),
            categories=_categories(claims),
            status=Status.RECEIVED.value,
            status_since=on,
            route=None,
            studio_id=None,
            mediation=0,
            entrusted_on=None,
            window_ends_on=None,
            acceptance_due_on=day(d["acceptance_due_on"]),
            award_due_on=None,
            **NEW_MEDIATION,
            severed_from=ident(d.get("severed_from")),
            sort_due=NO_DUE,
            m_state=None,
        )
        if d.get("accepted_on") is not None:  # v1.1 rule 7: severed from an accepted case
            row.update(
                status=Status.ACCEPTED.value,
                acceptance_due_on=None,
                award_due_on=day(d["award_due_on"]),
            )
        for idx, (category, amount) in enumerate(claims):
            batch.claims.append(
                {
                    "position": position,
                    "idx": idx,
                    "case_id": row["case_id"],
                    "category": category,
                    "amount_cents": amount,
                    "region_code": row["region_code"],
                    "worker_category": row["worker_category"],
                    "received_on": on,
                    "recorded_from": recorded,
                    "recorded_to": None,
                    "policy_version": ev.policy_version,
                    "applicants": row["applicants"],
                    "collective": row["collective"],
                }
            )
        _count_received(batch, row, claims, 1)

    @on(
        Case.Assessed,
        Case.StatementServed,
        Case.ReviewDecided,
        Case.ReviewWithdrawn,
        Case.DocumentIssued,  # issue 17: a document counts in no figure
        Case.Numbered,  # the numbers are read from the case (lists) and rm_search (search)
    )
    def _no_figure(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        """Changes no figure (the case's version only)."""

    @on(Case.ConsentRecorded)
    def _consent_recorded(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        d = ev.d
        if d and d["ends_mediation"]:
            self._end_mediation(
                row, batch, position, ev, day(d["acceptance_due_on"]), "consent_withdrawn"
            )

    @on(Case.Entrusted)
    def _entrusted(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        on = ev.on
        assert on is not None
        d = ev.d
        window = day(d["window_ends_on"])
        route = d["route"]
        if row["m_state"] is not None:
            batch.retired[row["case_id"]].append(row["m_state"])
        row.update(
            NEW_MEDIATION,
            mediation=row["mediation"] + 1,
            status=Status.ENTRUSTED.value,
            status_since=on,
            studio_id=ident(d["studio_id"]),
            route=route,
            entrusted_on=on,
            window_ends_on=window,
        )
        if route == Route.PRE_FILING.value:
            row["acceptance_due_on"] = None
        ms: MediationState = {
            "n": row["mediation"],
            "e": on.isoformat(),
            "w0": window.isoformat() if window else None,
            "dims": [
                row["region_code"],
                row["studio_id"],
                route,
                row["worker_category"],
                row["categories"],
            ],
            "as": [],
            "ws": [],
            "cs": [],
            "succ": None,
        }
        row["m_state"] = ms
        batch.fact(row, position, ev, "entrusted", window_ends_on=window)

    @on(Case.ClaimsSevered)
    def _claims_severed(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        moved = set(ev.d["categories"])
        before = json.loads(row["claims"])
        claims = [c for c in before if c[0] not in moved]
        _count_received(batch, row, before, -1)
        _count_received(batch, row, claims, 1)
        row["claims"] = json.dumps(claims)
        row["categories"] = _categories(claims)
        case_id = row["case_id"]
        batch.severed.append((case_id, sorted(moved), ev.recorded))
        # claims of this very batch are not inserted yet: close them in memory too
        for claim in batch.claims:
            if (
                claim["case_id"] == case_id
                and claim["category"] in moved
                and claim["recorded_to"] is None
            ):
                claim["recorded_to"] = ev.recorded

    @on(Case.MediatorAssigned)
    def _mediator_assigned(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        if row["status"] == Status.ENTRUSTED.value:
            row["status"] = Status.IN_MEDIATION.value
            row["status_since"] = ev.on
        row["mediator_id"] = ident(ev.d["mediator_id"])
        fact = batch.fact(row, position, ev, "assigned")
        ms: MediationState | None = row["m_state"]
        if ms is not None:
            ms["as"].append([fact["on"].isoformat(), position, fact["seq"], row["mediator_id"]])

    @on(Case.WindowExtended)
    def _window_extended(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        window = day(ev.d["window_ends_on"])
        row["window_ends_on"] = window
        fact = batch.fact(row, position, ev, "window", window_ends_on=window)
        ms: MediationState | None = row["m_state"]
        if ms is not None:
            until = window.isoformat() if window else None
            ms["ws"].append([fact["on"].isoformat(), position, fact["seq"], until])

    @on(Case.AgreementSigned)
    def _agreement_signed(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        d = ev.d
        row.update(
            status=Status.AGREEMENT_SIGNED.value,
            status_since=ev.on,
            performance_due_on=day(d["performance_due_on"]),
            review_due_on=day(d["review_due_on"]),
        )
        batch.fact(row, position, ev, "agreed", amount_cents=cents(d["amount"]))

    @on(Case.PerformanceRecorded)
    def _performance_recorded(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        batch.fact(row, position, ev, "paid", amount_cents=cents(ev.d["amount_paid"]))
        if ev.d["complete"]:
            # v1.1 (rule 4): the subsidy waits for verification; a v1 success paid at once
            awaiting = bool(ev.d.get("needs_verification", False))
            self._succeed(row, batch, position, ev, "performance", awaiting=awaiting)

    @on(Case.PerformanceVerified)
    def _performance_verified(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        """Rule 4: the success subsidy becomes payable, in the month of verification."""
        on = ev.on
        assert on is not None
        if row["success_subsidy_cents"]:  # a v1 success: paid when it was recorded
            return
        amount = cents(self._policy(ev.policy_version, on).subsidy.success)
        row["success_subsidy_cents"] = amount
        batch.subsidy(row, position, ev, "succeeded", amount)

    @on(Case.StatementIssued)
    def _statement_issued(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        self._succeed(row, batch, position, ev, "statement")

    @on(Case.StatementRetracted)
    def _statement_retracted(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        batch.fact(row, position, ev, "reversed", branch=row["success_branch"])
        batch.mark(row, position, "succeeded", reversed_at=ev.recorded)
        refund = -row["success_subsidy_cents"]
        batch.subsidy(row, position, ev, "reversal", refund, compensating=True)
        row["success_subsidy_cents"] = 0
        self._unsucceed(row, batch)
        if ev.d.get("restores_agreement"):
            # v1.1 rule 5 (pre-filing): the agreement stays in force, the mediation open
            batch.mark(row, position, "entrusted", closed_on=None, closed_at=None)
            row.update(
                status=Status.AGREEMENT_SIGNED.value, status_since=ev.on, success_branch=None
            )
            return
        self._end_mediation(
            row, batch, position, ev, day(ev.d["acceptance_due_on"]), "statement_retracted"
        )

    @on(Case.MediationFailed)
    def _mediation_failed(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        reason = ev.d.get("reason_code") or "other"  # v1 events carry none: other
        self._end_mediation(row, batch, position, ev, day(ev.d["acceptance_due_on"]), reason)

    @on(Case.SessionRecorded)
    def _session_recorded(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        row["sessions"] += 1

    @on(Case.ReviewApplied)
    def _review_applied(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        row["review_applied"] = True

    @on(Case.AcceptanceDecided)
    def _acceptance_decided(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        d = ev.d
        row.update(
            status=(Status.ACCEPTED if d["accepted"] else Status.NOT_ACCEPTED).value,
            status_since=ev.on,
            acceptance_due_on=None,
            award_due_on=day(d["award_due_on"]),
        )

    @on(Case.AwardPeriodExtended)
    def _award_period_extended(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        row["award_due_on"] = day(ev.d["award_due_on"])

    @on(Case.Closed)
    def _closed(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        row.update(status=Status.CLOSED.value, status_since=ev.on, acceptance_due_on=None)

    @on(Case.MediatorRecused, Case.Transferred)
    def _mediator_removed(self, row: Row, batch: Batch, position: int, ev: Ev) -> None:
        """Brief §8 rule 11: the same mediation goes on, without a mediator (a transfer:
        at another studio). It counts nothing and earns nothing; the facts that follow
        count under the new studio; the mediation's pending stock stays under the studio
        it was entrusted to, and under no mediator until one is assigned again."""
        if ev.type is Case.Transferred:
            row["studio_id"] = ident(ev.d["studio_id"])
        row.update(status=Status.ENTRUSTED.value, status_since=ev.on, mediator_id=None)
        fact = batch.fact(row, position, ev, "assigned")
        ms: MediationState | None = row["m_state"]
        if ms is not None:
            ms["as"].append([fact["on"].isoformat(), position, fact["seq"], None])

    # ------------------------------------------------------------------ shared steps

    def _policy(self, version: str, on: date) -> Policy:
        try:
            return self.policies.get(version)
        except KeyError:
            return self.policies.in_force(on)

    def _succeed(
        self, row: Row, batch: Batch, position: int, ev: Ev, branch: str, awaiting: bool = False
    ) -> None:
        on = ev.on
        assert on is not None
        row.update(status=Status.SUCCEEDED.value, status_since=on, success_branch=branch)
        fact = batch.fact(row, position, ev, "succeeded", branch=branch, days=_days(row, on))
        batch.mark(row, position, "entrusted", closed_on=on, closed_at=ev.recorded)
        ms: MediationState | None = row["m_state"]
        if ms is not None:
            ms["cs"].append(on.isoformat())
            ms["succ"] = [
                on.isoformat(),
                branch,
                fact["days"],
                fact["region_code"],
                fact["studio_id"],
                fact["mediator_id"],
                fact["route"],
                fact["worker_category"],
                fact["categories"],
            ]
        amount = cents(self._policy(ev.policy_version, on).subsidy.success)
        if awaiting:  # shown as awaiting verification; nothing payable yet
            batch.subsidy(row, position, ev, AWAITING, amount)
            return
        row["success_subsidy_cents"] = amount
        batch.subsidy(row, position, ev, "succeeded", amount)

    def _unsucceed(self, row: Row, batch: Batch) -> None:
        """A reversal: the success no longer counts (as known now) where it was counted."""
        ms: MediationState | None = row["m_state"]
        if ms is None or ms["succ"] is None:
            return
        on_iso, branch, days, region, studio, mediator, route, worker, categories = ms["succ"]
        on = date.fromisoformat(on_iso)
        keys = counters.dim_keys(studio, mediator, route, worker, categories, on)
        batch.agg.add(
            on, region, keys, {"n": -1, "perf" if branch == "performance" else "stmt": -1}
        )
        batch.agg.add_days(on, region, keys, days, -1)
        if on_iso in ms["cs"]:
            ms["cs"].remove(on_iso)
        ms["succ"] = None

    def _end_mediation(
        self,
        row: Row,
        batch: Batch,
        position: int,
        ev: Ev,
        acceptance_due_on: date | None,
        reason_code: str,
    ) -> None:
        on = ev.on
        assert on is not None
        batch.fact(row, position, ev, "failed", days=_days(row, on), reason_code=reason_code)
        batch.mark(row, position, "entrusted", closed_on=on, closed_at=ev.recorded)
        ms: MediationState | None = row["m_state"]
        if ms is not None:
            ms["cs"].append(on.isoformat())
        table = self._policy(ev.policy_version, on).subsidy
        amount = (
            table.failure_after_session if row["sessions"] > 0 else table.failure_without_session
        )
        batch.subsidy(row, position, ev, "failed", cents(amount))
        row["status"] = Status.MEDIATION_FAILED.value
        row["status_since"] = on
        row["success_branch"] = None
        if acceptance_due_on is not None:
            row["acceptance_due_on"] = acceptance_due_on


# the subsidy entry of a success by performance not yet verified (its amount is not paid)
AWAITING = "awaiting"

CASE_EVENTS: tuple[type[Any], ...] = tuple(ON_EVENT)
