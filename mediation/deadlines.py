"""Which deadlines a case has open: the status decides (``Case.deadlines`` and the case
list's ``sort_due`` both follow this one rule)."""

from __future__ import annotations

from datetime import date

from mediation.values import Route, Status

AWAITING_ACCEPTANCE = (Status.RECEIVED, Status.MEDIATION_FAILED)
IN_WINDOW = (Status.ENTRUSTED, Status.IN_MEDIATION)
AWARD_RUNNING = (
    Status.ACCEPTED,
    Status.ENTRUSTED,
    Status.IN_MEDIATION,
    Status.AGREEMENT_SIGNED,
    Status.MEDIATION_FAILED,
    Status.SUCCEEDED,  # v1.1 rule 13: a post-filing success stays open until closure
)


def open_deadlines(
    status: Status,
    route: Route | None,
    *,
    acceptance_due_on: date | None,
    window_ends_on: date | None,
    performance_due_on: date | None,
    review_due_on: date | None,
    review_applied: bool,
    award_due_on: date | None,
    review_decision_due_on: date | None = None,
    review_conclusion_due_on: date | None = None,
    resumed_acceptance_due_on: date | None = None,
) -> list[tuple[str, date]]:
    """(kind, due date) of every deadline open in ``status``, in this order: kind is
    acceptance_decision, mediation_window, performance, review_application,
    review_decision, review_conclusion or award.

    ``performance_due_on`` and ``review_due_on`` are the signed agreement's (None without
    one); ``review_applied``: a judicial review of it has been applied for;
    ``review_decision_due_on``/``review_conclusion_due_on``: the review's pending steps;
    ``resumed_acceptance_due_on``: the acceptance clock running again after a lapsed
    pre-filing window (rule 8; the caller decides, from today, that it has lapsed).
    """
    due: list[tuple[str, date]] = []
    if acceptance_due_on is not None and status in AWAITING_ACCEPTANCE:
        due.append(("acceptance_decision", acceptance_due_on))
    elif resumed_acceptance_due_on is not None and status in IN_WINDOW:
        due.append(("acceptance_decision", resumed_acceptance_due_on))
    if window_ends_on is not None and status in IN_WINDOW:
        due.append(("mediation_window", window_ends_on))
    if status is Status.AGREEMENT_SIGNED and performance_due_on is not None:
        due.append(("performance", performance_due_on))
        if route is Route.PRE_FILING and not review_applied and review_due_on is not None:
            due.append(("review_application", review_due_on))
        if review_decision_due_on is not None:
            due.append(("review_decision", review_decision_due_on))
        if review_conclusion_due_on is not None:
            due.append(("review_conclusion", review_conclusion_due_on))
    if award_due_on is not None and status in AWARD_RUNNING:
        due.append(("award", award_due_on))
    return due
