"""Building case histories: a parsed row → a new ``Case`` through its own command methods.

Every row becomes a *real* case history: the aggregates' command methods (receive,
assess, consents, acceptance, entrustment, mediator, sessions, agreement, performance,
review, statement, failure, closure) run with the historic business dates, so every rule
of the domain is enforced exactly as for a live command.

Studios (by name and region) and their mediators (by name) are looked up in the store
and created when missing: a new studio is established on the earliest entrustment the
file needs it for, a new mediator appointed on the earliest assignment. Both are
recorded by the importing actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from importer.rows import HistoricCase
from mediation.application import MediationApplication
from mediation.case import Case
from mediation.clock import recording_with
from mediation.errors import DateInFuture, DomainError, ValidationFailed
from mediation.organisation import Studio
from mediation.values import Actor, Disposition, Party, Route, StudioKind

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:mediation:historic-import")
MEDIATOR_QUALIFICATION = "other"


def case_id_for(old_case_no: str) -> UUID:
    """The deterministic id of the case imported from ``old_case_no``."""
    return uuid5(IMPORT_NAMESPACE, old_case_no.strip())


# ---------------------------------------------------------------------- organisation


class Organisation:
    """Studios by (name, region) and their mediators by name: found or created."""

    def __init__(self, app: MediationApplication, actor: Actor) -> None:
        self.app = app
        self.actor = actor
        self.studios: dict[tuple[str, str], Studio] = {}
        for studio_id in app.studio_ids():
            studio = app.get_studio(studio_id)
            self.studios.setdefault((studio.name, studio.region_code), studio)
        self.created = 0
        self.appointed = 0

    def prepare(self, cases: Iterable[HistoricCase]) -> dict[tuple[str, str], DomainError]:
        """Create the studios and mediators the rows need; returns the studios refused."""
        first_entrusted: dict[tuple[str, str], date] = {}
        first_assigned: dict[tuple[str, str], dict[str, date]] = {}
        for c in cases:
            if c.outcome == "not_entrusted" or c.entrusted_on is None:
                continue
            key = c.studio_key
            first_entrusted[key] = min(first_entrusted.get(key, c.entrusted_on), c.entrusted_on)
            if c.mediator and c.mediator_assigned_on is not None:
                names = first_assigned.setdefault(key, {})
                names[c.mediator] = min(
                    names.get(c.mediator, c.mediator_assigned_on), c.mediator_assigned_on
                )
        refused: dict[tuple[str, str], DomainError] = {}
        changed: list[Aggregate] = []
        with recording_with(self.app.clock):
            for key in sorted(first_entrusted):
                name, region_code = key
                mediators = first_assigned.get(key, {})
                try:
                    studio = self.studios.get(key)
                    if studio is None:
                        established_on = first_entrusted[key]
                        _not_future(self.app, established_on, "entrusted_on")
                        policy = self.app.policy_on(established_on)
                        studio = Studio.register(
                            actor=self.actor,
                            policy=policy,
                            name=name,
                            region_code=region_code,
                            kind=StudioKind.DOCKING_STUDIO,
                            established_on=established_on,
                            mediator_quota=max(policy.default_mediator_quota, len(mediators)),
                        )
                        self.created += 1
                    on_roster = {m.name for m in studio.roster.values()}
                    before = studio.version
                    for mediator, first in sorted(mediators.items(), key=lambda kv: kv[1]):
                        if mediator in on_roster:
                            continue
                        appointed_on = max(first, studio.established_on)
                        _not_future(self.app, appointed_on, "mediator_assigned_on")
                        studio.appoint_mediator(
                            actor=self.actor,
                            policy=self.app.policy_on(appointed_on),
                            name=mediator,
                            qualification=MEDIATOR_QUALIFICATION,
                            appointed_on=appointed_on,
                            mediator_id=uuid5(IMPORT_NAMESPACE, f"{studio.id}\n{mediator}"),
                        )
                        self.appointed += 1
                    if studio.version != before or key not in self.studios:
                        changed.append(studio)
                    self.studios[key] = studio
                except DomainError as exc:
                    refused[key] = exc
        if changed:
            self.app.save(*changed)
        return refused

    def mediator_id(self, studio: Studio, name: str) -> UUID | None:
        for m in studio.roster.values():
            if m.name == name:
                return m.mediator_id
        return None


# ---------------------------------------------------------------------- building


class Builder:
    """Turns a parsed row into a new Case aggregate through its command methods."""

    def __init__(self, app: MediationApplication, actor: Actor, org: Organisation) -> None:
        self.app = app
        self.actor = actor
        self.org = org
        self.today = app.today()

    def build(self, c: HistoricCase) -> Case:
        for name, on in c.dates():
            if on > self.today:
                raise DateInFuture(f"{name} {on.isoformat()} is later than today", field=name)
        a, policy = self.actor, self.app.policy_on
        case = Case.receive(
            actor=a,
            policy=policy(c.received_on),
            region_code=c.region_code,
            received_on=c.received_on,
            applicants=[c.applicant],
            respondents=[c.respondent],
            claims=c.claims,
            infringement_known_on=c.infringement_known_on,
            case_id=case_id_for(c.old_case_no),
        )
        if c.outcome == "not_entrusted":
            self._not_entrusted(case, c)
            return case
        assert c.route is not None and c.entrusted_on is not None
        case.assess(
            actor=a,
            policy=policy(c.assessed_on),
            on=c.assessed_on,
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=True,
            reason="历史案件导入：经审查适宜调解",
        )
        consent_on = c.consent_on or c.entrusted_on
        accept_first = c.route is Route.POST_FILING
        if accept_first:
            if c.accepted_on is None:
                raise ValidationFailed(
                    "accepted_on is required on the post-filing route", field="accepted_on"
                )
            if consent_on < c.accepted_on:
                self._consents(case, consent_on)
                accept_first = False
            case.decide_acceptance(
                actor=a, policy=policy(c.accepted_on), on=c.accepted_on, accepted=True
            )
        if accept_first or c.route is Route.PRE_FILING:
            self._consents(case, consent_on)
        studio = self.org.studios.get(c.studio_key)
        if studio is None:
            raise ValidationFailed(
                f"no studio {c.studio!r} in {c.studio_region_code}", field="studio"
            )
        case.entrust(
            actor=a, policy=policy(c.entrusted_on), on=c.entrusted_on, studio=studio, route=c.route
        )
        if c.mediator:
            mediator_id = self.org.mediator_id(studio, c.mediator)
            assigned_on = c.mediator_assigned_on or c.entrusted_on
            if mediator_id is None:
                raise ValidationFailed(
                    f"no mediator {c.mediator!r} at {c.studio}", field="mediator"
                )
            case.assign_mediator(
                actor=a,
                policy=policy(assigned_on),
                on=assigned_on,
                studio=studio,
                mediator_id=mediator_id,
            )
        elif c.outcome != "pending" or c.session_dates or c.agreement_signed_on:
            raise ValidationFailed("mediator is required once mediation began", field="mediator")
        for n, held_on in enumerate(sorted(c.session_dates), start=1):
            case.record_session(
                actor=a, policy=policy(held_on), on=held_on, summary=f"历史案件导入：第{n}次调解"
            )
        if c.agreement_signed_on is not None or c.outcome.startswith("succeeded"):
            self._agreement(case, c)
        if c.outcome == "succeeded_performance":
            self._performance(case, c, complete=True)
        elif c.outcome == "succeeded_statement":
            self._statement(case, c)
        elif c.outcome == "failed":
            if c.amount_paid:
                self._performance(case, c, complete=False)
            if c.failed_on is None:
                raise ValidationFailed("failed_on is required", field="failed_on")
            case.fail(
                actor=a,
                policy=policy(c.failed_on),
                on=c.failed_on,
                reason=c.failure_reason or "历史案件导入：调解不成",
            )
        elif c.outcome == "pending" and c.amount_paid:
            self._performance(case, c, complete=False)
        return case

    def _not_entrusted(self, case: Case, c: HistoricCase) -> None:
        a, policy = self.actor, self.app.policy_on
        if c.route is not None or c.entrusted_on is not None:
            raise ValidationFailed(
                "a not-entrusted case has no route or entrustment", field="outcome"
            )
        if c.accepted_on is not None:
            case.decide_acceptance(
                actor=a, policy=policy(c.accepted_on), on=c.accepted_on, accepted=True
            )
        if c.closed_on is not None:
            case.close(
                actor=a,
                policy=policy(c.closed_on),
                on=c.closed_on,
                disposition=c.disposition or Disposition.OTHER,
            )

    def _consents(self, case: Case, on: date) -> None:
        for party in (Party.APPLICANT, Party.RESPONDENT):
            case.record_consent(
                actor=self.actor, policy=self.app.policy_on(on), on=on, party=party, given=True
            )

    def _agreement(self, case: Case, c: HistoricCase) -> None:
        if c.agreement_signed_on is None or c.agreement_amount is None:
            raise ValidationFailed(
                "agreement_signed_on and agreement_amount are required", field="agreement_amount"
            )
        case.sign_agreement(
            actor=self.actor,
            policy=self.app.policy_on(c.agreement_signed_on),
            on=c.agreement_signed_on,
            amount=c.agreement_amount,
            performance_due_on=c.agreement_due_on or c.agreement_signed_on,
            terms="历史案件导入：调解协议",
        )

    def _performance(self, case: Case, c: HistoricCase, *, complete: bool) -> None:
        if c.performance_on is None or c.amount_paid is None:
            raise ValidationFailed(
                "performance_on and amount_paid are required", field="amount_paid"
            )
        if complete and c.amount_paid != c.agreement_amount:
            # 履行完毕: partial performance is not success.
            raise ValidationFailed(
                f"succeeded_performance needs the agreed {c.agreement_amount} paid in full, "
                f"not {c.amount_paid}",
                field="amount_paid",
            )
        case.record_performance(
            actor=self.actor,
            policy=self.app.policy_on(c.performance_on),
            on=c.performance_on,
            amount_paid=c.amount_paid,
            complete=complete,
        )

    def _statement(self, case: Case, c: HistoricCase) -> None:
        if c.statement_issued_on is None:
            raise ValidationFailed("statement_issued_on is required", field="statement_issued_on")
        if c.route is Route.PRE_FILING:
            applied_on = c.review_applied_on or c.agreement_signed_on
            assert applied_on is not None
            case.apply_review(
                actor=self.actor, policy=self.app.policy_on(applied_on), on=applied_on
            )
        case.issue_statement(
            actor=self.actor,
            policy=self.app.policy_on(c.statement_issued_on),
            on=c.statement_issued_on,
            number=c.statement_number or f"历史导入调字〔{c.statement_issued_on.year}〕{c.row}号",
        )


def _not_future(app: MediationApplication, on: date, name: str) -> None:
    if on > app.today():
        raise DateInFuture(f"{name} {on.isoformat()} is later than today", field=name)
