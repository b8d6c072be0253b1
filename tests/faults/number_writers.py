"""Writers that race case creations and acceptances for numbers (threads and spawned
processes; module-level, so picklable): ``tests/faults/test_number_races.py``."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from mediation.application import CommandContext, MediationApplication
from mediation.errors import InvalidTransition, VersionConflict
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from tests.support.factories import applicant, claims, respondent

# Wuhan (two districts), Huangshi: two commissions; received on either side of a new year
REGIONS = ("420102", "420111", "420202")
DAYS = (date(2025, 12, 31), date(2026, 1, 5))


@dataclass
class NumberResult:
    worker: str
    created: list[str] = field(default_factory=list)  # case ids acknowledged
    accepted: list[str] = field(default_factory=list)  # acceptances acknowledged
    refused: int = 0  # acceptances another writer won (the case was accepted already)
    errors: list[str] = field(default_factory=list)


def create_and_accept(
    app: MediationApplication,
    worker: str,
    creates: int,
    to_accept: list[UUID],
    seed: int,
    start_at: float,
) -> NumberResult:
    """``creates`` new cases and an attempt to accept each case of ``to_accept`` (which
    the other writers try to accept too), interleaved at random."""
    rng = random.Random(seed)
    ctx = CommandContext(Actor(f"clerk-{worker}", Role.CLERK))
    result = NumberResult(worker)
    work: list[UUID | None] = [None] * creates + list(to_accept)
    rng.shuffle(work)
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(min(delay, 30.0))
    for i, target in enumerate(work):
        try:
            if target is None:
                case = app.receive_case(
                    ctx,
                    region_code=rng.choice(REGIONS),
                    received_on=rng.choice(DAYS),
                    applicant=applicant(rng.randint(1, 9999)),
                    respondent=respondent(),
                    claims=claims(),
                )
                if case.case_number is None:
                    result.errors.append(f"{worker}#{i}: created without a number")
                result.created.append(str(case.id))
            else:
                case = app.decide_acceptance(ctx, target, accepted=True, on=date(2026, 1, 6))
                if case.filing_number is None:
                    result.errors.append(f"{worker}#{i}: accepted without a 案号")
                result.accepted.append(str(target))
        except (InvalidTransition, VersionConflict):
            if target is None:
                result.errors.append(f"{worker}#{i}: a creation was refused")
            else:
                result.refused += 1
        except Exception as exc:  # recorded; the test fails on any
            result.errors.append(f"{worker}#{i}: {exc!r}")
    return result


def create_and_accept_in_process(
    database_url: str,
    worker: str,
    creates: int,
    to_accept: list[str],
    seed: int,
    start_at: float,
) -> NumberResult:
    """Entry point of a spawned process: its own application, its own connections."""
    app = MediationApplication(persistence_env(database_url))
    try:
        return create_and_accept(app, worker, creates, [UUID(c) for c in to_accept], seed, start_at)
    finally:
        app.close()
