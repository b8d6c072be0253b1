"""Test helpers that build valid inputs and drive a case through its lifecycle."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from mediation.application import CommandContext, MediationApplication
from mediation.case import Case
from mediation.identifiers import credit_code_check_char, resident_id_check_char
from mediation.values import (
    Actor,
    AgentInput,
    AgentKind,
    ApplicantInput,
    Claim,
    ClaimCategory,
    Party,
    RespondentInput,
    Role,
    Route,
    StudioKind,
    WorkerCategory,
)

CLERK = CommandContext(Actor("clerk", Role.CLERK))
ADMIN = CommandContext(Actor("admin", Role.ADMIN))
MEDIATOR = CommandContext(Actor("mediator", Role.MEDIATOR))


@dataclass
class SteppingClock:
    """A recording clock the test controls: ``now`` advances a microsecond per reading."""

    now: datetime = field(default_factory=lambda: datetime(2026, 6, 30, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def resident_id(seed: int = 1) -> str:
    body = f"420102{1970 + seed % 40:04d}0{1 + seed % 9}1{seed % 10}{seed % 1000:03d}"
    return body + resident_id_check_char(body)


def credit_code(seed: int = 1) -> str:
    body = f"91420100MA4K{seed % 100000:05d}"
    return body + credit_code_check_char(body)


def applicant(seed: int = 1, category: WorkerCategory = WorkerCategory.EMPLOYEE) -> ApplicantInput:
    return ApplicantInput("张三", resident_id(seed), "13800138000", category)


def respondent(seed: int = 1) -> RespondentInput:
    return RespondentInput("武汉某某物流有限公司", credit_code(seed))


def workers(count: int, start: int = 100) -> list[ApplicantInput]:
    """``count`` different applicants (seeds ``start``...), the first with address and agent."""
    out = [
        ApplicantInput(
            f"工人{i:03d}", resident_id(start + i), f"1380013{i:04d}", WorkerCategory.EMPLOYEE
        )
        for i in range(count)
    ]
    if out:
        out[0] = replace(
            out[0],
            address="湖北省武汉市江岸区解放大道1号",
            agent=AgentInput("李律师", AgentKind.LAWYER),
        )
    return out


def employers(count: int, start: int = 200) -> list[RespondentInput]:
    out = [
        RespondentInput(f"武汉第{i + 1}建筑劳务有限公司", credit_code(start + i))
        for i in range(count)
    ]
    if out:
        out[0] = replace(
            out[0],
            address="湖北省武汉市江汉区建设大道2号",
            legal_representative="赵法人",
            agent=AgentInput("钱代理", AgentKind.OTHER),
        )
    return out


def collective_case(
    app: MediationApplication,
    count: int = 12,
    *,
    representatives: int = 3,
    start: int = 100,
    received_on: date = date(2026, 3, 2),
    region_code: str = "420102",
) -> Case:
    """A collective dispute: ``count`` workers against two employers, ``representatives``
    of them chosen (LDMAL art. 7)."""
    people = workers(count, start)
    return app.receive_case(
        CLERK,
        region_code=region_code,
        received_on=received_on,
        applicants=people,
        respondents=employers(2, start),
        representatives=[p.id_number for p in people[:representatives]],
        claims=claims(ClaimCategory.REMUNERATION, ClaimCategory.CONTRACT),
    )


def claims(*categories: ClaimCategory, amount: str = "12800.00") -> list[Claim]:
    return [Claim(c, Decimal(amount)) for c in (categories or (ClaimCategory.REMUNERATION,))]


def new_case(
    app: MediationApplication,
    *categories: ClaimCategory,
    region_code: str = "420102",
    received_on: date = date(2026, 3, 2),
    ctx: CommandContext = CLERK,
) -> Case:
    return app.receive_case(
        ctx,
        region_code=region_code,
        received_on=received_on,
        applicant=applicant(random.randint(1, 9999)),
        respondent=respondent(),
        claims=claims(*categories),
    )


def studio_with_mediator(
    app: MediationApplication, region_code: str = "420100", established_on: date = date(2025, 1, 1)
) -> tuple[UUID, UUID]:
    studio = app.register_studio(
        ADMIN,
        name="江岸区裁调对接工作室",
        region_code=region_code,
        kind=StudioKind.DOCKING_STUDIO,
        established_on=established_on,
    )
    _, mediator_id = app.appoint_mediator(
        ADMIN, studio.id, name="王调解", qualification="lawyer", appointed_on=established_on
    )
    return studio.id, mediator_id


def ready_for_entrustment(app: MediationApplication, case_id: UUID, on: date) -> Case:
    app.assess(
        CLERK,
        case_id,
        on=on,
        within_scope=True,
        meets_acceptance_conditions=True,
        suitable_for_mediation=True,
        reason="工资争议，事实清楚，适宜调解",
    )
    app.record_consent(CLERK, case_id, party=Party.APPLICANT, given=True, on=on)
    return app.record_consent(CLERK, case_id, party=Party.RESPONDENT, given=True, on=on)


def in_mediation(
    app: MediationApplication,
    studio_id: UUID,
    mediator_id: UUID,
    *categories: ClaimCategory,
    received_on: date = date(2026, 3, 2),
) -> Case:
    case = new_case(app, *categories, received_on=received_on)
    ready_for_entrustment(app, case.id, received_on + timedelta(days=1))
    app.entrust(
        CLERK,
        case.id,
        studio_id=studio_id,
        route=Route.PRE_FILING,
        on=received_on + timedelta(days=2),
    )
    return app.assign_mediator(
        CLERK, case.id, mediator_id=mediator_id, on=received_on + timedelta(days=3)
    )
