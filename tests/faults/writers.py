"""Writer loops shared by threads and by spawned processes (module-level, so picklable)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from mediation.application import CommandContext, MediationApplication
from mediation.errors import VersionConflict
from mediation.settings import persistence_env
from mediation.values import Actor, Role

HELD_ON = date(2026, 3, 20)


@dataclass
class WriterResult:
    worker: str
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)  # case, version, summary
    conflicts: int = 0
    stale_refused: int = 0
    errors: list[str] = field(default_factory=list)
    attempts: int = 0


def race(
    app: MediationApplication,
    worker: str,
    case_ids: list[UUID],
    attempts: int,
    seed: int,
    start_at: float,
) -> WriterResult:
    """``attempts`` session commands with the expected version just read; one stale on purpose."""
    rng = random.Random(seed)
    ctx_actor = Actor(f"mediator-{worker}", Role.MEDIATOR)
    result = WriterResult(worker)
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(min(delay, 30.0))
    for i in range(attempts):
        case_id = rng.choice(case_ids)
        summary = f"{worker}#{i}"
        result.attempts += 1
        try:
            version = app.get_case(case_id).version
            stale = i == 0  # every writer also proves that a stale version is refused
            expected = version - 1 if stale else version
            case = app.record_session(
                CommandContext(ctx_actor, expected_version=expected),
                case_id,
                held_on=HELD_ON,
                summary=summary,
            )
        except VersionConflict:
            if i == 0:
                result.stale_refused += 1
            else:
                result.conflicts += 1
            continue
        except Exception as exc:  # recorded, and the test fails on any
            result.errors.append(f"{summary}: {exc!r}")
            continue
        if i == 0:
            result.errors.append(f"{summary}: a stale expected version was accepted")
        result.acknowledged.append((str(case_id), case.version, summary))
    return result


def race_in_process(
    database_url: str,
    worker: str,
    case_ids: list[str],
    attempts: int,
    seed: int,
    start_at: float,
) -> WriterResult:
    """Entry point of a spawned process: its own application, its own connections."""
    app = MediationApplication(persistence_env(database_url))
    try:
        return race(app, worker, [UUID(c) for c in case_ids], attempts, seed, start_at)
    finally:
        app.close()
