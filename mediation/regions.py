"""GB/T 2260 administrative divisions (行政区划代码) used for case jurisdiction.

The table ships as ``mediation/data/gbt2260.csv`` (columns ``code,name,level``) and
holds every province-level division plus, for Hubei (420000), every city-level and
county-level division with their current codes.  It is loaded once and cached.

Jurisdiction is expressed through *prefixes*: a division covers every code that
starts with its prefix (trailing ``"00"`` pairs stripped, never below two digits),
so 湖北省 ``420000`` → ``"42"``, 武汉市 ``420100`` → ``"4201"``, 江岸区 ``420102``
→ ``"420102"`` and 省直辖县级行政区划 ``429000`` → ``"4290"``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "LEVELS",
    "Region",
    "children",
    "city_of",
    "counties_under",
    "covers",
    "get_region",
    "is_valid_region_code",
    "province_of",
    "region_prefix",
]

LEVELS: frozenset[str] = frozenset({"province", "city", "county"})

_DATA_PACKAGE = "mediation.data"
_DATA_FILE = "gbt2260.csv"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str


def _is_six_digits(code: str) -> bool:
    return len(code) == 6 and all("0" <= ch <= "9" for ch in code)


@cache
def _table() -> dict[str, Region]:
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    table: dict[str, Region] = {}
    for line_no, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        code, name, level = row["code"], row["name"], row["level"]
        if not _is_six_digits(code):
            raise ValueError(f"{_DATA_FILE} line {line_no}: malformed code {code!r}")
        if level not in LEVELS:
            raise ValueError(f"{_DATA_FILE} line {line_no}: unknown level {level!r}")
        if code in table:
            raise ValueError(f"{_DATA_FILE} line {line_no}: duplicate code {code}")
        table[code] = Region(code=code, name=name, level=level)
    return dict(sorted(table.items()))


def get_region(code: str) -> Region | None:
    """The division with this code, or None when it is not in the table."""
    return _table().get(code)


def is_valid_region_code(code: str) -> bool:
    """True when ``code`` is six ASCII digits and present in the table."""
    return _is_six_digits(code) and code in _table()


def region_prefix(code: str) -> str:
    """Jurisdiction prefix of a six-digit code: trailing ``"00"`` pairs stripped, min 2 chars.

    ``420000`` → ``"42"``, ``420100`` → ``"4201"``, ``420102`` → ``"420102"``,
    ``429000`` → ``"4290"``.  Raises ValueError when ``code`` is not six digits.
    """
    if not _is_six_digits(code):
        raise ValueError(f"region code must be 6 digits, got {code!r}")
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def covers(outer: str, inner: str) -> bool:
    """True when ``inner`` falls within ``outer``'s jurisdiction (a code covers itself).

    Malformed (non six-digit) codes never cover and are never covered.
    """
    if not (_is_six_digits(outer) and _is_six_digits(inner)):
        return False
    return inner.startswith(region_prefix(outer))


def province_of(code: str) -> Region | None:
    """The province-level division containing a known code (a province maps to itself)."""
    if not is_valid_region_code(code):
        return None
    return _table().get(code[:2] + "0000")


def city_of(code: str) -> Region | None:
    """The city-level division containing a known code (a city maps to itself).

    None for provinces, unknown codes, and divisions without a city level in the table.
    """
    region = get_region(code) if _is_six_digits(code) else None
    if region is None or region.level == "province":
        return None
    if region.level == "city":
        return region
    city = _table().get(code[:4] + "00")
    return city if city is not None and city.level == "city" else None


def children(code: str, level: str | None = None) -> list[Region]:
    """All divisions covered by ``code`` (excluding itself), optionally of one level, by code.

    Raises ValueError for a malformed code or an unknown level.
    """
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, got {level!r}")
    prefix = region_prefix(code)
    return [
        region
        for region in _table().values()
        if region.code != code
        and region.code.startswith(prefix)
        and (level is None or region.level == level)
    ]


def counties_under(code: str) -> list[Region]:
    """County-level divisions (districts, counties, county-level cities) covered by ``code``."""
    return children(code, "county")
