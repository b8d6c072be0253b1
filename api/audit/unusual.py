"""The daily "unusual reading" view: who read far more cases than usual, or out of hours.

For a calendar day ``on`` (Asia/Shanghai) and the records of one jurisdiction:

- **volume** — a user who read at least ``min_cases`` distinct cases that day and more than
  ``factor`` × their usual, the median of their daily distinct-case counts over the
  ``baseline_days`` days before (a day without reads counts as 0, so a new account has a
  usual of 0 and is flagged from ``min_cases`` on);
- **off hours** — a user with at least ``off_hours_min`` records (reads, lists, exports)
  outside working hours: before ``work_start`` or from ``work_end`` on, or at any time on a
  day that is not a working day of the calendar in force (:mod:`mediation.calendar`, with
  the holiday notices an admin loaded).

The policy is a setting (``MEDIATION_AUDIT_*`` environment variables, see docs/security.md).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from api.audit.store import CHINA, AccessAuditStore, AccessRecord
from mediation.calendar import is_working_day

WorkingDay = Callable[[date], bool]


class ReadingPolicy(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIATION_AUDIT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    factor: float = 3.0
    min_cases: int = 20
    baseline_days: int = 30
    work_start: time = time(8, 0)
    work_end: time = time(19, 0)
    off_hours_min: int = 1

    def off_hours(self, moment: datetime, working_day: WorkingDay = is_working_day) -> bool:
        local = moment.astimezone(CHINA)
        if not working_day(local.date()):
            return True
        return not (self.work_start <= local.time() < self.work_end)


Reason = Literal["volume", "off_hours"]


@dataclass
class UnusualReader:
    username: str
    role: str
    cases_read: int
    usual: float
    records: int
    off_hours_records: int
    first_at: datetime
    last_at: datetime
    reasons: list[Reason] = field(default_factory=list)


def assess(
    on: date,
    day_records: Iterable[AccessRecord],
    daily_cases: Iterable[tuple[str, date, int]],
    policy: ReadingPolicy,
    working_day: WorkingDay = is_working_day,
) -> list[UnusualReader]:
    """The users to look at on ``on``, most cases read first."""
    first = on - timedelta(days=policy.baseline_days)
    before: dict[str, dict[date, int]] = defaultdict(dict)
    for username, day, count in daily_cases:
        if first <= day < on:
            before[username][day] = count
    readers: dict[str, UnusualReader] = {}
    cases: dict[str, set[str]] = defaultdict(set)
    for r in day_records:
        reader = readers.get(r.username)
        if reader is None:
            reader = readers[r.username] = UnusualReader(
                r.username, r.role, 0, 0.0, 0, 0, r.at, r.at
            )
        reader.role = r.role
        reader.records += 1
        reader.first_at = min(reader.first_at, r.at)
        reader.last_at = max(reader.last_at, r.at)
        if policy.off_hours(r.at, working_day):
            reader.off_hours_records += 1
        if r.case_id is not None:
            cases[r.username].add(r.case_id)
    out = []
    for username, reader in readers.items():
        reader.cases_read = len(cases[username])
        days = [
            before[username].get(first + timedelta(days=i), 0) for i in range(policy.baseline_days)
        ]
        reader.usual = float(statistics.median(days)) if days else 0.0
        if (
            reader.cases_read >= policy.min_cases
            and reader.cases_read > policy.factor * reader.usual
        ):
            reader.reasons.append("volume")
        if reader.off_hours_records >= policy.off_hours_min:
            reader.reasons.append("off_hours")
        if reader.reasons:
            out.append(reader)
    return sorted(out, key=lambda r: (-r.cases_read, -r.off_hours_records, r.username))


def unusual_readers(
    store: AccessAuditStore,
    region_prefix: str,
    on: date,
    policy: ReadingPolicy,
    working_day: WorkingDay = is_working_day,
) -> list[UnusualReader]:
    """``working_day``: the calendar in force (``MediationApplication.calendars``)."""
    first = on - timedelta(days=policy.baseline_days)
    return assess(
        on,
        store.day_rows(region_prefix, on),
        store.daily_cases(region_prefix, first, on - timedelta(days=1)),
        policy,
        working_day,
    )
