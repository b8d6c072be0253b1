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
) -> list[tuple[str, date]]:
    """(kind, due date) of every deadline open in ``status``, in this order: kind is
    acceptance_decision, mediation_window, performance, review_application or award.

    ``performance_due_on`` and ``review_due_on`` are the signed agreement's (None without
    one); ``review_applied``: a judicial review of it has been applied for.
    """
    due: list[tuple[str, date]] = []
    if acceptance_due_on is not None and status in AWAITING_ACCEPTANCE:
        due.append(("acceptance_decision", acceptance_due_on))
    if window_ends_on is not None and status in IN_WINDOW:
        due.append(("mediation_window", window_ends_on))
    if status is Status.AGREEMENT_SIGNED and performance_due_on is not None:
        due.append(("performance", performance_due_on))
        if route is Route.PRE_FILING and not review_applied and review_due_on is not None:
            due.append(("review_application", review_due_on))
    if award_due_on is not None and status in AWARD_RUNNING:
        due.append(("award", award_due_on))
    return due
