"""Validation and masking of PRC personal and organisational identifiers.

* Resident identity number (公民身份号码, GB 11643-1999): 17 digits + an ISO 7064
  MOD 11-2 check character; digits 1-6 are the area code (GB/T 2260) where the number
  was issued, digits 7-14 the birth date YYYYMMDD. The area code must lie in a province
  of the region table: codes of abolished prefectures and counties are still valid in
  old numbers, so the province (first two digits) is what can be checked; ``000000``
  and ``990000`` are refused. Residence permits of Hong Kong, Macao and Taiwan residents
  (港澳台居民居住证) use the same format with ``810000``, ``820000`` and ``830000``.
  The birth date must be a real date from 1900 on, and not after the date the number
  is used on (``require_born_by``: the day the case was received).
* Unified social credit code (统一社会信用代码, GB 32100-2015): 17 characters from a
  31-symbol alphabet + a MOD 31 check character.

* Phone (联系电话): a mainland mobile number (11 digits, ``1[3-9]…``, optionally after
  ``+86``), a landline with its area code (``027-88888888``: ``0`` + 2 or 3 digits, then 7
  or 8 digits, an extension after a second hyphen), or an international number written
  with ``+`` and its country code (holders of residence permits). Spaces and hyphens
  between digit groups are accepted; ten digits starting with 1 are not a number.

The ``validate_*`` functions return the normalised value (upper-case check
character) and raise ``ValueError`` naming the problem otherwise.
"""

from __future__ import annotations

import re
from datetime import date

from mediation.errors import ValidationFailed
from mediation.labels import message
from mediation.regions import province_of

__all__ = [
    "credit_code_check_char",
    "mask_name",
    "mask_resident_id",
    "require_born_by",
    "resident_birth_date",
    "resident_id_check_char",
    "validate_credit_code",
    "validate_phone",
    "validate_resident_id",
]

_DIGITS = frozenset("0123456789")

_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_PERMIT_PROVINCES = frozenset({"83"})  # Taiwan residents' permits; 81, 82 are in the table

_CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_INDEX = {ch: i for i, ch in enumerate(_CREDIT_CODE_CHARSET)}
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _is_ascii_digits(value: str) -> bool:
    return all(ch in _DIGITS for ch in value)


def _ascii_upper(value: str) -> str:
    # str.upper() can change the length of non-ASCII text ("ß" -> "SS"); only fold a-z.
    return "".join(chr(ord(ch) - 32) if "a" <= ch <= "z" else ch for ch in value)


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character ("0"-"9" or "X") for 17 ASCII digits."""
    if len(first17) != 17:
        raise ValueError(message("id_length", n=len(first17) + 1))
    if not _is_ascii_digits(first17):
        raise ValueError(message("id_digits"))
    total = sum(int(ch) * w for ch, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK_CHARS[total % 11]


def validate_resident_id(value: str) -> str:
    """Validate an 18-character resident identity number; return it with an upper-case X."""
    if len(value) != 18:
        raise ValueError(message("id_length", n=len(value)))
    body, check = value[:17], _ascii_upper(value[17])
    if not _is_ascii_digits(body):
        raise ValueError(message("id_digits"))
    if check != "X" and check not in _DIGITS:
        raise ValueError(message("id_check_char_kind"))
    birth = body[6:14]
    try:
        birth_date = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        raise ValueError(message("id_birth_date", birth=birth)) from None
    if birth_date < _EARLIEST_BIRTH_DATE:
        raise ValueError(message("id_birth_early", birth=birth))
    if body[:2] not in _PERMIT_PROVINCES and province_of(body[:2] + "0000") is None:
        raise ValueError(message("id_area", area=body[:6]))
    expected = resident_id_check_char(body)
    if check != expected:
        raise ValueError(message("id_check_char", expected=expected, got=value[17]))
    return body + check


def resident_birth_date(value: str) -> date:
    """The birth date of a valid resident identity number."""
    birth = validate_resident_id(value)[6:14]
    return date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))


def require_born_by(value: str, on: date, field: str = "applicant.id_number") -> None:
    """Refuse (``ValidationFailed``) a valid resident ID whose holder was born after ``on``
    (the date the case was received: nobody applies before being born)."""
    born = resident_birth_date(value)
    if born > on:
        raise ValidationFailed(
            message("id_born_after", birth=born.isoformat(), on=on.isoformat()), field=field
        )


def credit_code_check_char(first17: str) -> str:
    """GB 32100-2015 MOD 31 check character for the first 17 characters (case-insensitive)."""
    if len(first17) != 17:
        raise ValueError(message("credit_length", n=len(first17) + 1))
    total = 0
    for pos, (ch, weight) in enumerate(
        zip(_ascii_upper(first17), _CREDIT_CODE_WEIGHTS, strict=True), start=1
    ):
        index = _CREDIT_CODE_INDEX.get(ch)
        if index is None:
            raise ValueError(message("credit_char", pos=pos, ch=ch))
        total += index * weight
    return _CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Validate an 18-character unified social credit code; return it upper-cased."""
    if len(value) != 18:
        raise ValueError(message("credit_length", n=len(value)))
    normalised = _ascii_upper(value)
    expected = credit_code_check_char(normalised[:17])
    check = normalised[17]
    if check not in _CREDIT_CODE_INDEX:
        raise ValueError(message("credit_char", pos=18, ch=value[17]))
    if check != expected:
        raise ValueError(message("credit_check_char", expected=expected, got=value[17]))
    return normalised


_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
_LANDLINE = re.compile(r"(0[0-9]{2,3})-?([1-9][0-9]{6,7})(?:-([0-9]{1,6}))?")
_INTERNATIONAL = re.compile(r"\+(?!86)[1-9][0-9]{6,14}")


def validate_phone(value: str) -> str:
    """A mobile, landline or international number, normalised (``ValueError`` otherwise):
    a mobile as its 11 digits, a landline as ``area-number[-extension]``."""
    compact = value.strip().replace(" ", "").replace("\u3000", "")
    if m := _MOBILE.fullmatch(compact.replace("-", "")):
        return m.group(1)
    if "-" in compact:
        if m := _LANDLINE.fullmatch(compact):
            ext = f"-{m.group(3)}" if m.group(3) else ""
            return f"{m.group(1)}-{m.group(2)}{ext}"
    elif compact.startswith("0") and compact.isdigit():
        split = 3 if compact[1] in "12" else 4  # 010, 02x: three digits; the rest four
        area, number = compact[:split], compact[split:]
        if _LANDLINE.fullmatch(f"{area}-{number}"):
            return f"{area}-{number}"
    if _INTERNATIONAL.fullmatch(compact.replace("-", "")):
        return compact.replace("-", "")
    raise ValueError(message("phone"))


def mask_resident_id(value: str) -> str:
    """Replace all but the last 4 characters with ``*``."""
    keep = min(4, len(value))
    return "*" * (len(value) - keep) + value[len(value) - keep :]


def mask_name(value: str) -> str:
    """Keep the first character and replace each remaining one with ``*``."""
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_address(value: str) -> str:
    """Keep the first six characters (province and city, as a rule) and mask the rest."""
    keep = min(6, len(value))
    return value[:keep] + "*" * (len(value) - keep)
