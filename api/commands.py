"""The case commands as the API and the web pages offer them: one row per command.

A row names the domain command (``mediation.commands``), the row of the authorisation
matrix that guards it (``api.authz``), its JSON route (path under ``/api/v1/cases/{id}``,
body schema, summary, status) and its web form (name; title from ``mediation.labels``).
``api/routes/cases.py`` makes a POST route of each row, ``api/pages/cases.py`` a form.
The values of a request become the command's fields by name (``renamed``: where the
request calls a field otherwise).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from api import schemas as S
from api.errors import validation
from mediation import commands as C
from mediation.labels import COMMAND
from mediation.values import money


@dataclass(frozen=True)
class CaseCommandRow:
    command: type[C.CaseCommand]
    action: str  # row of api.authz.MATRIX
    path: str  # POST /api/v1/cases/{case_id}<path>
    body: type[BaseModel]
    summary: str
    endpoint: str  # the route's name (its OpenAPI operation id)
    form: str  # the page's form name (/cases/{id}/do/<form>)
    status: int = 200
    renamed: Mapping[str, str] = field(default_factory=dict)  # command field -> request key

    @property
    def title(self) -> str:
        return COMMAND[self.command.command_name]

    @property
    def transitions(self) -> tuple[str, ...]:
        return self.command.transitions

    def key(self, name: str) -> str:
        """The request's name for a field of the command."""
        return self.renamed.get(name, name)

    def fields(self) -> list[tuple[str, str, Any, bool]]:
        """The command's fields in order: (name, request key, type, required)."""
        return [
            (name, self.key(name), kind, required) for name, kind, required in _FIELDS[self.command]
        ]

    def from_body(self, body: BaseModel, today: date) -> C.CaseCommand:
        """The command of a JSON body (validated by its schema); no date means today."""
        values: dict[str, Any] = {}
        for name, key, kind, _ in self.fields():
            value = getattr(body, key)
            if kind is Decimal:
                try:
                    value = money(value)
                except ValueError as exc:
                    raise validation(str(exc), field=key) from None
            elif value is None and name == self.command.day_field:
                value = today
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return self.command(**values)


def _fields_of(command: type[C.CaseCommand]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, required) of each field, in order."""
    hints = typing.get_type_hints(command)
    return tuple((f.name, hints[f.name], f.default is MISSING) for f in fields(command))


_FIELDS = {command: _fields_of(command) for command in C.CASE_COMMANDS}


def _row(
    command: type[C.CaseCommand],
    action: str,
    path: str,
    body: type[BaseModel],
    summary: str,
    endpoint: str,
    form: str | None = None,
    **more: Any,
) -> CaseCommandRow:
    return CaseCommandRow(command, action, path, body, summary, endpoint, form or endpoint, **more)


CASE_COMMANDS: tuple[CaseCommandRow, ...] = (
    _row(
        C.Assess,
        "case.assess",
        "/assessment",
        S.AssessmentIn,
        "Record the assessment (clerk)",
        "assess",
    ),
    _row(
        C.RecordConsent,
        "case.consent",
        "/consents",
        S.ConsentIn,
        "Record (given=true) or withdraw (given=false) a party's consent (clerk)",
        "consent",
    ),
    _row(
        C.Entrust,
        "case.entrust",
        "/entrustment",
        S.EntrustmentIn,
        "Entrust the case to a studio (clerk)",
        "entrust",
    ),
    _row(
        C.Sever,
        "case.sever",
        "/severance",
        S.SeveranceIn,
        "Sever claims into a new case (clerk); returns the new case",
        "sever",
        status=201,
        renamed={"categories": "claim_categories"},
    ),
    _row(
        C.AssignMediator,
        "case.assign_mediator",
        "/mediator",
        S.MediatorAssignmentIn,
        "Assign a mediator of the case's studio (clerk, coordinator)",
        "assign_mediator",
        "assign",
    ),
    _row(
        C.RecordSession,
        "case.session",
        "/sessions",
        S.SessionIn,
        "Record a mediation session (the assigned mediator)",
        "session",
    ),
    _row(
        C.ExtendWindow,
        "case.window_extension",
        "/window-extension",
        S.WindowExtensionIn,
        "Extend the pre-filing mediation window once, with both parties' agreement (clerk)",
        "window_extension",
    ),
    _row(
        C.SignAgreement,
        "case.agreement",
        "/agreement",
        S.AgreementIn,
        "Record the signed mediation agreement (the assigned mediator)",
        "agreement",
    ),
    _row(
        C.RecordPerformance,
        "case.performance",
        "/performance",
        S.PerformanceIn,
        "Record performance: amount_paid is this instalment (assigned mediator, clerk)",
        "performance",
    ),
    _row(
        C.ApplyReview,
        "case.review",
        "/review",
        S.ReviewIn,
        "Record the joint application for arbitral review (clerk)",
        "review",
    ),
    _row(
        C.IssueStatement,
        "case.statement",
        "/statement",
        S.StatementIn,
        "Record the issued arbitration mediation statement 仲裁调解书 (clerk)",
        "statement",
    ),
    _row(
        C.ServeStatement,
        "case.statement_service",
        "/statement/service",
        S.StatementServiceIn,
        "Record that a party signed for the statement (clerk)",
        "statement_service",
        "service",
    ),
    _row(
        C.RetractStatement,
        "case.statement_retraction",
        "/statement/retraction",
        S.StatementRetractionIn,
        "Record a party retracting before service; reverses the success (clerk)",
        "statement_retraction",
        "retraction",
    ),
    _row(
        C.Fail,
        "case.failure",
        "/failure",
        S.FailureIn,
        "Record that the mediation failed (assigned mediator, clerk)",
        "failure",
    ),
    _row(
        C.DecideAcceptance,
        "case.acceptance",
        "/acceptance",
        S.AcceptanceIn,
        "Decide acceptance 受理 / 不予受理 (clerk)",
        "acceptance",
    ),
    _row(
        C.ExtendAwardPeriod,
        "case.award_extension",
        "/award-extension",
        S.AwardExtensionIn,
        "Extend the award period with the chair's approval (clerk)",
        "award_extension",
    ),
    _row(
        C.Close,
        "case.closure",
        "/closure",
        S.ClosureIn,
        "Close the case (clerk)",
        "closure",
    ),
    # v1.1, law-b: the arbitral review stage
    _row(
        C.DecideReview,
        "case.review_decision",
        "/review/decision",
        S.ReviewDecisionIn,
        "Record the commission's decision on the review application (clerk)",
        "review_decision",
    ),
    _row(
        C.WithdrawReview,
        "case.review_withdrawal",
        "/review/withdrawal",
        S.ReviewWithdrawalIn,
        "Record the parties withdrawing the review application (clerk)",
        "review_withdrawal",
    ),
    # brief §8 rule 11 (issue 15, law-c)
    _row(
        C.Recuse,
        "case.recusal",
        "/recusal",
        S.RecusalIn,
        "The mediator steps aside (回避): removed, status entrusted, same mediation"
        " (clerk, coordinator)",
        "recusal",
    ),
    _row(
        C.Transfer,
        "case.transfer",
        "/transfer",
        S.TransferIn,
        "Transfer to another studio: same mediation and window, mediator removed (clerk)",
        "transfer",
    ),
    # law-a (issue 15)
    _row(
        C.VerifyPerformance,
        "case.performance_verification",
        "/performance/verification",
        S.PerformanceVerificationIn,
        "Verify complete performance by a return visit; the success subsidy becomes payable "
        "(clerk, coordinator; never the case's mediator)",
        "performance_verification",
        "verification",
    ),
)

BY_FORM: Mapping[str, CaseCommandRow] = {row.form: row for row in CASE_COMMANDS}
