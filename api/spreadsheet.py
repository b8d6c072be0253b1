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
from collections.abc import Sequence
from decimal import Decimal

__all__ = ["FORMULA_STARTS", "csv_bytes", "csv_cell", "text_cell", "xlsx_bytes", "xlsx_cell"]

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


def csv_bytes(header: list[str], rows: list[list[Cell]]) -> bytes:
    """A UTF-8 CSV with a byte-order mark (Excel then reads the Chinese right), every cell
    through :func:`csv_cell`."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(
    sheet: str,
    header: list[str],
    rows: list[list[Cell]],
    *,
    formats: dict[int, str] | None = None,
    about: Sequence[tuple[str, str]] = (),
) -> bytes:
    """An XLSX of one table (bold header row, values only: no formula is ever written),
    ``formats`` by column index (e.g. ``"#,##0.00"``), and an optional 说明 sheet."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([xlsx_cell(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([xlsx_cell(c) for c in row])
    for col, fmt in (formats or {}).items():
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=col + 1).number_format = fmt
    for i, h in enumerate(header, start=1):
        width = max([len(str(h))] + [len(str(r[i - 1])) for r in rows if i - 1 < len(r)])
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(60, 4 + 2 * width)
    if about:
        meta = wb.create_sheet("说明")
        for key, value in about:
            meta.append([xlsx_cell(key), xlsx_cell(value)])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
