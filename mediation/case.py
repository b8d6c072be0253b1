"""The Case aggregate: one labour dispute from receipt to success, failure or closure.

Longer than 500 lines because it is one aggregate: its stored event classes, nested in it as
the library expects, and the commands that record them.

Public command methods check the rules (``mediation.rules``) and compute every value
(deadlines, flags); the event classes' ``apply`` methods only assign. Replaying the
stored events therefore always rebuilds the same state, whatever today's date is.

The event classes below are the stored format: their ``TOPIC`` strings and field names
are forever. Add a field with a default or bump ``class_version`` with an upcaster; never
rename. Every event carries ``actor``/``actor_role`` (who), ``on`` (the business date) and
``policy_version`` (the rules it was decided under); the library's ``timestamp`` is the
moment it was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from mediation import parties, personal, rules
from mediation.calendar import (
    DayUnit,
    Period,
    due_date,
    is_overdue,
)
from mediation.deadlines import open_deadlines
from mediation.documents import DocumentKind, IssuedDocument, require_document_fits
from mediation.envelope import ChainedAggregate, Envelope
from mediation.errors import (
    InvalidTransition,
    LabourRelationshipNotEntrustable,
    ReasonRequired,
    SeveranceInvalid,
    ValidationFailed,
)
from mediation.labels import message
from mediation.numbering import NumberKind
from mediation.organisation import Studio
from mediation.policy import Policy
from mediation.values import (
    ALL_SIGNATORIES,
    Actor,
    Agreement,
    ApplicantInput,
    Assessment,
    Claim,
    ClaimCategory,
    Consent,
    Deadline,
    Disposition,
    FailureReason,
    Party,
    RespondentInput,
    ReviewRefusal,
    ReviewState,
    Role,
    Route,
    Signatory,
    Status,
    SuccessBranch,
    VerificationMethod,
    money_str,
)

# The value types live in mediation.values; these stay importable from here only until
# projections/demo.py and tests/projections/history.py import them from there (the
# projections rework is in flight), then __all__ goes.
__all__ = ["ApplicantInput", "Case", "Claim", "RespondentInput"]

_T = "mediation.case."


class Case(ChainedAggregate):
    TOPIC = "mediation.case.Case"

    # ------------------------------------------------------------------ events

    class Event(Envelope, Aggregate.Event):
        TOPIC = _T + "Event"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = _T + "Created"

    class Received(Envelope, Aggregate.Created):
        TOPIC = _T + "Received"
        # v2 (issue 17): every party — lists of applicants and respondents (each a flat
        # dict, see mediation.parties), the representatives (positions in ``applicants``)
        # and whether the dispute is collective; a v1 event is upcast to one-element lists
        class_version = 2
        region_code: str
        applicants: list[dict[str, str]]
        respondents: list[dict[str, str]]
        claims: list[dict[str, str]]
        infringement_known_on: date | None
        limitation_warning: bool
        acceptance_due_on: date
        severed_from: UUID | None
        representatives: list[int]
        collective: bool
        # v1.1 (rule 7, Rules art. 46): a case severed from an accepted one keeps its
        # acceptance and award dates (None: not accepted, as every v1 event)
        accepted_on: date | None = None
        award_due_on: date | None = None
        employment_ended_on: date | None = None  # brief §8 rule 15 (art. 27(4))

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """One applicant and one respondent → one-element lists, not collective (the
            stored bytes, and so the event's chain, are untouched)."""
            state["applicants"] = [state.pop("applicant")]
            state["respondents"] = [state.pop("respondent")]
            state["representatives"] = []
            state["collective"] = False

        def apply(self, case: Case) -> None:
            case.region_code = self.region_code
            case.received_on = self.on
            case.status_since = self.on
            case.applicants = [dict(a) for a in self.applicants]
            case.respondents = [dict(r) for r in self.respondents]
            case.representatives = list(self.representatives)
            case.collective = self.collective
            case.claims = [Claim.from_dict(c) for c in self.claims]
            case.infringement_known_on = self.infringement_known_on
            case.limitation_warning = self.limitation_warning
            case.acceptance_due_on = self.acceptance_due_on
            case.severed_from = self.severed_from
            case.employment_ended_on = self.employment_ended_on
            case.policy_version = self.policy_version
            if self.accepted_on is not None:
                case.status = Status.ACCEPTED
                case.accepted_on = self.accepted_on
                case.award_due_on = self.award_due_on

    class Assessed(Event):
        TOPIC = _T + "Assessed"
        class_version = 1
        within_scope: bool
        meets_acceptance_conditions: bool
        suitable_for_mediation: bool
        reason: str

        def apply(self, case: Case) -> None:
            case.assessment = Assessment(
                self.within_scope,
                self.meets_acceptance_conditions,
                self.suitable_for_mediation,
                self.reason,
                self.on,
            )

    class ConsentRecorded(Event):
        TOPIC = _T + "ConsentRecorded"
        class_version = 1
        party: str
        given: bool
        ends_mediation: bool
        acceptance_due_on: date | None

        def apply(self, case: Case) -> None:
            case.consents[Party(self.party)] = Consent(self.given, self.on, case.mediations_ended)
            if self.ends_mediation:
                case._end_mediation(self.on, self.acceptance_due_on)
                case.failure_reason_code = FailureReason.CONSENT_WITHDRAWN

    class Entrusted(Event):
        TOPIC = _T + "Entrusted"
        class_version = 1
        studio_id: UUID
        route: str
        window_ends_on: date
        # v1.1 (rule 8): pre-filing, the acceptance due date once the window lapses
        acceptance_resumes_on: date | None = None

        def apply(self, case: Case) -> None:
            case.status = Status.ENTRUSTED
            case.status_since = self.on
            case.studio_id = self.studio_id
            case.mediator_id = None
            case.route = Route(self.route)
            case.entrusted_on = self.on
            case.window_ends_on = self.window_ends_on
            case.acceptance_resumes_on = self.acceptance_resumes_on
            case.window_extended = False
            case.mediation_count += 1
            case.sessions = 0
            case.agreement = None
            case.amount_paid = Decimal("0.00")
            case.review_applied_on = None
            case.review_state = None
            case.review_decision_due_on = None
            case.review_conclusion_due_on = None
            case.statement_number = None
            case.verification_required = False
            case.performance_verified_on = None
            if case.route is Route.PRE_FILING:
                case.acceptance_due_on = None  # 暂缓受理: the acceptance clock pauses

    class ClaimsSevered(Event):
        TOPIC = _T + "ClaimsSevered"
        class_version = 1
        categories: list[str]
        new_case_id: UUID

        def apply(self, case: Case) -> None:
            moved = {ClaimCategory(c) for c in self.categories}
            case.claims = [c for c in case.claims if c.category not in moved]
            case.severed_into.append(self.new_case_id)

    class MediatorAssigned(Event):
        TOPIC = _T + "MediatorAssigned"
        class_version = 1
        mediator_id: UUID

        def apply(self, case: Case) -> None:
            if case.status is Status.ENTRUSTED:
                case.status = Status.IN_MEDIATION
                case.status_since = self.on
            case.mediator_id = self.mediator_id

    class SessionRecorded(Event):
        TOPIC = _T + "SessionRecorded"
        class_version = 1
        summary: str

        def apply(self, case: Case) -> None:
            case.sessions += 1
            case.last_session_on = self.on

    class WindowExtended(Event):
        TOPIC = _T + "WindowExtended"
        class_version = 1
        days: int
        window_ends_on: date
        # v1.1 (rule 8): the acceptance due date once the extended window lapses
        acceptance_resumes_on: date | None = None
        parties_agreed: bool = False  # brief §8 rule 9; not recorded before v1.1

        def apply(self, case: Case) -> None:
            case.window_ends_on = self.window_ends_on
            case.window_extended = True
            case.acceptance_resumes_on = self.acceptance_resumes_on

    class AgreementSigned(Event):
        TOPIC = _T + "AgreementSigned"
        class_version = 1
        amount: str
        performance_due_on: date
        terms: str
        review_due_on: date
        # v1.1 (brief 8.3, 8.14); an event recorded before has none: complete, sealed,
        # settling the case's claims, owed by the respondent
        signed_by: list[str] | None = None
        sealed: bool = True
        settles: list[str] | None = None
        obligor: str = Party.RESPONDENT.value

        def apply(self, case: Case) -> None:
            case.status = Status.AGREEMENT_SIGNED
            case.status_since = self.on
            case.agreement = Agreement(
                self.on,
                Decimal(self.amount),
                self.performance_due_on,
                self.terms,
                self.review_due_on,
                None if self.settles is None else tuple(ClaimCategory(c) for c in self.settles),
                Party(self.obligor),
            )

    class PerformanceRecorded(Event):
        TOPIC = _T + "PerformanceRecorded"
        class_version = 1
        amount_paid: str
        complete: bool
        # v1.1 (brief 8.4): the worker's written confirmation, and whether the success
        # awaits a return-visit verification (False on events recorded before: their
        # success stays as recorded)
        confirmation: str = ""
        needs_verification: bool = False

        def apply(self, case: Case) -> None:
            case.amount_paid += Decimal(self.amount_paid)
            if self.complete:
                case.status = Status.SUCCEEDED
                case.status_since = self.on
                case.outcome = SuccessBranch.PERFORMANCE
                case.verification_required = self.needs_verification

    class ReviewApplied(Event):
        TOPIC = _T + "ReviewApplied"
        class_version = 1
        # v1.1 (rule 6): the commission's decision is due (None in v1 events)
        decision_due_on: date | None = None

        def apply(self, case: Case) -> None:
            case.review_applied_on = self.on
            case.review_state = ReviewState.APPLIED
            case.review_decision_due_on = self.decision_due_on

    class StatementIssued(Event):
        TOPIC = _T + "StatementIssued"
        class_version = 1
        number: str

        def apply(self, case: Case) -> None:
            case.status = Status.SUCCEEDED
            case.status_since = self.on
            case.outcome = SuccessBranch.STATEMENT
            case.statement_number = self.number
            case.statement_served = set()
            case.review_conclusion_due_on = None

    class StatementServed(Event):
        TOPIC = _T + "StatementServed"
        class_version = 1
        party: str

        def apply(self, case: Case) -> None:
            case.statement_served.add(Party(self.party))

    class StatementRetracted(Event):
        TOPIC = _T + "StatementRetracted"
        class_version = 1
        party: str
        acceptance_due_on: date | None

        # v1.1 (rule 5): on the pre-filing route only the review ends and the agreement
        # stays in force (False in v1 events: they ended the mediation, as recorded)
        restores_agreement: bool = False

        def apply(self, case: Case) -> None:
            case.success_reversed = True
            if self.restores_agreement:
                case.status = Status.AGREEMENT_SIGNED
                case.status_since = self.on
                case.outcome = None
                case.statement_number = None
                case.statement_served = set()
                case.review_state = ReviewState.ENDED
                case.review_conclusion_due_on = None
            else:
                case._end_mediation(self.on, self.acceptance_due_on)
                case.failure_reason_code = FailureReason.STATEMENT_RETRACTED

    class MediationFailed(Event):
        TOPIC = _T + "MediationFailed"
        class_version = 1
        reason: str
        acceptance_due_on: date | None
        reason_code: str = FailureReason.OTHER.value  # v1.1 (brief 8.12); before: other

        def apply(self, case: Case) -> None:
            case.failure_reason = self.reason
            case._end_mediation(self.on, self.acceptance_due_on)
            case.failure_reason_code = FailureReason(self.reason_code)

    class PerformanceVerified(Event):
        """A clerk or coordinator verified complete performance by a return visit (回访)."""

        TOPIC = _T + "PerformanceVerified"
        class_version = 1
        method: str
        note: str

        def apply(self, case: Case) -> None:
            case.performance_verified_on = self.on
            case.verified_by = self.actor

    class AcceptanceDecided(Event):
        TOPIC = _T + "AcceptanceDecided"
        class_version = 1
        accepted: bool
        reason: str
        award_due_on: date | None

        def apply(self, case: Case) -> None:
            case.status = Status.ACCEPTED if self.accepted else Status.NOT_ACCEPTED
            case.status_since = self.on
            case.accepted_on = self.on if self.accepted else None
            case.acceptance_reason = self.reason
            case.acceptance_due_on = None
            case.award_due_on = self.award_due_on

    class AwardPeriodExtended(Event):
        TOPIC = _T + "AwardPeriodExtended"
        class_version = 1
        days: int
        approved_by: str
        award_due_on: date

        def apply(self, case: Case) -> None:
            case.award_due_on = self.award_due_on
            case.award_extended = True

    class Closed(Event):
        TOPIC = _T + "Closed"
        class_version = 1
        disposition: str

        def apply(self, case: Case) -> None:
            case.status = Status.CLOSED
            case.status_since = self.on
            case.disposition = Disposition(self.disposition)
            case.acceptance_due_on = None

    # --- v1.1: the arbitral review stage (rules 6) ------------------------------------

    class ReviewDecided(Event):
        TOPIC = _T + "ReviewDecided"
        class_version = 1
        accepted: bool
        reason_code: str | None
        conclusion_due_on: date | None

        def apply(self, case: Case) -> None:
            case.review_state = ReviewState.ACCEPTED if self.accepted else ReviewState.REFUSED
            case.review_decision_due_on = None
            case.review_conclusion_due_on = self.conclusion_due_on

    class ReviewWithdrawn(Event):
        TOPIC = _T + "ReviewWithdrawn"
        class_version = 1
        party: str

        def apply(self, case: Case) -> None:
            case.review_state = ReviewState.WITHDRAWN
            case.review_decision_due_on = None
            case.review_conclusion_due_on = None

    # brief §8 rule 11: recusal and transfer keep the mediation (and its window) running

    class MediatorRecused(Event):
        TOPIC = _T + "MediatorRecused"
        class_version = 1
        mediator_id: UUID  # the mediator who stepped aside
        reason: str

        def apply(self, case: Case) -> None:
            case.status = Status.ENTRUSTED
            case.status_since = self.on
            case.mediator_id = None

    class Transferred(Event):
        TOPIC = _T + "Transferred"
        class_version = 1
        studio_id: UUID  # the studio it moves to
        from_studio_id: UUID
        mediator_id: UUID | None  # the mediator removed with it, if any
        reason: str

        def apply(self, case: Case) -> None:
            case.status = Status.ENTRUSTED
            case.status_since = self.on
            case.studio_id = self.studio_id
            case.mediator_id = None

    class DocumentIssued(Event):
        """A document (文书) was issued: its PDF's exact bytes are kept beside the events,
        content-addressed by ``sha256`` (docs/adr/0011-document-bytes.md)."""

        TOPIC = _T + "DocumentIssued"
        class_version = 1
        kind: str
        document_number: str
        document_id: UUID
        sha256: str
        pages: int
        verification_code: str
        issuing_body: str

        def apply(self, case: Case) -> None:
            case.documents.append(
                IssuedDocument(
                    document_id=self.document_id,
                    kind=DocumentKind(self.kind),
                    number=self.document_number,
                    issued_on=self.on,
                    sha256=self.sha256,
                    pages=self.pages,
                    verification_code=self.verification_code,
                    issuing_body=self.issuing_body,
                    issued_by=self.actor,
                    case_version=self.originator_version,
                )
            )

    # --- v1.1, the official record: case numbers (mediation.numbering, ADR 0012) -----------

    class Numbered(Event):
        """The case was given a number: its registration number (登记号) at receipt, or its
        arbitration 案号 at acceptance, drawn from the sequence of that commission, kind and
        year (saved in the same transaction as the sequence's ``Issued`` event)."""

        TOPIC = _T + "Numbered"
        class_version = 1
        number_kind: str  # NumberKind: registration | filing
        assigned: str  # the number as written (武劳人仲登字〔2026〕第123号)
        commission: str  # the commission's region code
        year: int
        sequence: int
        # a severed case's registration: the number of the case it was severed from
        severed_from_number: str | None

        def apply(self, case: Case) -> None:
            if self.number_kind == NumberKind.FILING.value:
                case.filing_number = self.assigned
            else:
                case.case_number = self.assigned
                case.severed_from_number = self.severed_from_number

    # ------------------------------------------------------------------ state

    def __init__(self) -> None:
        self.status: Status = Status.RECEIVED
        self.status_since: date = date.min
        self.route: Route | None = None
        self.region_code: str = ""
        self.received_on: date = date.min
        self.applicants: list[dict[str, str]] = []  # as stored: sealed (mediation.parties)
        self.respondents: list[dict[str, str]] = []
        self.representatives: list[int] = []  # positions in applicants (LDMAL art. 7)
        self.collective: bool = False
        self.claims: list[Claim] = []
        self.infringement_known_on: date | None = None
        self.limitation_warning: bool = False
        self.severed_from: UUID | None = None
        self.employment_ended_on: date | None = None
        self.severed_into: list[UUID] = []
        self.policy_version: str = ""
        self.assessment: Assessment | None = None
        self.consents: dict[Party, Consent] = {}
        self.studio_id: UUID | None = None
        self.mediator_id: UUID | None = None
        self.entrusted_on: date | None = None
        self.window_ends_on: date | None = None
        self.window_extended: bool = False
        self.acceptance_resumes_on: date | None = None
        self.mediation_count: int = 0
        self.mediations_ended: int = 0  # brief §8 rule 1: each end uses the consents up
        self.mediation_ended_on: date | None = None
        self.sessions: int = 0
        self.last_session_on: date | None = None
        self.agreement: Agreement | None = None
        self.amount_paid: Decimal = Decimal("0.00")
        self.review_applied_on: date | None = None
        self.review_state: ReviewState | None = None
        self.review_decision_due_on: date | None = None
        self.review_conclusion_due_on: date | None = None
        self.statement_number: str | None = None
        self.statement_served: set[Party] = set()
        self.outcome: SuccessBranch | None = None
        self.success_reversed: bool = False
        self.failure_reason: str | None = None
        self.failure_reason_code: FailureReason | None = None
        self.verification_required: bool = False
        self.performance_verified_on: date | None = None
        self.verified_by: str | None = None
        self.acceptance_due_on: date | None = None
        self.accepted_on: date | None = None
        self.award_due_on: date | None = None
        self.award_extended: bool = False
        self.disposition: Disposition | None = None
        self.documents: list[IssuedDocument] = []
        self.acceptance_reason: str = ""
        self.case_number: str | None = None  # 登记号 (None: recorded before numbers)
        self.filing_number: str | None = None  # 案号, once accepted
        self.severed_from_number: str | None = None

    @property
    def applicant(self) -> dict[str, str]:
        """The first applicant (the v1 case's only one)."""
        return self.applicants[0] if self.applicants else {}

    @property
    def respondent(self) -> dict[str, str]:
        return self.respondents[0] if self.respondents else {}

    @property
    def every_party(self) -> list[dict[str, str]]:
        """Every applicant, then every respondent, as stored (personal fields sealed)."""
        return [*self.applicants, *self.respondents]

    def _end_mediation(self, on: date, acceptance_due_on: date | None) -> None:
        self.mediations_ended += 1
        self.mediation_ended_on = on
        self.status = Status.MEDIATION_FAILED
        self.status_since = on
        self.outcome = None
        if acceptance_due_on is not None:
            self.acceptance_due_on = acceptance_due_on

    # ------------------------------------------------------------------ creation

    @classmethod
    def receive(
        cls,
        *,
        actor: Actor,
        policy: Policy,
        region_code: str,
        received_on: date,
        claims: Sequence[Claim],
        applicants: Sequence[ApplicantInput] = (),
        respondents: Sequence[RespondentInput] = (),
        representatives: Sequence[str] = (),
        # the v1 shorthand for one-element lists (callers written before issue 17)
        applicant: ApplicantInput | None = None,
        respondent: RespondentInput | None = None,
        infringement_known_on: date | None = None,
        severed_from: UUID | None = None,
        case_id: UUID | None = None,
        kept: rules.KeptDates | None = None,
        employment_ended_on: date | None = None,
    ) -> Case:
        rules.require_known_region(region_code)
        # a severed case's applicants were checked at its receipt; an import (the system
        # actor) carries what was recorded then: neither is held to today's phone format
        recorded = severed_from is not None or actor.role is Role.SYSTEM
        chosen = parties.validated(
            list(applicants) or ([applicant] if applicant else []),
            list(respondents) or ([respondent] if respondent else []),
            representatives,
            received_on,
            recorded=recorded,
        )
        if not claims:
            raise ValidationFailed(message("claims_required"), field="claims")
        claims = [
            Claim(c.category, rules.require_money(c.amount, f"claims.{i}.amount"))
            for i, c in enumerate(claims)
        ]
        if infringement_known_on is not None and infringement_known_on > received_on:
            raise ValidationFailed(message("known_after_receipt"), field="infringement_known_on")
        if employment_ended_on is not None and employment_ended_on > received_on:
            raise ValidationFailed(message("ended_after_receipt"), field="employment_ended_on")
        limitation_warning = rules.limitation_warning(
            claims, infringement_known_on, employment_ended_on, received_on, policy.limitation_years
        )
        sealed_applicants, sealed_respondents = chosen.sealed()
        case = cls._create_chained(
            cls.Received,
            id=case_id or uuid4(),
            actor=actor.username,
            actor_role=actor.role.value,
            on=received_on,
            policy_version=policy.version,
            region_code=region_code,
            applicants=sealed_applicants,  # per-person keys
            respondents=sealed_respondents,
            representatives=chosen.representatives,
            collective=chosen.collective,
            claims=[c.to_dict() for c in claims],
            infringement_known_on=infringement_known_on,
            limitation_warning=limitation_warning,
            acceptance_due_on=(
                kept.acceptance_due_on
                if kept is not None
                else due_date(received_on, policy.acceptance_decision)
            ),
            severed_from=severed_from,
            # always given, so that the chain hash covers them
            accepted_on=kept.accepted_on if kept is not None else None,
            award_due_on=kept.award_due_on if kept is not None else None,
            employment_ended_on=employment_ended_on,
        )
        return case

    # ------------------------------------------------------------------ commands

    def _require(self, command: str, on: date) -> None:
        rules.require_transition(command, self.status, self.route)
        rules.require_not_before(on, self.status_since, "the case's current step")
        rules.require_not_before(on, self.received_on, "the receipt of the case")

    def assess(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        within_scope: bool,
        meets_acceptance_conditions: bool,
        suitable_for_mediation: bool,
        reason: str,
    ) -> None:
        self._require("assess", on)
        rules.require_text(reason, "reason")
        self.trigger_event(
            self.Assessed,
            within_scope=within_scope,
            meets_acceptance_conditions=meets_acceptance_conditions,
            suitable_for_mediation=suitable_for_mediation,
            reason=reason.strip(),
            **self.envelope(actor, on, policy),
        )

    def record_consent(
        self, *, actor: Actor, policy: Policy, on: date, party: Party, given: bool
    ) -> None:
        self._require("record_consent", on)
        rules.require_consent_withdrawable(self.status, given)
        mediating = self.status in (Status.ENTRUSTED, Status.IN_MEDIATION, Status.AGREEMENT_SIGNED)
        if given and mediating:
            # Consent is already a precondition of the running mediation.
            raise InvalidTransition("consent is already given for the running mediation")
        ends_mediation = mediating and not given
        self.trigger_event(
            self.ConsentRecorded,
            party=party.value,
            given=given,
            ends_mediation=ends_mediation,
            acceptance_due_on=self._resumed_acceptance_due(on, policy) if ends_mediation else None,
            **self.envelope(actor, on, policy),
        )

    def entrust(
        self, *, actor: Actor, policy: Policy, on: date, studio: Studio, route: Route
    ) -> None:
        command = "entrust_pre_filing" if route is Route.PRE_FILING else "entrust_post_filing"
        rules.require_transition(command, self.status, self.route)
        # Business rules, in the order the clerk would check them; the confirmation rule
        # comes first so that it answers "whatever else is true".
        rules.require_entrustable(self.claims)
        rules.require_assessed_eligible(self.assessment)
        rules.require_consents_for_this_mediation(
            self.consents, self.mediations_ended, self.mediation_ended_on
        )
        rules.require_mediation_body(studio.kind)
        rules.require_studio_covers(studio.region_code, self.region_code)
        rules.require_studio_active(studio.established_on, studio.closed_on, on)
        rules.require_not_before(on, self.status_since, "the case's current step")
        rules.require_not_before(on, self.received_on, "the receipt of the case")
        resumes_on: date | None = None
        if route is Route.PRE_FILING:
            window_ends_on = due_date(on, policy.pre_filing_window)
            resumes_on = rules.acceptance_due_after(
                self.received_on, on, window_ends_on, policy.acceptance_decision.days
            )
        else:
            # the later of this mediation's (fresh) consents, not before acceptance
            later_consent = max(c.on for c in self.consents.values())
            start = max(later_consent, self.accepted_on or later_consent)
            window_ends_on = due_date(start, policy.post_filing_window)
        self.trigger_event(
            self.Entrusted,
            studio_id=studio.id,
            route=route.value,
            window_ends_on=window_ends_on,
            acceptance_resumes_on=resumes_on,
            **self.envelope(actor, on, policy),
        )

    def sever(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        categories: Sequence[ClaimCategory],
        new_case_id: UUID | None = None,
    ) -> Case:
        """Move the claims of the named categories into a new case (分案); returns it."""
        self._require("sever", on)
        wanted = set(categories)
        present = {c.category for c in self.claims}
        if not wanted or not wanted <= present:
            raise SeveranceInvalid(
                f"the case has no claim of categories {sorted(wanted - present) or '[]'}"
            )
        moved = [c for c in self.claims if c.category in wanted]
        if len(moved) == len(self.claims):
            raise SeveranceInvalid("severance would leave the case without a claim")
        # every party moves with the claims (revealed here, sealed again by receive)
        applicants = [personal.reveal_installed(a) for a in self.applicants]
        new_case = Case.receive(
            actor=actor,
            policy=policy,
            region_code=self.region_code,
            received_on=self.received_on,
            applicants=[parties.applicant_input(a) for a in applicants],
            respondents=[
                parties.respondent_input(personal.reveal_installed(r)) for r in self.respondents
            ],
            representatives=[applicants[i]["id_number"] for i in self.representatives],
            claims=moved,
            infringement_known_on=self.infringement_known_on,
            employment_ended_on=self.employment_ended_on,
            severed_from=self.id,
            case_id=new_case_id,
            kept=rules.severance_kept_dates(
                self.received_on, self.acceptance_due_on, self.accepted_on, self.award_due_on
            ),
        )
        self.trigger_event(
            self.ClaimsSevered,
            categories=sorted(c.value for c in wanted),
            new_case_id=new_case.id,
            **self.envelope(actor, on, policy),
        )
        return new_case

    def assign_mediator(
        self, *, actor: Actor, policy: Policy, on: date, studio: Studio, mediator_id: UUID
    ) -> None:
        self._require("assign_mediator", on)
        if studio.id != self.studio_id:
            raise ValidationFailed("the studio given is not the case's studio", field="studio")
        rules.require_mediator_on_roster(studio.roster.get(mediator_id), mediator_id, on)
        self.trigger_event(
            self.MediatorAssigned, mediator_id=mediator_id, **self.envelope(actor, on, policy)
        )

    def record_session(self, *, actor: Actor, policy: Policy, on: date, summary: str) -> None:
        self._require("record_session", on)
        rules.require_text(summary, "summary")
        self.trigger_event(
            self.SessionRecorded, summary=summary.strip(), **self.envelope(actor, on, policy)
        )

    def extend_window(
        self, *, actor: Actor, policy: Policy, on: date, days: int, parties_agreed: bool = False
    ) -> None:
        self._require("extend_window", on)
        rules.require_window_extension(
            self.route, self.window_extended, days, policy.pre_filing_extension_max_days
        )
        rules.require_parties_agreed(parties_agreed)
        assert self.window_ends_on is not None
        new_end = due_date(self.window_ends_on, Period(days, DayUnit.CALENDAR))
        self.trigger_event(
            self.WindowExtended,
            days=days,
            window_ends_on=new_end,
            acceptance_resumes_on=(
                rules.acceptance_due_after(
                    self.received_on, self.entrusted_on, new_end, policy.acceptance_decision.days
                )
                if self.entrusted_on is not None
                else None
            ),
            parties_agreed=parties_agreed,
            **self.envelope(actor, on, policy),
        )

    def sign_agreement(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        amount: Decimal,
        performance_due_on: date,
        terms: str,
        signed_by: Sequence[Signatory] = ALL_SIGNATORIES,
        sealed: bool = True,
        settles: Sequence[ClaimCategory] | None = None,
        obligor: Party = Party.RESPONDENT,
    ) -> None:
        self._require("sign_agreement", on)
        amount = rules.require_money(amount, "amount")
        rules.require_text(terms, "terms")
        if performance_due_on < on:
            raise ValidationFailed(message("due_before_signing"), field="performance_due_on")
        settled = rules.validated_settles(settles, self.claims)
        rules.require_agreement_effective(signed_by, sealed)
        self.trigger_event(
            self.AgreementSigned,
            amount=money_str(amount),
            performance_due_on=performance_due_on,
            terms=terms.strip(),
            review_due_on=due_date(on, policy.review_window),
            signed_by=[s.value for s in Signatory if s in signed_by],
            sealed=sealed,
            settles=[c.value for c in settled],
            obligor=obligor.value,
            **self.envelope(actor, on, policy),
        )

    def record_performance(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        amount_paid: Decimal,
        complete: bool,
        confirmation: str = "",
    ) -> None:
        self._require("record_performance", on)
        amount_paid = rules.require_money(amount_paid, "amount_paid")
        assert self.agreement is not None
        total = self.amount_paid + amount_paid
        rules.require_payment_within_agreement(total, self.agreement.amount)
        if complete:
            rules.require_performance_complete(total, self.agreement.amount, confirmation)
        if len(confirmation) > 200:
            raise ValidationFailed(
                "confirmation is longer than 200 characters", field="confirmation"
            )
        self.trigger_event(
            self.PerformanceRecorded,
            amount_paid=money_str(amount_paid),
            complete=complete,
            confirmation=confirmation.strip(),
            needs_verification=complete,
            **self.envelope(actor, on, policy),
        )

    def verify_performance(
        self, *, actor: Actor, policy: Policy, on: date, method: VerificationMethod, note: str
    ) -> None:
        """Rule 4: a clerk or coordinator (never the mediator) verifies complete performance;
        the success subsidy becomes payable then."""
        self._require("verify_performance", on)
        if self.outcome is not SuccessBranch.PERFORMANCE or self.success_reversed:
            raise InvalidTransition("the case did not succeed by complete performance")
        if self.performance_verified_on is not None:
            raise InvalidTransition("performance has already been verified")
        rules.require_verifier_not_mediator(actor.role)
        if len(note) > 4000:
            raise ValidationFailed("note is longer than 4000 characters", field="note")
        self.trigger_event(
            self.PerformanceVerified,
            method=method.value,
            note=note.strip(),
            **self.envelope(actor, on, policy),
        )

    def apply_review(self, *, actor: Actor, policy: Policy, on: date) -> None:
        self._require("apply_review", on)
        assert self.agreement is not None
        rules.require_review_applicable(self.route, self.review_applied_on, self.claims)
        rules.require_review_in_time(on, self.agreement.review_due_on)
        self.trigger_event(
            self.ReviewApplied,
            decision_due_on=due_date(on, policy.review_decision),
            **self.envelope(actor, on, policy),
        )

    def decide_review(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        accepted: bool,
        reason_code: ReviewRefusal | None = None,
    ) -> None:
        """The commission accepts or refuses the review application (Rules arts. 75-76)."""
        self._require("decide_review", on)
        rules.require_review_undecided(self.review_state)
        self.trigger_event(
            self.ReviewDecided,
            accepted=accepted,
            reason_code=None if accepted or reason_code is None else reason_code.value,
            conclusion_due_on=due_date(on, policy.review_conclusion) if accepted else None,
            **self.envelope(actor, on, policy),
        )

    def withdraw_review(self, *, actor: Actor, policy: Policy, on: date, party: Party) -> None:
        """The parties withdraw the review application; the agreement stays in force."""
        self._require("withdraw_review", on)
        rules.require_review_pending(self.review_state)
        self.trigger_event(
            self.ReviewWithdrawn, party=party.value, **self.envelope(actor, on, policy)
        )

    def issue_statement(self, *, actor: Actor, policy: Policy, on: date, number: str) -> None:
        self._require("issue_statement", on)
        rules.require_text(number, "number")
        if self.route is Route.PRE_FILING:
            rules.require_review_applied(self.review_applied_on)
            rules.require_review_standing(self.review_state)
            if self.review_state is ReviewState.APPLIED:
                # issued on an undecided application: the acceptance is recorded with it
                self.trigger_event(
                    self.ReviewDecided,
                    accepted=True,
                    reason_code=None,
                    conclusion_due_on=due_date(on, policy.review_conclusion),
                    **self.envelope(actor, on, policy),
                )
        self.trigger_event(
            self.StatementIssued, number=number.strip(), **self.envelope(actor, on, policy)
        )

    def serve_statement(self, *, actor: Actor, policy: Policy, on: date, party: Party) -> None:
        self._require("serve_statement", on)
        self._require_statement_success()
        if party in self.statement_served:
            raise InvalidTransition(f"the statement was already served on the {party.value}")
        self.trigger_event(
            self.StatementServed, party=party.value, **self.envelope(actor, on, policy)
        )

    def retract_statement(self, *, actor: Actor, policy: Policy, on: date, party: Party) -> None:
        self._require("retract_statement", on)
        self._require_statement_success()
        rules.require_statement_not_served(self.statement_served, party)
        restores = rules.retraction_restores_agreement(self.route)
        self.trigger_event(
            self.StatementRetracted,
            party=party.value,
            acceptance_due_on=None if restores else self._resumed_acceptance_due(on, policy),
            restores_agreement=restores,
            **self.envelope(actor, on, policy),
        )

    def fail(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        reason: str,
        reason_code: FailureReason = FailureReason.OTHER,
    ) -> None:
        self._require("fail", on)
        rules.require_text(reason, "reason")
        agreement = self.agreement
        rules.require_failure_due(
            self.status, agreement.performance_due_on if agreement else None, on, reason_code
        )
        self.trigger_event(
            self.MediationFailed,
            reason=reason.strip(),
            reason_code=reason_code.value,
            acceptance_due_on=self._resumed_acceptance_due(on, policy),
            **self.envelope(actor, on, policy),
        )

    def decide_acceptance(
        self, *, actor: Actor, policy: Policy, on: date, accepted: bool, reason: str = ""
    ) -> None:
        self._require("decide_acceptance", on)
        if not accepted and not reason.strip():
            raise ReasonRequired("a decision not to accept must give its reason", field="reason")
        self.trigger_event(
            self.AcceptanceDecided,
            accepted=accepted,
            reason=reason.strip(),
            award_due_on=due_date(on, policy.award_period) if accepted else None,
            **self.envelope(actor, on, policy),
        )

    def extend_award_period(
        self, *, actor: Actor, policy: Policy, on: date, days: int, approved_by: str
    ) -> None:
        self._require("extend_award_period", on)
        rules.require_text(approved_by, "approved_by")
        rules.require_award_extension(
            self.award_due_on, self.award_extended, days, policy.award_extension_max_days
        )
        assert self.award_due_on is not None
        self.trigger_event(
            self.AwardPeriodExtended,
            days=days,
            approved_by=approved_by.strip(),
            award_due_on=due_date(self.award_due_on, Period(days, DayUnit.CALENDAR)),
            **self.envelope(actor, on, policy),
        )

    def close(self, *, actor: Actor, policy: Policy, on: date, disposition: Disposition) -> None:
        self._require("close", on)
        rules.require_closure_disposition(self.status, disposition)
        self.trigger_event(
            self.Closed, disposition=disposition.value, **self.envelope(actor, on, policy)
        )

    def recuse(self, *, actor: Actor, policy: Policy, on: date, reason: str) -> None:
        """Brief §8 rule 11: the mediator steps aside (回避); the mediation goes on."""
        self._require("recuse", on)
        rules.require_text(reason, "reason")
        assert self.mediator_id is not None
        self.trigger_event(
            self.MediatorRecused,
            mediator_id=self.mediator_id,
            reason=reason.strip(),
            **self.envelope(actor, on, policy),
        )

    def transfer(
        self, *, actor: Actor, policy: Policy, on: date, studio: Studio, reason: str
    ) -> None:
        """Brief §8 rule 11: another studio takes over the same mediation (window kept)."""
        self._require("transfer", on)
        rules.require_text(reason, "reason")
        assert self.studio_id is not None
        rules.require_other_studio(self.studio_id, studio.id)
        rules.require_mediation_body(studio.kind)
        rules.require_studio_covers(studio.region_code, self.region_code)
        rules.require_studio_active(studio.established_on, studio.closed_on, on)
        self.trigger_event(
            self.Transferred,
            studio_id=studio.id,
            from_studio_id=self.studio_id,
            mediator_id=self.mediator_id,
            reason=reason.strip(),
            **self.envelope(actor, on, policy),
        )

    def issue_document(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        kind: DocumentKind,
        document_id: UUID,
        document_number: str,
        sha256: str,
        pages: int,
        verification_code: str,
        issuing_body: str,
    ) -> None:
        """Record an issued document; its rule (``mediation.documents``) decides the state."""
        require_document_fits(kind, self)
        rules.require_not_before(on, self.received_on, "the receipt of the case")
        rules.require_not_before(on, self.document_fact_on(kind), "the fact it documents")
        if len(sha256) != 64 or pages < 1:
            raise ValidationFailed("the document's hash or page count is not valid")
        self.trigger_event(
            self.DocumentIssued,
            kind=kind.value,
            document_number=document_number,
            document_id=document_id,
            sha256=sha256,
            pages=pages,
            verification_code=verification_code,
            issuing_body=issuing_body,
            **self.envelope(actor, on, policy),
        )

    def document_fact_on(self, kind: DocumentKind) -> date:
        """The date of the fact a document of ``kind`` states (it cannot be dated before)."""
        K = DocumentKind
        fact: date | None = {
            K.MEDIATION_SUGGESTION: self.received_on,
            K.ENTRUSTMENT_LETTER: self.entrusted_on,
            K.MEDIATION_AGREEMENT: self.agreement.signed_on if self.agreement else None,
            K.MEDIATION_ENDED_NOTICE: self.mediation_ended_on,
            K.ACCEPTANCE_NOTICE: self.accepted_on,
            K.NON_ACCEPTANCE_NOTICE: (
                self.status_since if self.status is Status.NOT_ACCEPTED else None
            ),
            K.SERVICE_RECEIPT: max((d.issued_on for d in self.documents), default=None),
        }[kind]
        return fact or self.received_on

    # ------------------------------------------------------------------ numbers

    def numbers_due(self) -> list[NumberKind]:
        """The numbers this case is owed by the events about to be saved: a registration
        number when it is received (a severed case too), a 案号 when it is accepted (or
        severed from an accepted case). A case recorded before numbers existed gets none
        retroactively; it gets its 案号 if it is accepted later."""
        due: list[NumberKind] = []
        for ev in self.pending_events:
            if isinstance(ev, Case.Received):
                due.append(NumberKind.REGISTRATION)
                if ev.accepted_on is not None:
                    due.append(NumberKind.FILING)
            elif isinstance(ev, Case.AcceptanceDecided) and ev.accepted:
                due.append(NumberKind.FILING)
        numbered = {
            NumberKind(ev.number_kind)
            for ev in self.pending_events
            if isinstance(ev, Case.Numbered)
        }
        if self.filing_number is not None:
            numbered.add(NumberKind.FILING)
        return [kind for kind in due if kind not in numbered]

    def record_number(
        self,
        *,
        actor: Actor,
        policy: Policy,
        on: date,
        kind: NumberKind,
        number: str,
        commission: str,
        year: int,
        sequence: int,
        severed_from_number: str | None = None,
    ) -> None:
        """Record the number a sequence gave this case (the application draws it)."""
        if kind not in self.numbers_due():
            raise InvalidTransition(f"the case is not owed a {kind.value} number")
        self.trigger_event(
            self.Numbered,
            number_kind=kind.value,
            assigned=number,
            commission=commission,
            year=year,
            sequence=sequence,
            severed_from_number=severed_from_number if kind is NumberKind.REGISTRATION else None,
            **self.envelope(actor, on, policy),
        )

    @property
    def display_number(self) -> str | None:
        """The number a person reads: the 案号 once accepted, else the registration number."""
        return self.filing_number or self.case_number

    # ------------------------------------------------------------------ helpers

    def _require_statement_success(self) -> None:
        if self.outcome is not SuccessBranch.STATEMENT:
            raise InvalidTransition("the case did not succeed by an arbitration statement")

    def _resumed_acceptance_due(self, on: date, policy: Policy) -> date | None:
        """When a pre-filing mediation ends, the suspended acceptance clock resumes."""
        if self.route is not Route.PRE_FILING or self.entrusted_on is None:
            return None
        # rule 8: without an agreement, the clock already runs from the day after the
        # window's end; an agreement suspended it until this ending
        start = on
        if self.agreement is None and self.window_ends_on is not None:
            start = min(on, self.window_ends_on)
        return rules.acceptance_due_after(
            self.received_on, self.entrusted_on, start, policy.acceptance_decision.days
        )

    # ------------------------------------------------------------------ queries

    @property
    def claimed_amount(self) -> Decimal:
        return sum((c.amount for c in self.claims), Decimal("0.00"))

    @property
    def categories(self) -> list[ClaimCategory]:
        return sorted({c.category for c in self.claims})

    def deadlines(self, today: date) -> list[Deadline]:
        """The deadlines open in the current status; ``overdue`` is judged against ``today``."""
        agreement = self.agreement
        due = open_deadlines(
            self.status,
            self.route,
            acceptance_due_on=self.acceptance_due_on,
            window_ends_on=self.window_ends_on,
            performance_due_on=agreement.performance_due_on if agreement else None,
            review_due_on=agreement.review_due_on if agreement else None,
            review_applied=self.review_applied_on is not None,
            award_due_on=self.award_due_on,
            review_decision_due_on=self.review_decision_due_on,
            review_conclusion_due_on=self.review_conclusion_due_on,
            resumed_acceptance_due_on=self.resumed_acceptance_due(today),
        )
        return [Deadline(kind, d, is_overdue(d, today)) for kind, d in due]

    def resumed_acceptance_due(self, today: date) -> date | None:
        """Rule 8: once a pre-filing window has passed without agreement, the suspended
        acceptance clock runs again (from the recorded dates and ``today``; nothing is
        recorded when the window lapses)."""
        if not rules.acceptance_resumed(self.status, self.route, self.window_ends_on, today):
            return None
        if self.acceptance_resumes_on is not None:
            return self.acceptance_resumes_on
        # a v1 entrustment did not record it: counted now with the default period
        assert self.window_ends_on is not None
        return self._resumed_acceptance_due(self.window_ends_on, Policy())

    def payment_order_eligible(self, today: date) -> bool:
        """LDMAL art. 16 (rule 14): judged from what the agreement settles and who owes."""
        return rules.payment_order_applies(
            self.route, self.status, self.agreement, self.claims, today
        )

    @property
    def awaiting_verification(self) -> bool:
        """A success by performance whose subsidy waits for a clerk's verification."""
        return (
            self.outcome is SuccessBranch.PERFORMANCE
            and self.verification_required
            and self.performance_verified_on is None
        )

    def has_confirmation_claim(self) -> bool:
        try:
            rules.require_entrustable(self.claims)
        except LabourRelationshipNotEntrustable:
            return True
        return False
