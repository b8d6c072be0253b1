"""Commands as dataclasses: their fingerprints are stored (idempotency records), so the
request each command fingerprints is pinned here, key by key, as it was first written."""

from __future__ import annotations

import inspect
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from mediation import commands as C
from mediation.application import MediationApplication
from mediation.case import Case
from mediation.values import (
    ApplicantInput,
    Claim,
    ClaimCategory,
    Disposition,
    FailureReason,
    Party,
    RespondentInput,
    ReviewRefusal,
    Route,
    StudioKind,
    VerificationMethod,
    WorkerCategory,
)

D = date(2026, 3, 2)
ID = UUID(int=7)
CASES: list[tuple[C.CaseCommand, dict[str, Any]]] = [
    (
        C.Assess(
            on=D,
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=False,
            reason="r",
        ),
        {
            "on": D,
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": False,
            "reason": "r",
        },
    ),
    (
        C.RecordConsent(party=Party.APPLICANT, given=True, on=D),
        {"party": Party.APPLICANT, "given": True, "on": D},
    ),
    (
        C.Entrust(studio_id=ID, route=Route.PRE_FILING, on=D),
        {"studio_id": ID, "route": Route.PRE_FILING, "on": D},
    ),
    (
        C.Sever(categories=[ClaimCategory.REMUNERATION, ClaimCategory.CONTRACT], on=D),
        {"claim_categories": ["contract", "remuneration"], "on": D},
    ),
    (C.AssignMediator(mediator_id=ID, on=D), {"mediator_id": ID, "on": D}),
    (C.RecordSession(held_on=D, summary="s"), {"held_on": D, "summary": "s"}),
    (C.ExtendWindow(days=5, on=D), {"days": 5, "on": D}),
    (
        C.SignAgreement(signed_on=D, amount=Decimal("9.50"), performance_due_on=D, terms="t"),
        {"signed_on": D, "amount": Decimal("9.50"), "performance_due_on": D, "terms": "t"},
    ),
    (
        C.RecordPerformance(on=D, amount_paid=Decimal("1.00"), complete=False),
        {"on": D, "amount_paid": Decimal("1.00"), "complete": False},
    ),
    (C.ApplyReview(applied_on=D), {"applied_on": D}),
    (C.IssueStatement(issued_on=D, number="n"), {"issued_on": D, "number": "n"}),
    (C.ServeStatement(party=Party.RESPONDENT, on=D), {"party": Party.RESPONDENT, "on": D}),
    (C.RetractStatement(party=Party.RESPONDENT, on=D), {"party": Party.RESPONDENT, "on": D}),
    (C.Fail(on=D, reason="r"), {"on": D, "reason": "r"}),
    (C.DecideAcceptance(accepted=True, on=D), {"accepted": True, "on": D, "reason": ""}),
    (
        C.ExtendAwardPeriod(days=3, approved_by="a", on=D),
        {"days": 3, "approved_by": "a", "on": D},
    ),
    (
        C.Close(on=D, disposition=Disposition.AWARD),
        {"on": D, "disposition": Disposition.AWARD},
    ),
    # v1.1, law-b
    (
        C.DecideReview(on=D, accepted=False, reason_code=ReviewRefusal.LATE),
        {"on": D, "accepted": False, "reason_code": ReviewRefusal.LATE},
    ),
    (
        C.WithdrawReview(on=D, party=Party.APPLICANT),
        {"on": D, "party": Party.APPLICANT},
    ),
    # brief §8 rule 11 (issue 15)
    (C.Recuse(on=D, reason="r"), {"on": D, "reason": "r"}),
    (
        C.Transfer(studio_id=ID, on=D, reason="r"),
        {"studio_id": ID, "on": D, "reason": "r"},
    ),
    (
        C.VerifyPerformance(on=D, method=VerificationMethod.PHONE, note="n"),
        {"on": D, "method": VerificationMethod.PHONE, "note": "n"},
    ),
]


@pytest.mark.parametrize(("command", "params"), CASES, ids=lambda c: getattr(c, "command_name", ""))
def test_fingerprint_is_the_request_as_first_stored(
    command: C.CaseCommand, params: dict[str, Any]
) -> None:
    fingerprint = MediationApplication.fingerprint
    name = command.command_name
    assert command.params() == params
    assert fingerprint(name, ID, command.params()) == fingerprint(name, ID, params)


def test_window_extension_fingerprint_names_the_parties_agreement_once_given() -> None:
    agreed = C.ExtendWindow(days=5, on=D, parties_agreed=True)
    assert agreed.params() == {"days": 5, "on": D, "parties_agreed": True}


def test_every_case_command_is_listed_once_and_pinned() -> None:
    assert [type(c) for c, _ in CASES] == list(C.CASE_COMMANDS)
    assert len({c.command_name for c in C.CASE_COMMANDS}) == len(C.CASE_COMMANDS)
    assert len({c.command_name for c in C.CASE_COMMANDS}) == 22


def test_v11_fields_enter_the_fingerprint_only_when_given() -> None:
    """A v1 request keeps its stored fingerprint; a v1.1 field given is part of it."""
    fail = C.Fail(on=D, reason="r", reason_code=FailureReason.DECLARED_REFUSAL)
    assert fail.params() == {"on": D, "reason": "r", "reason_code": "declared_refusal"}
    sign = C.SignAgreement(
        signed_on=D,
        amount=Decimal("1.00"),
        performance_due_on=D,
        terms="t",
        sealed=False,
        obligor=Party.APPLICANT,
    )
    assert sign.params()["sealed"] is False
    assert sign.params()["obligor"] is Party.APPLICANT
    assert "signed_by" not in sign.params()
    paid = C.RecordPerformance(on=D, amount_paid=Decimal("1.00"), complete=True, confirmation="c")
    assert paid.params()["confirmation"] == "c"


def test_generic_commands_match_their_case_method() -> None:
    """A command that hands its fields to a Case method: same names, with the date as ``on``."""
    for command in C.CASE_COMMANDS:
        act = command.__dict__.get("act")
        if act is None:
            continue  # decides by its own method
        wanted = {f.name for f in fields(command) if f.name != command.day_field} | {"on"}
        method = inspect.signature(act).parameters
        assert wanted | {"self", "actor", "policy"} == set(method), command.command_name
        assert getattr(Case, act.__name__) is act


def test_receive_case_fingerprint() -> None:
    command = C.ReceiveCase(
        region_code="420102",
        received_on=D,
        applicant=ApplicantInput("张三", "id", "13800000000", WorkerCategory.COURIER),
        respondent=RespondentInput("公司", "code"),
        claims=[Claim(ClaimCategory.CONTRACT, Decimal("12800"))],
    )
    assert command.params() == {
        "region_code": "420102",
        "received_on": D,
        "applicant": {
            "name": "张三",
            "id_number": "id",
            "phone": "13800000000",
            "worker_category": WorkerCategory.COURIER,
        },
        "respondent": {"name": "公司", "credit_code": "code"},
        "claims": [{"category": "contract", "amount": "12800.00"}],
        "infringement_known_on": None,
    }


def test_studio_command_fingerprints() -> None:
    register = C.RegisterStudio(
        name="n", region_code="420100", kind=StudioKind.DOCKING_STUDIO, established_on=D
    )
    assert register.params() == {
        "name": "n",
        "region_code": "420100",
        "kind": StudioKind.DOCKING_STUDIO,
        "established_on": D,
        "mediator_quota": None,
    }
    appoint = C.AppointMediator(name="m", qualification="lawyer", appointed_on=D)
    assert appoint.params() == {"name": "m", "qualification": "lawyer", "appointed_on": D}
    assert C.RetireMediator(ID, retired_on=D).params() == {"mediator_id": ID, "retired_on": D}
    assert C.CloseStudio(closed_on=D).params() == {"closed_on": D}
