"""Case numbers (issue 17; brief §8 "What a clerk's file holds"; ADR 0012): a registration
number at receipt, a 案号 at acceptance, one gap-free sequence per commission, kind and
year of the business date; severed cases get their own and show their parent's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mediation import numbering
from mediation.application import MediationApplication
from mediation.case import Case
from mediation.errors import InvalidTransition
from mediation.numbering import NumberKind, NumberSequence, commission_of, sequence_id
from mediation.policy import NumberingPolicy, Policy, PolicyBook
from mediation.values import ClaimCategory, Party
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    applicant,
    claims,
    in_mediation,
    new_case,
    respondent,
    studio_with_mediator,
)

D = date
REG = "武劳人仲登字〔2026〕第{}号"
FIL = "武劳人仲案字〔2026〕第{}号"


def test_receipt_gives_the_next_registration_number(app: MediationApplication) -> None:
    first, second = new_case(app), new_case(app, region_code="420111")
    assert first.case_number == REG.format(1) and second.case_number == REG.format(2)
    assert first.filing_number is None and first.display_number == first.case_number
    numbered = [e for e in app.events.get(first.id) if isinstance(e, Case.Numbered)]
    assert [(e.number_kind, e.commission, e.year, e.sequence) for e in numbered] == [
        ("registration", "420100", 2026, 1)
    ]
    assert numbered[0].on == D(2026, 3, 2) and numbered[0].actor == "clerk"


def test_acceptance_gives_the_filing_number_and_only_acceptance(
    app: MediationApplication,
) -> None:
    refused, accepted = new_case(app), new_case(app)
    app.decide_acceptance(CLERK, refused.id, accepted=False, on=D(2026, 3, 3), reason="超时效")
    case = app.decide_acceptance(CLERK, accepted.id, accepted=True, on=D(2026, 3, 3))
    assert app.get_case(refused.id).filing_number is None
    assert case.filing_number == FIL.format(1) and case.case_number == REG.format(2)
    assert case.display_number == FIL.format(1)


def test_a_case_settled_before_filing_never_gets_a_filing_number(
    app: MediationApplication,
) -> None:
    studio_id, mediator_id = studio_with_mediator(app)
    case = in_mediation(app, studio_id, mediator_id)  # pre-filing
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=D(2026, 3, 9),
        amount=Decimal("100.00"),
        performance_due_on=D(2026, 3, 20),
        terms="一次付清",
    )
    done = app.record_performance(
        MEDIATOR, case.id, on=D(2026, 3, 10), amount_paid=Decimal("100.00"), complete=True
    )
    assert done.case_number is not None and done.filing_number is None
    assert app.sequence("420100", NumberKind.FILING, 2026) is None


def test_severance_numbers_the_new_case_and_shows_the_parent(app: MediationApplication) -> None:
    parent = new_case(app, ClaimCategory.REMUNERATION, ClaimCategory.DISMISSAL)
    child = app.sever(CLERK, parent.id, categories=[ClaimCategory.DISMISSAL], on=D(2026, 3, 3))
    assert child.case_number == REG.format(2) and child.filing_number is None
    assert child.severed_from_number == parent.case_number
    # severed from an accepted case: its own 案号 too, and the parent's 案号 shown
    accepted = new_case(app, ClaimCategory.REMUNERATION, ClaimCategory.CONTRACT)
    accepted = app.decide_acceptance(CLERK, accepted.id, accepted=True, on=D(2026, 3, 4))
    severed = app.sever(CLERK, accepted.id, categories=[ClaimCategory.CONTRACT], on=D(2026, 3, 5))
    assert accepted.filing_number == FIL.format(1)
    assert (severed.case_number, severed.filing_number) == (REG.format(4), FIL.format(2))
    assert severed.severed_from_number == FIL.format(1)
    assert app.get_case(accepted.id).filing_number == FIL.format(1)  # the parent keeps its own


def test_year_rollover_starts_a_new_sequence(app: MediationApplication) -> None:
    late = new_case(app, received_on=D(2025, 12, 31))
    early = new_case(app, received_on=D(2026, 1, 4))
    later = new_case(app, received_on=D(2025, 12, 30))  # recorded late: still the 2025 series
    assert late.case_number == "武劳人仲登字〔2025〕第1号"
    assert early.case_number == REG.format(1)
    assert later.case_number == "武劳人仲登字〔2025〕第2号"
    # accepted in the new year: the 案号 of the year of the acceptance
    accepted = app.decide_acceptance(CLERK, late.id, accepted=True, on=D(2026, 1, 5))
    assert accepted.filing_number == FIL.format(1)


def test_commissions_number_independently(app: MediationApplication) -> None:
    wuhan = new_case(app, region_code="420102")
    huangshi = new_case(app, region_code="420202")
    xiantao = new_case(app, region_code="429004")  # a directly administered city: its own
    enshi = new_case(app, region_code="422801")
    wuhan2 = new_case(app, region_code="420115")
    assert wuhan.case_number == REG.format(1) and wuhan2.case_number == REG.format(2)
    assert huangshi.case_number == "黄石劳人仲登字〔2026〕第1号"
    assert xiantao.case_number == "仙劳人仲登字〔2026〕第1号"
    assert enshi.case_number == "恩施州劳人仲登字〔2026〕第1号"


def test_the_commission_and_format_are_policy() -> None:
    default = NumberingPolicy()
    assert commission_of("420102", default).code == "420100"
    assert commission_of("420100", default).code == "420100"
    assert commission_of("429004", default).abbreviation == "仙劳人仲"
    assert commission_of("429000", default).code == "420000"  # not a commission itself
    assert commission_of("420000", default).abbreviation == "鄂劳人仲"
    other = commission_of("110000", default)  # outside the known table: the fallback
    assert (other.code, other.abbreviation) == ("110000", "北京劳人仲")
    policy = NumberingPolicy(
        own_commission=("420111",),
        abbreviations=(("420111", "洪劳人仲"),),
        formats=(("420111", "filing", "{abbr}立字（{year}）{seq:04d}号"),),
    )
    hongshan = commission_of("420111", policy)
    assert numbering.format_number(policy, hongshan, NumberKind.FILING, 2026, 7) == (
        "洪劳人仲立字（2026）0007号"
    )
    assert numbering.format_number(policy, hongshan, NumberKind.REGISTRATION, 2026, 7) == (
        "洪劳人仲登字〔2026〕第7号"
    )


def test_a_policy_file_sets_the_numbering(tmp_path: object) -> None:
    import json
    from pathlib import Path

    path = Path(str(tmp_path)) / "policy.json"
    path.write_text(
        json.dumps(
            [
                {
                    "version": "hubei-2026.1",
                    "effective_from": "2026-01-01",
                    "numbering": {"abbreviations": {"420100": "汉劳人仲"}},
                }
            ]
        ),
        encoding="utf-8",
    )
    policy = PolicyBook.from_file(path).in_force(D(2026, 3, 1))
    assert commission_of("420102", policy.numbering).abbreviation == "汉劳人仲"
    assert commission_of("420202", policy.numbering).abbreviation == "黄石劳人仲"  # kept


def test_a_case_recorded_before_numbers_gets_none_retroactively(
    app: MediationApplication,
) -> None:
    """A case received before this change has no registration number (none is invented);
    accepted after it, it gets its 案号."""
    old = Case.receive(
        actor=CLERK.actor,
        policy=Policy(),
        region_code="420102",
        received_on=D(2026, 3, 2),
        applicant=applicant(5),
        respondent=respondent(),
        claims=claims(),
    )
    app.save(old)  # as v1 recorded it: no Numbered event
    assert app.get_case(old.id).case_number is None
    accepted = app.decide_acceptance(CLERK, old.id, accepted=True, on=D(2026, 3, 3))
    assert (accepted.case_number, accepted.filing_number) == (None, FIL.format(1))
    assert app.sequence("420100", NumberKind.REGISTRATION, 2026) is None


def test_a_number_is_recorded_only_when_due(app: MediationApplication) -> None:
    case = new_case(app)
    with pytest.raises(InvalidTransition):
        case.record_number(
            actor=CLERK.actor,
            policy=Policy(),
            on=D(2026, 3, 3),
            kind=NumberKind.REGISTRATION,
            number="x",
            commission="420100",
            year=2026,
            sequence=99,
        )


def test_a_sequence_resumed_from_its_last_event_equals_a_full_replay(
    app: MediationApplication,
) -> None:
    for _ in range(5):
        new_case(app)
    sid = sequence_id("420100", NumberKind.REGISTRATION, 2026)
    replayed = app.sequence("420100", NumberKind.REGISTRATION, 2026)
    last = list(app.events.get(sid))[-1]
    resumed = NumberSequence.resume(last, "420100", NumberKind.REGISTRATION, 2026)
    assert replayed is not None
    assert (resumed.version, resumed.last, resumed.chain_head) == (
        replayed.version,
        replayed.last,
        replayed.chain_head,
    )
    assert (resumed.commission, resumed.kind, resumed.year) == ("420100", "registration", 2026)
    issued = [e for e in app.events.get(sid) if isinstance(e, NumberSequence.Issued)]
    assert [e.sequence for e in issued] == [1, 2, 3, 4, 5]
    assert [e.number for e in issued] == [REG.format(n) for n in range(1, 6)]


def test_withdrawn_consent_and_other_commands_draw_no_number(app: MediationApplication) -> None:
    case = new_case(app)
    app.record_consent(CLERK, case.id, party=Party.APPLICANT, given=True, on=D(2026, 3, 3))
    sequence = app.sequence("420100", NumberKind.REGISTRATION, 2026)
    assert sequence is not None and sequence.last == 1
