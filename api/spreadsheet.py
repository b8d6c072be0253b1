"""Cells for CSV and XLSX exports that a spreadsheet never runs as a formula (contract v1.1).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
written as text prefixed with ``'`` (``=HYPERLINK("http://…")`` arrives as the text
``'=HYPERLINK("http://…")``). Only text is guarded: numbers (ints, Decimals, floats) are
written as numbers, so a negative amount stays a negative amount. XLSX text also loses
the characters the format cannot hold (controls other than tab, line feed and carriage
return), which would otherwise abort the whole file.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["FORMULA_STARTS", "csv_cell", "text_cell", "xlsx_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = str | int | float | Decimal | None


def text_cell(value: str) -> str:
    """``value``, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_cell(value: Cell) -> str | int | float | Decimal:
    """A CSV field: text guarded, numbers as they are, None empty."""
    if value is None:
        return ""
    return text_cell(value) if isinstance(value, str) else value


def xlsx_cell(value: Cell) -> Cell:
    """An XLSX cell value: text guarded and cleaned, numbers as they are."""
    if isinstance(value, str):
        return text_cell(_NOT_IN_XLSX.sub("\ufffd", value))
    return value
