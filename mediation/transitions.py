"""Which command may run in which status: the state x command matrix, as data.

Read it as a table: for each command, the statuses (and, where it matters, the route of
the case's latest mediation) in which the command is allowed. Anything else is refused
with ``invalid_transition`` (HTTP 409). ``docs/domain.md`` prints the same table, and
``tests/unit/test_transitions.py`` checks the aggregate against it.
"""

from __future__ import annotations

from mediation.values import Route
from mediation.values import Status as S

# command -> {(status, required route or None)}
TRANSITIONS: dict[str, frozenset[tuple[S, Route | None]]] = {
    "assess": frozenset({(S.RECEIVED, None), (S.ACCEPTED, None), (S.MEDIATION_FAILED, None)}),
    "record_consent": frozenset(
        {
            (S.RECEIVED, None),
            (S.ACCEPTED, None),
            (S.ENTRUSTED, None),
            (S.IN_MEDIATION, None),
            (S.AGREEMENT_SIGNED, None),
            (S.MEDIATION_FAILED, None),
        }
    ),
    "entrust_pre_filing": frozenset({(S.RECEIVED, None)}),
    "entrust_post_filing": frozenset({(S.ACCEPTED, None)}),
    "sever": frozenset({(S.RECEIVED, None), (S.ACCEPTED, None), (S.MEDIATION_FAILED, None)}),
    "assign_mediator": frozenset({(S.ENTRUSTED, None), (S.IN_MEDIATION, None)}),
    "record_session": frozenset({(S.IN_MEDIATION, None)}),
    "extend_window": frozenset({(S.ENTRUSTED, None), (S.IN_MEDIATION, None)}),
    "sign_agreement": frozenset({(S.IN_MEDIATION, None)}),
    "record_performance": frozenset({(S.AGREEMENT_SIGNED, None)}),
    "apply_review": frozenset({(S.AGREEMENT_SIGNED, None)}),
    "issue_statement": frozenset({(S.AGREEMENT_SIGNED, None)}),
    "serve_statement": frozenset({(S.SUCCEEDED, None)}),
    "retract_statement": frozenset({(S.SUCCEEDED, None)}),
    "fail": frozenset({(S.ENTRUSTED, None), (S.IN_MEDIATION, None), (S.AGREEMENT_SIGNED, None)}),
    "decide_acceptance": frozenset({(S.RECEIVED, None), (S.MEDIATION_FAILED, Route.PRE_FILING)}),
    "extend_award_period": frozenset(
        {
            (S.ACCEPTED, None),
            (S.ENTRUSTED, Route.POST_FILING),
            (S.IN_MEDIATION, Route.POST_FILING),
            (S.AGREEMENT_SIGNED, Route.POST_FILING),
            (S.MEDIATION_FAILED, Route.POST_FILING),
            (S.SUCCEEDED, Route.POST_FILING),  # v1.1 rule 13: open until closure
        }
    ),
    # brief §8 rule 11: a recusal needs a mediator; a transfer keeps the mediation running
    "recuse": frozenset({(S.IN_MEDIATION, None)}),
    "transfer": frozenset({(S.ENTRUSTED, None), (S.IN_MEDIATION, None)}),
    # law-a: a clerk's or coordinator's return visit after a success by performance
    "verify_performance": frozenset({(S.SUCCEEDED, None), (S.CLOSED, Route.POST_FILING)}),
    "close": frozenset(
        {
            (S.RECEIVED, None),
            (S.ACCEPTED, None),
            (S.MEDIATION_FAILED, Route.POST_FILING),
            (S.SUCCEEDED, Route.POST_FILING),  # v1.1 rule 13
        }
    ),
    # v1.1 rule 6: the arbitral review of a pre-filing agreement
    "decide_review": frozenset({(S.AGREEMENT_SIGNED, Route.PRE_FILING)}),
    "withdraw_review": frozenset({(S.AGREEMENT_SIGNED, Route.PRE_FILING)}),
}


def allowed(command: str, status: S, route: Route | None) -> bool:
    for allowed_status, required_route in TRANSITIONS[command]:
        if allowed_status is status and (required_route is None or required_route is route):
            return True
    return False
