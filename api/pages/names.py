"""Words, not codes, for the pages: a case's title, a region's name, a person's name, a
deadline's state.

One helper each, so that every page says the same thing. ``case_title`` switches to the
official registration number by itself once the case view carries ``case_number``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from api.schemas import DeadlineOut
from mediation import labels as L
from mediation import next_step
from mediation.calendar import HolidayCalendar
from mediation.labels import label
from mediation.regions import city_of, get_region
from mediation.values import Deadline


def case_title(case: Any) -> str:
    """The number a person reads — the 案号 once accepted, else the registration number
    (登记号) — or, for a case recorded before numbers, a short form of its id (8 characters)."""
    number = _field(case, "filing_number") or _field(case, "case_number")
    if number:
        return str(number)
    raw = case.get("case_id") if isinstance(case, dict) else getattr(case, "case_id", case)
    return f"案件 {short_id(str(raw))}"


def _field(case: Any, key: str) -> Any:
    return case.get(key) if isinstance(case, dict) else getattr(case, key, None)


def short_id(case_id: UUID | str) -> str:
    return str(case_id)[:8]


def region_name(code: str) -> str:
    """``武汉市江岸区`` for a county, ``武汉市`` for a city; the code itself when unknown."""
    region = get_region(code)
    if region is None:
        return code
    if region.level == "county":
        city = city_of(code)
        if (
            city is not None
            and city.code != code
            and "直辖" not in city.name  # 省直辖县级行政区划: the county's own name
            and not region.name.startswith(city.name)
        ):
            return f"{city.name}{region.name}"
    return region.name


def person(names: dict[str, str], username: str) -> str:
    """The person's name for a login name (the login name when the account has none)."""
    return names.get(username, username)


def deadline_row(
    d: Deadline | DeadlineOut, today: date, calendar: HolidayCalendar
) -> dict[str, Any]:
    """A deadline as the pages show it: kind, date, state in words (not colour only)."""
    state = next_step.deadline_state(d.due_on, today, calendar)
    days = (d.due_on - today).days
    if state is next_step.DeadlineState.OVERDUE:
        text = f"已超期 {-days} 天"
    elif state is next_step.DeadlineState.DUE_SOON:
        left = calendar.working_days_between(today, d.due_on)
        text = "今日到期" if days == 0 else f"即将到期（剩 {left} 个工作日）"
    else:
        text = f"按期（剩 {days} 天）"
    return {
        "kind": d.kind,
        "label": label(L.DEADLINE, d.kind),
        "due_on": d.due_on.isoformat(),
        "overdue": d.overdue,
        "state": state.value,
        "state_label": label(L.DEADLINE_STATE, state.value),
        "css": {"overdue": "overdue", "due_soon": "near", "on_time": "ok"}[state.value],
        "text": text,
        "days": days,
    }
