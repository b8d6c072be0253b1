"""Reading typed values out of a submitted form; a bad value is a ``ValidationFailed``.

Every text read here follows ``mediation.text``, as the JSON API's request models do;
line breaks only in the fields the API's models mark ``MULTILINE`` (same names).
A :class:`Reader` reads every field before it answers, so that a refused form shows all
its problems at once, each beside its field (``FormInvalid``); messages come from the
glossary (``mediation.labels.MESSAGE``) and never name a field path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from starlette.datastructures import FormData

from api.schemas import multiline_fields
from mediation import text as text_rule
from mediation.errors import ValidationFailed
from mediation.labels import field_label, message
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
        raise ValidationFailed(message("required"), field=name)
    if text_rule.problem(value, multiline=name in MULTILINE) is not None:
        raise ValidationFailed(message("bad_text"), field=name)
    return value


def _parsed(form: FormData, name: str, parse: Callable[[str], T], hint: str) -> T:
    """The field read by ``parse``; a ``ValueError`` is the refusal ``hint`` (field named)."""
    raw = text(form, name)
    try:
        return parse(raw)
    except ValueError as exc:
        said = str(exc)  # the domain's validators say what is wrong, in Chinese
        raise ValidationFailed(said if _is_message(said) else hint, field=name) from None


def _is_message(said: str) -> bool:
    """A domain validator's Chinese message (Python's own ``ValueError`` texts are not)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in said)


def day(form: FormData, name: str) -> date:
    return _parsed(form, name, date.fromisoformat, message("date"))


def checked(form: FormData, name: str, validate: Callable[[str], str]) -> str:
    """A text checked (and normalised) by a domain validator, e.g. a resident ID number."""
    return _parsed(form, name, validate, message("format"))


def optional_day(form: FormData, name: str) -> date | None:
    return day(form, name) if text(form, name, required=False) else None


_GROUPED = re.compile(r"[0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]*)?")


def plain_amount(raw: str) -> str:
    """An amount as typed ("8,500", "8，500.00", "12800元") in the API's form ("8500")."""
    raw = raw.strip().removesuffix("元").strip()
    if _GROUPED.fullmatch(raw):
        raw = raw.replace(",", "").replace("，", "")
    return raw


def amount(form: FormData, name: str) -> Decimal:
    return _parsed(form, name, lambda raw: money(plain_amount(raw)), message("amount"))


def optional_amount(form: FormData, name: str) -> Decimal | None:
    return amount(form, name) if text(form, name, required=False) else None


def flag(form: FormData, name: str) -> bool:
    return text(form, name, required=False) in ("on", "true", "1", "yes")


def yes_no(form: FormData, name: str) -> bool:
    raw = text(form, name, required=False)
    if raw not in ("true", "false"):
        raise ValidationFailed(message("choose_one_of_yes_no"), field=name)
    return raw == "true"


def choice(form: FormData, name: str, enum: type[E]) -> E:
    if not text(form, name, required=False):
        raise ValidationFailed(message("choose"), field=name)
    return _parsed(form, name, enum, message("choose"))


def uuid(form: FormData, name: str) -> UUID:
    if not text(form, name, required=False):
        raise ValidationFailed(message("choose"), field=name)
    return _parsed(form, name, UUID, message("choose"))


def integer(form: FormData, name: str) -> int:
    return _parsed(form, name, int, message("integer"))


def version(form: FormData) -> int | None:
    raw = text(form, "version", required=False)
    return int(raw) if raw.isdigit() else None


class FormInvalid(ValidationFailed):
    """Every problem of a submitted form, each with its field (the first is the detail)."""

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = dict(errors)


class Reader:
    """Reads fields, collecting each one's problem instead of stopping at the first.

    ``read(parse, name, ...)`` returns the value, or ``None`` and remembers the problem;
    ``check()`` raises :class:`FormInvalid` with all of them. ``refuse(name, text)`` adds a
    problem found otherwise (a domain validator's, a cross-field one)."""

    def __init__(self, form: FormData) -> None:
        self.form = form
        self.errors: dict[str, str] = {}

    def read(self, parse: Callable[..., T], name: str, *args: Any, **kw: Any) -> T | None:
        try:
            return parse(self.form, name, *args, **kw)
        except ValidationFailed as exc:
            self.errors.setdefault(exc.field or name, exc.detail)
            return None

    def refuse(self, name: str, text: str) -> None:
        self.errors.setdefault(name, text)

    def check(self) -> None:
        if self.errors:
            raise FormInvalid(self.errors)


def problems(exc: BaseException) -> dict[str, str]:
    """The field problems of a refusal: all of a ``FormInvalid``, the one field's of a
    ``ValidationFailed``, none of any other refusal."""
    if isinstance(exc, FormInvalid):
        return exc.errors
    if isinstance(exc, ValidationFailed):
        return {exc.field: exc.detail} if exc.field else {}
    return {}


def summary(errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """(field, its Chinese name, the problem) for the list at the top of the page."""
    return [(f, field_label(f), text) for f, text in errors.items()]
