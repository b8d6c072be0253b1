"""Commands: what a caller asks of a case or a studio, one small frozen dataclass each.

A command's fields are its arguments, written once. They make the idempotency
fingerprint (``params``: the field names and values, so a field name is part of the
stored fingerprint and never renamed), and ``decide`` hands them to the Case method of
the same meaning (``act``), with the business date (``day_field``) passed as ``on``.
``MediationApplication.execute`` runs any of them: replay, load, decide, save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

from mediation import rules
from mediation.case import Case
from mediation.errors import ValidationFailed
from mediation.labels import message
from mediation.organisation import Studio
from mediation.policy import Policy
from mediation.values import (
    ALL_SIGNATORIES,
    Actor,
    ApplicantInput,
    Claim,
    ClaimCategory,
    Disposition,
    FailureReason,
    Party,
    RespondentInput,
    ReviewRefusal,
    Route,
    Signatory,
    StudioKind,
    VerificationMethod,
)


class Studios(Protocol):
    """Where a command finds the studios it needs (the application)."""

    def get_studio(self, studio_id: UUID, field: str | None = None) -> Studio: ...


@dataclass(frozen=True, kw_only=True)
class Command:
    command_name: ClassVar[str]  # in the fingerprint: never renamed
    day_field: ClassVar[str] = "on"  # the field holding the business date

    @property
    def day(self) -> date:
        value = getattr(self, self.day_field)
        assert isinstance(value, date)
        return value

    def params(self) -> dict[str, Any]:
        """The request as the idempotency fingerprint sees it."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, kw_only=True)
class CaseCommand(Command):
    # rows of mediation.transitions that allow it (the pages offer its form then)
    transitions: ClassVar[tuple[str, ...]] = ()
    act: ClassVar[Callable[..., None]]  # the Case method, called with the fields

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("transitions"):
            cls.transitions = (cls.command_name,)

    def decide(self, case: Case, actor: Actor, policy: Policy, studios: Studios) -> Case | None:
        """Let the case decide (rules raise named errors); returns a case it created."""
        args = self.params()
        args["on"] = args.pop(self.day_field)
        type(self).act(case, actor=actor, policy=policy, **args)
        return None


@dataclass(frozen=True, kw_only=True)
class Assess(CaseCommand):
    command_name = "assess"
    act = Case.assess
    on: date
    within_scope: bool
    meets_acceptance_conditions: bool
    suitable_for_mediation: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordConsent(CaseCommand):
    command_name = "record_consent"
    act = Case.record_consent
    party: Party
    given: bool
    on: date


@dataclass(frozen=True, kw_only=True)
class Entrust(CaseCommand):
    command_name = "entrust"
    transitions = ("entrust_pre_filing", "entrust_post_filing")
    studio_id: UUID
    route: Route
    on: date

    def decide(self, case: Case, actor: Actor, policy: Policy, studios: Studios) -> Case | None:
        studio = studios.get_studio(self.studio_id, field="studio_id")
        case.entrust(actor=actor, policy=policy, on=self.on, studio=studio, route=self.route)
        return None


@dataclass(frozen=True, kw_only=True)
class Sever(CaseCommand):
    """Move the claims of these categories into a new case (分案); its result is that case."""

    command_name = "sever"
    categories: Sequence[ClaimCategory]
    on: date

    def params(self) -> dict[str, Any]:
        return {"claim_categories": sorted(c.value for c in self.categories), "on": self.on}

    def decide(self, case: Case, actor: Actor, policy: Policy, studios: Studios) -> Case | None:
        return case.sever(actor=actor, policy=policy, on=self.on, categories=self.categories)


@dataclass(frozen=True, kw_only=True)
class AssignMediator(CaseCommand):
    command_name = "assign_mediator"
    mediator_id: UUID
    on: date

    def decide(self, case: Case, actor: Actor, policy: Policy, studios: Studios) -> Case | None:
        if case.studio_id is None:  # not entrusted: the transition rule answers
            rules.require_transition(self.command_name, case.status, case.route)
        assert case.studio_id is not None
        studio = studios.get_studio(case.studio_id)
        case.assign_mediator(
            actor=actor, policy=policy, on=self.on, studio=studio, mediator_id=self.mediator_id
        )
        return None


@dataclass(frozen=True, kw_only=True)
class RecordSession(CaseCommand):
    command_name = "record_session"
    day_field = "held_on"
    act = Case.record_session
    held_on: date
    summary: str


@dataclass(frozen=True, kw_only=True)
class ExtendWindow(CaseCommand):
    command_name = "extend_window"
    act = Case.extend_window
    days: int
    on: date
    parties_agreed: bool = False  # brief §8 rule 9

    def params(self) -> dict[str, Any]:
        params = super().params()
        if not self.parties_agreed:  # the request as stored before v1.1
            del params["parties_agreed"]
        return params


@dataclass(frozen=True, kw_only=True)
class SignAgreement(CaseCommand):
    command_name = "sign_agreement"
    day_field = "signed_on"
    act = Case.sign_agreement
    signed_on: date
    amount: Decimal
    performance_due_on: date
    terms: str
    # v1.1 (rules 3, 14): in the fingerprint only when given, so that a v1 request's
    # stored fingerprint stays the same
    signed_by: tuple[Signatory, ...] = ALL_SIGNATORIES
    sealed: bool = True
    settles: tuple[ClaimCategory, ...] | None = None
    obligor: Party = Party.RESPONDENT

    def params(self) -> dict[str, Any]:
        return _v11_params(self, ("signed_by", "sealed", "settles", "obligor"))


@dataclass(frozen=True, kw_only=True)
class RecordPerformance(CaseCommand):
    command_name = "record_performance"
    act = Case.record_performance
    on: date
    amount_paid: Decimal
    complete: bool
    confirmation: str = ""  # v1.1 (rule 4)

    def params(self) -> dict[str, Any]:
        return _v11_params(self, ("confirmation",))


@dataclass(frozen=True, kw_only=True)
class ApplyReview(CaseCommand):
    command_name = "apply_review"
    day_field = "applied_on"
    act = Case.apply_review
    applied_on: date


@dataclass(frozen=True, kw_only=True)
class IssueStatement(CaseCommand):
    command_name = "issue_statement"
    day_field = "issued_on"
    act = Case.issue_statement
    issued_on: date
    number: str


@dataclass(frozen=True, kw_only=True)
class ServeStatement(CaseCommand):
    command_name = "serve_statement"
    act = Case.serve_statement
    party: Party
    on: date


@dataclass(frozen=True, kw_only=True)
class RetractStatement(CaseCommand):
    command_name = "retract_statement"
    act = Case.retract_statement
    party: Party
    on: date


@dataclass(frozen=True, kw_only=True)
class Fail(CaseCommand):
    command_name = "fail"
    act = Case.fail
    on: date
    reason: str
    reason_code: FailureReason = FailureReason.OTHER  # v1.1 (rules 2, 12)

    def params(self) -> dict[str, Any]:
        return _v11_params(self, ("reason_code",))


@dataclass(frozen=True, kw_only=True)
class VerifyPerformance(CaseCommand):
    """A clerk's or coordinator's return visit after complete performance (rule 4)."""

    command_name = "verify_performance"
    act = Case.verify_performance
    on: date
    method: VerificationMethod
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DecideAcceptance(CaseCommand):
    command_name = "decide_acceptance"
    act = Case.decide_acceptance
    accepted: bool
    on: date
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ExtendAwardPeriod(CaseCommand):
    command_name = "extend_award_period"
    act = Case.extend_award_period
    days: int
    approved_by: str
    on: date


@dataclass(frozen=True, kw_only=True)
class Close(CaseCommand):
    command_name = "close"
    act = Case.close
    on: date
    disposition: Disposition


# --- v1.1, law-b: the arbitral review stage (brief section 8, rule 6) ---------------------


@dataclass(frozen=True, kw_only=True)
class DecideReview(CaseCommand):
    """The commission accepts or refuses the review application (Rules arts. 75-76)."""

    command_name = "decide_review"
    act = Case.decide_review
    on: date
    accepted: bool
    reason_code: ReviewRefusal | None = None


@dataclass(frozen=True, kw_only=True)
class WithdrawReview(CaseCommand):
    """The parties withdraw the review application; the agreement stays in force."""

    command_name = "withdraw_review"
    act = Case.withdraw_review
    on: date
    party: Party


# --- brief §8 rule 11 (issue 15, law-c): recusal and transfer ---------------------------


@dataclass(frozen=True, kw_only=True)
class Recuse(CaseCommand):
    """The assigned mediator steps aside (回避); the mediation and its window go on."""

    command_name = "recuse"
    act = Case.recuse
    on: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class Transfer(CaseCommand):
    """Another studio takes over the same mediation; its mediator is removed."""

    command_name = "transfer"
    studio_id: UUID
    on: date
    reason: str

    def decide(self, case: Case, actor: Actor, policy: Policy, studios: Studios) -> Case | None:
        rules.require_transition(self.command_name, case.status, case.route)
        studio = studios.get_studio(self.studio_id, field="studio_id")
        case.transfer(actor=actor, policy=policy, on=self.on, studio=studio, reason=self.reason)
        return None


CASE_COMMANDS: tuple[type[CaseCommand], ...] = (
    Assess,
    RecordConsent,
    Entrust,
    Sever,
    AssignMediator,
    RecordSession,
    ExtendWindow,
    SignAgreement,
    RecordPerformance,
    ApplyReview,
    IssueStatement,
    ServeStatement,
    RetractStatement,
    Fail,
    DecideAcceptance,
    ExtendAwardPeriod,
    Close,
    DecideReview,
    WithdrawReview,
    Recuse,
    Transfer,
    VerifyPerformance,
)


def _v11_params(command: Command, added: tuple[str, ...]) -> dict[str, Any]:
    """``params`` without the fields v1.1 added while they hold their defaults: a v1
    request keeps the fingerprint it was stored with."""
    out = {}
    for f in fields(command):
        value = getattr(command, f.name)
        if f.name in added and value == f.default:
            continue
        out[f.name] = value
    return out


@dataclass(frozen=True, kw_only=True)
class ReceiveCase(Command):
    """Register a new case (收案); the only case command without a target."""

    command_name = "receive_case"
    day_field = "received_on"
    region_code: str
    received_on: date
    claims: Sequence[Claim]
    # the parties (issue 17): ``applicant``/``respondent`` (v1) are the first of each;
    # give either form, or both with the first of the list equal to the single one
    applicant: ApplicantInput | None = None
    respondent: RespondentInput | None = None
    applicants: Sequence[ApplicantInput] = ()
    respondents: Sequence[RespondentInput] = ()
    representatives: Sequence[str] = ()  # resident ID numbers of applicants (LDMAL art. 7)
    infringement_known_on: date | None = None
    employment_ended_on: date | None = None  # brief §8 rule 15

    def all_applicants(self) -> list[ApplicantInput]:
        return _side(self.applicant, self.applicants, "applicant")

    def all_respondents(self) -> list[RespondentInput]:
        return _side(self.respondent, self.respondents, "respondent")

    def params(self) -> dict[str, Any]:
        applicants = list(self.applicants) or ([self.applicant] if self.applicant else [])
        respondents = list(self.respondents) or ([self.respondent] if self.respondent else [])
        params: dict[str, Any] = {
            "region_code": self.region_code,
            "received_on": self.received_on,
        }
        if len(applicants) == 1 and len(respondents) == 1:  # a v1 request's fingerprint
            params["applicant"] = applicants[0].params()
            params["respondent"] = respondents[0].params()
        else:
            params["applicants"] = [a.params() for a in applicants]
            params["respondents"] = [r.params() for r in respondents]
        if self.applicant and self.applicants and self.applicant != self.applicants[0]:
            params["applicant"] = self.applicant.params()  # refused; never the same request
        params["claims"] = [c.to_dict() for c in self.claims]
        params["infringement_known_on"] = self.infringement_known_on
        if self.representatives:
            params["representatives"] = list(self.representatives)
        if self.employment_ended_on is not None:  # fingerprints of older requests unchanged
            params["employment_ended_on"] = self.employment_ended_on
        return params

    def decide(self, actor: Actor, policy: Policy) -> Case:
        return Case.receive(
            actor=actor,
            policy=policy,
            region_code=self.region_code,
            received_on=self.received_on,
            applicants=self.all_applicants(),
            respondents=self.all_respondents(),
            representatives=self.representatives,
            claims=self.claims,
            infringement_known_on=self.infringement_known_on,
            employment_ended_on=self.employment_ended_on,
        )


P = TypeVar("P", ApplicantInput, RespondentInput)
_WHO = {"applicant": "申请人", "respondent": "被申请人"}


def _side(single: P | None, listed: Sequence[P], name: str) -> list[P]:
    """One side's parties from the v1 field and the v1.1 list (contract v1.1, "Parties")."""
    if listed and single is not None and listed[0] != single:
        raise ValidationFailed(message("party_forms_differ", who=_WHO[name]), field=f"{name}s.0")
    if listed:
        return list(listed)
    if single is None:
        raise ValidationFailed(message("party_required", who=_WHO[name]), field=f"{name}s")
    return [single]


# --- studios -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterStudio(Command):
    command_name = "register_studio"
    day_field = "established_on"
    name: str
    region_code: str
    kind: StudioKind
    established_on: date
    mediator_quota: int | None = None

    def decide(self, actor: Actor, policy: Policy) -> Studio:
        return Studio.register(actor=actor, policy=policy, **self.params())


@dataclass(frozen=True, kw_only=True)
class StudioCommand(Command):
    def decide(self, studio: Studio, actor: Actor, policy: Policy) -> None:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class AppointMediator(StudioCommand):
    command_name = "appoint_mediator"
    day_field = "appointed_on"
    name: str
    qualification: str
    appointed_on: date

    def decide(self, studio: Studio, actor: Actor, policy: Policy) -> None:
        studio.appoint_mediator(actor=actor, policy=policy, **self.params())

    def appointed(self, studio: Studio) -> UUID:
        """The mediator it appointed: the newest of that name appointed on that date."""
        return [
            m.mediator_id
            for m in studio.roster.values()
            if m.name == self.name.strip() and m.appointed_on == self.appointed_on
        ][-1]


@dataclass(frozen=True)
class RetireMediator(StudioCommand):
    command_name = "retire_mediator"
    day_field = "retired_on"
    mediator_id: UUID
    _: KW_ONLY
    retired_on: date

    def decide(self, studio: Studio, actor: Actor, policy: Policy) -> None:
        studio.retire_mediator(actor=actor, policy=policy, **self.params())


@dataclass(frozen=True, kw_only=True)
class CloseStudio(StudioCommand):
    command_name = "close_studio"
    day_field = "closed_on"
    closed_on: date

    def decide(self, studio: Studio, actor: Actor, policy: Policy) -> None:
        studio.close(actor=actor, policy=policy, closed_on=self.closed_on)
