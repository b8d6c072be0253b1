"""Named rules on their own, and the policy book."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from mediation import rules
from mediation.calendar import DayUnit, Period
from mediation.errors import (
    RULES,
    ConsentMissing,
    DateOutOfOrder,
    InvalidTransition,
    LabourRelationshipNotEntrustable,
    NotEligibleForEntrustment,
    PaymentExceedsAgreement,
    ReviewNotApplicable,
    ReviewWindowExpired,
    StatementAlreadyServed,
    ValidationFailed,
    WindowExtensionNotAllowed,
)
from mediation.policy import Policy, PolicyBook
from mediation.values import Assessment, Claim, ClaimCategory, Consent, Party, Route, Status, money


def test_every_rule_has_a_code_source_and_chinese_title() -> None:
    codes = [r.code for r in RULES]
    assert len(set(codes)) == len(codes)
    for rule in RULES:
        assert rule.code.islower() and " " not in rule.code
        assert rule.source, rule
        assert rule.title_zh and rule.title


def test_confirmation_claim_is_not_entrustable() -> None:
    rules.require_entrustable([Claim(ClaimCategory.REMUNERATION, Decimal(1))])
    with pytest.raises(LabourRelationshipNotEntrustable):
        rules.require_entrustable(
            [
                Claim(ClaimCategory.REMUNERATION, Decimal(1)),
                Claim(ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION, Decimal(0)),
            ]
        )


@pytest.mark.parametrize(
    ("scope", "conditions", "suitable", "ok"),
    [
        (True, True, True, True),
        (False, True, True, False),
        (True, False, True, False),
        (True, True, False, False),
    ],
)
def test_assessment_needs_all_three(
    scope: bool, conditions: bool, suitable: bool, ok: bool
) -> None:
    assessment = Assessment(scope, conditions, suitable, "r", date(2026, 1, 5))
    if ok:
        rules.require_assessed_eligible(assessment)
    else:
        with pytest.raises(NotEligibleForEntrustment):
            rules.require_assessed_eligible(assessment)
    with pytest.raises(NotEligibleForEntrustment):
        rules.require_assessed_eligible(None)


def test_both_consents_must_stand() -> None:
    on = date(2026, 1, 5)
    rules.require_both_consents(
        {Party.APPLICANT: Consent(True, on), Party.RESPONDENT: Consent(True, on)}
    )
    with pytest.raises(ConsentMissing, match="尚未记录被申请人同意"):
        rules.require_both_consents({Party.APPLICANT: Consent(True, on)})
    with pytest.raises(ConsentMissing, match="尚未记录申请人同意"):
        rules.require_both_consents(
            {Party.APPLICANT: Consent(False, on), Party.RESPONDENT: Consent(True, on)}
        )


def test_transitions_follow_the_matrix() -> None:
    rules.require_transition("decide_acceptance", Status.MEDIATION_FAILED, Route.PRE_FILING)
    with pytest.raises(InvalidTransition):
        rules.require_transition("decide_acceptance", Status.MEDIATION_FAILED, Route.POST_FILING)
    rules.require_transition("close", Status.MEDIATION_FAILED, Route.POST_FILING)
    rules.require_transition("close", Status.SUCCEEDED, Route.POST_FILING)  # v1.1 rule 13
    with pytest.raises(InvalidTransition):
        rules.require_transition("close", Status.SUCCEEDED, Route.PRE_FILING)
    with pytest.raises(InvalidTransition):
        rules.require_transition("entrust_pre_filing", Status.ACCEPTED, None)


def test_dates_and_money() -> None:
    with pytest.raises(DateOutOfOrder):
        rules.require_not_before(date(2026, 1, 1), date(2026, 1, 2), "x")
    assert money("12800") == Decimal("12800.00")
    for bad in ("-1", "1.234", "abc", "NaN", "Infinity"):
        with pytest.raises(ValidationFailed):
            rules.require_money(bad, "amount")
    with pytest.raises(PaymentExceedsAgreement):
        rules.require_payment_within_agreement(Decimal("10.01"), Decimal("10.00"))


def test_review_and_statement_rules() -> None:
    with pytest.raises(ReviewNotApplicable):
        rules.require_review_applicable(Route.POST_FILING, None, [])
    with pytest.raises(ReviewNotApplicable):
        rules.require_review_applicable(Route.PRE_FILING, date(2026, 1, 1), [])
    with pytest.raises(ReviewWindowExpired):
        rules.require_review_in_time(date(2026, 1, 21), date(2026, 1, 20))
    rules.require_review_in_time(date(2026, 1, 20), date(2026, 1, 20))
    with pytest.raises(StatementAlreadyServed):
        rules.require_statement_not_served({Party.APPLICANT, Party.RESPONDENT}, Party.APPLICANT)
    rules.require_statement_not_served({Party.APPLICANT}, Party.RESPONDENT)


def test_window_extension_once_pre_filing_within_limit() -> None:
    rules.require_window_extension(Route.PRE_FILING, False, 15, 15)
    for route, extended, days in (
        (Route.POST_FILING, False, 5),
        (Route.PRE_FILING, True, 5),
        (Route.PRE_FILING, False, 16),
        (Route.PRE_FILING, False, 0),
    ):
        with pytest.raises(WindowExtensionNotAllowed):
            rules.require_window_extension(route, extended, days, 15)


def test_regions_and_identities_validated() -> None:
    with pytest.raises(ValidationFailed):
        rules.require_known_region("429999")
    with pytest.raises(ValidationFailed):
        rules.require_known_region("420000")  # a province is not a case's region
    rules.require_known_region("420102")


def test_policy_book_versions(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            [
                {"version": "hubei-2023.1", "effective_from": "2023-01-01"},
                {
                    "version": "hubei-2026.1",
                    "effective_from": "2026-07-01",
                    "pre_filing_window": {"days": 20, "unit": "calendar"},
                    "subsidy": {"success": "400.00", "failure_after_session": "120.00"},
                },
            ]
        ),
        encoding="utf-8",
    )
    book = PolicyBook.from_file(path)
    assert book.in_force(date(2026, 6, 30)).version == "hubei-2023.1"
    newer = book.in_force(date(2026, 7, 1))
    assert newer.pre_filing_window == Period(20, DayUnit.CALENDAR)
    assert newer.subsidy.success == Decimal("400.00")
    assert newer.post_filing_window == Policy().post_filing_window
    with pytest.raises(ValueError, match="unknown policy fields"):
        path.write_text(json.dumps([{"version": "x", "windw": 1}]), encoding="utf-8")
        PolicyBook.from_file(path)


def test_limitation_is_one_year_by_policy() -> None:
    years = Policy().limitation_years
    assert years == 1
    expired = rules.limitation_expired
    assert not expired(None, date(2030, 1, 1), years)
    # a year, not 365 days: 2024 has a 29 February
    assert not expired(date(2024, 1, 10), date(2025, 1, 10), years)
    assert expired(date(2024, 1, 10), date(2025, 1, 11), years)
    # a limit on a 29 February that does not exist is the 28th
    assert not expired(date(2024, 2, 29), date(2025, 2, 28), years)
    assert expired(date(2024, 2, 29), date(2025, 3, 1), years)
    assert not expired(date(2024, 1, 10), date(2026, 1, 10), 2)
