"""Cases brought to a state through the application, so that each browser test makes its own.

Every case is received in Jiang'an (inside the clerk's Wuhan), two days before the site's
today, and entrusted, assigned and worked on today, to the site's studio and mediator.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from mediation.values import ClaimCategory, Route
from tests.browser.conftest import Site
from tests.support.factories import CLERK, MEDIATOR, new_case, ready_for_entrustment


def entrusted(site: Site) -> UUID:
    """A remuneration claim of 12800.00, entrusted (pre-filing) to the site's studio."""
    app = site.system.app  # type: ignore[attr-defined]
    received_on = site.today - timedelta(days=2)
    case = new_case(app, ClaimCategory.REMUNERATION, region_code="420102", received_on=received_on)
    ready_for_entrustment(app, case.id, received_on)
    app.entrust(CLERK, case.id, studio_id=site.studio_id, route=Route.PRE_FILING, on=site.today)
    site.system.catch_up()  # type: ignore[attr-defined]
    return case.id


def in_mediation(site: Site) -> UUID:
    """An entrusted case assigned to the site's mediator."""
    case_id = entrusted(site)
    app = site.system.app  # type: ignore[attr-defined]
    app.assign_mediator(CLERK, case_id, mediator_id=site.mediator_id, on=site.today)
    site.system.catch_up()  # type: ignore[attr-defined]
    return case_id


def agreed(site: Site, amount: str = "8000.00") -> UUID:
    """A case in mediation with one session and a signed agreement for ``amount``."""
    case_id = in_mediation(site)
    app = site.system.app  # type: ignore[attr-defined]
    app.record_session(MEDIATOR, case_id, held_on=site.today, summary="双方到场")
    app.sign_agreement(
        MEDIATOR,
        case_id,
        signed_on=site.today,
        amount=Decimal(amount),
        performance_due_on=site.today + timedelta(days=10),
        terms=f"被申请人于十日内一次性支付 {amount} 元",
    )
    site.system.catch_up()  # type: ignore[attr-defined]
    return case_id


def performed(site: Site, case_id: UUID, amount: str = "8000.00") -> None:
    """The agreement performed in full today: the case succeeds."""
    app = site.system.app  # type: ignore[attr-defined]
    app.record_performance(
        MEDIATOR, case_id, on=site.today, amount_paid=Decimal(amount), complete=True
    )
    site.system.catch_up()  # type: ignore[attr-defined]


def by_statement(site: Site) -> UUID:
    """A pre-filing agreement reviewed and confirmed by an arbitration mediation statement:
    the case succeeds by the statement, served on nobody yet."""
    case_id = agreed(site)
    app = site.system.app  # type: ignore[attr-defined]
    app.apply_review(CLERK, case_id, applied_on=site.today)
    app.issue_statement(CLERK, case_id, issued_on=site.today, number="武劳人仲调字〔2026〕7号")
    site.system.catch_up()  # type: ignore[attr-defined]
    return case_id


def received(site: Site) -> UUID:
    """A new remuneration claim of 12800.00 received two days ago, nothing done yet."""
    app = site.system.app  # type: ignore[attr-defined]
    received_on = site.today - timedelta(days=2)
    case = new_case(app, ClaimCategory.REMUNERATION, region_code="420102", received_on=received_on)
    site.system.catch_up()  # type: ignore[attr-defined]
    return case.id
