"""Demo data: a realistic Hubei, generated through the application's own commands.

(Over 500 lines: one seeded generator, its name tables and case scripts read as one story.)

``generate(system, cases=N, seed=S)`` registers studios of the three kinds (county docking
studios rolled out as pilots over two years, city union legal-service workstations and
arbitration outposts), appoints mediators, and plays N cases through their lives over the
two years ending the day before ``end`` (default: the day before the system's today):
claims of every category, new-employment-form workers, both routes, failures, withdrawn
consent, late and partial performance, statements and their retraction, confirmation
claims severed into cases of their own, and recent cases still in mediation.

Determinism: every choice comes from ``random.Random(seed)``; events are recorded by a
stepping clock derived from the plan (09:00 China time on the day a step is recorded,
advancing per step), and aggregate ids are drawn from the same generator. The same seed
and the same ``end`` give the same events, ids and timestamps.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from tqdm import tqdm

import mediation.case
import mediation.organisation
from mediation import regions
from mediation.application import CommandContext
from mediation.case import ApplicantInput, Claim, RespondentInput
from mediation.errors import DomainError
from mediation.identifiers import credit_code_check_char, resident_id_check_char
from mediation.values import (
    Actor,
    ClaimCategory,
    Disposition,
    Party,
    Role,
    Route,
    Status,
    StudioKind,
    WorkerCategory,
)
from projections.sql import case_tables
from projections.system import System

CHINA = ZoneInfo("Asia/Shanghai")
ADMIN = CommandContext(Actor("demo-admin", Role.ADMIN))
CLERK = CommandContext(Actor("demo-clerk", Role.CLERK))
MEDIATOR = CommandContext(Actor("demo-mediator", Role.MEDIATOR))

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程魏"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉玲鹏飞红志雪梅海波斌宇浩凯晨"
TRADES = ["众诚", "恒信", "长江", "楚天", "华中", "汉通", "荆楚", "鑫源", "通达", "宏远", "顺丰泰"]
INDUSTRY = {
    WorkerCategory.EMPLOYEE.value: ["机械制造", "建筑工程", "餐饮管理", "商贸", "电子科技"],
    WorkerCategory.DELIVERY_RIDER.value: ["网络科技", "即时配送服务"],
    WorkerCategory.RIDE_HAILING_DRIVER.value: ["出行科技", "汽车租赁服务"],
    WorkerCategory.TRUCK_DRIVER.value: ["物流运输", "货运代理"],
    WorkerCategory.COURIER.value: ["快递服务", "速递"],
    WorkerCategory.DOMESTIC_WORKER.value: ["家政服务", "养老服务"],
    WorkerCategory.OTHER_NEW_EMPLOYMENT.value: ["文化传媒", "网络直播"],
}
WORKERS = [
    (WorkerCategory.EMPLOYEE, 58),
    (WorkerCategory.DELIVERY_RIDER, 11),
    (WorkerCategory.RIDE_HAILING_DRIVER, 6),
    (WorkerCategory.TRUCK_DRIVER, 6),
    (WorkerCategory.COURIER, 9),
    (WorkerCategory.DOMESTIC_WORKER, 5),
    (WorkerCategory.OTHER_NEW_EMPLOYMENT, 5),
]
CATEGORIES = [
    (ClaimCategory.REMUNERATION, 55),
    (ClaimCategory.CONTRACT, 14),
    (ClaimCategory.DISMISSAL, 12),
    (ClaimCategory.WORKING_CONDITIONS, 13),
    (ClaimCategory.OTHER, 6),
]
QUALIFICATIONS = ["union_cadre", "lawyer", "retired_judge", "retired_arbitrator", "legal_worker"]
BIG_CITIES = ["420100", "420500", "420600", "421000", "420900", "421100"]


@dataclass
class DemoSummary:
    studio_ids: list[UUID]
    mediator_ids: list[UUID]
    first_studio_region: str
    cases: int
    events_skipped: int = 0


@dataclass
class _StudioPlan:
    name: str
    region_code: str
    kind: StudioKind
    established_on: date
    closed_on: date | None = None
    mediators: list[tuple[str, str, date, date | None]] = field(default_factory=list)
    id: UUID | None = None
    mediator_ids_by_index: dict[int, UUID] = field(default_factory=dict)

    def active(self, on: date) -> bool:
        return self.established_on <= on and (self.closed_on is None or on < self.closed_on)

    def mediators_on(self, on: date) -> list[int]:
        return [
            i
            for i, (_, _, appointed, retired) in enumerate(self.mediators)
            if appointed <= on and (retired is None or on < retired)
        ]


@dataclass(order=True)
class _Step:
    recorded: date
    order: int
    action: Callable[[], Any] = field(compare=False)
    case: int = field(compare=False, default=-1)


class _DemoClock:
    """Records each step at 09:00 China time on its day, a few seconds apart."""

    def __init__(self) -> None:
        self.now = datetime(2000, 1, 1, tzinfo=CHINA)

    def day(self, on: date) -> None:
        start = datetime.combine(on, time(9, 0), CHINA)
        self.now = max(self.now + timedelta(seconds=7), start)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now


@contextmanager
def _seeded_ids(rng: random.Random) -> Iterator[None]:
    """Draw aggregate ids from ``rng`` (the domain calls ``uuid4`` for new aggregates)."""

    def seeded() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    modules = (mediation.case, mediation.organisation)
    saved = [getattr(module, "uuid4") for module in modules]  # noqa: B009
    for module in modules:
        setattr(module, "uuid4", seeded)  # noqa: B010
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            setattr(module, "uuid4", original)  # noqa: B010


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _resident_id(rng: random.Random, region: str) -> str:
    birth = date(1965, 1, 1) + timedelta(days=rng.randint(0, 38 * 365))
    body = f"{region}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + resident_id_check_char(body)


def _credit_code(rng: random.Random, region: str) -> str:
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + region + "".join(rng.choice(charset) for _ in range(9))
    return body + credit_code_check_char(body)


def _plan_studios(rng: random.Random, start: date) -> list[_StudioPlan]:
    cities = regions.children("420000", "city")
    plans: list[_StudioPlan] = []
    counties = regions.counties_under("420000")
    wuhan = [c for c in counties if c.code.startswith("4201")]
    others = [c for c in counties if not c.code.startswith("4201")]
    rng.shuffle(others)
    year_one = wuhan + others[:37]  # at least 50 pilot cities/counties in year one
    year_two = others[37:70]
    for pilots, (first, last) in ((year_one, (0, 200)), (year_two, (365, 600))):
        for county in pilots:
            plans.append(
                _StudioPlan(
                    f"{county.name}裁调对接工作室",
                    county.code,
                    StudioKind.DOCKING_STUDIO,
                    start + timedelta(days=rng.randint(first, last)),
                )
            )
    for city in cities:
        short = city.name.removesuffix("市").removesuffix("自治州")
        plans.append(
            _StudioPlan(
                f"{short}市总工会法律服务工作站",
                city.code,
                StudioKind.UNION_WORKSTATION,
                start + timedelta(days=rng.randint(0, 90)),
            )
        )
        if city.code in BIG_CITIES:
            plans.append(
                _StudioPlan(
                    f"{short}劳动人事争议仲裁院驻职工服务中心仲裁庭",
                    city.code,
                    StudioKind.ARBITRATION_OUTPOST,
                    start + timedelta(days=rng.randint(90, 300)),
                )
            )
    # one pilot studio merged away in year two
    plans[5].closed_on = start + timedelta(days=rng.randint(420, 560))
    for plan in plans:
        if plan.kind is StudioKind.ARBITRATION_OUTPOST:
            continue  # not a mediation body: no mediators, no entrusted cases (brief §8 rule 10)
        count = rng.randint(3, 6) if plan.kind is StudioKind.DOCKING_STUDIO else rng.randint(4, 8)
        for _ in range(count):
            appointed = plan.established_on + timedelta(days=rng.randint(0, 20))
            retired = None
            if rng.random() < 0.1:
                retired = appointed + timedelta(days=rng.randint(200, 500))
            plan.mediators.append((_name(rng), rng.choice(QUALIFICATIONS), appointed, retired))
    plans.sort(key=lambda p: (p.established_on, p.region_code, p.name))
    return plans


def generate(
    system: System,
    *,
    cases: int,
    seed: int,
    progress: bool = True,
    end: date | None = None,
    recent: int = 0,
) -> DemoSummary:
    """Fill the store with ``cases`` cases (plus the studios and mediators they need).

    ``recent``: so many more cases received in Wuhan in the last two weeks, most of them
    still open (their later steps fall after ``end``): work for the demo users' first pages.
    """
    rng = random.Random(seed)
    app = system.app
    end = end or (system.today() - timedelta(days=1))
    start = end - timedelta(days=730)
    plans = _plan_studios(rng, start)
    counties = regions.counties_under("420000")
    city_weight = {c.code[:4]: (40 if c.code.startswith("4201") else 6) for c in counties}
    steps: list[_Step] = []
    order = 0

    def add(on: date, action: Callable[[], Any], case: int = -1) -> None:
        nonlocal order
        order += 1
        steps.append(_Step(on, order, action, case))

    for plan in plans:
        if plan.established_on > end:
            continue

        def register(plan: _StudioPlan = plan) -> None:
            studio = app.register_studio(
                ADMIN,
                name=plan.name,
                region_code=plan.region_code,
                kind=plan.kind,
                established_on=plan.established_on,
            )
            plan.id = studio.id

        add(plan.established_on, register)
        for index, (name, qualification, appointed, retired) in enumerate(plan.mediators):
            if appointed > end:
                continue

            def appoint(
                plan: _StudioPlan = plan,
                name: str = name,
                q: str = qualification,
                index: int = index,
                appointed: date = appointed,
            ) -> None:
                assert plan.id is not None
                _, mediator_id = app.appoint_mediator(
                    ADMIN, plan.id, name=name, qualification=q, appointed_on=appointed
                )
                plan.mediator_ids_by_index[index] = mediator_id

            add(appointed, appoint)
            if retired is not None and retired <= end:

                def retire(
                    plan: _StudioPlan = plan, index: int = index, on: date = retired
                ) -> None:
                    assert plan.id is not None
                    app.retire_mediator(
                        ADMIN, plan.id, plan.mediator_ids_by_index[index], retired_on=on
                    )

                add(retired, retire)
        if plan.closed_on is not None and plan.closed_on <= end:

            def close(plan: _StudioPlan = plan) -> None:
                assert plan.id is not None and plan.closed_on is not None
                app.close_studio(ADMIN, plan.id, closed_on=plan.closed_on)

            add(plan.closed_on, close)

    weights = [city_weight[c.code[:4]] for c in counties]
    for index in range(cases):
        county = rng.choices(counties, weights=weights)[0]
        received_on = start + timedelta(days=rng.randint(30, 729))
        _plan_case(rng, app, index, county.code, received_on, end, plans, add)
    wuhan = [c for c in counties if c.code.startswith(RECENT_CITY[:4])]
    for index in range(cases, cases + recent):
        received_on = end - timedelta(days=rng.randint(0, 14))
        _plan_case(rng, app, index, rng.choice(wuhan).code, received_on, end, plans, add)

    steps.sort()
    clock = _DemoClock()
    saved_clock = app.clock
    app.clock = clock
    skipped = 0
    broken: set[int] = set()
    try:
        with system.deferred(), _seeded_ids(rng):
            for step in tqdm(steps, desc="demo", unit="cmd", disable=not progress):
                if step.case in broken:
                    continue
                clock.day(step.recorded)
                try:
                    step.action()
                except DomainError:
                    skipped += 1
                    broken.add(step.case)
    finally:
        app.clock = saved_clock
    registered = [p for p in plans if p.id is not None]
    return DemoSummary(
        studio_ids=[p.id for p in registered if p.id is not None],
        mediator_ids=[m for p in registered for _, m in sorted(p.mediator_ids_by_index.items())],
        first_studio_region=registered[0].region_code if registered else "420000",
        cases=cases + recent,
        events_skipped=skipped,
    )


RECENT_CITY = "420100"  # where the recent cases are received and the demo users sit


@dataclass(frozen=True)
class DemoSeats:
    """Where the demo users sit so that each one's first page has work on it."""

    clerk_region: str
    studio_id: UUID | None
    studio_region: str
    mediator_id: UUID | None


def seats(system: System, today: date) -> DemoSeats:
    """The mediator with the most open cases among Wuhan's mediating studios (open today),
    their studio, and Wuhan for the clerk."""
    c = case_tables()["cases"].c
    query = (
        select(c.studio_id, c.mediator_id, func.count())
        .where(
            c.region_code.startswith(RECENT_CITY[:4]),
            c.status.in_([Status.IN_MEDIATION.value, Status.AGREEMENT_SIGNED.value]),
            c.mediator_id.is_not(None),
        )
        .group_by(c.studio_id, c.mediator_id)
        .order_by(func.count().desc(), c.mediator_id)
    )
    with system.engine.connect() as conn:
        rows = list(conn.execute(query))
    for studio_id, mediator_id, _ in rows:
        studio = system.app.get_studio(UUID(str(studio_id)))
        if studio.kind is StudioKind.ARBITRATION_OUTPOST or not studio.active_on(today):
            continue
        if UUID(str(mediator_id)) in {m.mediator_id for m in studio.active_mediators(today)}:
            return DemoSeats(RECENT_CITY, studio.id, studio.region_code, UUID(str(mediator_id)))
    return DemoSeats(RECENT_CITY, None, RECENT_CITY, None)


def _plan_case(
    rng: random.Random,
    app: Any,
    index: int,
    region: str,
    received_on: date,
    end: date,
    plans: list[_StudioPlan],
    add: Callable[[date, Callable[[], Any], int], None],
) -> None:
    """Plan one case's life as dated steps; steps recorded after ``end`` are left out."""
    holder: dict[str, UUID] = {}
    worker: WorkerCategory = _weighted(rng, WORKERS)
    categories: list[ClaimCategory] = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        category = _weighted(rng, CATEGORIES)
        if category not in categories:
            categories.append(category)
    new_form = worker is not WorkerCategory.EMPLOYEE
    if rng.random() < (0.25 if new_form else 0.04):
        categories.append(ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION)
    claims = [
        Claim(c, Decimal(rng.randint(8, 900) * 100 + rng.choice([0, 50]))) for c in categories
    ]
    city = regions.city_of(region)
    short = (city.name if city else "湖北").removesuffix("市")[:2]
    applicant = ApplicantInput(
        _name(rng),
        _resident_id(rng, region),
        "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9)),
        worker,
    )
    industry = rng.choice(INDUSTRY[worker.value])
    respondent = RespondentInput(
        f"{short}{rng.choice(TRADES)}{industry}有限公司", _credit_code(rng, region)
    )
    chain: list[tuple[date, Callable[[], Any]]] = []
    child: list[tuple[date, Callable[[], Any]]] = []

    def put(on: date, action: Callable[[], Any]) -> None:
        chain.append((on, action))

    def cid() -> UUID:
        return holder["id"]

    def on_case(
        method: Callable[..., Any], ctx: CommandContext, **kwargs: Any
    ) -> Callable[[], Any]:
        def run() -> Any:
            return method(ctx, cid(), **kwargs)

        return run

    def receive() -> None:
        holder["id"] = app.receive_case(
            CLERK,
            region_code=region,
            received_on=received_on,
            applicant=applicant,
            respondent=respondent,
            claims=claims,
        ).id

    put(received_on, receive)
    d = received_on + timedelta(days=rng.choice([0, 1, 1, 2]))
    suitable = rng.random() < 0.88
    put(
        d,
        on_case(
            app.assess,
            CLERK,
            on=d,
            within_scope=True,
            meets_acceptance_conditions=True,
            suitable_for_mediation=suitable,
            reason="事实清楚，争议不大，适宜调解" if suitable else "争议较大，不宜调解",
        ),
    )
    if ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION in categories and len(categories) > 1:
        d += timedelta(days=rng.choice([0, 1, 2]))

        def sever(on: date = d) -> None:
            holder["child"] = app.sever(
                CLERK,
                cid(),
                categories=[ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION],
                on=on,
            ).id

        put(d, sever)
        accept_on = d + timedelta(days=rng.randint(1, 4))
        close_on = accept_on + timedelta(days=rng.randint(25, 60))
        child.append(
            (
                accept_on,
                lambda: app.decide_acceptance(CLERK, holder["child"], accepted=True, on=accept_on),
            )
        )
        child.append(
            (
                close_on,
                lambda: app.close_case(
                    CLERK, holder["child"], on=close_on, disposition=Disposition.AWARD
                ),
            )
        )
    entrust_on = d + timedelta(days=rng.randint(1, 4))
    candidates = [
        p
        for p in plans
        if regions.covers(p.region_code, region)
        and p.active(entrust_on)
        and p.active(entrust_on + timedelta(days=60))
        and p.mediators_on(entrust_on + timedelta(days=3))
    ]
    county_level = [p for p in candidates if p.kind is StudioKind.DOCKING_STUDIO]
    confirmation_left = (
        ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION in categories and len(categories) == 1
    )
    if not suitable or not candidates or confirmation_left or rng.random() < 0.12:
        decide_on = d + timedelta(days=rng.randint(1, 4))
        accepted = rng.random() < 0.9
        put(
            decide_on,
            lambda: app.decide_acceptance(
                CLERK, cid(), accepted=accepted, on=decide_on, reason="不属于受理范围"
            ),
        )
        if accepted:
            closed_on = decide_on + timedelta(days=rng.randint(20, 55))
            disposition = rng.choice(
                [Disposition.AWARD, Disposition.WITHDRAWN, Disposition.TRIBUNAL_MEDIATION]
            )
            put(
                closed_on,
                lambda: app.close_case(CLERK, cid(), on=closed_on, disposition=disposition),
            )
        _emit(chain, child, end, add, index)
        return
    studio = (
        rng.choice(county_level) if county_level and rng.random() < 0.75 else rng.choice(candidates)
    )
    for party in (Party.APPLICANT, Party.RESPONDENT):
        d += timedelta(days=rng.choice([0, 0, 1]))
        put(
            d,
            on_case(app.record_consent, CLERK, party=party, given=True, on=d),
        )
    route = Route.PRE_FILING if rng.random() < 0.65 else Route.POST_FILING
    if route is Route.POST_FILING:
        d += timedelta(days=rng.randint(1, 3))
        put(d, on_case(app.decide_acceptance, CLERK, accepted=True, on=d))
    e = max(d, entrust_on)
    put(
        e,
        lambda: app.entrust(CLERK, cid(), studio_id=_sid(studio), route=route, on=e),
    )
    a = e + timedelta(days=rng.choice([0, 1, 1, 2]))
    # a mediator still appointed when the case ends (brief §8 rule 16), where there is one
    first = studio.mediators_on(entrust_on + timedelta(days=3))
    lasting = [i for i in first if i in studio.mediators_on(entrust_on + timedelta(days=150))]
    mediator_index = rng.choice(lasting or first)
    a = max(a, studio.mediators[mediator_index][2])
    put(
        a,
        lambda: app.assign_mediator(
            CLERK, cid(), mediator_id=studio.mediator_ids_by_index[mediator_index], on=a
        ),
    )
    s = a
    for _ in range(rng.randint(1, 3)):
        s += timedelta(days=rng.randint(1, 4))
        put(s, on_case(app.record_session, MEDIATOR, held_on=s, summary="组织双方调解"))
    if route is Route.PRE_FILING and rng.random() < 0.1:
        days = rng.randint(5, 15)
        put(s, on_case(app.extend_window, CLERK, days=days, on=s, parties_agreed=True))
    outcome = _weighted(
        rng,
        [("performance", 48), ("statement", 17), ("failure", 24), ("withdrawn", 5), ("open", 6)],
    )
    if outcome == "open":
        _emit(chain, child, end, add, index)
        return
    if outcome in ("failure", "withdrawn"):
        f = s + timedelta(days=rng.randint(0, 6))
        if outcome == "failure":
            put(f, lambda: app.fail(MEDIATOR, cid(), on=f, reason="双方分歧较大，调解不成"))
        else:
            party = rng.choice(list(Party))
            put(f, lambda: app.record_consent(CLERK, cid(), party=party, given=False, on=f))
        _after_failure(rng, app, cid, route, f, put)
        _emit(chain, child, end, add, index)
        return
    g = s + timedelta(days=rng.randint(0, 2))
    claimed = sum((c.amount for c in claims), Decimal(0))
    amount = (claimed * Decimal(rng.randint(40, 95)) / 100).quantize(Decimal("1"))
    due = g + timedelta(days=rng.randint(7, 30))
    put(
        g,
        lambda: app.sign_agreement(
            MEDIATOR, cid(), signed_on=g, amount=amount, performance_due_on=due, terms="分期支付"
        ),
    )
    if outcome == "performance":
        paid_so_far = Decimal(0)
        partial_on = g
        if rng.random() < 0.3:
            partial_on = max(g, due - timedelta(days=rng.randint(1, 5)))
            paid_so_far = (amount / 2).quantize(Decimal("1"))
            put(
                partial_on,
                lambda: app.record_performance(
                    MEDIATOR, cid(), on=partial_on, amount_paid=paid_so_far, complete=False
                ),
            )
        late = rng.random() < 0.12
        pay_on = due + timedelta(days=rng.randint(3, 40) if late else -rng.randint(0, 5))
        pay_on = max(pay_on, partial_on)
        recorded = pay_on + timedelta(days=rng.randint(1, 25) if rng.random() < 0.25 else 0)
        rest = amount - paid_so_far
        put(
            recorded,
            lambda: app.record_performance(
                MEDIATOR, cid(), on=pay_on, amount_paid=rest, complete=True
            ),
        )
        _emit(chain, child, end, add, index)
        return
    i = g
    if route is Route.PRE_FILING:
        r = g + timedelta(days=rng.randint(1, 10))
        put(r, lambda: app.apply_review(CLERK, cid(), applied_on=r))
        i = r
    i += timedelta(days=rng.randint(1, 5))
    number = f"鄂劳人仲调字〔{i.year}〕{index + 1}号"
    put(i, lambda: app.issue_statement(CLERK, cid(), issued_on=i, number=number))
    if rng.random() < 0.08:
        t = i + timedelta(days=rng.randint(1, 5))
        party = rng.choice(list(Party))
        put(t, lambda: app.retract_statement(CLERK, cid(), party=party, on=t))
        _after_failure(rng, app, cid, route, t, put)
    else:
        t = i + timedelta(days=rng.randint(1, 5))
        put(t, lambda: app.serve_statement(CLERK, cid(), party=Party.APPLICANT, on=t))
        u = t + timedelta(days=rng.randint(0, 3))
        put(u, lambda: app.serve_statement(CLERK, cid(), party=Party.RESPONDENT, on=u))
    _emit(chain, child, end, add, index)


def _sid(plan: _StudioPlan) -> UUID:
    assert plan.id is not None
    return plan.id


def _after_failure(
    rng: random.Random,
    app: Any,
    cid: Callable[[], UUID],
    route: Route,
    failed_on: date,
    put: Callable[[date, Callable[[], Any]], None],
) -> None:
    if route is Route.PRE_FILING:
        accept_on = failed_on + timedelta(days=rng.randint(1, 3))
        put(accept_on, lambda: app.decide_acceptance(CLERK, cid(), accepted=True, on=accept_on))
        close_on = accept_on + timedelta(days=rng.randint(20, 45))
    else:
        close_on = failed_on + timedelta(days=rng.randint(10, 30))
    put(close_on, lambda: app.close_case(CLERK, cid(), on=close_on, disposition=Disposition.AWARD))


def _emit(
    chain: list[tuple[date, Callable[[], Any]]],
    child: list[tuple[date, Callable[[], Any]]],
    end: date,
    add: Callable[[date, Callable[[], Any], int], None],
    index: int,
) -> None:
    for steps in (chain, child):
        for on, action in steps:
            if on > end:
                break
            add(on, action, index)


__all__ = ["DemoSummary", "generate"]
