"""Random command sequences against the Case aggregate (no I/O), invariants after each step."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mediation.case import Case
from mediation.errors import DomainError
from mediation.organisation import Studio
from mediation.policy import Policy
from mediation.values import (
    Actor,
    Claim,
    ClaimCategory,
    Disposition,
    FailureReason,
    Party,
    Role,
    Route,
    Status,
    StudioKind,
    SuccessBranch,
    VerificationMethod,
)
from projections.cases_batch import Batch
from projections.cases_view import CasesView
from projections.decode import Ev
from tests.support.factories import applicant, respondent

POLICY = Policy()
CLERK = Actor("clerk", Role.CLERK)
MEDIATOR = Actor("mediator", Role.MEDIATOR)
COORDINATOR = Actor("coordinator", Role.COORDINATOR)
START = date(2025, 1, 6)


def _studio(region: str, closed: bool = False) -> tuple[Studio, Any]:
    studio = Studio.register(
        actor=Actor("admin", Role.ADMIN),
        policy=POLICY,
        name="工作室",
        region_code=region,
        kind=StudioKind.DOCKING_STUDIO,
        established_on=date(2024, 1, 1),
    )
    mediator_id = studio.appoint_mediator(
        actor=Actor("admin", Role.ADMIN),
        policy=POLICY,
        name="调解员",
        qualification="lawyer",
        appointed_on=date(2024, 1, 2),
    )
    if closed:
        studio.close(actor=Actor("admin", Role.ADMIN), policy=POLICY, closed_on=date(2024, 6, 1))
    return studio, mediator_id


STUDIOS = [_studio("420100"), _studio("420200"), _studio("420100", closed=True)]
OTHER = _studio("420100")  # a second open studio over the case's region (transfers)
money_st = st.decimals(min_value=0, max_value=50000, places=2)


class CaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.case: Case | None = None
        self.events: list[Any] = []
        self.today = START

    def _advance(self, days: int) -> date:
        self.today += timedelta(days=days)
        return self.today

    def _try(self, command: Any) -> None:
        assert self.case is not None
        before = copy.deepcopy(self.case.__dict__)
        before.pop("_pending_events", None)
        try:
            command()
        except DomainError:
            after = dict(self.case.__dict__)
            after.pop("_pending_events", None)
            assert after == before, "a refused command changed the case"
            assert not self.case.pending_events
        self.events.extend(self.case.collect_events())

    @initialize(
        categories=st.lists(
            st.sampled_from(list(ClaimCategory)), min_size=1, max_size=3, unique=True
        ),
        amount=money_st,
    )
    def receive(self, categories: list[ClaimCategory], amount: Decimal) -> None:
        self.case = Case.receive(
            actor=CLERK,
            policy=POLICY,
            region_code="420102",
            received_on=START,
            applicants=[applicant(7)],
            respondents=[respondent(7)],
            claims=[Claim(c, amount) for c in categories],
        )
        self.events.extend(self.case.collect_events())

    @rule(days=st.integers(0, 3), ok=st.booleans())
    def assess(self, days: int, ok: bool) -> None:
        assert self.case
        on = self._advance(days)
        self._try(
            lambda: self.case.assess(  # type: ignore[union-attr]
                actor=CLERK,
                policy=POLICY,
                on=on,
                within_scope=True,
                meets_acceptance_conditions=True,
                suitable_for_mediation=ok,
                reason="r",
            )
        )

    @rule(days=st.integers(0, 3), party=st.sampled_from(list(Party)), given=st.booleans())
    def consent(self, days: int, party: Party, given: bool) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.record_consent(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, party=party, given=given
            )
        )

    @rule(
        days=st.integers(0, 3),
        studio=st.sampled_from(range(len(STUDIOS))),
        route=st.sampled_from(list(Route)),
    )
    def entrust(self, days: int, studio: int, route: Route) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.entrust(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, studio=STUDIOS[studio][0], route=route
            )
        )

    @rule(days=st.integers(0, 2))
    def prepare_and_entrust(self, days: int) -> None:
        """A macro step, so that random walks reach the later statuses often."""
        assert self.case
        on = self._advance(days)
        route = Route.POST_FILING if self.case.status is Status.ACCEPTED else Route.PRE_FILING
        self.assess(0, True)
        self.consent(0, Party.APPLICANT, True)
        self.consent(0, Party.RESPONDENT, True)
        self._try(
            lambda: self.case.entrust(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, studio=STUDIOS[0][0], route=route
            )
        )
        self._try(
            lambda: self.case.assign_mediator(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, studio=STUDIOS[0][0], mediator_id=STUDIOS[0][1]
            )
        )

    @rule(days=st.integers(0, 3))
    def sever_confirmation(self, days: int) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.sever(  # type: ignore[union-attr]
                actor=CLERK,
                policy=POLICY,
                on=on,
                categories=[ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION],
            )
        )

    @rule(days=st.integers(0, 3), which=st.sampled_from(range(len(STUDIOS))))
    def assign(self, days: int, which: int) -> None:
        assert self.case
        on = self._advance(days)
        studio = next((s for s, _ in STUDIOS if s.id == self.case.studio_id), STUDIOS[0][0])
        self._try(
            lambda: self.case.assign_mediator(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, studio=studio, mediator_id=STUDIOS[which][1]
            )
        )

    @rule(days=st.integers(0, 5))
    def session(self, days: int) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.record_session(  # type: ignore[union-attr]
                actor=MEDIATOR, policy=POLICY, on=on, summary="s"
            )
        )

    @rule(days=st.integers(0, 5), amount=money_st, due=st.integers(0, 30))
    def agreement(self, days: int, amount: Decimal, due: int) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.sign_agreement(  # type: ignore[union-attr]
                actor=MEDIATOR,
                policy=POLICY,
                on=on,
                amount=amount,
                performance_due_on=on + timedelta(days=due),
                terms="t",
            )
        )

    @rule(days=st.integers(0, 20), percent=st.integers(0, 120), complete=st.booleans())
    def performance(self, days: int, percent: int, complete: bool) -> None:
        assert self.case
        on = self._advance(days)
        agreed = self.case.agreement.amount if self.case.agreement else Decimal("100.00")
        amount = (agreed * percent / 100).quantize(Decimal("0.01"))
        self._try(
            lambda: self.case.record_performance(  # type: ignore[union-attr]
                actor=MEDIATOR, policy=POLICY, on=on, amount_paid=amount, complete=complete
            )
        )

    @rule(days=st.integers(0, 20))
    def review(self, days: int) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.apply_review(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on
            )
        )

    @rule(days=st.integers(0, 5))
    def statement(self, days: int) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.issue_statement(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, number="No.1"
            )
        )

    @rule(days=st.integers(0, 5), party=st.sampled_from(list(Party)))
    def serve(self, days: int, party: Party) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.serve_statement(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, party=party
            )
        )

    @rule(days=st.integers(0, 5), party=st.sampled_from(list(Party)))
    def retract(self, days: int, party: Party) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.retract_statement(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, party=party
            )
        )

    @rule(days=st.integers(0, 20), code=st.sampled_from(list(FailureReason)))
    def fail(self, days: int, code: FailureReason = FailureReason.OTHER) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.fail(  # type: ignore[union-attr]
                actor=MEDIATOR, policy=POLICY, on=on, reason="no agreement", reason_code=code
            )
        )

    @rule(
        due=st.integers(1, 30),
        code=st.sampled_from(list(FailureReason)),
        withdraw=st.booleans(),
    )
    def sign_then_try_to_end_early(self, due: int, code: FailureReason, withdraw: bool) -> None:
        """A macro step: an agreement, then on the same day a withdrawal or a failure."""
        self.agreement(0, Decimal("100.00"), due)
        if withdraw:
            self.consent(0, Party.RESPONDENT, False)
        else:
            self.fail(0, code)

    @rule(days=st.integers(0, 20), percent=st.integers(0, 100))
    def confirmed_performance(self, days: int, percent: int) -> None:
        """Complete on the worker's written confirmation, whatever was paid (rule 4)."""
        assert self.case
        on = self._advance(days)
        agreed = self.case.agreement.amount if self.case.agreement else Decimal("100.00")
        amount = (agreed * percent / 100).quantize(Decimal("0.01"))
        self._try(
            lambda: self.case.record_performance(  # type: ignore[union-attr]
                actor=MEDIATOR,
                policy=POLICY,
                on=on,
                amount_paid=amount,
                complete=True,
                confirmation="确认书",
            )
        )

    @rule(days=st.integers(0, 10), who=st.sampled_from([CLERK, MEDIATOR, COORDINATOR]))
    def verify(self, days: int, who: Actor) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.verify_performance(  # type: ignore[union-attr]
                actor=who, policy=POLICY, on=on, method=VerificationMethod.PHONE, note=""
            )
        )

    @rule(days=st.integers(0, 5), accepted=st.booleans())
    def acceptance(self, days: int, accepted: bool) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.decide_acceptance(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, accepted=accepted, reason="r"
            )
        )

    @rule(days=st.integers(0, 5), accepted=st.booleans())
    def review_decision(self, days: int, accepted: bool) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.decide_review(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, accepted=accepted
            )
        )

    @rule(days=st.integers(0, 5), party=st.sampled_from(list(Party)))
    def review_withdrawal(self, days: int, party: Party) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.withdraw_review(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, party=party
            )
        )

    @rule(days=st.integers(0, 5), disposition=st.sampled_from(list(Disposition)))
    def close(self, days: int, disposition: Disposition) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.close(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, disposition=disposition
            )
        )

    # ------------------------------------------------------------------ invariants

    # brief §8 rules 9 and 11 (issue 15, law-c)

    @rule(days=st.integers(0, 5), agreed=st.booleans())
    def extend(self, days: int, agreed: bool) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.extend_window(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, days=5, parties_agreed=agreed
            )
        )

    @rule(days=st.integers(0, 3))
    def recuse(self, days: int) -> None:
        on = self._advance(days)
        self._try(
            lambda: self.case.recuse(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, reason="回避"
            )
        )

    @rule(days=st.integers(0, 3), other=st.booleans())
    def transfer(self, days: int, other: bool) -> None:
        on = self._advance(days)
        studio = OTHER[0] if other else STUDIOS[0][0]
        self._try(
            lambda: self.case.transfer(  # type: ignore[union-attr]
                actor=CLERK, policy=POLICY, on=on, studio=studio, reason="移送"
            )
        )

    @rule(days=st.integers(0, 3), fresh=st.sampled_from([(), (Party.APPLICANT,), tuple(Party)]))
    def fail_accept_and_entrust_again(self, days: int, fresh: tuple[Party, ...]) -> None:
        """A macro step: a mediation ends, the case is accepted and entrusted again, with
        none, one or both of the fresh consents a new mediation needs."""
        self.fail(days)
        self.acceptance(0, True)
        for party in fresh:
            self.consent(0, party, True)
        self.entrust(0, 0, Route.POST_FILING)

    @invariant()
    def no_entrustment_without_two_consents_after_the_last_mediations_end(self) -> None:
        """Rule 1, judged from the events alone: each entrustment follows both parties'
        consents recorded after the last mediation ended and dated on or after its end."""
        consents: dict[str, tuple[bool, date, int]] = {}
        ended: tuple[date, int] | None = None
        route = None
        for i, e in enumerate(self.events):
            if isinstance(e, Case.ConsentRecorded):
                consents[e.party] = (e.given, e.on, i)
            ends = (
                (isinstance(e, Case.ConsentRecorded) and e.ends_mediation)
                or isinstance(e, Case.MediationFailed)
                or (isinstance(e, Case.StatementRetracted) and route == Route.POST_FILING.value)
            )
            if ends:
                ended = (e.on, i)
            if isinstance(e, Case.Entrusted):
                route = e.route
                for party in Party:
                    given, on, at = consents[party.value]
                    assert given
                    if ended is not None:
                        assert at > ended[1] and on >= ended[0]
        if self.case:  # recusal and transfer stay within the mediation (rule 11)
            entrusted = sum(isinstance(e, Case.Entrusted) for e in self.events)
            assert self.case.mediation_count == entrusted
            if any(isinstance(e, Case.MediatorRecused | Case.Transferred) for e in self.events):
                event("recused or transferred")

    @invariant()
    def versions_contiguous(self) -> None:
        assert [e.originator_version for e in self.events] == list(range(1, len(self.events) + 1))
        if self.case:
            assert self.case.version == len(self.events)

    @invariant()
    def status_is_a_contract_status(self) -> None:
        if self.case:
            assert isinstance(self.case.status, Status)
            event(f"status {self.case.status.value}")

    @invariant()
    def no_success_without_agreement(self) -> None:
        if self.case and self.case.status is Status.SUCCEEDED:
            assert self.case.agreement is not None
            if self.case.outcome is SuccessBranch.PERFORMANCE:
                assert self.case.amount_paid <= self.case.agreement.amount
            else:
                assert self.case.outcome is SuccessBranch.STATEMENT
                assert self.case.statement_number

    @invariant()
    def no_entrustment_of_a_confirmation_claim(self) -> None:
        # Claims only ever leave a case (severance), so a case that still holds a
        # confirmation claim must never have been entrusted.
        if self.case and self.case.has_confirmation_claim():
            assert not any(isinstance(e, Case.Entrusted) for e in self.events)
            assert self.case.mediation_count == 0

    @invariant()
    def acceptance_or_award_deadline_open_while_waiting_for_one(self) -> None:
        """v1.1 rules 8, 13: a case waiting for an acceptance decision or an award always
        shows that deadline (whatever today is)."""
        case = self.case
        if case is None:
            return
        kinds = {d.kind for d in case.deadlines(self.today)}
        waits_acceptance = case.status is Status.RECEIVED or (
            case.status is Status.MEDIATION_FAILED and case.route is Route.PRE_FILING
        )
        if case.route is Route.PRE_FILING and case.status in (
            Status.ENTRUSTED,
            Status.IN_MEDIATION,
        ):
            assert case.window_ends_on is not None
            waits_acceptance = self.today > case.window_ends_on
        if waits_acceptance:
            assert "acceptance_decision" in kinds
        waits_award = case.accepted_on is not None and case.status not in (
            Status.CLOSED,
            Status.NOT_ACCEPTED,
        )
        if waits_award:
            assert "award" in kinds

    @invariant()
    def post_filing_success_left_only_by_closure_or_retraction(self) -> None:
        """v1.1 rule 13: once a post-filing case succeeded, the next event that changes its
        status is a closure or a statement retraction."""
        status: Status | None = None
        route: Route | None = None
        for ev in self.events:
            if isinstance(ev, Case.Entrusted):
                route = Route(ev.route)
            if status is Status.SUCCEEDED and route is Route.POST_FILING:
                changes = not isinstance(
                    ev,
                    Case.StatementServed
                    | Case.AwardPeriodExtended
                    | Case.Assessed
                    | Case.PerformanceVerified,
                )
                if changes:
                    assert isinstance(ev, Case.Closed | Case.StatementRetracted), type(ev)
            if (isinstance(ev, Case.PerformanceRecorded) and ev.complete) or isinstance(
                ev, Case.StatementIssued
            ):
                status = Status.SUCCEEDED
            elif not isinstance(
                ev, Case.StatementServed | Case.AwardPeriodExtended | Case.PerformanceVerified
            ):
                status = None

    @invariant()
    def no_failure_after_signing_before_the_due_date_except_declared_refusal(self) -> None:
        """Rule 2: a signed agreement binds; nothing ends it early but a written refusal
        (each event judged against the case as it stood before it)."""
        case: Any = None
        for ev in self.events:
            signed = case is not None and case.status is Status.AGREEMENT_SIGNED
            early = signed and ev.on < case.agreement.performance_due_on
            if early and isinstance(ev, Case.MediationFailed):
                assert ev.reason_code == FailureReason.DECLARED_REFUSAL.value
            if signed and isinstance(ev, Case.ConsentRecorded):
                assert ev.given and not ev.ends_mediation, "consent withdrawn after signing"
            case = ev.mutate(case)

    @invariant()
    def the_subsidy_ledger_pays_only_verified_successes(self) -> None:
        """Rule 4: the read model's subsidy entries (the real handlers, folded in memory)
        pay a success by performance only at a verification by someone other than the
        mediator; a statement is the commission's own act."""
        if not self.case:
            return
        view = CasesView()
        states: dict[str, Any] = {}
        batch = Batch()
        by_position: dict[int, Any] = {}
        for position, ev in enumerate(self.events, start=1):
            by_position[position] = ev
            data = {k: v for k, v in vars(ev).items()}
            view.apply(
                states,
                batch,
                position,
                Ev(
                    type(ev),
                    str(ev.originator_id),
                    ev.originator_version,
                    ev.timestamp,
                    getattr(ev, "on", None),
                    getattr(ev, "policy_version", ""),
                    data,
                ),
            )
        for entry in batch.subsidies:
            if entry["outcome"] != "succeeded":
                continue
            ev = by_position[entry["position"]]
            if isinstance(ev, Case.PerformanceVerified):
                assert ev.actor_role != Role.MEDIATOR.value
                event("subsidy paid after verification")
            else:
                assert isinstance(ev, Case.StatementIssued), type(ev).__name__

    @invariant()
    def replay_rebuilds_the_same_state(self) -> None:
        if not self.case:
            return
        rebuilt: Any = None
        for ev in self.events:
            rebuilt = ev.mutate(rebuilt)
        original = {k: v for k, v in self.case.__dict__.items() if k != "_pending_events"}
        replayed = {k: v for k, v in rebuilt.__dict__.items() if k != "_pending_events"}
        assert replayed == original


TestCaseMachine = CaseMachine.TestCase
TestCaseMachine.settings = settings(
    max_examples=300,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
