"""Which text may be stored: the one rule every text field of the system follows.

Names, reasons, summaries and numbers typed by people end up in events (kept for ever),
in read models, on pages, in exports and in terminals. A value is refused when it holds:

* a control character (C0, DEL, C1: NUL, ANSI escape sequences, backspace...), except
  tab, line feed and carriage return in multi-line text (reasons, summaries, terms);
  the line and paragraph separators U+2028/U+2029 count as line breaks;
* a bidirectional formatting character (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069),
  which can make a name display as something else (an "RTL override");
* a Unicode tag character (U+E0000–U+E007F), invisible text;
* a lone surrogate (not text at all: it cannot even be encoded as UTF-8);
* nothing visible at all (a name of zero-width spaces, joiners, BOMs or blanks only).

Zero-width joiners and the like are allowed *inside* visible text (some scripts and
emoji need them). ``problem`` says what is wrong (for the refusal), ``check`` raises.
"""

from __future__ import annotations

import unicodedata

__all__ = ["check", "problem", "storable"]

LINE_BREAKS = frozenset("\t\n\r\u2028\u2029")
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# invisible on their own: format characters (Cf) and separators (Z*) other than the ones
# that are refused anyway
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" {unicodedata.name(ch)}" if unicodedata.name(ch, "") else "")


def problem(value: str, *, multiline: bool = False, visible: bool = True) -> str | None:
    """Why ``value`` may not be stored as text, or None when it may (``visible=False``: blank
    or invisible-only values pass, as in a search or filter of a URL)."""
    if value.isascii() and value.isprintable() and not value.isspace():  # at C speed
        return None
    seen = False
    for ch in value:
        if ch in LINE_BREAKS:
            if not multiline:
                return f"contains a line break or tab ({_name(ch)}); one line only"
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains a control character ({_name(ch)})"
        if category == "Cs":
            return f"contains a lone surrogate ({_name(ch)})"
        if ch in BIDI_CONTROLS:
            return f"contains a bidirectional formatting character ({_name(ch)})"
        if "\U000e0000" <= ch <= "\U000e007f":
            return f"contains an invisible tag character ({_name(ch)})"
        if category not in _INVISIBLE_CATEGORIES:
            seen = True
    if value and visible and not seen:
        return "has no visible character (only blanks or zero-width characters)"
    return None


def check(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged when it may be stored; ``ValueError`` naming the problem otherwise."""
    found = problem(value, multiline=multiline)
    if found is not None:
        raise ValueError(found)
    return value


def storable(value: str) -> str:
    """``value`` with what a database cannot hold replaced by U+FFFD (NUL on PostgreSQL,
    lone surrogates everywhere): for read models fed by events recorded before ``check``
    guarded the input, which must never stop on them."""
    if "\x00" not in value:
        try:
            value.encode("utf-8")  # fails on a lone surrogate
            return value
        except UnicodeEncodeError:
            pass
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in value)
