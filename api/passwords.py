"""The password rule and the password hasher.

A password has at least :data:`MIN_LENGTH` characters, does not contain the username, is not
one of the common passwords zxcvbn ships (its ``passwords`` frequency list, 30,000 entries),
and zxcvbn does not rate it easy to guess (score below :data:`MIN_SCORE`: keyboard walks,
repeats, sequences, a dictionary word with digits). A refusal is ``weak_password`` (422 on
the API, exit 1 on the command line).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline attacks"
_SCORED_PREFIX = 100  # zxcvbn's matching grows fast with length; the prefix decides anyway

HASHER = PasswordHasher()  # Argon2id with argon2-cffi's defaults


class WeakPassword(ValueError):
    """The password breaks the rule; the message says which part, never the password."""


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(username: str, password: str) -> None:
    """Raise :class:`WeakPassword` unless ``password`` follows the rule."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password has at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    folded = password.casefold()
    name = username.strip().casefold()
    if name and name in folded:
        raise WeakPassword("a password must not contain the username")
    if folded in _common():
        raise WeakPassword("this password is among the most common passwords")
    score = int(zxcvbn(password[:_SCORED_PREFIX], user_inputs=[username])["score"])
    if score < MIN_SCORE:
        raise WeakPassword("this password is too easy to guess (a pattern, a word or a repeat)")
