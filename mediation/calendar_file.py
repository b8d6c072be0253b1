"""A year's holiday notice as a TOML file: reading and validating it.

The file mirrors the State Council notice (one ``[[holidays]]`` table per numbered item)::

    year = 2025
    reference = "国办发明电〔2024〕12号"
    issued_on = 2024-11-12
    title = "国务院办公厅关于2025年部分节假日安排的通知"   # optional

    [[holidays]]
    name = "春节"
    from = 2025-01-28
    to = 2025-02-04
    days = 8                               # optional: the notice's "共8天", checked
    workdays = [2025-01-26, 2025-02-08]    # the notice's "上班" days, if any

Refused, with the line and a Chinese and English message: a syntax error; a missing or
unknown key; a date outside ``year``; ``from`` after ``to``; a ``days`` that is not the
range's length; overlapping holidays; a make-up workday inside a holiday, repeated, or
on a Monday–Friday (already a working day); an ``issued_on`` not in the year or the one
before. See docs/operations.md for the procedure.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn

from mediation.calendar import Holiday, YearNotice

__all__ = ["NoticeError", "parse_notice"]

_TOP_KEYS = {"year", "reference", "issued_on", "title", "holidays"}
_HOLIDAY_KEYS = {"name", "from", "to", "days", "workdays"}
_SYNTAX_LINE = re.compile(r"at line (\d+)")


class NoticeError(ValueError):
    """A refused calendar file: ``line`` (1-based, when known) and the message in both languages."""

    def __init__(self, zh: str, en: str, line: int | None = None) -> None:
        self.zh = zh
        self.en = en
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.zh} / {self.en}"
        return f"第 {self.line} 行：{self.zh} / line {self.line}: {self.en}"


@dataclass
class _Lines:
    """Finds the line of a key in the source, for messages (tomllib gives no positions)."""

    lines: list[str]

    def _holiday_starts(self) -> list[int]:
        return [i for i, text in enumerate(self.lines) if text.strip().startswith("[[holidays]]")]

    def _block(self, index: int | None) -> tuple[int, int]:
        if index is None:
            starts = self._holiday_starts()
            return 0, starts[0] if starts else len(self.lines)
        starts = self._holiday_starts()
        if index >= len(starts):
            return 0, len(self.lines)
        end = starts[index + 1] if index + 1 < len(starts) else len(self.lines)
        return starts[index], end

    def of(self, key: str, index: int | None = None, value: str | None = None) -> int | None:
        """Line of ``key`` (top level, or in the ``index``-th holiday), preferring ``value``."""
        begin, end = self._block(index)
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        found: int | None = None
        for i in range(begin, end):
            if pattern.match(self.lines[i]):
                found = i + 1
                break
        if value is not None:
            for i in range(found - 1 if found else begin, end):
                if value in self.lines[i].split("#", 1)[0]:
                    return i + 1
        if found is None and index is not None:
            starts = self._holiday_starts()
            return starts[index] + 1 if index < len(starts) else None
        return found


def parse_notice(text: str) -> YearNotice:
    """The notice in ``text`` (a TOML document), or :class:`NoticeError` saying why not."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _SYNTAX_LINE.search(str(exc))
        raise NoticeError(
            f"不是有效的 TOML 文件（{exc}）",
            f"not a valid TOML file ({exc})",
            int(match.group(1)) if match else None,
        ) from None
    return _Validator(raw, _Lines(text.splitlines())).notice()


class _Validator:
    def __init__(self, raw: dict[str, Any], lines: _Lines) -> None:
        self.raw = raw
        self.lines = lines

    def fail(
        self, zh: str, en: str, key: str, index: int | None = None, value: Any = None
    ) -> NoReturn:
        shown = value.isoformat() if isinstance(value, date) else None
        raise NoticeError(zh, en, self.lines.of(key, index, shown))

    def _unknown(self, data: dict[str, Any], allowed: set[str], index: int | None) -> None:
        for key in data:
            if key not in allowed:
                where = "节假日条目" if index is not None else "文件顶层"
                self.fail(
                    f"未知字段“{key}”（{where}可用：{'、'.join(sorted(allowed))}）",
                    f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})",
                    key,
                    index,
                )

    def _date(self, data: dict[str, Any], key: str, index: int | None) -> date:
        value = data.get(key)
        if value is None:
            self._missing(key, index)
        if isinstance(value, datetime) or not isinstance(value, date):
            self.fail(
                f"“{key}”须为日期，如 2027-01-01（不加引号）",
                f"{key!r} must be a date such as 2027-01-01 (without quotes)",
                key,
                index,
            )
        return value

    def _missing(self, key: str, index: int | None) -> NoReturn:
        if index is None:
            raise NoticeError(f"缺少字段“{key}”", f"missing key {key!r}", None)
        self.fail(
            f"第 {index + 1} 项节假日缺少字段“{key}”",
            f"holiday {index + 1} has no {key!r}",
            "name",
            index,
        )

    def _in_year(self, d: date, year: int, key: str, index: int | None) -> None:
        if d.year != year:
            self.fail(
                f"日期 {d.isoformat()} 不在 {year} 年内（本文件只能载入 {year} 年的日期）",
                f"date {d.isoformat()} is not in {year} (this file may only hold {year}'s dates)",
                key,
                index,
                d,
            )

    def notice(self) -> YearNotice:
        raw = self.raw
        self._unknown(raw, _TOP_KEYS, None)
        year = raw.get("year")
        if year is None:
            self._missing("year", None)
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2199:
            self.fail(
                "“year”须为四位年份，如 2027",
                "'year' must be a four-digit year such as 2027",
                "year",
            )
        reference = raw.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            self.fail(
                "“reference”须为通知文号，如“国办发明电〔2026〕N号”",
                "'reference' must be the notice's reference, e.g. 国办发明电〔2026〕N号",
                "reference",
            )
        issued_on = self._date(raw, "issued_on", None)
        if issued_on.year not in (year - 1, year):
            self.fail(
                f"发布日期 {issued_on.isoformat()} 应在 {year - 1} 年或 {year} 年",
                f"issued_on {issued_on.isoformat()} should be in {year - 1} or {year}",
                "issued_on",
            )
        title = raw.get("title", "")
        if not isinstance(title, str):
            self.fail("“title”须为文字", "'title' must be text", "title")
        holidays = raw.get("holidays")
        if not isinstance(holidays, list) or not holidays:
            raise NoticeError(
                "至少需要一项 [[holidays]]（节假日）",
                "at least one [[holidays]] table is needed",
                self.lines.of("holidays"),
            )
        items = [self._holiday(h, i, year) for i, h in enumerate(holidays)]
        self._no_overlap(items)
        return YearNotice(
            year=year,
            reference=reference.strip(),
            issued_on=issued_on,
            holidays=tuple(items),
            title=title.strip(),
        )

    def _holiday(self, data: Any, index: int, year: int) -> Holiday:
        if not isinstance(data, dict):
            raise NoticeError(
                f"第 {index + 1} 项节假日须为表（[[holidays]]）",
                f"holiday {index + 1} must be a table ([[holidays]])",
                self.lines.of("holidays"),
            )
        self._unknown(data, _HOLIDAY_KEYS, index)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(
                f"第 {index + 1} 项节假日须有名称（name），如“春节”",
                f"holiday {index + 1} needs a name, e.g. 春节",
                "name",
                index,
            )
        first = self._date(data, "from", index)
        last = self._date(data, "to", index)
        self._in_year(first, year, "from", index)
        self._in_year(last, year, "to", index)
        if last < first:
            self.fail(
                f"{name}：结束日 {last.isoformat()} 早于开始日 {first.isoformat()}",
                f"{name}: 'to' {last.isoformat()} is before 'from' {first.isoformat()}",
                "to",
                index,
            )
        span = (last - first).days + 1
        days = data.get("days")
        if days is not None and (isinstance(days, bool) or days != span):
            self.fail(
                f"{name}：共 {days} 天与 {first.isoformat()} 至 {last.isoformat()}"
                f"（{span} 天）不符",
                f"{name}: days = {days} but {first.isoformat()}..{last.isoformat()} is {span} days",
                "days",
                index,
            )
        raw_workdays = data.get("workdays", [])
        if not isinstance(raw_workdays, list):
            self.fail(
                f"{name}：workdays 须为日期列表",
                f"{name}: 'workdays' must be a list",
                "workdays",
                index,
            )
        workdays: list[date] = []
        for w in raw_workdays:
            if isinstance(w, datetime) or not isinstance(w, date):
                self.fail(
                    f"{name}：调休上班日须为日期，如 2027-02-06（不加引号）",
                    f"{name}: make-up workdays must be dates such as 2027-02-06 (no quotes)",
                    "workdays",
                    index,
                )
            self._in_year(w, year, "workdays", index)
            if w in workdays:
                self.fail(
                    f"{name}：调休上班日 {w.isoformat()} 重复",
                    f"{name}: make-up workday {w.isoformat()} is listed twice",
                    "workdays",
                    index,
                    w,
                )
            if w.weekday() < 5:
                self.fail(
                    f"{name}：{w.isoformat()} 是周一至周五，本就是工作日，不是调休上班日",
                    f"{name}: {w.isoformat()} is a Monday-Friday, already a working day, "
                    "not a make-up workday",
                    "workdays",
                    index,
                    w,
                )
            workdays.append(w)
        return Holiday(name.strip(), first, last, tuple(workdays))

    def _no_overlap(self, items: list[Holiday]) -> None:
        for i, h in enumerate(items):
            for j, other in enumerate(items):
                if j < i and h.first <= other.last and other.first <= h.last:
                    self.fail(
                        f"{h.name}（{h.first.isoformat()} 至 {h.last.isoformat()}）与"
                        f"{other.name}的放假日期重叠",
                        f"{h.name} ({h.first.isoformat()}..{h.last.isoformat()}) overlaps "
                        f"{other.name}",
                        "from",
                        i,
                    )
            for w in h.workdays:
                for j, other in enumerate(items):
                    if other.first <= w <= other.last:
                        self.fail(
                            f"{h.name}：调休上班日 {w.isoformat()} 落在{other.name}放假期间"
                            f"（{other.first.isoformat()} 至 {other.last.isoformat()}）",
                            f"{h.name}: make-up workday {w.isoformat()} falls in the "
                            f"{other.name} holiday ({other.first.isoformat()}.."
                            f"{other.last.isoformat()})",
                            "workdays",
                            i,
                            w,
                        )
                    if j != i and w in other.workdays:
                        self.fail(
                            f"调休上班日 {w.isoformat()} 同时列在{h.name}和{other.name}下",
                            f"make-up workday {w.isoformat()} is listed under both {h.name} "
                            f"and {other.name}",
                            "workdays",
                            i,
                            w,
                        )
