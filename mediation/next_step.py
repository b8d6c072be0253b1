"""What may happen next on a case, and what should: one pure function of the case and today.

``plan(case, today)`` answers two questions from the same facts:

- ``Plan.possible`` — every case command (by ``command_name``) that makes sense now: the
  state table (``mediation.transitions``) narrowed by the outcome so far (after a success
  by performance there is no statement to serve or retract; a bound agreement takes no
  consent; a review form only where the review stage allows it).
- ``Plan.steps`` — the next legal step(s), the one the law expects first, each with who
  does it and the deadline it answers to; ``Plan.ended`` when nothing more is expected.

The web pages show ``steps`` as the "下一步" panel and offer only ``possible`` commands; the
texts are in ``mediation.labels`` (``NEXT_STEP``, ``NEXT_STEP_WHY``, ``ENDED``).
``deadline_state`` is the one rule for "on time / due soon / overdue".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from mediation import transitions
from mediation.calendar import HolidayCalendar
from mediation.case import Case
from mediation.commands import CASE_COMMANDS
from mediation.values import (
    Deadline,
    Party,
    ReviewState,
    Role,
    Route,
    Status,
    SuccessBranch,
)

DUE_SOON_WORKING_DAYS = 3  # policy of the work lists: due within this many working days


class DeadlineState(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def deadline_state(due_on: date, today: date, calendar: HolidayCalendar) -> DeadlineState:
    """Overdue once today is past the due day; due soon when at most
    ``DUE_SOON_WORKING_DAYS`` working days remain (the due day itself counts as 0)."""
    if today > due_on:
        return DeadlineState.OVERDUE
    if calendar.working_days_between(today, due_on) <= DUE_SOON_WORKING_DAYS:
        return DeadlineState.DUE_SOON
    return DeadlineState.ON_TIME


CLERK = (Role.CLERK,)
CLERK_COORDINATOR = (Role.CLERK, Role.COORDINATOR)
MEDIATOR = (Role.MEDIATOR,)
CLERK_MEDIATOR = (Role.CLERK, Role.MEDIATOR)


@dataclass(frozen=True)
class Step:
    """One next step: ``key`` names its text in ``labels.NEXT_STEP``/``NEXT_STEP_WHY``;
    ``command`` is the case command that records it; ``by`` who may record it."""

    key: str
    command: str
    by: tuple[Role, ...]
    deadline: Deadline | None = None


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    possible: frozenset[str]
    ended: str | None = None  # key of labels.ENDED when the case expects nothing more


# ---------------------------------------------------------------------- possible


def _consents_complete(case: Case) -> bool:
    """Both parties' consent given for the mediation to come (rule 1)."""
    ended, ended_on = case.mediations_ended, case.mediation_ended_on
    for party in Party:
        c = case.consents.get(party)
        if c is None or not c.given:
            return False
        if ended and ended_on is not None and (c.round < ended or c.on < ended_on):
            return False
    return True


def _consent_refused(case: Case) -> bool:
    """A party said no (or withdrew) for the mediation to come."""
    ended = case.mediations_ended
    return any(c is not None and not c.given and c.round >= ended for c in case.consents.values())


def _unserved(case: Case) -> list[Party]:
    return [p for p in Party if p not in case.statement_served]


def _statement_standing(case: Case) -> bool:
    return case.outcome is SuccessBranch.STATEMENT and not case.success_reversed


_FITS: dict[str, Callable[[Case], bool]] = {
    # rule 2: a signed agreement binds; neither giving nor withdrawing consent is possible
    "record_consent": lambda c: c.status is not Status.AGREEMENT_SIGNED,
    # a severance must leave the case a claim
    "sever": lambda c: len({claim.category for claim in c.claims}) > 1,
    "extend_window": lambda c: c.route is Route.PRE_FILING and not c.window_extended,
    "extend_award_period": lambda c: c.award_due_on is not None and not c.award_extended,
    # v1.1 rule 6: the review stage, pre-filing only
    "apply_review": lambda c: (
        c.route is Route.PRE_FILING and c.review_applied_on is None and c.review_state is None
    ),
    "decide_review": lambda c: c.review_state is ReviewState.APPLIED,
    "withdraw_review": lambda c: c.review_state in (ReviewState.APPLIED, ReviewState.ACCEPTED),
    "issue_statement": lambda c: (
        c.route is not Route.PRE_FILING
        or c.review_state in (ReviewState.APPLIED, ReviewState.ACCEPTED)
    ),
    # LDMAL art. 42: only a statement's success is served or retracted, party by party
    "serve_statement": lambda c: _statement_standing(c) and bool(_unserved(c)),
    "retract_statement": lambda c: _statement_standing(c) and bool(_unserved(c)),
    # rule 4: only a success by complete performance, once
    "verify_performance": lambda c: (
        c.outcome is SuccessBranch.PERFORMANCE
        and not c.success_reversed
        and c.performance_verified_on is None
    ),
}


def possible(case: Case) -> frozenset[str]:
    """The case commands (``command_name``) that make sense in the case as it stands."""
    out = set()
    for command in CASE_COMMANDS:
        name = command.command_name
        if not any(transitions.allowed(t, case.status, case.route) for t in command.transitions):
            continue
        fits = _FITS.get(name)
        if fits is None or fits(case):
            out.add(name)
    return frozenset(out)


# ---------------------------------------------------------------------- steps


def plan(case: Case, today: date) -> Plan:
    """The next step(s) of ``case`` as of ``today`` and the commands that make sense."""
    due = {d.kind: d for d in case.deadlines(today)}
    steps, ended = _steps(case, due)
    can = possible(case)
    return Plan(tuple(s for s in steps if s.command in can), can, ended)


def _steps(case: Case, due: dict[str, Deadline]) -> tuple[list[Step], str | None]:
    status = case.status
    if status in (Status.RECEIVED, Status.ACCEPTED):
        return _before_mediation(case, due), None
    if status is Status.ENTRUSTED:
        window = due.get("mediation_window")
        out = [Step("assign_mediator", "assign_mediator", CLERK_COORDINATOR, window)]
        if window is not None and window.overdue:
            out.append(Step("fail_window_lapsed", "fail", CLERK_MEDIATOR, window))
        return out, None
    if status is Status.IN_MEDIATION:
        window = due.get("mediation_window")
        if window is not None and window.overdue:
            return [
                Step("fail_window_lapsed", "fail", CLERK_MEDIATOR, window),
                Step("sign_agreement_late", "sign_agreement", MEDIATOR, window),
            ], None
        return [
            Step("record_session", "record_session", MEDIATOR, window),
            Step("sign_agreement", "sign_agreement", MEDIATOR, window),
        ], None
    if status is Status.AGREEMENT_SIGNED:
        return _after_agreement(case, due), None
    if status is Status.SUCCEEDED:
        return _after_success(case, due)
    if status is Status.MEDIATION_FAILED:
        if case.route is Route.PRE_FILING:
            acceptance = due.get("acceptance_decision")
            return [Step("acceptance_after_failure", "decide_acceptance", CLERK, acceptance)], None
        return [Step("award_after_failure", "close", CLERK, due.get("award"))], None
    if status is Status.NOT_ACCEPTED:
        return [], "not_accepted"
    # closed
    if case.route is Route.POST_FILING and case.awaiting_verification:
        return [Step("verify_performance", "verify_performance", CLERK_COORDINATOR)], None
    return [], "closed"


def _before_mediation(case: Case, due: dict[str, Deadline]) -> list[Step]:
    accepted = case.status is Status.ACCEPTED
    clock = due.get("award") if accepted else due.get("acceptance_decision")
    decide = (
        Step("hearing", "close", CLERK, clock)
        if accepted
        else Step("decide_acceptance", "decide_acceptance", CLERK, clock)
    )
    if case.assessment is None:
        return [Step("assess", "assess", CLERK, clock)]
    if not case.assessment.eligible:
        return [decide]
    if case.has_confirmation_claim():
        return [Step("sever_confirmation", "sever", CLERK, clock), decide]
    if _consent_refused(case):
        return [decide]
    if not _consents_complete(case):
        return [Step("consents", "record_consent", CLERK, clock), decide]
    entrust = "entrust_post_filing" if accepted else "entrust_pre_filing"
    return [Step(entrust, "entrust", CLERK, clock), decide]


def _after_agreement(case: Case, due: dict[str, Deadline]) -> list[Step]:
    performance = due.get("performance")
    out: list[Step] = []
    if performance is not None and performance.overdue:
        out.append(Step("fail_not_performed", "fail", CLERK_MEDIATOR, performance))
        out.append(Step("record_performance_late", "record_performance", CLERK_MEDIATOR))
    else:
        out.append(Step("record_performance", "record_performance", CLERK_MEDIATOR, performance))
    if case.route is Route.PRE_FILING:
        state = case.review_state
        if state is None:
            out.append(Step("apply_review", "apply_review", CLERK, due.get("review_application")))
        elif state is ReviewState.APPLIED:
            out.append(Step("decide_review", "decide_review", CLERK, due.get("review_decision")))
        elif state is ReviewState.ACCEPTED:
            out.append(
                Step("issue_statement", "issue_statement", CLERK, due.get("review_conclusion"))
            )
    else:
        out.append(Step("issue_statement_post", "issue_statement", CLERK, due.get("award")))
    return out


def _after_success(case: Case, due: dict[str, Deadline]) -> tuple[list[Step], str | None]:
    out: list[Step] = []
    if case.awaiting_verification:
        out.append(Step("verify_performance", "verify_performance", CLERK_COORDINATOR))
    if _statement_standing(case) and _unserved(case):
        out.append(Step("serve_statement", "serve_statement", CLERK))
    if case.route is Route.POST_FILING:
        out.append(Step("close_after_success", "close", CLERK, due.get("award")))
    if out:
        return out, None
    return [], "succeeded"
