"""Reading typed values out of a submitted form; a bad value is a ``ValidationFailed``.

Every text read here follows ``mediation.text``, as the JSON API's request models do;
line breaks only in the fields the API's models mark ``MULTILINE`` (same names).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from starlette.datastructures import FormData

from api.schemas import multiline_fields
from mediation import text as text_rule
from mediation.errors import ValidationFailed
from mediation.values import money

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
MULTILINE = multiline_fields()


def values_of(form: FormData) -> dict[str, str]:
    """What was typed, to put back into the form after a refusal (passwords never)."""
    return {k: str(v) for k, v in form.multi_items() if isinstance(v, str) and k != "password"}


def unchecked(form: FormData, name: str) -> str:
    """What was typed, without the text rule: only for a login's username, which no account
    can match when it breaks the rule (``api.login`` records it made safe)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def text(form: FormData, name: str, *, required: bool = True) -> str:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if required and not value:
        raise ValidationFailed(f"请填写此项（{name}）", field=name)
    if text_rule.problem(value, multiline=name in MULTILINE) is not None:
        raise ValidationFailed(
            f"不能含控制字符、文字方向控制符，也不能只有不可见字符（{name}）", field=name
        )
    return value


def _parsed(form: FormData, name: str, parse: Callable[[str], T], hint: str) -> T:
    """The field read by ``parse``; a ``ValueError`` is the refusal ``hint`` (field named)."""
    raw = text(form, name)
    try:
        return parse(raw)
    except ValueError:
        raise ValidationFailed(f"{hint}（{name}）", field=name) from None


def day(form: FormData, name: str) -> date:
    return _parsed(form, name, date.fromisoformat, "日期格式应为 年-月-日，如 2026-03-02")


def optional_day(form: FormData, name: str) -> date | None:
    return day(form, name) if text(form, name, required=False) else None


def amount(form: FormData, name: str) -> Decimal:
    return _parsed(form, name, money, "金额应为非负数，最多两位小数，如 12800.00")


def flag(form: FormData, name: str) -> bool:
    return text(form, name, required=False) in ("on", "true", "1", "yes")


def yes_no(form: FormData, name: str) -> bool:
    raw = text(form, name)
    if raw not in ("true", "false"):
        raise ValidationFailed(f"请选择“是”或“否”（{name}）", field=name)
    return raw == "true"


def choice(form: FormData, name: str, enum: type[E]) -> E:
    return _parsed(form, name, enum, "请选择一项")


def uuid(form: FormData, name: str) -> UUID:
    return _parsed(form, name, UUID, "请选择一项")


def integer(form: FormData, name: str) -> int:
    return _parsed(form, name, int, "请填写整数")


def version(form: FormData) -> int | None:
    raw = text(form, "version", required=False)
    return int(raw) if raw.isdigit() else None
